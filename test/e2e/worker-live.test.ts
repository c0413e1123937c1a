// Acceptance for live capture, as a user runs it: `dsiem serve --role standalone,worker --interface …`
// on a veth pair. Frames injected on one end are analysed by the worker, its sensor events raise an
// alarm through the local backend, the frames it wrote with --write-pcap give identical logs when
// read back offline, and a worker that is held still (SIGSTOP) while traffic floods its ring reports
// the kernel's drops in stats.log and the loss in capture_loss.log. Needs root; skipped otherwise.

import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {injectFrames} from '../../src/roles/io/capture.js'
import {runPcapFile} from '../../src/roles/worker/pcap-run.js'
import {TcpConversation} from '../../src/sensor/craft/conversation.js'
import {tcpFrame} from '../../src/sensor/craft/frames.js'
import type {RawFrame} from '../../src/sensor/types.js'
import type {NormalizedEvent} from '../../src/engine/event.js'
import {connectNatsBus} from '../../src/roles/io/bus.js'
import {silentLogger} from '../../src/roles/io/log.js'
import {
  Cleanup,
  freePort,
  natsServer,
  send,
  spawnCli,
  started,
  waitForStatusCode,
  type ServeChild,
} from '../helpers/e2e.js'
import {waitForStatus} from '../helpers/nats.js'
import {REPO_ROOT} from '../helpers/paths.js'
import {scenarioFrames, SCANNER, WEB} from '../helpers/sensor-scenario.js'
import {createVethPair, liveSkipReason} from '../helpers/veth.js'

const skip = liveSkipReason()
const SENSOR_LOGS = ['conn', 'dns', 'http', 'ssl', 'weird'] as const

function lines(file: string): string[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
}

const records = (file: string): Record<string, unknown>[] =>
  lines(file).map((line) => JSON.parse(line) as Record<string, unknown>)

async function packetsSeen(base: string): Promise<number> {
  const health = JSON.parse((await send(base, 'GET', '/health')).body) as {
    roles: {role: string; detail: {packets?: number}}[]
  }
  return health.roles.find((role) => role.role === 'worker')?.detail.packets ?? 0
}

/** Polls the worker's /health detail until it has analysed `count` frames. */
async function waitForPackets(base: string, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let seen = 0
  while ((seen = await packetsSeen(base)) < count) {
    if (Date.now() > deadline) assert.fail(`the worker saw ${seen} of ${count} frames within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function startWorker(
  cleanup: Cleanup,
  iface: string,
  dataDir: string,
  extra: string[],
  roles = 'standalone,worker',
): Promise<{server: ServeChild; base: string}> {
  const port = await freePort()
  const server = spawnCli(cleanup, [
    'serve',
    '--role',
    roles,
    '--interface',
    iface,
    '--address',
    '127.0.0.1',
    '--port',
    String(port),
    '--config-dir',
    path.join(REPO_ROOT, 'directives'),
    '--data-dir',
    dataDir,
    '--log-dir',
    path.join(dataDir, 'zeek'),
    ...(extra.includes('--node') ? [] : ['--node', 'w1']),
    ...extra,
  ])
  await started(server)
  return {server, base: `http://127.0.0.1:${port}`}
}

/** A port scan the directive 100101 turns into an alarm: 25 ports, each SYN answered by RST-ACK. */
function portScanFrames(): RawFrame[] {
  const frames: RawFrame[] = []
  for (let i = 0; i < 25; i++) {
    const port = 1000 + i
    frames.push(tcpFrame({src: SCANNER, dst: WEB, sport: 61000 + i, dport: port, flags: 'S', seq: 9000 + i}))
    frames.push(
      tcpFrame({src: WEB, dst: SCANNER, sport: port, dport: 61000 + i, flags: 'RA', seq: 0, ack: 9001 + i}),
    )
  }
  return frames
}

describe('live worker on a veth pair', {skip: skip === false ? undefined : skip}, () => {
  const cleanup = new Cleanup()
  before(() => {
    if (skip !== false) process.stdout.write(`NOTICE: live worker tests skipped: ${skip}\n`)
  })
  after(() => cleanup.run())

  it('logs what it captures, raises an alarm from its events, and the frames it wrote replay to identical logs', async () => {
    const pair = createVethPair('dsw')
    cleanup.add(() => pair.remove())
    const dataDir = cleanup.dir('dsiem-worker-live-')
    const dump = path.join(dataDir, 'live.pcap')
    const {server, base} = await startWorker(cleanup, pair.b, dataDir, ['--seed', '7', '--write-pcap', dump])
    const frames = [...scenarioFrames(), ...portScanFrames()]
    assert.equal(
      injectFrames(
        pair.a,
        frames.map((frame) => frame.data),
      ),
      frames.length,
    )
    await waitForPackets(base, frames.length)
    assert.equal(await server.stop(), 0, 'clean exit')

    const live = path.join(dataDir, 'zeek')
    const conn = records(path.join(live, 'conn.log'))
    assert.ok(conn.length >= 12 + 25, `conn records for the scenario and the scan (${conn.length})`)
    assert.equal(conn.filter((r) => r['conn_state'] === 'REJ').length, 26, 'the scan and the scenario REJ')
    assert.equal(lines(path.join(live, 'dns.log')).length, 4)
    assert.equal(lines(path.join(live, 'http.log')).length, 1)
    assert.equal(lines(path.join(live, 'ssl.log')).length, 1)
    const stats = records(path.join(live, 'stats.log'))
    assert.ok(stats.length >= 1, 'a final stats record')
    assert.equal(stats.at(-1)!['pkts_dropped'], 0, 'no kernel drops at this rate')

    const alarms = lines(path.join(dataDir, 'logs', 'siem_alarms.json')).map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    )
    assert.ok(
      alarms.some((alarm) => alarm['title'] === `Sensor: TCP port scan from ${SCANNER} against ${WEB}`),
      `a port-scan alarm (${alarms.map((a) => String(a['title'])).join('; ')})`,
    )

    const offline = path.join(dataDir, 'offline')
    const summary = await runPcapFile({
      file: dump,
      logDir: offline,
      peer: 'w1',
      verifyChecksums: true,
      seed: 7,
      events: false,
    })
    assert.equal(summary.frames, frames.length, 'the dump holds every captured frame')
    for (const stream of SENSOR_LOGS) {
      assert.deepEqual(
        lines(path.join(offline, `${stream}.log`)).sort(),
        lines(path.join(live, `${stream}.log`)).sort(),
        `${stream}.log identical offline and live`,
      )
    }
  })

  it('reports kernel drops in stats.log and the ACK-gap loss in capture_loss.log when the worker falls behind', async () => {
    const pair = createVethPair('dsw')
    cleanup.add(() => pair.remove())
    const dataDir = cleanup.dir('dsiem-worker-drops-')
    const {server, base} = await startWorker(cleanup, pair.b, dataDir, [
      '--buffer-size',
      '1',
      '--no-sensor-events',
    ])
    const sessions = Array.from({length: 300}, (_, i) => {
      const conversation = new TcpConversation({
        client: '10.2.0.1',
        server: '10.2.0.2',
        sport: 20000 + i,
        dport: 8000,
        ts: 0,
      })
      conversation.handshake().send('client', 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n')
      const opening = conversation.frames.length
      conversation.send('server', new Uint8Array(20 * 1460).fill(0x42))
      const bulk = conversation.frames.length
      conversation.ack('client').close('client')
      return {frames: conversation.frames, opening, bulk}
    })
    const phase = (pick: (s: (typeof sessions)[number]) => RawFrame[]) =>
      sessions.flatMap(pick).map((frame) => frame.data)
    const openings = phase((s) => s.frames.slice(0, s.opening))
    injectFrames(pair.a, openings)
    await waitForPackets(base, openings.length)
    // Held still, the worker cannot drain its 1 MiB ring while 9 MB of server data arrive.
    process.kill(server.pid, 'SIGSTOP')
    try {
      injectFrames(
        pair.a,
        phase((s) => s.frames.slice(s.opening, s.bulk)),
      )
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    injectFrames(
      pair.a,
      phase((s) => s.frames.slice(s.bulk)),
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(await server.stop(), 0, 'clean exit')

    const logs = path.join(dataDir, 'zeek')
    const dropped = records(path.join(logs, 'stats.log')).reduce(
      (sum, r) => sum + Number(r['pkts_dropped'] ?? 0),
      0,
    )
    assert.ok(dropped > 0, `stats.log counts kernel drops (${dropped})`)
    const loss = records(path.join(logs, 'capture_loss.log'))
    const gaps = loss.reduce((sum, r) => sum + Number(r['gaps']), 0)
    assert.ok(gaps > 0, `capture_loss.log counts ACKs for data never seen (${JSON.stringify(loss)})`)
    assert.ok(
      loss.some((r) => Number(r['percent_lost']) > 0),
      'a non-zero loss percentage',
    )
    const conn = records(path.join(logs, 'conn.log'))
    assert.ok(
      conn.some((r) => Number(r['missed_bytes']) > 0),
      'connections with content gaps show missed_bytes',
    )
  })
  it('publishes its events and log batches over NATS when it runs as a cluster worker', async () => {
    const pair = createVethPair('dsw')
    cleanup.add(() => pair.remove())
    const nats = await natsServer(cleanup)
    const listener = await connectNatsBus({
      url: nats.url,
      mode: 'routed',
      name: 'test-listener',
      log: silentLogger,
    })
    cleanup.add(() => listener.close())
    await waitForStatus(listener, true)
    const events: NormalizedEvent[] = []
    const batches: {stream: string; lines: string[]}[] = []
    listener.subscribeEvents({kind: 'all'}, (event) => void events.push(event))
    listener.subscribeLogBatches((stream, text) => void batches.push({stream, lines: text.split('\n')}))
    await listener.flush()
    const dataDir = cleanup.dir('dsiem-worker-nats-')
    const {server, base} = await startWorker(
      cleanup,
      pair.b,
      dataDir,
      ['--node', 'w-nats', '--nats-url', nats.url],
      'worker',
    )
    await waitForStatusCode(base, '/health', 200)
    const frames = portScanFrames()
    injectFrames(
      pair.a,
      frames.map((frame) => frame.data),
    )
    await waitForPackets(base, frames.length)
    assert.equal(await server.stop(), 0, 'clean exit')
    await listener.flush()
    const deadline = Date.now() + 5000
    while (events.length < 25 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(events.length, 25, 'one event per rejected connection')
    assert.ok(
      events.every(
        (e) => e.pluginId === 9100 && e.pluginSid === 1 && e.sensor === 'w-nats' && e.srcIp === SCANNER,
      ),
      'sensor events for the rejected connections',
    )
    const connLines = batches.filter((b) => b.stream === 'conn').flatMap((b) => b.lines)
    assert.deepEqual(
      connLines.sort(),
      lines(path.join(dataDir, 'zeek', 'conn.log')).sort(),
      'the bus got every conn line',
    )
  })

  it('shares an interface between two workers with one fanout id: every flow once, whole on one worker', async () => {
    const pair = createVethPair('dsw')
    cleanup.add(() => pair.remove())
    const dirs = [cleanup.dir('dsiem-fanout-a-'), cleanup.dir('dsiem-fanout-b-')]
    const workers: {server: ServeChild; base: string}[] = []
    for (const [i, dir] of dirs.entries()) {
      workers.push(
        await startWorker(cleanup, pair.b, dir, [
          '--fanout-id',
          '4242',
          '--node',
          `fan-${i}`,
          '--no-sensor-events',
        ]),
      )
    }
    const flows = 200
    const frames = Array.from(
      {length: flows},
      (_, i) =>
        new TcpConversation({client: '10.3.0.1', server: '10.3.0.2', sport: 30000 + i, dport: 80, ts: 0})
          .handshake()
          .send('client', 'ping')
          .send('server', 'pong')
          .close('client').frames,
    ).flat()
    injectFrames(
      pair.a,
      frames.map((frame) => frame.data),
    )
    const seen = async () => (await packetsSeen(workers[0]!.base)) + (await packetsSeen(workers[1]!.base))
    const deadline = Date.now() + 10_000
    while ((await seen()) < frames.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    assert.equal(await seen(), frames.length, 'every packet seen once between the two workers')
    for (const worker of workers) assert.equal(await worker.server.stop(), 0, 'clean exit')
    const perWorker = dirs.map((dir) =>
      records(path.join(dir, 'zeek', 'conn.log')).filter((r) => r['id.resp_h'] === '10.3.0.2'),
    )
    assert.ok(
      perWorker.every((list) => list.length > 0),
      `both workers got flows (${perWorker.map((l) => l.length)})`,
    )
    const all = perWorker.flat()
    assert.equal(new Set(all.map((r) => r['id.orig_p'])).size, flows, 'every flow logged')
    assert.equal(all.length, flows, 'and only once')
    for (const record of all) {
      assert.deepEqual(
        [record['conn_state'], record['history'], record['orig_pkts'], record['resp_pkts']],
        ['SF', 'ShADdFf', 5, 3],
        `flow ${String(record['id.orig_p'])} whole on one worker`,
      )
    }
  })
})
