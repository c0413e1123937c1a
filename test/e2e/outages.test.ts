// Bad input and outages at the serve level: garbage on the NATS event subject (counted, logged, and
// later events still correlate), NATS down when `dsiem serve --role frontend` starts / stopped mid-run
// / back again (503 while away, recovery without a restart), and a config directory that vanishes
// before `dsiem directive reload` (the server keeps its directives and says why in one line).

import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {after, describe, it} from 'node:test'
import {startNatsServer} from '../../src/roles/io/nats-server.js'
import {SUBJECTS, routedEventSubject} from '../../src/roles/io/subjects.js'
import {LAN_ASSETS, PING_FLOOD_DIRECTIVE, writeConfigDir} from '../helpers/config-fixtures.js'
import {
  Cleanup,
  eventBody,
  freePort,
  frontendConfigDir,
  natsServer,
  postAll,
  postEvent,
  send,
  serve,
  serveConfig,
  spawnCli,
  spawnStandalone,
  started,
  waitFor,
  waitForStatusCode,
} from '../helpers/e2e.js'
import {rawConnect, waitForStatus} from '../helpers/nats.js'
import {runCliAsync} from '../helpers/run-cli.js'
import {alarmFiles, readLines} from '../roles/backend-rig.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('serve-level bad input and outages', {concurrency: true}, () => {
  it('garbage on the NATS event subject is counted in /metrics and logged; later events still correlate', async () => {
    const nats = await natsServer(cleanup)
    const feConfig = frontendConfigDir(cleanup, 'dsiem-e2e-garbage-fe-')
    const cluster = {natsUrl: nats.url, standalone: false} as const
    const fe = await serve(
      cleanup,
      serveConfig({
        ...cluster,
        roles: ['frontend'],
        node: 'fe',
        configDir: feConfig,
        dataDir: cleanup.dir('dsiem-e2e-garbage-fe-data-'),
      }),
    )
    const dataDir = cleanup.dir('dsiem-e2e-garbage-be-data-')
    const be = await serve(
      cleanup,
      serveConfig({
        ...cluster,
        roles: ['backend'],
        node: 'dsiem-backend-0',
        frontend: fe.base,
        configDir: cleanup.dir('dsiem-e2e-garbage-be-config-'),
        dataDir,
      }),
    )
    await waitForStatus(fe.serve.bus, true)
    await waitForStatus(be.serve.bus, true)
    await be.serve.bus.flush()

    const publisher = await rawConnect(nats.url)
    cleanup.add(() => publisher.close())
    const subject = routedEventSubject(1001, 2100384, '', '')
    assert.ok(subject.startsWith(`${SUBJECTS.eventsPrefix}.1001.2100384.`), subject)
    publisher.publish(subject, 'garbage')
    publisher.publish(subject, '{"event_id":"half an event"}')
    publisher.publish(subject, JSON.stringify({...eventBody('x'), plugin_id: 'not a number'}))
    await publisher.flush()
    await be.serve.bus.flush()

    await waitFor(async () => (await be.backendDetail())['dropped'] === 3, 'three invalid payloads counted')
    const metrics = (await send(be.base, 'GET', '/metrics')).body
    assert.equal(metric(metrics, 'dsiem_bus_events_invalid_total'), 3, 'bus counter in /metrics')
    assert.equal(
      metric(metrics, 'dsiem_backend_events_dropped_total{reason="invalid"'),
      3,
      'backend drop counter by reason in /metrics',
    )
    const warned = be.logs.messages('WARN').filter((m) => m.includes('Reason: invalid'))
    assert.ok(warned.length >= 1, `logged: ${be.logs.messages('WARN').join(' | ')}`)
    const detail = be.logs.lines.find((l) => l.msg.includes('Reason: invalid'))
    assert.match(String(detail?.['detail']), /garbage|event/, 'the log line shows what came in')

    await postAll(
      fe.base,
      [0, 1, 2, 3].map((i) => eventBody(`after-garbage-${i}`, {offset: i})),
    )
    await fe.serve.bus.flush()
    await waitFor(async () => (await be.backendDetail())['processed'] === 4, 'four good events processed')
    await be.backend().settle()
    const stages = readLines(alarmFiles(dataDir).events).map((l) => (JSON.parse(l) as {stage: number}).stage)
    assert.deepEqual(stages, [1, 2, 2, 2], 'the good events after the garbage correlate')
    assert.equal((await send(be.base, 'GET', '/health')).status, 200, 'bad payloads do not make it unhealthy')
  })

  it('`serve --role frontend` with NATS down: starts, 503s, recovers when NATS comes, and again after an outage', async () => {
    const natsPort = await freePort()
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const fe = spawnCli(cleanup, [
      'serve',
      '--role',
      'frontend',
      '--node',
      'fe-1',
      '--nats-url',
      `nats://127.0.0.1:${natsPort}`,
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--config-dir',
      writeConfigDir({dir: cleanup.dir('dsiem-e2e-down-config-'), directives: [PING_FLOOD_DIRECTIVE]}),
      '--data-dir',
      cleanup.dir('dsiem-e2e-down-data-'),
    ])
    await started(fe)
    await fe.waitForLog(
      (l) => l.level === 'WARN' && l.msg.startsWith(`NATS not reachable at nats://127.0.0.1:${natsPort}`),
      'one line saying NATS is not reachable',
    )
    const health = await send(base, 'GET', '/health')
    assert.equal(health.status, 503, health.body)
    assert.equal((JSON.parse(health.body) as {bus: {connected: boolean}}).bus.connected, false)
    assert.equal(
      (await postEvent(base, eventBody('while-down'))).status,
      503,
      'POST /events while NATS is down',
    )

    const first = await startNatsServer({port: natsPort})
    cleanup.add(() => first.stop())
    const observer = await rawConnect(first.url)
    cleanup.add(() => observer.close())
    const seen: string[] = []
    observer.subscribe(`${SUBJECTS.eventsPrefix}.>`, {
      callback: (_e, msg) => void seen.push((msg.json() as {event_id: string}).event_id),
    })
    await observer.flush()
    await waitForStatusCode(base, '/health', 200, 10_000)
    assert.equal((await postEvent(base, eventBody('after-start'))).status, 200, 'accepted once NATS is up')
    await waitFor(() => seen.includes('after-start'), 'the event on NATS')
    await observer.close()

    await first.stop()
    await waitForStatusCode(base, '/health', 503, 10_000)
    assert.equal(
      (await postEvent(base, eventBody('mid-outage'))).status,
      503,
      'POST /events during the outage',
    )

    const second = await startNatsServer({port: natsPort})
    cleanup.add(() => second.stop())
    await waitForStatusCode(base, '/health', 200, 10_000)
    assert.equal((await postEvent(base, eventBody('recovered'))).status, 200, 'accepted again, no restart')
    assert.equal(fe.child.exitCode, null, 'the same process throughout')
    assert.equal(await fe.stop(), 0, 'exits 0 on SIGTERM')
  })

  it('a config dir that vanishes: reload keeps the running directives, logs one error; GET /config/ → 500', async () => {
    const configDir = writeConfigDir({
      dir: cleanup.dir('dsiem-e2e-vanish-config-'),
      directives: [PING_FLOOD_DIRECTIVE],
      assets: LAN_ASSETS,
    })
    const dataDir = cleanup.dir('dsiem-e2e-vanish-data-')
    const {server, base} = await spawnStandalone(cleanup, configDir, dataDir)
    const files = alarmFiles(dataDir)
    await postAll(base, [eventBody('v-0')])
    await waitFor(() => readLines(files.events).length === 1, 'a live backlog')

    rmSync(configDir, {recursive: true, force: true})
    const reload = await runCliAsync(['directive', 'reload', '--data-dir', dataDir])
    assert.equal(reload.status, 0, reload.stderr)
    assert.match(reload.stdout, new RegExp(`asked dsiem serve \\(pid ${server.pid}\\) to reload`))
    const failed = await server.waitForLog((l) => l.msg.startsWith('reload failed'), 'the reload error')
    assert.equal(failed.level, 'ERROR')
    assert.match(
      failed.msg,
      /^reload failed, still running the previous 1 directives: config directory .* does not exist$/,
    )
    assert.equal(server.lines.filter((l) => l.level === 'ERROR').length, 1, 'one error line, no more')

    const listing = await send(base, 'GET', '/config/')
    assert.equal(listing.status, 500)
    assert.equal(listing.body, 'Error reading config directory')
    await postAll(
      base,
      [1, 2, 3].map((i) => eventBody(`v-${i}`, {offset: i})),
    )
    await waitFor(() => readLines(files.events).length === 4, 'the backlog going on')
    const lines = readLines(files.events).map((l) => JSON.parse(l) as {alarm_id: string; stage: number})
    assert.deepEqual(
      lines.map((l) => l.stage),
      [1, 2, 2, 2],
    )
    assert.equal(new Set(lines.map((l) => l.alarm_id)).size, 1, 'the same backlog survived the failed reload')
    assert.equal(server.child.exitCode, null, 'still running')
  })
})
