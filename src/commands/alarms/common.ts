// What the `dsiem alarms …` commands share: the --data-dir flag (the same directory `dsiem serve`
// keeps its store in) and the text/JSON renderings of stored alarms.

import {Args} from '@oclif/core'
import chalk from 'chalk'
import type {AlarmStore, StoredAlarm} from '../../roles/alarm-store.js'
import {alarmSummaryFields} from '../../roles/alarm-store-rows.js'
import {alarmStorePath, openAlarmStore} from '../../roles/io/state.js'

export {dataDirFlag} from '../shared-flags.js'

export const alarmIdArg = Args.string({description: 'Alarm id (the backlog id).', required: true})

/** Unix seconds as UTC `YYYY-MM-DD HH:MM:SSZ`. */
export function formatTime(seconds: number): string {
  const date = new Date(seconds * 1000)
  if (Number.isNaN(date.getTime())) return String(seconds)
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

/** The machine-readable summary of one stored alarm (upstream's field names, as the store's columns). */
export function storedAlarmSummary(alarm: StoredAlarm) {
  return alarmSummaryFields(alarm)
}

const CLASS_COLOR: Readonly<Record<string, (s: string) => string>> = {
  Low: chalk.green,
  Medium: chalk.yellow,
  High: chalk.red,
}

const ANSI = /\u001b\[[0-9;]*m/g

function visibleLength(text: string): number {
  return text.replace(ANSI, '').length
}

function riskText(alarm: StoredAlarm): string {
  return `${alarm.risk} ${(CLASS_COLOR[alarm.riskClass] ?? ((s: string) => s))(alarm.riskClass)}`
}

function flow(alarm: StoredAlarm): string {
  return `${alarm.srcIps.join(',')} → ${alarm.dstIps.join(',')}`
}

/** Newest first, as the store returns them. */
export function renderStoredAlarmTable(alarms: readonly StoredAlarm[]): string {
  if (alarms.length === 0) return chalk.dim('no alarms')
  const header = ['ALARM', 'UPDATED', 'RISK', 'STATUS', 'TAG', 'TITLE', 'SRC → DST']
  const body = alarms.map((alarm) => [
    alarm.alarmId,
    formatTime(alarm.updateTime),
    riskText(alarm),
    alarm.status,
    alarm.tag,
    alarm.title,
    flow(alarm),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => visibleLength(cells[i]!))))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell + ' '.repeat(Math.max(0, widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd()
  return [chalk.bold(line(header)), ...body.map(line)].join('\n')
}

export function renderStoredAlarm(alarm: StoredAlarm): string {
  const fields: [string, string][] = [
    ['alarm', alarm.alarmId],
    ['title', alarm.title],
    ['directive', String(alarm.directiveId)],
    ['status', alarm.status],
    ['tag', alarm.tag],
    ['risk', riskText(alarm)],
    ['created', formatTime(alarm.createdTime)],
    ['updated', formatTime(alarm.updateTime)],
    ['src → dst', flow(alarm)],
  ]
  const width = Math.max(...fields.map(([name]) => name.length))
  return [
    ...fields.map(([name, value]) => `${chalk.bold(name.padEnd(width))}  ${value}`),
    '',
    chalk.bold('alarm line:'),
    prettyJson(alarm.json),
  ].join('\n')
}

/**
 * Indents JSON text without parsing it: a parse would round the rules' nanosecond rcvd_time and
 * undo Go's escaping, and the point is to show the line as stored.
 */
export function prettyJson(text: string, indent = '  '): string {
  let out = ''
  let depth = 0
  const newline = () => '\n' + indent.repeat(depth)
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j
    } else if (c === '{' || c === '[') {
      let j = i + 1
      while (j < text.length && /\s/.test(text[j]!)) j++
      if (text[j] === (c === '{' ? '}' : ']')) {
        out += c + text[j]
        i = j
      } else {
        depth++
        out += c + newline()
      }
    } else if (c === '}' || c === ']') {
      depth--
      out += newline() + c
    } else if (c === ',') {
      out += ',' + newline()
    } else if (c === ':') {
      out += ': '
    } else if (!/\s/.test(c)) {
      out += c
    }
  }
  return out
}

/**
 * The body both `alarms set-status` and `alarms set-tag` run: open the store read-write, apply one
 * analyst edit, close, and say what the alarm now holds.
 */
export function editAnalystField(
  dataDir: string,
  field: 'status' | 'tag',
  edit: (store: AlarmStore) => StoredAlarm,
): {alarm: StoredAlarm; text: string} {
  const store = openAlarmStore(alarmStorePath(dataDir), {mustExist: true})
  let alarm: StoredAlarm
  try {
    alarm = edit(store)
  } finally {
    store.close()
  }
  return {alarm, text: `alarm ${alarm.alarmId}: ${field} ${JSON.stringify(alarm[field])}`}
}
