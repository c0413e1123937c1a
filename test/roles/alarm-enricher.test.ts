// The alarm enricher end to end: a CorrelationEngine whose stage completions ask for lookups, the
// built-in Wise and Nesd plugins, and a real local server playing WISE and nesd. Covers the alarm
// lines that follow a finding (and none at risk 0), the final stage after the backlog is deleted, the
// cache (hits, negatives, expiry, nothing cached when every plugin failed), per-alarm serialisation,
// a server slower than the deadline, and a graceful stop. The behaviour suite always runs, with nesd
// serving our own Nessus export (test/fixtures/intel/nessus-scan.csv); only the last suite, which
// replays upstream's nessus_example.csv, skips (with a notice) when upstream's fixtures are absent.

import assert from 'node:assert/strict'
import {after, before, beforeEach, describe, it} from 'node:test'
import {
  AssetTable,
  CorrelationEngine,
  ManualClock,
  loadDirectiveSet,
  sequentialIds,
  serializeAlarm,
  type Alarm,
  type AssetEntry,
  type EngineEffect,
  type IntelPlugin,
  type LogLevel,
  type NamedPlugin,
  type LookupResult,
  type VulnPlugin,
} from '../../src/engine/index.js'
import {AlarmEnricher} from '../../src/roles/alarm-enricher.js'
import {NesdPlugin, WisePlugin} from '../../src/roles/io/intel-plugins.js'
import {event} from '../helpers/engine-harness.js'
import {startIntelServer, useUpstreamNessusServer, type IntelServer} from '../helpers/intel-server.js'
import {skipWithoutUpstreamFixtures} from '../helpers/paths.js'

const ASSETS: AssetEntry[] = [
  {name: 'lan', cidr: '192.168.0.0/16', value: 5, whitelisted: false},
  {name: 'dmz', cidr: '10.0.0.0/8', value: 5, whitelisted: false},
]

interface DirectiveSpec {
  id?: number
  priority?: number
  reliability?: number
  /** Occurrences of stages 2.. (stage 1 always completes on its first event). */
  later: readonly number[]
  /** Destination of stages 2..; by default the first event's (`:1`, port too). */
  laterTo?: 'ANY'
}

/** Stage 1: any HOME_NET source; later stages: same source and destination (references). */
function directive(spec: DirectiveSpec): string {
  const rule = (stage: number, occurrence: number) => ({
    name: `stage ${stage}`,
    stage,
    type: 'PluginRule',
    plugin_id: 1001,
    plugin_sid: [1],
    occurrence,
    from: stage === 1 ? 'HOME_NET' : ':1',
    to: stage === 1 ? 'ANY' : (spec.laterTo ?? ':1'),
    port_from: 'ANY',
    port_to: stage === 1 ? 'ANY' : (spec.laterTo ?? ':1'),
    protocol: 'ANY',
    reliability: spec.reliability ?? 5,
    timeout: stage === 1 ? 0 : 600,
  })
  return JSON.stringify({
    directives: [
      {
        id: spec.id ?? 1,
        name: 'Traffic to DST_IP',
        priority: spec.priority ?? 5,
        kingdom: 'Delivery & Attack',
        category: 'Misc Activity',
        rules: [rule(1, 1), ...spec.later.map((occurrence, i) => rule(i + 2, occurrence))],
      },
    ],
  })
}

interface Rig {
  engine: CorrelationEngine
  enricher: AlarmEnricher
  clock: ManualClock
  effects: EngineEffect[]
  logs: string[]
  /** Every alarm line written (by the engine or, after deletion, by the enricher). */
  alarms(): Alarm[]
  send(srcIp: string, dstIp: string, ports?: {src?: number; dst?: number}): void
}

let eventCount = 0

function rig(
  spec: DirectiveSpec,
  plugins: {intel?: NamedPlugin<IntelPlugin>[]; vuln?: NamedPlugin<VulnPlugin>[]},
  options: {cacheDurationMinutes?: number} = {},
): Rig {
  const set = loadDirectiveSet([{name: 'directives_test.json', text: directive(spec)}])
  assert.equal(set.directives.length, 1, JSON.stringify(set.skipped))
  const effects: EngineEffect[] = []
  const logs: string[] = []
  const clock = new ManualClock(1_800_000_000)
  const sink: {enricher?: AlarmEnricher} = {}
  const engine = new CorrelationEngine({
    directives: set.directives,
    assets: AssetTable.fromEntries(ASSETS),
    clock,
    newId: sequentialIds(),
    emit: (effect) => {
      effects.push(effect)
      sink.enricher!.handle(effect)
    },
  })
  const enricher = new AlarmEnricher({
    engine,
    intel: plugins.intel ?? [],
    vuln: plugins.vuln ?? [],
    clock,
    emitAlarm: (alarm) => effects.push({kind: 'alarm', alarm}),
    log: (level: LogLevel, message: string) => logs.push(`${level}: ${message}`),
    ...options,
  })
  sink.enricher = enricher
  return {
    engine,
    enricher,
    clock,
    effects,
    logs,
    alarms: () => effects.flatMap((e) => (e.kind === 'alarm' ? [e.alarm] : [])),
    send: (srcIp, dstIp, ports = {}) => {
      eventCount++
      engine.process(
        event({
          eventId: `e${eventCount}`,
          timestamp: new Date(clock.nowSeconds() * 1000).toISOString().replace('.000', ''),
          pluginId: 1001,
          pluginSid: 1,
          srcIp,
          dstIp,
          srcPort: ports.src ?? 0,
          dstPort: ports.dst ?? 0,
        }),
      )
    },
  }
}

function wiseAt(url: string, timeoutMs?: number): NamedPlugin<IntelPlugin> {
  const plugin = new WisePlugin(timeoutMs === undefined ? {} : {timeoutMs})
  plugin.initialize(JSON.stringify({url}))
  return {name: 'Wise', source: 'Wise', plugin}
}

function nesdAt(server: IntelServer): NamedPlugin<VulnPlugin> {
  const plugin = new NesdPlugin()
  plugin.initialize(JSON.stringify({url: `${server.base}/?ip=\${ip}&port=\${port}`}))
  return {name: 'Nesd', source: 'Nessus', plugin}
}

/**
 * An alarm from the DMZ to host:port whose second stage asks nesd about both ip:port terms: the
 * vulnerabilities found for host:port are written on a second alarm line. Returns them.
 */
async function assertNesdAlarm(
  server: IntelServer,
  host: string,
  port: number,
): Promise<readonly LookupResult[]> {
  const r = rig({later: [10]}, {intel: [wiseAt(`${server.base}/ip/\${ip}`)], vuln: [nesdAt(server)]})
  r.send('10.0.0.5', host, {src: 40000, dst: port})
  await r.enricher.idle()
  // Stage 2's rule now reads from 10.0.0.5 to host, port_to port; both IPs are private.
  assert.deepEqual(server.requests, ['/?ip=10.0.0.5&port=40000', `/?ip=${host}&port=${port}`])
  const last = r.alarms().at(-1)!
  assert.equal(r.alarms().length, 2)
  assert.equal(last.intelHits.length, 0)
  const term = `${host}:${port}`
  assert.ok(
    last.vulnerabilities.every((v) => v.provider === 'Nesd' && v.term === term),
    `every finding is from Nesd for ${term}`,
  )
  const hostPattern = host.replaceAll('.', '\\.')
  assert.match(
    serializeAlarm(last),
    new RegExp(`"dst_ips":\\["${hostPattern}"\\],"vulnerabilities":\\[\\{"provider":"Nesd"`),
  )
  assert.ok(r.logs.includes(`info: found vulnerability for ${term}`), r.logs.join('\n'))
  return last.vulnerabilities
}

describe('alarm enricher', () => {
  let server: IntelServer

  const wise = (url = `${server.base}/ip/\${ip}`, timeoutMs?: number): NamedPlugin<IntelPlugin> =>
    wiseAt(url, timeoutMs)
  const nesd = (): NamedPlugin<VulnPlugin> => nesdAt(server)
  const asked = (path: string): number => server.requests.filter((r) => r === path).length

  before(async () => {
    server = await startIntelServer()
  })
  beforeEach(() => server.reset())
  after(async () => {
    await server.close()
  })

  it('writes a second alarm line with intel_hits when Wise knows a public IP', async () => {
    const r = rig({later: [10]}, {intel: [wise()]})
    r.send('192.168.0.10', '8.8.8.8')
    assert.equal(r.alarms().length, 1)
    assert.equal(r.alarms()[0]!.intelHits.length, 0)
    await r.enricher.idle()
    const lines = r.alarms()
    assert.equal(lines.length, 2)
    assert.equal(lines[1]!.alarmId, lines[0]!.alarmId)
    assert.equal(lines[1]!.risk, 5)
    assert.match(
      serializeAlarm(lines[1]!),
      /"dst_ips":\["8\.8\.8\.8"\],"intel_hits":\[\{"provider":"Wise","term":"8\.8\.8\.8","result":"alienvault\.activity: Spamming"\}\],"networks"/,
    )
    // The private source is not looked up.
    assert.deepEqual(server.requests, ['/ip/8.8.8.8'])
    assert.ok(r.logs.includes('info: Found intel result for 8.8.8.8'), r.logs.join('\n'))
    assert.deepEqual(r.enricher.stats(), {
      requests: 1,
      checks: 1,
      lookups: 1,
      cacheHits: 0,
      errors: 0,
      updates: 1,
      pending: 0,
    })
  })

  it('writes nothing while risk is 0, though the lookup happens', async () => {
    const r = rig({priority: 1, reliability: 1, later: [10]}, {intel: [wise()]})
    r.send('192.168.0.10', '8.8.8.8')
    await r.enricher.idle()
    assert.deepEqual(server.requests, ['/ip/8.8.8.8'])
    assert.equal(r.engine.alarm('b000001')?.intelHits.length, 1)
    assert.equal(r.alarms().length, 0)
  })

  it('writes the vulnerabilities nesd reports for rule ip:port terms', async () => {
    const vulnerabilities = await assertNesdAlarm(server, '192.168.40.12', 80)
    // Our Nessus export's Medium, High and Critical rows for 192.168.40.12:80, in CSV order.
    assert.equal(vulnerabilities[0]!.result, 'Medium - Web Server Lists Directory Contents (CVE-2021-20001)')
    assert.deepEqual(
      vulnerabilities.map((v) => v.result),
      [
        'Medium - Web Server Lists Directory Contents (CVE-2021-20001)',
        'High - Outdated Web Framework, Multiple Issues',
        'Critical - Remote Command Execution in "status" CGI (CVE-2022-20003)',
      ],
    )
  })

  it('writes no second line when nesd only has findings below Medium', async () => {
    const r = rig({later: [10]}, {vuln: [nesd()]})
    r.send('10.0.0.5', '192.168.40.12', {src: 40000, dst: 22})
    await r.enricher.idle()
    assert.deepEqual(server.requests, ['/?ip=10.0.0.5&port=40000', '/?ip=192.168.40.12&port=22'])
    assert.equal(r.alarms().length, 1)
    assert.equal(r.engine.alarm('b000001')!.vulnerabilities.length, 0)
    assert.equal(r.enricher.stats().errors, 0)
  })

  it('still reports what the final stage finds after the backlog is deleted', async () => {
    const r = rig({later: [1], laterTo: 'ANY'}, {intel: [wise()]})
    r.send('192.168.0.10', '8.8.8.8')
    await r.enricher.idle()
    r.send('192.168.0.10', '8.8.4.4')
    assert.ok(
      r.effects.some((e) => e.kind === 'alarm-removed'),
      'the final stage deletes the backlog',
    )
    assert.equal(r.engine.alarm('b000001'), undefined)
    await r.enricher.idle()
    const last = r.alarms().at(-1)!
    assert.equal(r.alarms().length, 4) // stage 1, its hit, stage 2, its hit
    assert.deepEqual(
      last.intelHits.map((h) => h.term),
      ['8.8.8.8', '8.8.4.4', '8.8.4.4'],
    )
    assert.equal(last.rules[1]!.status, 'finished')
    assert.equal(r.enricher.trackedAlarms, 0)
    // 8.8.8.8 already had a hit, so only the new IP was looked up.
    assert.deepEqual(server.requests, ['/ip/8.8.8.8', '/ip/8.8.4.4'])
  })

  it('answers repeated terms from the cache until cacheDuration passes', async () => {
    const r = rig({later: [10]}, {intel: [wise()]}, {cacheDurationMinutes: 1})
    for (const [src, dst] of [
      ['192.168.0.10', '8.8.8.8'],
      ['192.168.0.11', '8.8.8.8'],
      ['192.168.0.12', '1.1.1.1'],
      ['192.168.0.13', '1.1.1.1'],
    ] as const) {
      r.send(src, dst)
      await r.enricher.idle()
    }
    assert.equal(asked('/ip/8.8.8.8'), 1)
    assert.equal(asked('/ip/1.1.1.1'), 1) // the not-found answer is cached too
    const stats = r.enricher.stats()
    assert.equal(stats.lookups, 4)
    assert.equal(stats.cacheHits, 2)
    assert.ok(r.logs.includes('debug: Returning intel cache entry (found) for 8.8.8.8'), r.logs.join('\n'))
    assert.ok(
      r.logs.includes('debug: Returning intel cache entry (not found) for 1.1.1.1'),
      r.logs.join('\n'),
    )
    // Both alarms holding 8.8.8.8 got the hit, the second one from the cache.
    assert.deepEqual(
      r
        .alarms()
        .filter((a) => a.intelHits.length > 0)
        .map((a) => a.alarmId),
      ['b000001', 'b000002'],
    )
    r.clock.advance(60)
    r.send('192.168.0.14', '8.8.8.8')
    await r.enricher.idle()
    assert.equal(asked('/ip/8.8.8.8'), 2)
  })

  it('caches nothing when every plugin failed, and uses the others when one fails', async () => {
    const broken = wise(`${server.base}/foo/\${ip}`)
    const failing = rig({later: [10]}, {intel: [broken]})
    failing.send('192.168.0.10', '8.8.8.8')
    await failing.enricher.idle()
    failing.send('192.168.0.11', '8.8.8.8')
    await failing.enricher.idle()
    assert.equal(asked('/foo/8.8.8.8'), 2)
    assert.equal(failing.enricher.stats().errors, 2)
    assert.equal(failing.alarms().length, 2) // the two stage-1 lines, no hits
    assert.match(
      failing.logs[0]!,
      /^warn: Error received from intel checker Wise: GET http:\/\/127\.0\.0\.1:\d+\/foo\/8\.8\.8\.8 returned an unusable answer \(HTTP 404\)/,
    )

    server.reset()
    const mixed = rig({later: [10]}, {intel: [broken, wise(), wise()]})
    mixed.send('192.168.0.10', '8.8.8.8')
    await mixed.enricher.idle()
    mixed.send('192.168.0.11', '8.8.8.8')
    await mixed.enricher.idle()
    // Plugins run in order and their results are concatenated; the answer was cached after the first alarm.
    assert.deepEqual(server.requests, ['/foo/8.8.8.8', '/ip/8.8.8.8', '/ip/8.8.8.8'])
    for (const id of ['b000001', 'b000002']) {
      assert.deepEqual(
        mixed.engine.alarm(id)!.intelHits.map((h) => h.result),
        ['alienvault.activity: Spamming', 'alienvault.activity: Spamming'],
      )
    }
  })

  it('runs one check per alarm at a time, and different alarms in parallel', async () => {
    server.wiseDelayMs = 50
    const same = rig({later: [1, 10]}, {intel: [wise()]})
    same.send('192.168.0.10', '8.8.8.8') // stage 1 done: lookup
    same.send('192.168.0.10', '8.8.8.8') // stage 2 done: lookup again, queued behind the first
    await same.enricher.idle()
    // Run together, both checks would have asked for 8.8.8.8 and added the hit twice.
    assert.equal(asked('/ip/8.8.8.8'), 1)
    assert.equal(server.maxInFlight, 1)
    assert.equal(same.engine.alarm('b000001')!.intelHits.length, 1)
    assert.equal(same.enricher.stats().checks, 2)

    server.reset()
    server.wiseDelayMs = 50
    const two = rig({later: [10]}, {intel: [wise()]})
    two.send('192.168.0.10', '8.8.8.8')
    two.send('192.168.0.11', '8.8.4.4')
    await two.enricher.idle()
    assert.equal(server.maxInFlight, 2)
    assert.equal(two.engine.alarm('b000001')!.intelHits.length, 1)
    assert.equal(two.engine.alarm('b000002')!.intelHits.length, 2)
  })

  it('gives up on a server slower than the deadline and caches nothing', async () => {
    const r = rig({later: [10]}, {intel: [wise(`${server.base}/slow/\${ip}`, 100)]})
    const started = Date.now()
    r.send('192.168.0.10', '8.8.8.8')
    await r.enricher.idle()
    assert.ok(Date.now() - started < 2_000, 'the deadline cut the request short')
    assert.equal(r.enricher.stats().errors, 1)
    assert.match(
      r.logs.join('\n'),
      /warn: Error received from intel checker Wise: GET \S+ failed: timed out after 100 ms/,
    )
    assert.equal(r.alarms().length, 1)
  })

  it('stops gracefully: queued checks are skipped, running ones finish', async () => {
    server.wiseDelayMs = 50
    const r = rig({later: [1, 10]}, {intel: [wise()]})
    r.send('192.168.0.10', '8.8.8.8')
    r.send('192.168.0.10', '8.8.8.8')
    await new Promise((resolve) => setImmediate(resolve))
    await r.enricher.close()
    assert.equal(r.enricher.stats().checks, 1)
    assert.equal(r.enricher.stats().pending, 0)
    assert.equal(r.engine.alarm('b000001')!.intelHits.length, 1)
    r.send('192.168.0.11', '8.8.4.4')
    assert.equal(r.enricher.stats().requests, 2)
    await r.enricher.idle()
    assert.equal(asked('/ip/8.8.4.4'), 0)
  })

  it('does nothing without plugins', async () => {
    const r = rig({later: [10]}, {})
    assert.equal(r.enricher.enabled, false)
    r.send('192.168.0.10', '8.8.8.8')
    await r.enricher.idle()
    assert.equal(r.enricher.stats().requests, 0)
    assert.deepEqual(server.requests, [])
  })
})

describe(
  "alarm enricher replaying upstream's nessus_example.csv",
  {skip: skipWithoutUpstreamFixtures("alarm enricher replay of upstream's nessus_example.csv")},
  () => {
    const intel = useUpstreamNessusServer()

    it('writes the vulnerabilities nesd reports for rule ip:port terms', async () => {
      const vulnerabilities = await assertNesdAlarm(intel.server, '192.168.225.196', 80)
      assert.equal(vulnerabilities[0]!.result, 'Medium - HTTP TRACE / TRACK Methods Allowed (CVE-2003-1567)')
    })
  },
)
