// Backend membership on the routed bus: backends announce their routes (start, change, heartbeat,
// leaving), frontends keep a live-backend table and account for every accepted event — routed, lost
// to a backend that is gone (backend_down: counted, logged once per backend per 10 s), or wanted by
// no backend (no_directive). First the table on its own with a hand-driven clock, then a real
// nats-server with one frontend and two backends, one of which is SIGKILLed mid-stream, then the
// server itself stopped (503) and restarted (recovery). Legacy mode puts nothing new on the wire.

import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync, existsSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {connect} from '@nats-io/transport-node'
import {emptyEvent, type NormalizedEvent} from '../../src/engine/index.js'
import {createBackendRole} from '../../src/roles/backend.js'
import {
  BackendMembership,
  routeHash,
  startBackendAnnouncer,
  type LossReport,
  type MembershipChange,
} from '../../src/roles/backend-membership.js'
import {MemoryBus, type BackendAnnouncement, type EventRoute} from '../../src/roles/bus.js'
import {createFrontendRole, type RunningFrontend} from '../../src/roles/frontend.js'
import {startServe, type RunningServe} from '../../src/roles/index.js'
import {connectNatsBus, decodeAnnouncement, encodeAnnouncement} from '../../src/roles/io/bus.js'
import {createMetrics} from '../../src/roles/io/metrics.js'
import {startNatsServer, type RunningNatsServer} from '../../src/roles/io/nats-server.js'
import type {ServeConfig} from '../../src/roles/serve-config.js'
import {PING_FLOOD_DIRECTIVE, twoStagePluginDirective, writeConfigDir} from '../helpers/config-fixtures.js'
import {LogCapture, send} from '../helpers/frontend-harness.js'
import {freePort, waitFor, waitForStatus} from '../helpers/nats.js'
import {REPO_ROOT} from '../helpers/paths.js'
import {serveConfig, tempDir} from './backend-rig.js'

// ------------------------------------------------------------------------------------------------
// The table

const HEARTBEAT = 100

function announcement(
  node: string,
  route: Partial<EventRoute>,
  fields: Partial<BackendAnnouncement> = {},
): BackendAnnouncement {
  const full: EventRoute = {sids: route.sids ?? [], taxonomies: route.taxonomies ?? []}
  return {
    node,
    instance: `${node}-1`,
    state: 'up',
    startedAt: 1_700_000_000_000,
    heartbeatMs: HEARTBEAT,
    routeHash: routeHash(full),
    route: full,
    ...fields,
  }
}

function ev(fields: Partial<NormalizedEvent>): NormalizedEvent {
  return {...emptyEvent(), eventId: 'x', ...fields}
}

function table(options: {reportEveryMs?: number} = {}) {
  let now = 0
  const changes: MembershipChange[] = []
  const reports: LossReport[] = []
  const membership = new BackendMembership({
    now: () => now,
    ...options,
    onChange: (change) => changes.push(change),
    onLoss: (report) => reports.push(report),
  })
  return {
    membership,
    changes,
    reports,
    advance: (ms: number) => {
      now += ms
      membership.sweep()
    },
    kinds: () => changes.map((c) => `${c.kind}:${c.backend.node}`),
  }
}

const B1 = announcement('b1', {sids: [[1001, 1]], taxonomies: [['Malware', 'IDS']]})
const B2 = announcement('b2', {sids: [[1002, 7]]})

describe('backend membership table', () => {
  it('classifies by the live routes: sid or taxonomy → routed, other keys → no_directive', () => {
    const t = table()
    assert.equal(t.membership.classify(ev({pluginId: 1001, pluginSid: 1})), 'no_directive', 'no backends')
    t.membership.apply(B1)
    t.membership.apply(B2)
    assert.deepEqual(t.kinds(), ['joined:b1', 'joined:b2'])
    assert.equal(t.membership.classify(ev({pluginId: 1001, pluginSid: 1})), 'routed')
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'routed')
    assert.equal(
      t.membership.classify(ev({pluginId: 9, pluginSid: 9, category: 'Malware', product: 'IDS'})),
      'routed',
      'the taxonomy key alone routes it, as on the bus',
    )
    assert.equal(t.membership.classify(ev({pluginId: 1001, pluginSid: 2})), 'no_directive')
    assert.equal(t.membership.classify(ev({category: 'Malware', product: 'other'})), 'no_directive')
    assert.deepEqual(
      t.membership.backends().live.map((b) => [b.node, b.sidKeys, b.taxonomyKeys]),
      [
        ['b1', 1, 1],
        ['b2', 1, 0],
      ],
    )
  })

  it('a backend silent for 3 heartbeats expires; its keys then count as backend_down, reported once per window', () => {
    const t = table({reportEveryMs: 10_000})
    t.membership.apply(B1)
    t.membership.apply(B2)
    t.advance(HEARTBEAT)
    t.membership.apply(B1) // b1 keeps beating, b2 has gone quiet
    t.membership.classify(ev({pluginId: 1002, pluginSid: 7})) // routed to b2 after its last beat
    t.advance(2 * HEARTBEAT)
    t.membership.apply(B1)
    t.advance(40)
    assert.deepEqual(t.kinds(), ['joined:b1', 'joined:b2'], 'still live 3.4 periods after its last beat')
    t.membership.apply(B1)
    t.advance(20)
    assert.deepEqual(t.kinds(), ['joined:b1', 'joined:b2', 'expired:b2'])
    const expired = t.changes[2] as Extract<MembershipChange, {kind: 'expired'}>
    assert.equal(expired.unconfirmed, 1, 'the event routed after its last heartbeat may be lost')

    const b2Event = ev({pluginId: 1002, pluginSid: 7})
    assert.equal(t.membership.classify(b2Event), 'backend_down')
    assert.equal(t.membership.classify(ev({pluginId: 1001, pluginSid: 1})), 'routed', 'b1 is fine')
    assert.equal(t.reports.length, 1, 'the first loss is reported at once')
    assert.deepEqual(t.reports[0]!.keys, ['plugin_id=1002 plugin_sid=7'])
    assert.equal(t.reports[0]!.events, 1)
    for (let i = 0; i < 5; i++) t.membership.classify(b2Event)
    t.advance(5000)
    assert.equal(t.reports.length, 1, 'at most one report per backend per window')
    t.advance(5000)
    assert.equal(t.reports.length, 2, 'the sweep reports what gathered once the window is over')
    assert.equal(t.reports[1]!.events, 5, 'the count since the last report')
    assert.equal(t.reports[1]!.backend.missedEvents, 6)
    // (b1 stopped beating during the 10 s too: this table has no real backends.)
    const b2 = t.membership.backends().missing.find((b) => b.node === 'b2')
    assert.equal(b2?.state, 'expired')
  })

  it('a leaving backend is missing at once; a stale leaving of an older process changes nothing', () => {
    const t = table()
    t.membership.apply(B2)
    t.membership.apply({...B2, instance: 'old', state: 'leaving'})
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'routed')
    t.membership.apply({...B2, state: 'leaving'})
    assert.deepEqual(t.kinds(), ['joined:b2', 'left:b2'])
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'backend_down')
  })

  it('a restarted node takes over (no longer missing); the same process heard again is back', () => {
    const t = table()
    t.membership.apply(B2)
    t.advance(1000)
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'backend_down')
    t.membership.apply({...B2, instance: 'b2-2', startedAt: B2.startedAt + 5000})
    assert.deepEqual(t.kinds(), ['joined:b2', 'expired:b2', 'restarted:b2'])
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'routed')
    assert.deepEqual(t.membership.backends().missing, [], 'the crashed process is superseded')

    t.advance(1000)
    t.membership.classify(ev({pluginId: 1002, pluginSid: 7}))
    t.membership.apply({...B2, instance: 'b2-2'}) // e.g. a partition healed
    const back = t.changes.at(-1) as Extract<MembershipChange, {kind: 'returned'}>
    assert.equal(back.kind, 'returned')
    assert.equal(back.missedEvents, 1)
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'routed')
  })

  it('a key two backends share is still routed when one is gone, but the gone one counts what it missed', () => {
    const t = table()
    t.membership.apply(B1)
    t.membership.apply(announcement('b3', {sids: [[1001, 1]], taxonomies: [['Malware', 'IDS']]}))
    t.advance(HEARTBEAT * 2)
    t.membership.apply(B1)
    t.advance(HEARTBEAT * 2)
    assert.deepEqual(t.kinds(), ['joined:b1', 'joined:b3', 'expired:b3'])
    // Both keys of b3 match: it missed one event, not two.
    assert.equal(
      t.membership.classify(ev({pluginId: 1001, pluginSid: 1, category: 'Malware', product: 'IDS'})),
      'routed',
    )
    assert.equal(t.membership.backends().missing[0]!.missedEvents, 1)
  })

  it('a route change is taken in; heartbeats with the same hash change nothing', () => {
    const t = table()
    t.membership.apply(B2)
    t.membership.apply(B2)
    const moved = announcement('b2', {sids: [[1002, 8]]})
    t.membership.apply(moved)
    assert.deepEqual(t.kinds(), ['joined:b2', 'route-changed:b2'])
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 7})), 'no_directive')
    assert.equal(t.membership.classify(ev({pluginId: 1002, pluginSid: 8})), 'routed')
  })

  it('while held (our own bus is down) nobody expires; released, everyone gets a fresh grace period', () => {
    const t = table()
    t.membership.apply(B2)
    t.membership.hold(true)
    t.advance(10_000)
    assert.deepEqual(t.kinds(), ['joined:b2'])
    t.membership.hold(false)
    t.advance(HEARTBEAT * 3)
    assert.deepEqual(t.kinds(), ['joined:b2'], 'grace after the release')
    t.advance(HEARTBEAT)
    assert.deepEqual(t.kinds(), ['joined:b2', 'expired:b2'])
  })

  it('the route hash ignores key order', () => {
    assert.equal(
      routeHash({
        sids: [
          [1, 2],
          [3, 4],
        ],
        taxonomies: [['a', 'b']],
      }),
      routeHash({
        sids: [
          [3, 4],
          [1, 2],
        ],
        taxonomies: [['a', 'b']],
      }),
    )
    assert.notEqual(routeHash({sids: [[1, 2]], taxonomies: []}), routeHash({sids: [[1, 3]], taxonomies: []}))
  })
})

describe('backend announcer', () => {
  it('announces a new route at once, repeats it as a heartbeat, and says leaving on stop', async () => {
    const bus = new MemoryBus()
    const heard: BackendAnnouncement[] = []
    const announcer = startBackendAnnouncer(bus, {node: 'b1', heartbeatMs: 20})
    const route: EventRoute = {sids: [[1001, 1]], taxonomies: []}
    announcer.update(route)
    announcer.update({sids: [[1001, 1]], taxonomies: []}) // the same keys: nothing new to say
    // A late subscriber hears the last announcement at once (NATS: its query is answered).
    bus.subscribeBackends((a) => heard.push(a))
    assert.equal(heard.length, 1)
    assert.equal(heard[0]!.node, 'b1')
    assert.equal(heard[0]!.instance, announcer.instance)
    assert.deepEqual(heard[0]!.route, route)
    await waitFor(() => heard.length >= 3, 'two heartbeats', 2000)
    announcer.update({sids: [[1001, 2]], taxonomies: []})
    assert.notEqual(heard.at(-1)!.routeHash, heard[0]!.routeHash, 'a changed route is announced at once')
    announcer.leave()
    assert.equal(heard.at(-1)!.state, 'leaving')
    const count = heard.length
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(heard.length, count, 'no heartbeat after leaving')
    await bus.close()
  })
})

// ------------------------------------------------------------------------------------------------
// Over a real nats-server

/** Pings (Ping Flood, plugin 1001 sid 2100384) go to b1; plugin 1002 sid 7 to b2; 1003 to nobody. */
const B2_DIRECTIVE = twoStagePluginDirective({
  id: 2,
  name: 'Odd traffic from SRC_IP',
  kingdom: 'Reconnaissance & Probing',
  category: 'Misc Activity',
  priority: 3,
  rule: 'odd',
  pluginId: 1002,
  pluginSids: [7],
  occurrence: [1, 1000],
  reliability: [5, 5],
})

function eventBody(id: string, pluginId: number, pluginSid: number, srcIp = '192.168.0.1'): string {
  return JSON.stringify({
    event_id: id,
    timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    sensor: 's',
    plugin_id: pluginId,
    plugin_sid: pluginSid,
    src_ip: srcIp,
    dst_ip: '8.8.8.8',
  })
}

function nodeConfig(
  node: string,
  natsUrl: string,
  roles: ServeConfig['roles'],
  busMode: ServeConfig['busMode'] = 'routed',
) {
  const configDir = writeConfigDir({
    directives: node === 'b2' ? [B2_DIRECTIVE] : [PING_FLOOD_DIRECTIVE],
    directivesFile: `directives_${node}_test.json`,
  })
  return serveConfig({
    configDir,
    dataDir: tempDir(`dsiem-${node}-`),
    roles,
    standalone: false,
    node,
    natsUrl,
    busMode,
    address: '127.0.0.1',
    port: 0,
    maxEps: 0,
    minEps: 0,
  })
}

function eventIdsIn(dataDir: string): string[] {
  const file = path.join(dataDir, 'logs', 'siem_alarm_events.json')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as {event_id: string}).event_id)
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}`))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** A backend in a child process (test/helpers/backend-process.ts), so SIGKILL is a real crash. */
function spawnBackend(config: ServeConfig, heartbeatMs: number): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'test/helpers/backend-process.ts'),
      JSON.stringify(config),
      String(heartbeatMs),
    ],
    {
      cwd: REPO_ROOT,
      env: {...process.env, TSX_TSCONFIG_PATH: 'test/tsconfig.json'},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM')
      process.stderr.write(`backend child exited ${code ?? signal}:\n${output}\n`)
  })
  return child
}

function frontendOf(serve: RunningServe): RunningFrontend {
  const role = serve.roles.find((r) => r.name === 'frontend')
  assert.ok(role !== undefined, 'the frontend role runs')
  return role as RunningFrontend
}

describe('membership over NATS: a backend killed mid-stream, then NATS itself down and back', () => {
  const cleanup: (() => Promise<unknown>)[] = []
  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {})
  })

  it('keeps answering 200, counts and logs the dead backend’s events, keeps alarming on the live one; 503 only while NATS is down', async () => {
    const port = await freePort()
    let nats: RunningNatsServer = await startNatsServer({port})
    cleanup.push(() => nats.stop())
    const url = `nats://127.0.0.1:${port}`

    // b1 starts before the frontend (learned through the frontend's query), b2 after it.
    const b1Config = nodeConfig('b1', url, ['backend'])
    // b2 beats fast so its death is noticed fast; b1, which must never be taken for dead, beats a bit
    // slower so a busy test machine's event-loop stalls cannot make it miss 3.5 periods.
    const b1Heartbeat = 2.5 * HEARTBEAT
    const b1 = await startServe(b1Config, {
      log: new LogCapture().logger,
      modules: {backend: createBackendRole({heartbeatMs: b1Heartbeat})},
    })
    cleanup.push(() => b1.stop())

    const logs = new LogCapture()
    const feConfig = nodeConfig('fe', url, ['frontend'])
    const fe = await startServe(feConfig, {
      log: logs.logger,
      modules: {frontend: createFrontendRole({membership: {sweepIntervalMs: 20}})},
    })
    cleanup.push(() => fe.stop())
    const frontend = frontendOf(fe)
    const base = `http://127.0.0.1:${fe.port}`
    await waitForStatus(fe.bus, true)

    const b2Config = nodeConfig('b2', url, ['backend'])
    const b2 = spawnBackend(b2Config, HEARTBEAT)
    cleanup.push(async () => {
      if (b2.exitCode === null && b2.signalCode === null) b2.kill('SIGKILL')
    })

    const liveNodes = (): string[] => frontend.backends()?.live.map((b) => b.node) ?? []
    await waitFor(() => liveNodes().join() === 'b1,b2', 'the frontend to learn both routes', 20_000)
    const live = frontend.backends()!.live
    assert.deepEqual(
      live.map((b) => [b.node, b.sidKeys, b.taxonomyKeys]),
      [
        ['b1', 1, 0],
        ['b2', 1, 0],
      ],
    )
    assert.ok(
      logs
        .messages('INFO')
        .some((m) => m.startsWith('backend b2 (1 plugin_sid and 0 category/product keys) joined')),
      'the join is logged',
    )

    const post = async (id: string, pluginId: number, pluginSid: number, srcIp?: string): Promise<number> =>
      (await send(base, 'POST', '/events', eventBody(id, pluginId, pluginSid, srcIp))).status

    // Both backends take their events; unknown keys are no_directive.
    assert.equal(await post('b1-before', 1001, 2100384), 200)
    assert.equal(await post('b2-before', 1002, 7), 200)
    assert.equal(await post('nobody', 1003, 1), 200)
    await waitFor(() => eventIdsIn(b2Config.dataDir).includes('b2-before'), 'b2 to process its event', 10_000)
    await waitFor(() => eventIdsIn(b1Config.dataDir).includes('b1-before'), 'b1 to process its event')
    assert.deepEqual(frontend.unrouted(), {backend_down: 0, no_directive: 1})

    // Mid-stream: events for both backends keep coming while b2 dies without a word.
    const statuses: number[] = []
    let afterMissing = 0
    let b2Sent = 0
    let killed = false
    for (let i = 0; ; i++) {
      if (i === 20) {
        b2.kill('SIGKILL')
        killed = true
      }
      const missing = frontend.backends()!.missing.some((b) => b.node === 'b2')
      statuses.push(await post(`s${i}`, 1001, 2100384, `192.168.1.${(i % 250) + 1}`))
      statuses.push(await post(`t${i}`, 1002, 7))
      b2Sent++
      if (missing) afterMissing++
      if (afterMissing >= 20) break
      assert.ok(i < 2000, 'b2 is declared missing in time')
      if (killed) await new Promise((resolve) => setTimeout(resolve, 2))
    }
    assert.ok(
      statuses.every((s) => s === 200),
      `the frontend keeps answering 200: ${[...new Set(statuses)].join(',')}`,
    )

    const unrouted = frontend.unrouted()!
    assert.ok(
      unrouted.backend_down >= afterMissing && unrouted.backend_down <= b2Sent,
      `b2's events after it was found missing are backend_down (${unrouted.backend_down}, ${afterMissing} after, ${b2Sent} sent)`,
    )
    assert.equal(unrouted.no_directive, 1)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.equal(
      metricValue(metrics, 'dsiem_frontend_events_unrouted_total', 'reason="backend_down"'),
      unrouted.backend_down,
      'the same count in /metrics',
    )
    assert.equal(metricValue(metrics, 'dsiem_frontend_events_unrouted_total', 'reason="no_directive"'), 1)
    assert.equal(metricValue(metrics, 'dsiem_frontend_backends', 'state="missing"'), 1)

    const warnings = logs.lines.filter((l) => l.level === 'WARN')
    const expiry = warnings.filter((l) =>
      l.msg.startsWith('backend b2 (1 plugin_sid and 0 category/product keys) missed its heartbeats'),
    )
    assert.equal(expiry.length, 1, 'the expiry is logged once')
    assert.equal(
      typeof expiry[0]!['unconfirmedEvents'],
      'number',
      'with the events routed to it after its last heartbeat',
    )
    const losses = warnings.filter((l) => l.msg.startsWith('backend b2 is down (expired)'))
    assert.equal(
      losses.length,
      1,
      `the loss is logged once per 10 s: ${losses.map((l) => l.msg).join(' | ')}`,
    )
    assert.deepEqual(losses[0]!['keys'], ['plugin_id=1002 plugin_sid=7'], 'naming the keys')

    // b1 went on correlating: the pings sent after the kill are in its alarm-event lines.
    await waitFor(() => eventIdsIn(b1Config.dataDir).includes('s25'), 'b1 to process the stream', 10_000)
    assert.ok(existsSync(path.join(b1Config.dataDir, 'logs', 'siem_alarms.json')), 'b1 writes alarm lines')

    // /health: the frontend stays healthy (200) and lists the missing backend.
    const health = await fetch(`${base}/health`)
    assert.equal(health.status, 200)
    const report = (await health.json()) as {
      roles: {role: string; detail: {backends: {missing: {node: string; state: string}[]}}}[]
    }
    assert.deepEqual(
      report.roles[0]!.detail.backends.missing.map((b) => [b.node, b.state]),
      [['b2', 'expired']],
    )

    // NATS down: the frontend refuses (503) instead of accepting what it cannot deliver.
    await nats.stop()
    await waitForStatus(fe.bus, false, 10_000)
    assert.equal(await post('while-down', 1001, 2100384), 503)
    assert.equal((await fetch(`${base}/health`)).status, 503)

    // NATS back: the frontend recovers, b1 is still live (held while we were cut off), events flow.
    nats = await startNatsServer({port})
    await Promise.all([waitForStatus(fe.bus, true, 15_000), waitForStatus(b1.bus, true, 15_000)])
    await new Promise((resolve) => setTimeout(resolve, 4 * b1Heartbeat))
    assert.deepEqual(liveNodes(), ['b1'], 'b1 was not taken for dead because of our own outage')
    assert.ok(
      !logs.messages('WARN').some((m) => m.startsWith('backend b1')),
      `no warning about b1: ${logs.messages('WARN').join(' | ')}`,
    )
    assert.equal(await post('after-restart', 1001, 2100384, '192.168.2.1'), 200)
    await waitFor(
      () => eventIdsIn(b1Config.dataDir).includes('after-restart'),
      'b1 to process an event after the restart',
      10_000,
    )
    const before = frontend.unrouted()!.backend_down
    assert.equal(await post('t-after', 1002, 7), 200)
    assert.equal(frontend.unrouted()!.backend_down, before + 1, 'b2 is still counted as down')
  })

  it('a backend that stops gracefully is missing at once, without waiting for its heartbeats', async () => {
    const nats = await startNatsServer()
    cleanup.push(() => nats.stop())
    const logs = new LogCapture()
    const fe = await startServe(nodeConfig('fe2', nats.url, ['frontend']), {
      log: logs.logger,
      modules: {frontend: createFrontendRole({membership: {sweepIntervalMs: 20}})},
    })
    cleanup.push(() => fe.stop())
    // A 60 s heartbeat: only the leaving message can explain a quick change.
    const b3 = await startServe(nodeConfig('b3', nats.url, ['backend']), {
      log: new LogCapture().logger,
      modules: {backend: createBackendRole({heartbeatMs: 60_000})},
    })
    cleanup.push(() => b3.stop())
    const frontend = frontendOf(fe)
    await waitFor(() => frontend.backends()?.live.length === 1, 'the frontend to learn b3')
    await b3.stop()
    await waitFor(() => frontend.backends()?.missing.length === 1, 'b3 to be missing', 2000)
    assert.equal(frontend.backends()!.missing[0]!.state, 'left')
    assert.ok(
      logs
        .messages('WARN')
        .some((m) => m.startsWith('backend b3 (1 plugin_sid and 0 category/product keys) left')),
      'the leave is logged',
    )
    const status = await send(
      `http://127.0.0.1:${fe.port}`,
      'POST',
      '/events',
      eventBody('late', 1001, 2100384),
    )
    assert.equal(status.status, 200)
    assert.equal(frontend.unrouted()!.backend_down, 1)
  })
})

describe('membership on the wire (routed)', () => {
  it('announcements are JSON on dsiem.backends.announce; a query is answered; garbage is counted, not fatal', async () => {
    const nats = await startNatsServer()
    const wire = await connect({servers: nats.url})
    const metrics = createMetrics('test', {processMetrics: false})
    const logs = new LogCapture()
    const backendBus = await connectNatsBus({url: nats.url, mode: 'routed', name: 'b', log: logs.logger})
    const frontendBus = await connectNatsBus({
      url: nats.url,
      mode: 'routed',
      name: 'f',
      log: logs.logger,
      metrics,
    })
    try {
      await Promise.all([waitForStatus(backendBus, true), waitForStatus(frontendBus, true)])
      const seen: string[] = []
      wire.subscribe('dsiem.backends.announce', {callback: (_error, msg) => void seen.push(msg.string())})
      await wire.flush()
      backendBus.announceBackend(B1)
      await backendBus.flush()
      await waitFor(() => seen.length === 1, 'the announcement on the wire')
      assert.deepEqual(JSON.parse(seen[0]!), {
        node: 'b1',
        instance: 'b1-1',
        state: 'up',
        startedAt: B1.startedAt,
        heartbeatMs: HEARTBEAT,
        routeHash: B1.routeHash,
        sids: [[1001, 1]],
        taxonomies: [['Malware', 'IDS']],
      })
      assert.deepEqual(decodeAnnouncement(seen[0]!), B1, 'decoding gives the announcement back')

      // A frontend subscribing asks who is there; the backend's bus answers with its last announcement.
      const heard: BackendAnnouncement[] = []
      frontendBus.subscribeBackends((a) => heard.push(a))
      await waitFor(() => heard.length === 1, 'the answer to the query')
      assert.deepEqual(heard[0], B1)

      wire.publish('dsiem.backends.announce', 'garbage')
      wire.publish('dsiem.backends.announce', JSON.stringify({...JSON.parse(seen[0]!), sids: [[1, 'x']]}))
      wire.publish('dsiem.backends.announce', encodeAnnouncement(B2))
      await wire.flush()
      await waitFor(() => heard.length === 2, 'the valid announcement after the garbage')
      assert.equal(heard[1]!.node, 'b2')
      assert.match(await metrics.render(), /dsiem_bus_announcements_invalid_total\{node="test"\} 2/)
      assert.equal(
        logs.messages('WARN').filter((m) => m.startsWith('ignoring invalid backend announcement')).length,
        1,
        'one line for a burst of garbage',
      )

      // Leaving is published and forgotten: a later query gets no answer from this bus.
      backendBus.announceBackend({...B1, state: 'leaving'})
      await backendBus.flush()
      await waitFor(() => heard.length === 3, 'the leaving message')
      assert.equal(heard[2]!.state, 'leaving')
      const late: BackendAnnouncement[] = []
      frontendBus.subscribeBackends((a) => late.push(a))
      await frontendBus.flush()
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.deepEqual(late, [], 'nothing announced after leaving')
    } finally {
      await backendBus.close()
      await frontendBus.close()
      await wire.close()
      await nats.stop()
    }
  })

  it('decodeAnnouncement says what is wrong', () => {
    const good = JSON.parse(encodeAnnouncement(B1)) as Record<string, unknown>
    const bad = (fields: Record<string, unknown>): string => {
      try {
        decodeAnnouncement(JSON.stringify({...good, ...fields}))
        return 'accepted'
      } catch (error) {
        return (error as Error).message
      }
    }
    assert.equal(bad({node: ''}), 'node must be a non-empty string')
    assert.equal(bad({state: 'down'}), 'state must be "up" or "leaving"')
    assert.equal(bad({heartbeatMs: 0}), 'heartbeatMs must be a number >= 1')
    assert.equal(bad({taxonomies: [['a']]}), 'taxonomies must be an array of pairs')
    assert.equal(bad({}), 'accepted')
  })
})

describe('membership in legacy mode', () => {
  it('adds nothing to the wire: only upstream subjects, and no accounting', async () => {
    const nats = await startNatsServer()
    const wire = await connect({servers: nats.url})
    const subjects = new Set<string>()
    wire.subscribe('>', {callback: (_error, msg) => void subjects.add(msg.subject)})
    await wire.flush()
    const b1 = await startServe(nodeConfig('b1', nats.url, ['backend'], 'legacy'), {
      log: new LogCapture().logger,
      modules: {backend: createBackendRole({heartbeatMs: 20})},
    })
    const fe = await startServe(nodeConfig('fe', nats.url, ['frontend'], 'legacy'), {
      log: new LogCapture().logger,
      modules: {frontend: createFrontendRole({membership: {sweepIntervalMs: 20}})},
    })
    try {
      await waitForStatus(fe.bus, true)
      const base = `http://127.0.0.1:${fe.port}`
      assert.equal((await send(base, 'POST', '/events', eventBody('l1', 1001, 2100384))).status, 200)
      await new Promise((resolve) => setTimeout(resolve, 200))
      await wire.flush()
      assert.deepEqual(
        [...subjects].filter((s) => s !== 'dsiem_events' && s !== 'dsiem_overload_signals'),
        [],
        `only upstream subjects: ${[...subjects].join(', ')}`,
      )
      assert.ok(subjects.has('dsiem_events'), 'the event went out on dsiem_events')
      const frontend = frontendOf(fe)
      assert.equal(frontend.backends(), undefined)
      assert.equal(frontend.unrouted(), undefined)
      assert.ok(!('unrouted' in frontend.status().detail), 'no accounting in the status')
    } finally {
      await fe.stop()
      await b1.stop()
      await wire.close()
      await nats.stop()
    }
  })
})
