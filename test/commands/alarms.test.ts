// `dsiem alarms list|show|set-status|set-tag` as a user runs them, against a store prepared in a temp
// data directory (and, for reads, with a writer still holding it open as `dsiem serve` would):
// text and --json, env twins, the allowed-values lists, unknown ids and a missing store.

import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {serializeAlarm, type Alarm} from '../../src/engine/index.js'
import {alarmStorePath, openAlarmStore, type SqliteAlarmStore} from '../../src/roles/io/state.js'
import {ALARM_T0 as T0, pingFloodAlarm} from '../helpers/alarm-builders.js'
import {rule} from '../helpers/directive-builders.js'
import {runCli} from '../helpers/run-cli.js'

function alarm(fields: Partial<Alarm>): Alarm {
  return pingFloodAlarm({
    customData: [{label: 'user', content: 'alice'}],
    rules: [
      rule({name: 'ICMP Ping', startTime: T0, rcvdTime: 1_795_263_372_882_677_522n, status: 'finished'}),
    ],
    ...fields,
  })
}

const OLD = alarm({alarmId: 'old', directiveId: 1, risk: 1, riskClass: 'Low', title: 'Old one'})
const NEW = alarm({
  alarmId: 'new',
  directiveId: 2,
  risk: 8,
  riskClass: 'High',
  updateTime: T0 + 3600,
  title: 'New one',
  dstIps: ['10.0.0.1', '10.0.0.2'],
})

const root = mkdtempSync(path.join(tmpdir(), 'dsiem-alarms-cli-'))
after(() => rmSync(root, {recursive: true, force: true}))
let count = 0

/** A data dir whose store holds OLD and NEW; the writer stays open, like a running server. */
function dataDir(): {dir: string; writer: SqliteAlarmStore} {
  const dir = path.join(root, `data${++count}`)
  const writer = openAlarmStore(alarmStorePath(dir))
  writer.upsert(OLD)
  writer.upsert(NEW)
  writer.flush()
  return {dir, writer}
}

interface Summary {
  alarm_id: string
  status: string
  tag: string
  risk_class: string
  dst_ips: string[]
}

describe('dsiem alarms', () => {
  let dir: string
  let writer: SqliteAlarmStore
  before(() => ({dir, writer} = dataDir()))
  after(() => writer.close())

  it('list: a table, newest first, read while a writer holds the store', () => {
    const result = runCli(['alarms', 'list', '--data-dir', dir])
    assert.equal(result.status, 0, result.stderr)
    const lines = result.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^ALARM\s+UPDATED\s+RISK\s+STATUS\s+TAG\s+TITLE\s+SRC → DST$/)
    assert.match(
      lines[1]!,
      /^new\s+2026-11-21 13:16:12Z\s+8 High\s+Open\s+Identified Threat\s+New one\s+192\.168\.0\.1 → 10\.0\.0\.1,10\.0\.0\.2$/,
    )
    assert.match(lines[2]!, /^old\s+2026-11-21 12:16:12Z\s+1 Low\s+Open/)
    assert.equal(lines.length, 3)
  })

  it('list --json, filters, and the DSIEM_* twins (DSIEM_DATA_DIR, DSIEM_ALARMS_*, DSIEM_JSON)', () => {
    const all = runCli(['alarms', 'list', '--data-dir', dir, '--json'])
    assert.equal(all.status, 0, all.stderr)
    const rows = JSON.parse(all.stdout) as Summary[]
    assert.deepEqual(
      rows.map((r) => r.alarm_id),
      ['new', 'old'],
    )
    assert.deepEqual(rows[0]!.dst_ips, ['10.0.0.1', '10.0.0.2'])

    const ids = (args: string[], env: Record<string, string> = {}) => {
      const result = runCli(['alarms', 'list', ...args], {
        env: {DSIEM_DATA_DIR: dir, DSIEM_JSON: '1', ...env},
      })
      assert.equal(result.status, 0, result.stderr)
      return (JSON.parse(result.stdout) as Summary[]).map((r) => r.alarm_id)
    }
    assert.deepEqual(ids(['--risk-class', 'Low']), ['old'])
    assert.deepEqual(ids(['--directive', '2']), ['new'])
    assert.deepEqual(ids(['--since', '2026-11-21T13:00:00Z']), ['new'])
    assert.deepEqual(ids(['--limit', '1']), ['new'])
    assert.deepEqual(ids(['--status', 'Closed']), [])
    assert.deepEqual(ids([], {DSIEM_ALARMS_RISK_CLASS: 'High'}), ['new'])
    // serve's allowed-values list in the environment is not a filter.
    assert.deepEqual(ids([], {DSIEM_STATUS: 'Open,In-Progress,Closed', DSIEM_TAGS: 'Identified Threat'}), [
      'new',
      'old',
    ])
  })

  it('list: a bad --since or --risk-class exits 2', () => {
    const since = runCli(['alarms', 'list', '--data-dir', dir, '--since', 'yesterday'])
    assert.equal(since.status, 2)
    assert.match(since.stderr, /--since: "yesterday" is not an RFC 3339 time/)
    const riskClass = runCli(['alarms', 'list', '--data-dir', dir, '--risk-class', 'Severe'])
    assert.equal(riskClass.status, 2)
  })

  it('show: the fields and the pretty alarm line; --json prints the stored line itself', () => {
    const text = runCli(['alarms', 'show', 'new', '--data-dir', dir])
    assert.equal(text.status, 0, text.stderr)
    assert.match(text.stdout, /^alarm\s+new$/m)
    assert.match(text.stdout, /^risk\s+8 High$/m)
    assert.match(text.stdout, /^status\s+Open$/m)
    assert.match(text.stdout, /^updated\s+2026-11-21 13:16:12Z$/m)
    assert.match(text.stdout, /^ {2}"custom_data": \[$/m)
    assert.match(text.stdout, /"rcvd_time": 1795263372882677522/)

    const json = runCli(['alarms', 'show', 'new', '--data-dir', dir, '--json'])
    assert.equal(json.status, 0, json.stderr)
    assert.equal(json.stdout, serializeAlarm(NEW) + '\n')
  })

  it('an unknown id exits 2 with one line', () => {
    for (const args of [
      ['show', 'nope'],
      ['set-status', 'nope', 'Closed'],
      ['set-tag', 'nope', 'Valid Threat'],
    ]) {
      const result = runCli(['alarms', ...args, '--data-dir', dir])
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stderr, 'dsiem: error: no alarm nope\n')
    }
  })
})

describe('dsiem alarms set-status / set-tag', () => {
  let dir: string
  let writer: SqliteAlarmStore
  before(() => ({dir, writer} = dataDir()))
  after(() => writer.close())

  it('sets a status from the default list, while a writer holds the store, and later updates keep it', () => {
    const result = runCli(['alarms', 'set-status', 'old', 'In-Progress', '--data-dir', dir])
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout, 'alarm old: status "In-Progress"\n')
    // The running writer's next accepted update keeps the analyst's status.
    const next = {...OLD, risk: 2, updateTime: T0 + 60}
    writer.upsert(next)
    writer.flush()
    const shown = runCli(['alarms', 'show', 'old', '--data-dir', dir, '--json'])
    assert.equal(shown.stdout, serializeAlarm({...next, status: 'In-Progress'}) + '\n')
  })

  it('--json prints the updated line; --status and DSIEM_STATUS give the allowed list', () => {
    const custom = runCli([
      'alarms',
      'set-status',
      'new',
      'Escalated',
      '--data-dir',
      dir,
      '--status',
      'Open,Escalated',
      '--json',
    ])
    assert.equal(custom.status, 0, custom.stderr)
    assert.equal(custom.stdout, serializeAlarm({...NEW, status: 'Escalated'}) + '\n')
    const env = runCli(['alarms', 'set-status', 'new', 'Parked'], {
      env: {DSIEM_DATA_DIR: dir, DSIEM_STATUS: 'Parked'},
    })
    assert.equal(env.status, 0, env.stderr)
  })

  it('a status outside the list exits 2 naming the allowed values', () => {
    const result = runCli(['alarms', 'set-status', 'new', 'Done', '--data-dir', dir])
    assert.equal(result.status, 2)
    assert.match(
      result.stderr,
      /^dsiem: error: invalid status "Done": allowed values are "Open", "In-Progress", "Closed"/,
    )
    const json = runCli(['alarms', 'set-status', 'new', 'Done', '--data-dir', dir, '--json'])
    assert.equal(json.status, 2)
    const payload = JSON.parse(json.stdout) as {error: {code: string; category: string}}
    assert.deepEqual([payload.error.code, payload.error.category], ['DSIEM_E_ALARM_STATUS', 'user'])
  })

  it('sets a tag from the default list, --tags or DSIEM_TAGS; a tag outside the list exits 2', () => {
    const result = runCli(['alarms', 'set-tag', 'new', 'False Positive', '--data-dir', dir])
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout, 'alarm new: tag "False Positive"\n')
    const flag = runCli([
      'alarms',
      'set-tag',
      'new',
      'Benign',
      '--data-dir',
      dir,
      '--tags',
      'Benign,Nasty',
      '--json',
    ])
    assert.equal(flag.status, 0, flag.stderr)
    assert.match(flag.stdout, /"tag":"Benign"/)
    const env = runCli(['alarms', 'set-tag', 'new', 'Nasty'], {
      env: {DSIEM_DATA_DIR: dir, DSIEM_TAGS: 'Benign,Nasty'},
    })
    assert.equal(env.status, 0, env.stderr)
    const bad = runCli(['alarms', 'set-tag', 'new', 'Nasty', '--data-dir', dir])
    assert.equal(bad.status, 2)
    assert.match(
      bad.stderr,
      /allowed values are "Identified Threat", "False Positive", "Valid Threat", "Security Incident"/,
    )
    const listed = JSON.parse(
      runCli(['alarms', 'list', '--data-dir', dir, '--tag', 'Nasty', '--json']).stdout,
    ) as Summary[]
    assert.deepEqual(
      listed.map((r) => [r.alarm_id, r.tag]),
      [['new', 'Nasty']],
    )
  })
})

describe('dsiem alarms without a store', () => {
  it('says where it looked and how to create it, exit 4, and creates nothing', () => {
    const dir = path.join(root, 'nothing-here')
    const expected = `dsiem: error: no alarm store at ${alarmStorePath(dir)}; start dsiem serve with --data-dir ${dir} first\n`
    for (const args of [
      ['list'],
      ['show', 'a1'],
      ['set-status', 'a1', 'Closed'],
      ['set-tag', 'a1', 'Valid Threat'],
    ]) {
      const result = runCli(['alarms', ...args, '--data-dir', dir])
      assert.equal(result.status, 4, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stderr, expected)
    }
    const json = runCli(['alarms', 'list', '--json'], {env: {DSIEM_DATA_DIR: dir}})
    assert.equal(json.status, 4)
    assert.equal((JSON.parse(json.stdout) as {error: {code: string}}).error.code, 'DSIEM_E_NO_ALARM_STORE')
    assert.equal(existsSync(dir), false, 'nothing was created')
  })
})
