// The backend role over a MemoryBus and a real temp data dir: upstream's golden run S10 (five pings →
// five alarm-event lines, one Medium alarm, files 0600 in a 0700 dir, the same alarm in the store),
// routing by the directives' pre-filter keys, hot reload keeping a live backlog, stop draining and
// flushing every accepted event, the overload signal, and status().

import assert from 'node:assert/strict'
import {existsSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {ConfigError, serializeAlarm} from '../../src/engine/index.js'
import {routeOf} from '../../src/roles/backend.js'
import {
  createBackendRole,
  isRunningBackend,
  startBackend,
  type InProcessBackend,
} from '../../src/roles/backend.js'
import {PING_FLOOD_DIRECTIVE, twoStagePluginDirective, writeConfigDir} from '../helpers/config-fixtures.js'
import {
  FakeTimers,
  RecordingStore,
  alarmFiles,
  logged,
  ping,
  readLines,
  rig,
  serveConfig,
  tempDir,
} from './backend-rig.js'

interface AlarmLine {
  alarm_id: string
  title: string
  risk: number
  risk_class: string
  networks: string[]
  rules: {status?: string; start_time?: number}[]
}
interface EventLine {
  alarm_id: string
  stage: number
  event_id: string
}

const running: InProcessBackend[] = []
after(async () => {
  for (const backend of running) await backend.stop()
})

async function start(...args: Parameters<typeof startBackend>): Promise<InProcessBackend> {
  const backend = await startBackend(...args)
  running.push(backend)
  return backend
}

/** A second directive on plugin 1001 sid 555 (two stages), for reload and routing. */
const SID_555_DIRECTIVE = twoStagePluginDirective({
  id: 2,
  name: 'Odd traffic from SRC_IP',
  kingdom: 'Reconnaissance & Probing',
  category: 'Misc Activity',
  priority: 3,
  rule: 'odd',
  pluginId: 1001,
  pluginSids: [555],
  occurrence: [1, 2],
  reliability: [5, 5],
})

describe('backend role', () => {
  it('S10: five pings give five alarm-event lines (1,2,2,2,3) and one Medium alarm, in files and the store', async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const dataDir = tempDir('dsiem-data-')
    const r = rig(serveConfig({configDir, dataDir}))
    const store = new RecordingStore()
    const previousUmask = process.umask(0)
    let backend: InProcessBackend
    try {
      backend = (await createBackendRole({openAlarmStore: () => store}).start(r.ctx)) as InProcessBackend
    } finally {
      process.umask(previousUmask)
    }
    running.push(backend)
    assert.ok(isRunningBackend(backend), 'the running role exposes reload()')
    assert.deepEqual(r.overloads, [false], 'an initial overload=false goes out at start')

    for (let i = 1; i <= 5; i++) await r.bus.publishEvent(ping(`e${i}`))
    await backend.settle()

    const files = alarmFiles(dataDir)
    const events = readLines(files.events).map((l) => JSON.parse(l) as EventLine)
    assert.deepEqual(
      events.map((e) => [e.stage, e.event_id]),
      [
        [1, 'e1'],
        [2, 'e2'],
        [2, 'e3'],
        [2, 'e4'],
        [3, 'e5'],
      ],
    )
    const alarmLines = readLines(files.alarms)
    assert.equal(alarmLines.length, 1)
    const alarm = JSON.parse(alarmLines[0]!) as AlarmLine
    assert.equal(alarm.title, 'Ping Flood from Firewall')
    assert.equal(alarm.risk, 3)
    assert.equal(alarm.risk_class, 'Medium')
    assert.deepEqual(alarm.networks, ['192.168.0.0/16'])
    assert.deepEqual(
      alarm.rules.map((rule) => rule.status ?? ''),
      ['finished', 'finished', ''],
    )
    assert.ok(alarm.rules[2]!.start_time! > 0, 'rule 3 has only its start time')
    assert.ok(
      events.every((e) => e.alarm_id === alarm.alarm_id),
      'every line names the alarm id',
    )

    assert.equal(statSync(path.join(dataDir, 'logs')).mode & 0o777, 0o700)
    assert.equal(statSync(files.alarms).mode & 0o777, 0o600)
    assert.equal(statSync(files.events).mode & 0o777, 0o600)

    assert.equal(store.upserts.length, 1)
    assert.equal(serializeAlarm(store.upserts[0]!), alarmLines[0], 'the store gets the same alarm')

    const detail = backend.status().detail
    assert.equal(backend.status().healthy, true)
    assert.equal(detail['processed'], 5)
    assert.equal(detail['directives'], 1)
    assert.equal(detail['backlogs'], 1)
    assert.equal(detail['queueDepth'], 0)
    assert.equal(detail['queueCapacity'], 50000)
    assert.equal(detail['dropped'], 0)
    assert.equal(detail['alarmLines'], 1)

    await backend.stop()
    assert.ok(store.closed, 'a store opened through openAlarmStore is closed on stop')
    assert.ok(store.flushes >= 1, 'the store is flushed')
  })

  it('refuses to start on a bad directive file with one ConfigError line, opening nothing', async () => {
    const configDir = writeConfigDir({
      directives: '{"directives": [',
      directivesFile: 'directives_broken.json',
    })
    const dataDir = tempDir('dsiem-data-')
    const r = rig(serveConfig({configDir, dataDir}))
    await assert.rejects(startBackend(r.ctx), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`)
      assert.match(error.message, /directives_broken\.json/)
      assert.ok(!error.message.includes('\n'), 'one line')
      return true
    })
    assert.equal(existsSync(path.join(dataDir, 'logs')), false, 'no output file is opened')
    assert.deepEqual(r.overloads, [], 'nothing is published')
  })

  it('writes the same alarm to the real SQLite alarm store', async () => {
    const {openAlarmStore} = await import('../../src/roles/io/state.js')
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const dataDir = tempDir('dsiem-data-')
    const r = rig(serveConfig({configDir, dataDir}))
    const backend = await start(r.ctx, {openAlarmStore: (file) => openAlarmStore(file)})
    for (let i = 1; i <= 5; i++) await r.bus.publishEvent(ping(`e${i}`))
    await backend.stop()

    const line = readLines(alarmFiles(dataDir).alarms)[0]!
    const store = openAlarmStore(path.join(dataDir, 'dsiem.db'), {readonly: true})
    try {
      const stored = store.list()
      assert.equal(stored.length, 1)
      assert.equal(stored[0]!.json, line)
      assert.equal(stored[0]!.risk, 3)
    } finally {
      store.close()
    }
  })

  it("routes by its directives' pre-filter keys on NATS; on the in-memory bus the engine index filters", async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const r = rig(serveConfig({configDir, dataDir: tempDir('dsiem-data-')}))
    const backend = await start(r.ctx)
    assert.deepEqual(routeOf(backend.engine), {sids: [[1001, 2100384]], taxonomies: []})
    await r.bus.publishEvent(ping('other', {pluginSid: 999}))
    await r.bus.publishEvent(ping('p1'))
    await backend.settle()
    assert.equal(backend.status().detail['processed'], 2)
    assert.equal(backend.engine.stats().eventsIndexed, 1, 'only the ping reaches a directive')
  })

  it('reload keeps a live backlog of an unchanged directive, adds new ones, and survives a bad file', async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const dataDir = tempDir('dsiem-data-')
    const r = rig(serveConfig({configDir, dataDir}))
    const backend = await start(r.ctx)
    await r.bus.publishEvent(ping('e1'))
    await backend.settle()
    const [opened] = readLines(alarmFiles(dataDir).events).map((l) => JSON.parse(l) as EventLine)

    writeFileSync(
      path.join(configDir, 'directives_extra.json'),
      JSON.stringify({directives: [SID_555_DIRECTIVE]}),
    )
    const result = await backend.reload()
    assert.ok(result.ok, `reload succeeds: ${result.message}`)
    assert.deepEqual(result.summary, {kept: 1, added: [2], changed: [], removed: [], backlogsDiscarded: 0})
    assert.equal(logged(r.logs, 'reloaded 2 directives').length, 1, 'one log line says what changed')

    for (const id of ['e2', 'e3', 'e4']) await r.bus.publishEvent(ping(id))
    await r.bus.publishEvent(ping('odd1', {pluginSid: 555}))
    await backend.settle()
    const alarm = JSON.parse(readLines(alarmFiles(dataDir).alarms)[0]!) as AlarmLine
    assert.equal(alarm.alarm_id, opened!.alarm_id, 'the backlog opened before the reload completed stage 2')
    assert.equal(
      backend.engine.backlogs().filter((b) => b.directive.id === 2).length,
      1,
      'the new route delivers sid 555',
    )

    writeFileSync(path.join(configDir, 'directives_bad.json'), '{"directives": [')
    const bad = await backend.reload()
    assert.equal(bad.ok, false)
    assert.match(bad.message, /directives_bad\.json/)
    assert.equal(logged(r.logs, 'reload failed').length, 1)
    assert.equal(backend.engine.directives.length, 2, 'the running set stays')
    await r.bus.publishEvent(ping('odd2', {pluginSid: 555}))
    await backend.settle()
    assert.equal(backend.status().detail['processed'], 6, 'events still flow after a failed reload')
  })

  it('stop drains the queue and flushes the files: no accepted event is lost', async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const dataDir = tempDir('dsiem-data-')
    const r = rig(serveConfig({configDir, dataDir}))
    const backend = await start(r.ctx)
    const count = 3000
    for (let i = 0; i < count; i++) {
      // Distinct sources in HOME_NET: every event opens its own backlog and writes one line.
      void r.bus.publishEvent(ping(`s${i}`, {srcIp: `192.168.${i >> 8}.${i & 255}`}))
    }
    await backend.stop()
    assert.equal(backend.status().detail['processed'], count)
    assert.equal(readLines(alarmFiles(dataDir).events).length, count)
    assert.equal(backend.status().healthy, false, 'a stopped backend is not healthy')
  })

  it('stop also takes the events still waiting for room in a full queue', async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const dataDir = tempDir('dsiem-data-')
    const r = rig(serveConfig({configDir, dataDir, maxQueue: 5}))
    const backend = await start(r.ctx)
    const waits = []
    for (let i = 0; i < 200; i++) {
      waits.push(r.bus.publishEvent(ping(`w${i}`, {srcIp: `192.168.1.${i + 1}`})))
    }
    assert.ok(
      waits.some((w) => w instanceof Promise),
      'a full queue makes the in-memory publisher wait',
    )
    assert.equal(backend.status().detail['queueCapacity'], 10)
    assert.equal(backend.status().healthy, false, 'a full queue is not healthy')
    await backend.stop()
    await Promise.all(waits)
    assert.equal(backend.status().detail['processed'], 200)
    assert.equal(backend.status().detail['dropped'], 0)
    assert.equal(readLines(alarmFiles(dataDir).events).length, 200)
  })

  it('drops and counts events on a full queue when told to (as on NATS), never silently', async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const r = rig(serveConfig({configDir, dataDir: tempDir('dsiem-data-'), maxQueue: 5}))
    const backend = await start(r.ctx, {whenFull: 'drop'})
    for (let i = 0; i < 50; i++) r.bus.publishEvent(ping(`d${i}`, {srcIp: `192.168.2.${i + 1}`}))
    await backend.settle()
    const detail = backend.status().detail
    assert.equal(detail['processed'], 10)
    assert.equal(detail['dropped'], 40)
    assert.deepEqual(detail['droppedBy'], {queue_full: 40, invalid: 0, shutdown: 0})
    assert.equal(backend.status().healthy, false, 'recent drops make the backend unhealthy')
    assert.equal(logged(r.logs, 'Backend queue discarded').length, 1, 'the drops are logged (rate-limited)')
    const metrics = await r.ctx.metrics.render()
    assert.match(metrics, /dsiem_backend_events_dropped_total\{reason="queue_full",node="test"\} 40/)
  })

  it('signals overload on lagging events and clears it after holdDuration', async () => {
    const configDir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const r = rig(serveConfig({configDir, dataDir: tempDir('dsiem-data-'), maxDelay: 5, holdDuration: 10}))
    const timers = new FakeTimers()
    const backend = await start(r.ctx, {timers})
    const old = BigInt(Date.now() - 60_000) * 1_000_000n
    for (let i = 1; i <= 4; i++) await r.bus.publishEvent(ping(`o${i}`, {rcvdTime: old}))
    await backend.settle()
    assert.deepEqual(r.overloads, [false, true], 'true once, however many lagging events')
    assert.ok((backend.status().detail['lagSeconds'] as number) > 5, 'lag is exposed')
    assert.equal(backend.status().healthy, false, 'lag beyond maxDelay is unhealthy')
    timers.advance(10_000)
    assert.deepEqual(r.overloads, [false, true, false])

    await r.bus.publishEvent(ping('fresh'))
    await backend.settle()
    assert.equal(backend.status().healthy, true, 'fresh events bring the lag back')
  })
})
