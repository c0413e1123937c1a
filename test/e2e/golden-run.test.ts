// S10 through `dsiem serve`: five pings posted over HTTP to a standalone server; the alarm-event and
// alarm lines it writes under DATA_DIR/logs (content, key order, modes), and `dsiem alarms list`
// reading the alarm store it keeps. Runs with upstream's own config files when ../shared has them,
// and always with the inline copies of the same directive and assets.

import assert from 'node:assert/strict'
import {copyFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {LAN_ASSETS, PING_FLOOD_DIRECTIVE, writeConfigDir} from '../helpers/config-fixtures.js'
import {Cleanup, eventBody, postAll, serve, serveConfig, type Served} from '../helpers/e2e.js'
import {skipWithoutUpstreamFixtures, upstream} from '../helpers/paths.js'
import {ALARM_KEYS, RULE_KEYS, rawKeys, rawObjects} from '../helpers/raw-json.js'
import {runCliAsync} from '../helpers/run-cli.js'
import {alarmFiles, readLines} from '../roles/backend-rig.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

interface Scenario {
  name: string
  skip: string | false
  /** Fills the config dir. */
  configure(dir: string): void
  /** Upstream's directive has protocol "ICMP" and a 10000-occurrence third stage; the inline one 100. */
  protocol: string
  stage3Occurrence: number
  /** `dsiem alarms list` with --json (else the table). */
  listJson: boolean
}

const SCENARIOS: Scenario[] = [
  {
    name: "upstream's assets_testing.json and directives_dsiem-backend-0_testing1.json",
    skip: skipWithoutUpstreamFixtures('the S10 golden run through dsiem serve with upstream configs'),
    configure: (dir) => {
      for (const file of ['assets_testing.json', 'directives_dsiem-backend-0_testing1.json']) {
        copyFileSync(upstream('configs', file), path.join(dir, file))
      }
    },
    protocol: 'ICMP',
    stage3Occurrence: 10000,
    listJson: false,
  },
  {
    name: 'the inline PING_FLOOD_DIRECTIVE and LAN_ASSETS',
    skip: false,
    configure: (dir) => void writeConfigDir({directives: [PING_FLOOD_DIRECTIVE], assets: LAN_ASSETS, dir}),
    protocol: '', // no protocol: the key is left out, as Go's omitempty does
    stage3Occurrence: 100,
    listJson: true,
  },
]

for (const scenario of SCENARIOS) {
  describe(`S10 golden run through dsiem serve: ${scenario.name}`, {skip: scenario.skip}, () => {
    let s: Served
    let dataDir: string
    let startedAt: number
    /** Unix seconds of the first event's timestamp. */
    let eventBase: number
    let endedAt: number
    let events: string[]
    let alarms: string[]

    before(async () => {
      const configDir = cleanup.dir('dsiem-e2e-s10-config-')
      scenario.configure(configDir)
      dataDir = cleanup.dir('dsiem-e2e-s10-data-')
      s = await serve(cleanup, serveConfig({configDir, dataDir}))
      startedAt = Math.floor(Date.now() / 1000)
      eventBase = startedAt - 300
      // Five pings 1.2 s apart in event time (posted at once), from the Firewall to 8.8.8.8.
      await postAll(
        s.base,
        [0, 1, 2, 3, 4].map((i) => ({
          ...eventBody(`e${i + 1}`),
          timestamp: new Date((eventBase + i * 1.2) * 1000).toISOString(),
        })),
      )
      await s.backend().settle()
      endedAt = Math.ceil(Date.now() / 1000)
      const files = alarmFiles(dataDir)
      events = readLines(files.events)
      alarms = readLines(files.alarms)
    })

    it('writes 5 alarm-event lines, stages 1, 2, 2, 2, 3, all of one alarm', () => {
      const parsed = events.map(
        (line) => JSON.parse(line) as {alarm_id: string; stage: number; event_id: string},
      )
      assert.deepEqual(
        parsed.map((l) => [l.stage, l.event_id]),
        [
          [1, 'e1'],
          [2, 'e2'],
          [2, 'e3'],
          [2, 'e4'],
          [3, 'e5'],
        ],
      )
      assert.equal(new Set(parsed.map((l) => l.alarm_id)).size, 1, 'one alarm id')
      assert.deepEqual(Object.keys(JSON.parse(events[0]!) as object), ['alarm_id', 'stage', 'event_id'])
    })

    it('writes exactly the one alarm line upstream writes', () => {
      assert.equal(alarms.length, 1, `one alarm line:\n${alarms.join('\n')}`)
      const line = alarms[0]!
      const alarm = JSON.parse(line) as Record<string, unknown>
      const alarmId = (JSON.parse(events[0]!) as {alarm_id: string}).alarm_id
      const rules = alarm['rules'] as Record<string, unknown>[]
      const created = alarm['created_time'] as number
      const updated = alarm['update_time'] as number
      assert.ok(
        startedAt - 1 <= created && created <= updated && updated <= endedAt,
        `times within the run: ${created}..${updated} in ${startedAt}..${endedAt}`,
      )
      const rcvd = BigInt(/"rcvd_time":(\d+)/.exec(line)![1]!)
      assert.ok(
        rcvd >= BigInt(startedAt - 1) * 1_000_000_000n && rcvd <= BigInt(endedAt) * 1_000_000_000n,
        `rule 1 rcvd_time ${rcvd} is the first event's receipt, in nanoseconds`,
      )
      const rule = (
        stage: number,
        from: string,
        occurrence: number,
        reliability: number,
        timeout: number,
      ) => ({
        name: 'ICMP Ping',
        stage,
        plugin_id: 1001,
        plugin_sid: [2100384],
        occurrence,
        from,
        to: 'ANY',
        type: 'PluginRule',
        port_from: 'ANY',
        port_to: 'ANY',
        ...(scenario.protocol === '' ? {} : {protocol: scenario.protocol}),
        reliability,
        timeout,
      })
      const expected = {
        alarm_id: alarmId,
        title: 'Ping Flood from Firewall',
        status: 'Open',
        kingdom: 'Reconnaissance & Probing',
        category: 'Misc Activity',
        created_time: created,
        update_time: updated,
        risk: 3,
        risk_class: 'Medium',
        tag: 'Identified Threat',
        src_ips: ['192.168.0.1'],
        dst_ips: ['8.8.8.8'],
        networks: ['192.168.0.0/16'],
        rules: [
          {
            ...rule(1, 'HOME_NET', 1, 1, 0),
            start_time: eventBase,
            end_time: eventBase,
            rcvd_time: rules[0]!['rcvd_time'],
            status: 'finished',
          },
          {
            ...rule(2, '192.168.0.1', 3, 6, 600),
            start_time: eventBase,
            end_time: eventBase + 3,
            status: 'finished',
          },
          {
            ...rule(3, '192.168.0.1', scenario.stage3Occurrence, 10, 3600),
            start_time: rules[2]!['start_time'],
          },
        ],
      }
      // Rule times are event times (seconds of e1, e4 at +3.6 s and e5 at +4.8 s); the alarm's are the
      // backend's clock, as upstream's.
      assert.deepEqual(alarm, expected)
      // Key order and Go's escaping, on the raw text.
      const ruleKeys = RULE_KEYS.filter((k) => k !== 'protocol' || scenario.protocol !== '')
      assert.deepEqual(
        rawKeys(line, 0).keys,
        ALARM_KEYS.filter((k) => k !== 'custom_data'),
      )
      assert.ok(line.includes('"kingdom":"Reconnaissance \\u0026 Probing"'), 'kingdom escaped as Go does')
      assert.deepEqual(
        rawObjects(line, 'rules').map((r) => rawKeys(r, 0).keys),
        [
          [...ruleKeys, 'start_time', 'end_time', 'rcvd_time', 'status'],
          [...ruleKeys, 'start_time', 'end_time', 'status'],
          [...ruleKeys, 'start_time'],
        ],
      )
    })

    it('keeps DATA_DIR/logs at 0700 and both files at 0600', () => {
      const files = alarmFiles(dataDir)
      assert.equal((statSync(path.dirname(files.alarms)).mode & 0o777).toString(8), '700')
      assert.equal((statSync(files.alarms).mode & 0o777).toString(8), '600')
      assert.equal((statSync(files.events).mode & 0o777).toString(8), '600')
    })

    it(`\`dsiem alarms list --data-dir\`${scenario.listJson ? ' --json' : ''} shows the alarm while the server runs`, async () => {
      const alarm = JSON.parse(alarms[0]!) as Record<string, unknown>
      // One CLI run per scenario (each costs a Node start-up): the table here, --json in the other.
      if (!scenario.listJson) {
        const table = await runCliAsync(['alarms', 'list', '--data-dir', dataDir])
        assert.equal(table.status, 0, table.stderr)
        const row = table.stdout.split('\n').find((l) => l.includes(alarm['alarm_id'] as string))
        assert.ok(row !== undefined, `the table names ${String(alarm['alarm_id'])}:\n${table.stdout}`)
        for (const cell of ['Ping Flood from Firewall', 'Medium', 'Open']) {
          assert.ok(row.includes(cell), `the row shows ${cell}: ${row}`)
        }
        return
      }
      const listed = await runCliAsync(['alarms', 'list', '--data-dir', dataDir, '--json'])
      assert.equal(listed.status, 0, listed.stderr)
      const rows = JSON.parse(listed.stdout) as Record<string, unknown>[]
      assert.deepEqual(rows, [
        {
          alarm_id: alarm['alarm_id'],
          directive_id: 1,
          title: 'Ping Flood from Firewall',
          status: 'Open',
          tag: 'Identified Threat',
          risk: 3,
          risk_class: 'Medium',
          created_time: alarm['created_time'],
          update_time: alarm['update_time'],
          src_ips: ['192.168.0.1'],
          dst_ips: ['8.8.8.8'],
        },
      ])
    })
  })
}
