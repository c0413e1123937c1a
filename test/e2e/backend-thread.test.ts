// The standalone server's backend on its own thread (backend/threaded.ts): what must look exactly as
// with the backend on the HTTP thread — its log lines in the server's log, its metrics in /metrics,
// its status in /health, reload, the 'wait' back-pressure through the thread's credit, start-up
// errors as one clean line, and a stop that processes everything accepted; and what a thread that
// dies costs (counted, logged, 503 from then on).

import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {DsiemError} from '../../src/engine/index.js'
import {createThreadedBackendRole} from '../../src/roles/backend/threaded.js'
import {startServe} from '../../src/roles/index.js'
import {createLogger} from '../../src/roles/io/log.js'
import {PING_FLOOD_DIRECTIVE, pingEventLine, writeConfigDir} from '../helpers/config-fixtures.js'
import {
  Cleanup,
  eventBody,
  LogCapture,
  postAll,
  postEvent,
  send,
  serve,
  serveConfig,
  waitFor,
  type Served,
} from '../helpers/e2e.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

const SECOND_DIRECTIVE = {...PING_FLOOD_DIRECTIVE, id: 2, name: 'Ping Flood again from SRC_IP'}

function standaloneConfig(prefix: string, maxQueue = 25000): ReturnType<typeof serveConfig> {
  const configDir = writeConfigDir({
    directives: [PING_FLOOD_DIRECTIVE],
    dir: cleanup.dir(`${prefix}-config-`),
  })
  return serveConfig({
    configDir,
    dataDir: cleanup.dir(`${prefix}-data-`),
    maxQueue,
    maxEps: 100_000,
    minEps: 100_000,
  })
}

describe('standalone backend thread', () => {
  let s: Served
  before(async () => {
    s = await serve(cleanup, standaloneConfig('dsiem-thread'))
    await postAll(
      s.base,
      ['t1', 't2', 't3', 't4'].map((id) => eventBody(id)),
    )
    await s.backend().settle()
  })

  it('runs the backend off the HTTP thread (no engine object on this thread)', () => {
    assert.equal(
      'engine' in s.backend(),
      false,
      'the in-process backend exposes its engine; the thread one cannot',
    )
  })

  it("writes the backend's log lines through the server's logger, with its fields", () => {
    const started = s.logs.lines.find((line) => line.msg.startsWith('backend started: 1 directives'))
    assert.ok(started !== undefined, `no backend start line in ${JSON.stringify(s.logs.messages())}`)
    assert.equal(started['role'], 'backend')
    const serveLine = s.logs.lines.find((line) => line.msg.startsWith('dsiem serve started'))
    assert.equal(started['node'], serveLine?.['node'], "the server logger's node field")
    assert.equal(started.level, 'INFO')
  })

  it('processes what was accepted and writes the alarm lines', async () => {
    const detail = await s.backendDetail()
    assert.equal(detail['processed'], 4)
    assert.equal(detail['queueWaiting'], 0)
    const alarms = readFileSync(path.join(s.config.dataDir, 'logs', 'siem_alarms.json'), 'utf8')
    assert.ok(alarms.trim().split('\n').length >= 1, 'alarm lines written by the thread')
  })

  it("/health carries the thread's status; /metrics carries both threads' metrics, each once", async () => {
    const health = await send(s.base, 'GET', '/health')
    assert.equal(health.status, 200, health.body)
    const report = JSON.parse(health.body) as {roles: {role: string; detail: Record<string, unknown>}[]}
    const backend = report.roles.find((role) => role.role === 'backend')
    assert.equal(backend?.detail['processed'], 4, health.body)
    const metrics = await send(s.base, 'GET', '/metrics')
    assert.equal(metrics.status, 200)
    assert.match(metrics.body, /^dsiem_backend_events_processed_total\{node="[^"]+"\} 4$/m)
    assert.match(metrics.body, /^dsiem_events_received_total\{status="200",node="[^"]+"\} 4$/m)
    const helps = metrics.body.split('\n').filter((line) => line.startsWith('# HELP '))
    assert.equal(new Set(helps).size, helps.length, 'no metric is described twice')
  })

  it('reloads on the thread: a directive file added is reported and used', async () => {
    writeFileSync(
      path.join(s.config.configDir, 'directives_more.json'),
      JSON.stringify({directives: [SECOND_DIRECTIVE]}),
    )
    const [result] = await s.serve.reload()
    assert.ok(result?.ok, result?.message)
    assert.deepEqual(result.summary.added, [2])
    assert.equal((await s.backendDetail())['directives'], 2)
  })
})

describe('standalone backend thread: back-pressure and stop', () => {
  it("a queue of 2 takes a 600-line bulk: every line waits its turn for the thread's credit, none is lost", async () => {
    const s = await serve(cleanup, standaloneConfig('dsiem-thread-small', 1))
    const lines = Array.from({length: 600}, (_, i) => pingEventLine(`b${i}`, i % 60))
    const response = await send(s.base, 'POST', '/events/bulk', lines.join('\n'), {
      'content-type': 'application/x-ndjson',
    })
    assert.equal(response.status, 200, response.body)
    assert.equal((JSON.parse(response.body) as {accepted: number}).accepted, 600, response.body)
    await s.backend().settle()
    const detail = await s.backendDetail()
    assert.equal(detail['processed'], 600)
    assert.equal(detail['queueCapacity'], 2)
    assert.equal(detail['dropped'], 0)
  })

  it('stop processes everything accepted before the thread ends', async () => {
    const s = await serve(cleanup, standaloneConfig('dsiem-thread-stop'))
    await postAll(
      s.base,
      ['s1', 's2', 's3'].map((id) => eventBody(id)),
    )
    await s.serve.stop()
    assert.ok(
      s.logs.messages().some((message) => message.startsWith('backend stopped: 3 events processed')),
      JSON.stringify(s.logs.messages()),
    )
    const status = (await s.serve.status()).find((role) => role.role === 'backend')
    assert.equal(status?.healthy, false, 'a stopped backend is not healthy')
  })

  it('a start-up error on the thread is the same one-line error as on the HTTP thread', async () => {
    const configDir = writeConfigDir({directives: [], dir: cleanup.dir('dsiem-thread-empty-config-')})
    const config = serveConfig({configDir, dataDir: cleanup.dir('dsiem-thread-empty-data-')})
    const logs = new LogCapture()
    await assert.rejects(startServe({...config, port: 0}, {log: logs.logger}), (error: unknown) => {
      assert.ok(error instanceof DsiemError, `a DsiemError, not ${String(error)}`)
      assert.equal(error.code, 'DSIEM_E_NO_DIRECTIVE')
      assert.equal(error.category, 'config')
      assert.match(error.message, /^no directive loaded from the file \(/)
      return true
    })
  })
})

describe('standalone backend thread log times', () => {
  it("stamps the thread's lines with the time they were logged there, not when this thread wrote them", async () => {
    const lines: {msg: string; ts: string}[] = []
    // This thread's logger has a clock stuck in 1970: only lines that bring their own time differ.
    const log = createLogger({write: (line) => lines.push(JSON.parse(line)), now: () => new Date(0)})
    const before = Date.now()
    const running = await startServe({...standaloneConfig('dsiem-thread-ts'), port: 0}, {log})
    await running.stop()
    const backendLine = lines.find((line) => line.msg.startsWith('backend started: 1 directives'))
    assert.ok(backendLine !== undefined, `no backend start line in ${JSON.stringify(lines)}`)
    const loggedAt = Date.parse(backendLine.ts)
    assert.ok(loggedAt >= before && loggedAt <= Date.now(), `thread line time ${backendLine.ts}`)
    const ownLine = lines.find((line) => line.msg.startsWith('dsiem serve started'))
    assert.equal(ownLine?.ts, new Date(0).toISOString(), "this thread's lines keep this logger's clock")
  })
})

describe('standalone backend thread that dies', () => {
  it('counts and logs the accepted events it took with it; new events get 503 and /health turns 503', async () => {
    const s = await serve(cleanup, standaloneConfig('dsiem-thread-dying'), {
      modules: {
        backend: createThreadedBackendRole({
          entry: new URL('../fixtures/dying-backend-thread.ts', import.meta.url),
        }),
      },
    })
    assert.equal((await postEvent(s.base, eventBody('d1'))).status, 200, 'taken before the thread died')
    await waitFor(
      () => s.logs.messages('ERROR').some((m) => m.includes('the backend thread crashed on purpose')),
      'the error logged',
    )
    const line = s.logs.messages('ERROR').find((m) => m.includes('crashed on purpose'))!
    assert.match(
      line,
      /; up to 1 accepted events it had not reported processed are lost, new events get 503$/,
    )
    assert.equal((await postEvent(s.base, eventBody('d2'))).status, 503)
    const health = await send(s.base, 'GET', '/health')
    assert.equal(health.status, 503, health.body)
    assert.match(health.body, /the backend thread failed/)
    const metrics = await send(s.base, 'GET', '/metrics')
    assert.match(metrics.body, /^dsiem_backend_thread_events_lost_total\{node="[^"]+"\} 1$/m)
    await s.serve.stop()
  })
})
