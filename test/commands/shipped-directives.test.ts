// The shipped example set in directives/ must keep working exactly as its README says: every directive
// loads, and the demo command from the main README raises the documented alarms. Runs the real CLI
// (bin/run.js over dist/, which `npm test` builds first) as a child process, as a user would.

import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {before, describe, it} from 'node:test'
import {REPO_ROOT} from '../helpers/paths.js'
import {runCli, type CliResult} from '../helpers/run-cli.js'

const DIRECTIVES_FILE = path.join(REPO_ROOT, 'directives', 'directives_dsiem_examples.json')
/** The sensor's directives (on plugin_id 9100), ids 100101–100199; the demo events never reach them. */
const SENSOR_DIRECTIVES_FILE = path.join(REPO_ROOT, 'directives', 'directives_dsiem_sensor.json')
const EVENTS_FILE = path.join(REPO_ROOT, 'directives', 'demo-events.ndjson')

/** `dsiem directive test` over the shipped set and the demo events, as the main README runs it. */
function runDemo(...flags: string[]): CliResult {
  return runCli([
    'directive',
    'test',
    '--config-dir',
    'directives',
    '--events',
    'directives/demo-events.ndjson',
    ...flags,
  ])
}

interface RuleJson {
  name: string
  status?: string
}

interface AlarmJson {
  alarm_id: string
  title: string
  risk: number
  risk_class: string
  rules: RuleJson[]
}

interface AlarmEventJson {
  alarm_id: string
  stage: number
  event_id: string
}

interface DirectiveJson {
  id: number
  name: string
  rules: {name: string}[]
}

const directivesOf = (file: string): DirectiveJson[] =>
  (JSON.parse(readFileSync(file, 'utf8')) as {directives: DirectiveJson[]}).directives
const shipped = directivesOf(DIRECTIVES_FILE)
const sensorShipped = directivesOf(SENSOR_DIRECTIVES_FILE)

/** Alarm lines carry no directive id; the rule names identify the directive (unique in this set). */
function directiveOf(alarm: AlarmJson): number {
  const names = alarm.rules.map((r) => r.name).join('\n')
  const matches = shipped.filter((d) => d.rules.map((r) => r.name).join('\n') === names)
  assert.equal(matches.length, 1, `alarm ${alarm.alarm_id} (${alarm.title}) matches one shipped directive`)
  return matches[0]!.id
}

/** What directives/README.md documents for the demo. */
const EXPECTED: Record<
  number,
  {risk: number; riskClass: string; eventsPerStage: number[]; statuses: string[]}
> = {
  100001: {
    risk: 1,
    riskClass: 'Low',
    eventsPerStage: [1, 10, 30],
    statuses: ['finished', 'finished', 'timeout'],
  },
  100002: {
    risk: 8,
    riskClass: 'High',
    eventsPerStage: [1, 5, 1],
    statuses: ['finished', 'finished', 'finished'],
  },
  100003: {risk: 3, riskClass: 'Medium', eventsPerStage: [1, 3, 7], statuses: ['finished', 'finished', '']},
  100004: {
    risk: 2,
    riskClass: 'Low',
    eventsPerStage: [1, 10, 25],
    statuses: ['finished', 'finished', 'finished'],
  },
  100005: {
    risk: 8,
    riskClass: 'High',
    eventsPerStage: [3, 3, 10],
    statuses: ['finished', 'finished', 'finished'],
  },
  100006: {risk: 1, riskClass: 'Low', eventsPerStage: [1, 5, 4], statuses: ['finished', 'finished', '']},
}

describe('shipped directives', () => {
  before(() => {
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test builds it first)')
    }
  })

  it('validate loads every shipped directive, none skipped, no warnings', () => {
    const result = runCli(['directive', 'validate', '--config-dir', 'directives', '--json'])
    assert.equal(result.status, 0, result.stderr)
    const report = JSON.parse(result.stdout) as {
      valid: number
      total: number
      skipped: unknown[]
      warnings: unknown[]
      directives: {id: number}[]
    }
    const all = [...shipped, ...sensorShipped]
    assert.equal(report.total, all.length)
    assert.equal(report.valid, all.length)
    assert.deepEqual(report.skipped, [])
    assert.deepEqual(report.warnings, [])
    assert.deepEqual(
      report.directives.map((d) => d.id),
      all.map((d) => d.id),
    )
    for (const directive of shipped) {
      assert.ok(directive.id >= 100001 && directive.id <= 100099, `id ${directive.id} in the examples' range`)
    }
    for (const directive of sensorShipped) {
      assert.ok(directive.id >= 100101 && directive.id <= 100199, `id ${directive.id} in the sensor's range`)
    }
  })

  it('the demo raises the documented alarms', () => {
    const result = runDemo('--json')
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stderr, '', 'no event line is rejected')
    const output = JSON.parse(result.stdout) as {alarms: AlarmJson[]; alarm_events: AlarmEventJson[]}

    const byDirective = new Map<number, AlarmJson[]>()
    for (const alarm of output.alarms) {
      const id = directiveOf(alarm)
      byDirective.set(id, [...(byDirective.get(id) ?? []), alarm])
    }
    assert.deepEqual(
      [...byDirective.keys()].sort(),
      Object.keys(EXPECTED).map(Number),
      'one alarm per shipped directive',
    )
    for (const [id, alarms] of byDirective) {
      const expected = EXPECTED[id]!
      assert.equal(alarms.length, 1, `directive ${id} raises one alarm`)
      const alarm = alarms[0]!
      assert.equal(alarm.risk, expected.risk, `directive ${id} risk`)
      assert.equal(alarm.risk_class, expected.riskClass, `directive ${id} risk class`)
      assert.deepEqual(
        alarm.rules.map((r) => r.status ?? ''),
        expected.statuses,
        `directive ${id} stage statuses`,
      )
      const perStage = [0, 0, 0]
      for (const line of output.alarm_events) {
        if (line.alarm_id === alarm.alarm_id) perStage[line.stage - 1]!++
      }
      assert.deepEqual(perStage, expected.eventsPerStage, `directive ${id} events per stage`)
    }

    const counts = {Low: 0, Medium: 0, High: 0} as Record<string, number>
    for (const alarm of output.alarms) counts[alarm.risk_class]!++
    assert.deepEqual(counts, {Low: 3, Medium: 1, High: 2})
  })

  it('the whitelisted scanner is dropped and background noise opens no backlog', () => {
    const result = runDemo('--json')
    assert.equal(result.status, 0, result.stderr)
    const output = JSON.parse(result.stdout) as {alarms: AlarmJson[]; alarm_events: AlarmEventJson[]}
    const events = readFileSync(EVENTS_FILE, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as {event_id: string; src_ip: string})
    const used = new Set(output.alarm_events.map((e) => e.event_id))
    const scanner = events.filter((e) => e.src_ip === '10.10.9.50')
    assert.equal(scanner.length, 1, 'the demo holds one scanner event')
    assert.ok(!used.has(scanner[0]!.event_id), 'the scanner event reaches no backlog')

    // The README's totals: 8 backlogs (6 with alarms, plus the stray root attempt and the mistyped
    // password at risk 0), 123 alarm-event lines.
    assert.equal(new Set(output.alarm_events.map((e) => e.alarm_id)).size, 8)
    assert.equal(output.alarm_events.length, 123)
  })

  it('the text output summarises the run', () => {
    const result = runDemo()
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /317 events \(0 rejected\), 8 backlogs, 6 alarms, 123 alarm events/)
  })
})
