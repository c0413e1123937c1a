// S10 end to end through the real CLI: upstream's default assets and Ping Flood directive, five
// ICMP events 1.2 s apart, replayed by `dsiem directive test --json` from the built dist/.

import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {REPO_ROOT, skipWithoutUpstreamFixtures, upstream} from '../helpers/paths.js'
import {ALARM_KEYS, RULE_KEYS, rawKeys, rawObjects} from '../helpers/raw-json.js'
import {runCli} from '../helpers/run-cli.js'

const skip = skipWithoutUpstreamFixtures('the S10 golden run')

describe('S10 golden run: dsiem directive test --json', {skip}, () => {
  let dir: string
  let stdout: string

  before(() => {
    assert.ok(
      existsSync(path.join(REPO_ROOT, 'dist/commands/index.js')),
      'dist/ is missing: build first (npm run build)',
    )
    dir = mkdtempSync(path.join(tmpdir(), 'dsiem-golden-'))
    const configDir = path.join(dir, 'configs')
    mkdirSync(configDir)
    for (const file of ['assets_testing.json', 'directives_dsiem-backend-0_testing1.json']) {
      copyFileSync(upstream('configs', file), path.join(configDir, file))
    }
    const base = Date.UTC(2024, 0, 1) / 1000
    // rcvd_time is appended as raw text: exact nanoseconds beyond 2^53, kept on the alarm's first rule.
    const events = [0, 1, 2, 3, 4].map(
      (i) =>
        JSON.stringify({
          event_id: `e${i + 1}`,
          timestamp: new Date((base + i * 1.2) * 1000).toISOString(),
          sensor: 'sensor1',
          plugin_id: 1001,
          plugin_sid: 2100384,
          src_ip: '192.168.0.1',
          dst_ip: '8.8.8.8',
          protocol: 'ICMP',
          custom_label1: 'user',
          custom_data1: 'alice',
        }).slice(0, -1) + `,"rcvd_time":${base + i}882677522}`,
    )
    const eventsFile = path.join(dir, 'events.ndjson')
    writeFileSync(eventsFile, events.join('\n') + '\n')
    const result = runCli(['directive', 'test', '--config-dir', configDir, '--events', eventsFile, '--json'])
    assert.equal(result.status, 0, result.stderr)
    stdout = result.stdout
  })

  after(() => {
    if (dir !== undefined) rmSync(dir, {recursive: true, force: true})
  })

  it('writes one alarm-event line per event: stages 1, 2, 2, 2, 3', () => {
    const output = JSON.parse(stdout) as {alarm_events: {alarm_id: string; stage: number; event_id: string}[]}
    assert.deepEqual(
      output.alarm_events.map((l) => [l.stage, l.event_id]),
      [
        [1, 'e1'],
        [2, 'e2'],
        [2, 'e3'],
        [2, 'e4'],
        [3, 'e5'],
      ],
    )
    assert.equal(new Set(output.alarm_events.map((l) => l.alarm_id)).size, 1)
  })

  it('produces exactly one alarm: risk 3 Medium, "Ping Flood from Firewall", rules 1–2 finished', () => {
    const output = JSON.parse(stdout) as {
      alarms: Record<string, unknown>[]
      alarm_events: {alarm_id: string}[]
    }
    assert.equal(output.alarms.length, 1)
    const alarm = output.alarms[0]!
    const base = Date.UTC(2024, 0, 1) / 1000
    assert.equal(alarm['alarm_id'], output.alarm_events[0]!.alarm_id)
    assert.equal(alarm['title'], 'Ping Flood from Firewall')
    assert.equal(alarm['risk'], 3)
    assert.equal(alarm['risk_class'], 'Medium')
    assert.equal(alarm['status'], 'Open')
    assert.equal(alarm['tag'], 'Identified Threat')
    assert.equal(alarm['kingdom'], 'Reconnaissance & Probing')
    assert.deepEqual(alarm['src_ips'], ['192.168.0.1'])
    assert.deepEqual(alarm['dst_ips'], ['8.8.8.8'])
    assert.deepEqual(alarm['networks'], ['192.168.0.0/16'])
    assert.deepEqual(alarm['custom_data'], [{label: 'user', content: 'alice'}])
    // created_time is the first (risk-0, unwritten) upsert's time; the clock follows event time.
    assert.equal(alarm['created_time'], base)
    assert.equal(alarm['update_time'], base + 3)
    const rules = alarm['rules'] as Record<string, unknown>[]
    assert.deepEqual(
      rules.map((r) => [r['stage'], r['from'], r['status'], r['start_time'], r['end_time']]),
      [
        [1, 'HOME_NET', 'finished', base, base],
        [2, '192.168.0.1', 'finished', base, base + 3],
        [3, '192.168.0.1', undefined, base + 3, undefined],
      ],
    )
    assert.ok(
      rules.every((r) => !('events' in r)),
      'no rule carries its events',
    )
    // The exact nanoseconds survive (JSON.parse would round them; read the raw text).
    assert.ok(
      stdout.includes(`"rcvd_time":${base}882677522,"status":"finished"}`),
      "the first rule's exact rcvd_time nanoseconds",
    )
    assert.equal(stdout.split('"rcvd_time"').length, 2)
  })

  it("writes the alarm's keys in upstream's order, with Go's escaping", () => {
    const [alarm] = rawObjects(stdout, 'alarms')
    assert.ok(alarm !== undefined, 'an alarm in the output')
    assert.deepEqual(rawKeys(alarm, 0).keys, [...ALARM_KEYS])
    assert.ok(
      alarm.includes('"kingdom":"Reconnaissance \\u0026 Probing"'),
      "kingdom escaped as Go's encoder does",
    )
    const rules = rawObjects(alarm, 'rules')
    assert.deepEqual(
      rules.map((r) => rawKeys(r, 0).keys),
      [
        [...RULE_KEYS, 'start_time', 'end_time', 'rcvd_time', 'status'],
        [...RULE_KEYS, 'start_time', 'end_time', 'status'],
        [...RULE_KEYS, 'start_time'],
      ],
    )
  })
})

describe('S10 expiry variant: dsiem directive test --now', {skip}, () => {
  it('re-emits the High alarm with the timed-out stage marked "timeout"', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsiem-expiry-'))
    try {
      const configDir = path.join(dir, 'configs')
      mkdirSync(configDir)
      copyFileSync(upstream('configs', 'assets_testing.json'), path.join(configDir, 'assets_testing.json'))
      const rule = {
        name: 'ICMP Ping',
        type: 'PluginRule',
        plugin_id: 1001,
        plugin_sid: [2100384],
        to: 'ANY',
        port_from: 'ANY',
        port_to: 'ANY',
        protocol: 'ICMP',
      }
      const directive = {
        id: 1,
        name: 'Ping Flood from SRC_IP',
        kingdom: 'Reconnaissance & Probing',
        category: 'Misc Activity',
        priority: 5,
        rules: [
          {...rule, stage: 1, occurrence: 1, from: 'HOME_NET', reliability: 10, timeout: 0},
          {...rule, stage: 2, occurrence: 3, from: ':1', reliability: 6, timeout: 5},
        ],
      }
      writeFileSync(path.join(configDir, 'directives_expiry.json'), JSON.stringify({directives: [directive]}))
      const eventsFile = path.join(dir, 'events.ndjson')
      const event = {
        event_id: 'e1',
        timestamp: '2024-01-01T00:00:00Z',
        sensor: 'sensor1',
        plugin_id: 1001,
        plugin_sid: 2100384,
        src_ip: '192.168.0.1',
        dst_ip: '8.8.8.8',
      }
      writeFileSync(eventsFile, JSON.stringify(event) + '\n')
      const run = (now: string) => {
        const result = runCli([
          'directive',
          'test',
          '--config-dir',
          configDir,
          '--events',
          eventsFile,
          '--now',
          now,
          '--json',
        ])
        assert.equal(result.status, 0, result.stderr)
        return JSON.parse(result.stdout) as {
          alarms: {risk: number; risk_class: string; rules: {status?: string}[]}[]
        }
      }
      const expired = run('2024-01-01T00:00:10Z').alarms
      assert.equal(expired.length, 1)
      assert.deepEqual(
        [expired[0]!.risk, expired[0]!.risk_class, expired[0]!.rules.map((r) => r.status)],
        [10, 'High', ['finished', 'timeout']],
      )
      // Within the stage's 5 s the same alarm stays open.
      const open = run('2024-01-01T00:00:05Z').alarms
      assert.deepEqual(
        open[0]!.rules.map((r) => r.status),
        ['finished', undefined],
      )
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
