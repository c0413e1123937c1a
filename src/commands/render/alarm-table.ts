// Text rendering of a replay's alarms for people: one row per alarm with its title, risk and class,
// how far it got, and how many events each stage absorbed.

import chalk from 'chalk'
import type {Alarm, AlarmEventLine} from '../../engine/index.js'

export interface AlarmRow {
  alarmId: string
  directiveId: number
  title: string
  risk: number
  riskClass: string
  stageReached: number
  stages: number
  outcome: 'complete' | 'timeout' | 'open'
  eventsPerStage: number[]
  srcIps: readonly string[]
  dstIps: readonly string[]
}

export function alarmRows(alarms: readonly Alarm[], alarmEvents: readonly AlarmEventLine[]): AlarmRow[] {
  return alarms.map((alarm) => {
    const eventsPerStage = alarm.rules.map(() => 0)
    for (const line of alarmEvents) {
      if (line.alarmId === alarm.alarmId && line.stage - 1 < eventsPerStage.length)
        eventsPerStage[line.stage - 1]!++
    }
    let stageReached = 1
    alarm.rules.forEach((rule, i) => {
      if (rule.startTime !== 0) stageReached = i + 1
    })
    const outcome = alarm.rules.some((r) => r.status === 'timeout')
      ? 'timeout'
      : alarm.rules.every((r) => r.status === 'finished')
        ? 'complete'
        : 'open'
    return {
      alarmId: alarm.alarmId,
      directiveId: alarm.directiveId,
      title: alarm.title,
      risk: alarm.risk,
      riskClass: alarm.riskClass,
      stageReached,
      stages: alarm.rules.length,
      outcome,
      eventsPerStage,
      srcIps: alarm.srcIps,
      dstIps: alarm.dstIps,
    }
  })
}

const CLASS_COLOR: Record<string, (s: string) => string> = {
  Low: chalk.green,
  Medium: chalk.yellow,
  High: chalk.red,
}

function pad(text: string, width: number): string {
  const visible = text.replace(/\u001b\[[0-9;]*m/g, '')
  return text + ' '.repeat(Math.max(0, width - visible.length))
}

export function renderAlarmTable(rows: readonly AlarmRow[]): string {
  if (rows.length === 0) return chalk.dim('no alarms')
  const header = ['ALARM', 'DIRECTIVE', 'TITLE', 'RISK', 'STAGE', 'EVENTS/STAGE', 'SRC → DST']
  const body = rows.map((row) => [
    row.alarmId,
    String(row.directiveId),
    row.title,
    `${row.risk} ${(CLASS_COLOR[row.riskClass] ?? ((s: string) => s))(row.riskClass)}`,
    `${row.stageReached}/${row.stages} ${row.outcome === 'complete' ? chalk.green('complete') : row.outcome === 'timeout' ? chalk.magenta('timeout') : chalk.cyan('open')}`,
    row.eventsPerStage.join(','),
    `${row.srcIps.join(',')} → ${row.dstIps.join(',')}`,
  ])
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((cells) => cells[i]!.replace(/\u001b\[[0-9;]*m/g, '').length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!))
      .join('  ')
      .trimEnd()
  return [chalk.bold(line(header)), ...body.map(line)].join('\n')
}
