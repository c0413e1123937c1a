// A cluster over a real nats-server: one frontend and two backends, each backend pulling its own
// directives_<node>_* file (and the shared assets) from the frontend's /config/. The same event stream
// (three directives, dozens of events, many that no directive wants) must give the same alarms and the
// same alarm-event lines as one standalone process: on the routed bus, and on the legacy bus, where an
// upstream node listening on dsiem_events sees upstream's payload bytes.

import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import type {NatsConnection} from '@nats-io/transport-node'
import type {RunningNatsServer} from '../../src/roles/io/nats-server.js'
import {LEGACY_SUBJECTS} from '../../src/roles/io/subjects.js'
import type {NatsBusMode} from '../../src/roles/serve-config.js'
import {LAN_ASSETS, PING_FLOOD_DIRECTIVE, writeConfigDir} from '../helpers/config-fixtures.js'
import {
  alarmContent,
  alarmEventGroups,
  Cleanup,
  eventBody,
  frontendConfigDir,
  natsServer,
  postAll,
  send,
  serve,
  serveConfig,
  waitFor,
  type Served,
} from '../helpers/e2e.js'
import {rawConnect, waitForStatus} from '../helpers/nats.js'
import {alarmFiles, readLines} from '../roles/backend-rig.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

/** Brute force: one login failure from HOME_NET, then 4 more between the same two hosts. */
const SSH_DIRECTIVE = {
  id: 2,
  name: 'SSH Brute Force from SRC_IP to DST_IP',
  kingdom: 'Delivery & Attack',
  category: 'Brute Force',
  priority: 4,
  rules: [
    sshRule(1, 1, 'HOME_NET', 'ANY', 1, 0),
    sshRule(2, 4, ':1', ':1', 5, 600),
    sshRule(3, 20, ':1', ':1', 10, 3600),
  ],
}

function sshRule(
  stage: number,
  occurrence: number,
  from: string,
  to: string,
  reliability: number,
  timeout: number,
) {
  return {
    name: 'SSH Login Failure',
    type: 'PluginRule',
    stage,
    plugin_id: 2001,
    plugin_sid: [1, 2],
    occurrence,
    from,
    to,
    port_from: 'ANY',
    port_to: 'ANY',
    reliability,
    timeout,
  }
}

/** A taxonomy directive: IDS Malware alerts from HOME_NET. */
const MALWARE_DIRECTIVE = {
  id: 3,
  name: 'Malware C&C from SRC_IP',
  kingdom: 'Command & Control',
  category: 'Malware',
  priority: 5,
  rules: [1, 2].map((stage) => ({
    name: 'IDS Malware',
    type: 'TaxonomyRule',
    stage,
    product: ['IDS'],
    category: 'Malware',
    occurrence: stage === 1 ? 1 : 2,
    from: stage === 1 ? 'HOME_NET' : ':1',
    to: 'ANY',
    port_from: 'ANY',
    port_to: 'ANY',
    reliability: stage === 1 ? 2 : 8,
    timeout: stage === 1 ? 0 : 600,
  })),
}

/** Directive files as the frontend serves them: backend-0 runs Ping Flood and Malware, backend-1 SSH. */
const NODE_FILES = {
  'dsiem-backend-0': [PING_FLOOD_DIRECTIVE, MALWARE_DIRECTIVE],
  'dsiem-backend-1': [SSH_DIRECTIVE],
} as const

/**
 * The stream: event ids say which directive wants them (d1, d2, d3) or that none does (x). Interleaved
 * so directives on different backends see their events mixed with everybody else's.
 */
function eventStream(): Record<string, unknown>[] {
  const wanted: Record<string, unknown>[][] = [
    // Ping Flood from the Firewall: stages 1, 2, 2, 2, 3 (Medium); from another LAN host: 1, 2, 2, 2.
    [0, 1, 2, 3, 4].map((i) => eventBody(`d1-fw-${i}`, {offset: i})),
    [0, 1, 2, 3].map((i) => eventBody(`d1-lan-${i}`, {srcIp: '192.168.7.7', offset: i})),
    // SSH: 192.168.0.5 → 10.1.1.1 (1 + 4: stage 3); 192.168.0.6 → 10.2.2.2 twice (1, 2) then → 10.2.2.9,
    // which stage 2 (to :1) refuses and stage 1 takes as a new backlog.
    [0, 1, 2, 3, 4].map((i) =>
      eventBody(`d2-a-${i}`, {
        pluginId: 2001,
        pluginSid: 1 + (i % 2),
        srcIp: '192.168.0.5',
        dstIp: '10.1.1.1',
        offset: i,
      }),
    ),
    [0, 1, 2].map((i) =>
      eventBody(`d2-b-${i}`, {
        pluginId: 2001,
        pluginSid: 1,
        srcIp: '192.168.0.6',
        dstIp: `10.2.2.${i === 2 ? 9 : 2}`,
        offset: i,
      }),
    ),
    // Malware (taxonomy): from the Firewall three times (1, 2, 2), from 192.168.3.3 once.
    [0, 1, 2].map((i) =>
      eventBody(`d3-fw-${i}`, {pluginId: 0, pluginSid: 0, product: 'IDS', category: 'Malware', offset: i}),
    ),
    [
      eventBody('d3-other-0', {
        pluginId: 0,
        pluginSid: 0,
        product: 'IDS',
        category: 'Malware',
        srcIp: '192.168.3.3',
      }),
    ],
  ]
  const unwanted: Record<string, unknown>[] = [
    ...[0, 1, 2, 3, 4, 5].map((i) => eventBody(`x-plugin-${i}`, {pluginId: 9999, pluginSid: 1, offset: i})),
    ...[0, 1, 2, 3].map((i) => eventBody(`x-sid-${i}`, {pluginId: 1001, pluginSid: 7, offset: i})),
    ...[0, 1, 2].map((i) =>
      eventBody(`x-scan-${i}`, {pluginId: 0, pluginSid: 0, product: 'IDS', category: 'Scanning', offset: i}),
    ),
    // Keys a directive routes, but from outside HOME_NET: delivered, matched by nothing.
    ...[0, 1, 2].map((i) => eventBody(`x-wan-${i}`, {srcIp: '8.8.4.4', offset: i})),
    ...[0, 1].map((i) =>
      eventBody(`x-wanssh-${i}`, {pluginId: 2001, pluginSid: 2, srcIp: '1.2.3.4', offset: i}),
    ),
  ]
  const queues = [...wanted, unwanted].map((q) => [...q])
  const out: Record<string, unknown>[] = []
  while (queues.some((q) => q.length > 0)) {
    for (const [i, queue] of queues.entries()) {
      // The noise goes twice as fast, so it sits between every directive's events.
      for (const next of queue.splice(0, i === queues.length - 1 ? 2 : 1)) out.push(next)
    }
  }
  return out
}

const EVENTS = eventStream()
/** Events each backend's route accepts (what it gets on the routed bus). */
const ROUTED_TO = {
  'dsiem-backend-0': EVENTS.filter(
    (e) =>
      (e['plugin_id'] === 1001 && e['plugin_sid'] === 2100384) ||
      (e['product'] === 'IDS' && e['category'] === 'Malware'),
  ).length,
  'dsiem-backend-1': EVENTS.filter((e) => e['plugin_id'] === 2001).length,
}

interface RunResult {
  alarmLines: string[]
  alarmEventLines: string[]
}

function outputs(dataDirs: readonly string[]): RunResult {
  const result: RunResult = {alarmLines: [], alarmEventLines: []}
  for (const dir of dataDirs) {
    const files = alarmFiles(dir)
    result.alarmLines.push(...readLines(files.alarms))
    result.alarmEventLines.push(...readLines(files.events))
  }
  return result
}

/** Alarm lines without ids and times, sorted: comparable between runs. */
function alarmContents(lines: readonly string[]): string[] {
  return lines.map((line) => JSON.stringify(alarmContent(JSON.parse(line) as Record<string, unknown>))).sort()
}

/** Alarm-event lines per directive (the event id's prefix names it). */
function perDirective(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const line of lines) {
    const prefix = (JSON.parse(line) as {event_id: string}).event_id.split('-')[0]!
    counts[prefix] = (counts[prefix] ?? 0) + 1
  }
  return counts
}

let standalone: RunResult

before(async () => {
  const configDir = cleanup.dir('dsiem-e2e-standalone-config-')
  writeConfigDir({
    dir: configDir,
    directives: NODE_FILES['dsiem-backend-0'],
    directivesFile: 'directives_dsiem-backend-0_e2e.json',
    assets: LAN_ASSETS,
  })
  writeConfigDir({
    dir: configDir,
    directives: NODE_FILES['dsiem-backend-1'],
    directivesFile: 'directives_dsiem-backend-1_e2e.json',
  })
  const dataDir = cleanup.dir('dsiem-e2e-standalone-data-')
  const s = await serve(cleanup, serveConfig({configDir, dataDir}))
  await postAll(s.base, EVENTS)
  await s.backend().settle()
  standalone = outputs([dataDir])
  await s.serve.stop()
})

interface Cluster {
  frontend: Served
  backends: Served[]
  dataDirs: string[]
  configDirs: string[]
}

async function startCluster(nats: RunningNatsServer, busMode: NatsBusMode): Promise<Cluster> {
  const feConfig = cleanup.dir('dsiem-e2e-fe-config-')
  for (const [node, directives] of Object.entries(NODE_FILES)) {
    writeConfigDir({
      dir: feConfig,
      directives,
      directivesFile: `directives_${node}_e2e.json`,
      assets: LAN_ASSETS,
    })
  }
  const frontend = await serve(
    cleanup,
    serveConfig({
      roles: ['frontend'],
      standalone: false,
      node: 'dsiem-frontend',
      natsUrl: nats.url,
      busMode,
      configDir: feConfig,
      dataDir: cleanup.dir('dsiem-e2e-fe-data-'),
    }),
  )
  const backends: Served[] = []
  const dataDirs: string[] = []
  const configDirs: string[] = []
  for (const node of Object.keys(NODE_FILES)) {
    const dataDir = cleanup.dir(`dsiem-e2e-${node}-data-`)
    const configDir = cleanup.dir(`dsiem-e2e-${node}-config-`)
    dataDirs.push(dataDir)
    configDirs.push(configDir)
    backends.push(
      await serve(
        cleanup,
        serveConfig({
          roles: ['backend'],
          standalone: false,
          node,
          natsUrl: nats.url,
          busMode,
          frontend: frontend.base,
          configDir,
          dataDir,
        }),
      ),
    )
  }
  for (const node of [frontend, ...backends]) {
    await waitForStatus(node.serve.bus, true)
    await node.serve.bus.flush() // the backends' subscriptions are in place on the server
  }
  return {frontend, backends, dataDirs, configDirs}
}

/** Posts the stream and waits until every backend has written what it will write for it. */
async function run(cluster: Cluster, expectProcessed: readonly number[]): Promise<RunResult> {
  await postAll(cluster.frontend.base, EVENTS)
  await cluster.frontend.serve.bus.flush()
  for (const [i, backend] of cluster.backends.entries()) {
    await waitFor(
      async () => (await backend.backendDetail())['processed'] === expectProcessed[i],
      `backend ${i} to process ${expectProcessed[i]} events (has ${String((await backend.backendDetail())['processed'])})`,
    )
    await backend.backend().settle()
  }
  return outputs(cluster.dataDirs)
}

function assertSameAsStandalone(cluster: RunResult): void {
  assert.ok(
    standalone.alarmLines.length >= 4,
    `the stream makes alarms (${standalone.alarmLines.length} lines)`,
  )
  assert.deepEqual(alarmContents(cluster.alarmLines), alarmContents(standalone.alarmLines), 'same alarms')
  assert.deepEqual(perDirective(cluster.alarmEventLines), perDirective(standalone.alarmEventLines))
  assert.deepEqual(
    perDirective(standalone.alarmEventLines),
    {d1: 9, d2: 8, d3: 4},
    'what the stream is built to give',
  )
  assert.deepEqual(
    alarmEventGroups(cluster.alarmEventLines),
    alarmEventGroups(standalone.alarmEventLines),
    'the same events in the same stages of the same backlogs',
  )
}

describe('cluster: frontend + two backends over NATS', {concurrency: true}, () => {
  describe('routed bus', () => {
    let cluster: Cluster
    let result: RunResult
    before(async () => {
      const nats = await natsServer(cleanup)
      cluster = await startCluster(nats, 'routed')
      result = await run(cluster, [ROUTED_TO['dsiem-backend-0'], ROUTED_TO['dsiem-backend-1']])
    })

    it("each backend pulled the shared assets and only its own node's directives from the frontend", async () => {
      // dsiem_config.json is the effective config each serve writes itself.
      const names = cluster.configDirs.map((dir) =>
        readdirSync(dir)
          .filter((f) => f !== 'dsiem_config.json')
          .sort(),
      )
      assert.deepEqual(names[0], ['assets_test.json', 'directives_dsiem-backend-0_e2e.json'])
      assert.deepEqual(names[1], ['assets_test.json', 'directives_dsiem-backend-1_e2e.json'])
      for (const [i, backend] of cluster.backends.entries()) {
        assert.equal(
          (await backend.backendDetail())['directives'],
          i === 0 ? 2 : 1,
          `backend ${i} loaded its directives`,
        )
      }
    })

    it('gives the same alarms and alarm-event lines per directive as one standalone process', () => {
      assertSameAsStandalone(result)
    })

    it('each backend received only the events its directives can use, and wrote only their lines', async () => {
      const details = await Promise.all(cluster.backends.map((b) => b.backendDetail()))
      const processed = details.map((detail) => detail['processed'])
      assert.deepEqual(processed, [ROUTED_TO['dsiem-backend-0'], ROUTED_TO['dsiem-backend-1']])
      assert.ok(
        (processed[0] as number) + (processed[1] as number) < EVENTS.length,
        `the ${EVENTS.length - (processed[0] as number) - (processed[1] as number)} unwanted events reached nobody`,
      )
      const [zero, one] = cluster.dataDirs.map((dir) => perDirective(outputs([dir]).alarmEventLines))
      assert.deepEqual(Object.keys(zero!).sort(), ['d1', 'd3'])
      assert.deepEqual(Object.keys(one!), ['d2'])
    })

    it('the frontend accepted every event (unwanted ones too, as upstream)', () => {
      const stats = cluster.frontend.frontend().ingestStats()
      assert.equal(stats.accepted, EVENTS.length)
      assert.equal(stats.rejected, 0)
    })
  })

  describe('legacy bus (--bus legacy)', () => {
    let cluster: Cluster
    let result: RunResult
    let observer: NatsConnection
    const payloads: string[] = []
    before(async () => {
      const nats = await natsServer(cleanup)
      observer = await rawConnect(nats.url)
      cleanup.add(() => observer.close())
      observer.subscribe(LEGACY_SUBJECTS.events, {
        callback: (_error, msg) => void payloads.push(msg.string()),
      })
      await observer.flush()
      cluster = await startCluster(nats, 'legacy')
      // Every backend gets every event on dsiem_events, as upstream's.
      result = await run(cluster, [EVENTS.length, EVENTS.length])
      await observer.flush()
    })

    it("an upstream node on dsiem_events sees every event in upstream's payload format", async () => {
      await waitFor(() => payloads.length === EVENTS.length, `${EVENTS.length} payloads on dsiem_events`)
      assert.deepEqual(
        payloads.map((p) => (JSON.parse(p) as {event_id: string}).event_id),
        EVENTS.map((e) => e['event_id']),
        'in posting order',
      )
      const first = payloads[0]!
      const keys = [...first.matchAll(/"([a-z_0-9]+)":/g)].map((m) => m[1])
      assert.deepEqual(keys, [
        'conn_id',
        'event_id',
        'timestamp',
        'sensor',
        'plugin_id',
        'plugin_sid',
        'src_ip',
        'src_port',
        'dst_ip',
        'dst_port',
        'protocol',
        'rcvd_time',
      ])
      const sent = EVENTS[0]!
      assert.ok(
        first.startsWith('{"conn_id":') &&
          first.includes(
            `"event_id":"${String(sent['event_id'])}","timestamp":"${String(sent['timestamp'])}","sensor":"sensor1","plugin_id":1001,"plugin_sid":2100384,"src_ip":"192.168.0.1","src_port":0,"dst_ip":"8.8.8.8","dst_port":0,"protocol":"ICMP","rcvd_time":`,
          ),
        `Go's json.Marshal bytes: ${first}`,
      )
      assert.match(first, /"rcvd_time":\d{19}\}$/, 'rcvd_time in Unix nanoseconds, last')
      const taxonomy = payloads.find((p) => p.includes('"d3-fw-0"'))!
      assert.match(
        taxonomy,
        /"sensor":"sensor1","product":"IDS","category":"Malware","src_ip"/,
        'zero plugin ids omitted',
      )
    })

    it('backends still give the same alarms and alarm-event lines as standalone', () => {
      assertSameAsStandalone(result)
    })
  })
})

describe("cluster reload: a backend re-pulls its directives from the frontend's /config/", () => {
  let frontend: Served
  let backend: Served
  let backendConfig: string
  before(async () => {
    const nats = await natsServer(cleanup)
    const feConfig = frontendConfigDir(cleanup, 'dsiem-e2e-repull-fe-')
    writeConfigDir({
      dir: feConfig,
      directives: [MALWARE_DIRECTIVE],
      directivesFile: 'directives_dsiem-backend-0_malware.json',
    })
    const cluster = {standalone: false, natsUrl: nats.url} as const
    frontend = await serve(
      cleanup,
      serveConfig({
        ...cluster,
        roles: ['frontend'],
        node: 'fe',
        writeableConfig: true,
        configDir: feConfig,
        dataDir: cleanup.dir('dsiem-e2e-repull-fe-data-'),
      }),
    )
    backendConfig = cleanup.dir('dsiem-e2e-repull-be-')
    backend = await serve(
      cleanup,
      serveConfig({
        ...cluster,
        roles: ['backend'],
        node: 'dsiem-backend-0',
        frontend: frontend.base,
        configDir: backendConfig,
        dataDir: cleanup.dir('dsiem-e2e-repull-be-data-'),
      }),
    )
    assert.equal((await backend.backendDetail())['directives'], 2)
  })

  it('a directive file uploaded to the frontend (POST /config/, --writeableConfig) is added on reload', async () => {
    const upload = await send(
      frontend.base,
      'POST',
      '/config/directives_dsiem-backend-0_ssh.json',
      JSON.stringify({directives: [SSH_DIRECTIVE]}),
    )
    assert.equal(upload.status, 201, upload.body)
    const [result] = await backend.serve.reload()
    assert.ok(result?.ok, result?.message)
    assert.deepEqual(result.summary.added, [2], result.message)
    assert.equal((await backend.backendDetail())['directives'], 3)
  })

  it('a directive file deleted on the frontend (DELETE /config/) is removed on reload', async () => {
    const deleted = await send(frontend.base, 'DELETE', '/config/directives_dsiem-backend-0_malware.json')
    assert.equal(deleted.status, 200, deleted.body)
    const [result] = await backend.serve.reload()
    assert.ok(result?.ok, result?.message)
    assert.deepEqual(result.summary.removed, [3], result.message)
    assert.ok(
      !readdirSync(backendConfig).includes('directives_dsiem-backend-0_malware.json'),
      `the stale copy is gone from the backend's config dir: ${readdirSync(backendConfig).join(', ')}`,
    )
  })
})
