// The overload loop across processes: a real backend (`dsiem serve --role backend`, a child process
// with --maxDelay 1) paused with SIGSTOP while events arrive, so on resuming it finds them older than
// maxDelay and signals overload over NATS; the frontend (in-process, with a 100 ms adjustment period
// instead of upstream's 10 s) lowers its EPS limit by upstream's steps down to minEPS, and once the
// backend has kept up for holdDuration it signals false and the limit climbs back by +9 per step.

import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {createFrontendRole} from '../../src/roles/frontend.js'
import {PING_FLOOD_DIRECTIVE, writeConfigDir} from '../helpers/config-fixtures.js'
import {
  Cleanup,
  eventBody,
  freePort,
  frontendConfigDir,
  natsServer,
  postAll,
  serve,
  serveConfig,
  spawnCli,
  started,
  waitFor,
  waitForStatusCode,
  type ServeChild,
  type Served,
} from '../helpers/e2e.js'
import {waitForStatus} from '../helpers/nats.js'
import {alarmFiles, readLines} from '../roles/backend-rig.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

const ADJUST_MS = 100
const LIMIT_LINE = /^Overload status is (true|false), EPS limit changed from (\d+) to (\d+)$/

interface Change {
  overloaded: boolean
  from: number
  to: number
}

function changes(fe: Served): Change[] {
  return fe.logs.messages('INFO').flatMap((msg) => {
    const m = LIMIT_LINE.exec(msg)
    return m === null ? [] : [{overloaded: m[1] === 'true', from: Number(m[2]), to: Number(m[3])}]
  })
}

describe('overload loop: a paused backend lowers the frontend EPS limit, recovery raises it', () => {
  let fe: Served
  let backend: ServeChild
  let dataDir: string

  before(async () => {
    const nats = await natsServer(cleanup)
    const feConfig = frontendConfigDir(cleanup, 'dsiem-e2e-ol-fe-')
    fe = await serve(
      cleanup,
      serveConfig({
        roles: ['frontend'],
        standalone: false,
        node: 'dsiem-frontend',
        natsUrl: nats.url,
        configDir: feConfig,
        dataDir: cleanup.dir('dsiem-e2e-ol-fe-data-'),
        maxEps: 1000,
        minEps: 100,
      }),
      {modules: {frontend: createFrontendRole({adjustIntervalMs: ADJUST_MS})}},
    )
    await waitForStatus(fe.serve.bus, true)
    dataDir = cleanup.dir('dsiem-e2e-ol-be-data-')
    const port = await freePort()
    backend = spawnCli(cleanup, [
      'serve',
      '--role',
      'backend',
      '--node',
      'dsiem-backend-0',
      '--frontend',
      fe.base,
      '--nats-url',
      nats.url,
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--config-dir',
      cleanup.dir('dsiem-e2e-ol-be-config-'),
      '--data-dir',
      dataDir,
      '--maxDelay',
      '1',
      '--holdDuration',
      '2',
    ])
    await started(backend)
    await waitForStatusCode(`http://127.0.0.1:${port}`, '/health', 200) // connected and subscribed
  })

  it('falls by floor((max−min)/10) = 90 per step to minEPS 100 while overloaded, then rises by 9', async () => {
    const files = alarmFiles(dataDir)
    // A backlog first: upstream's overload check runs where an event reaches a live backlog.
    await postAll(fe.base, [eventBody('ping-0')])
    await waitFor(() => readLines(files.events).length === 1, 'the first alarm-event line', 5000)

    backend.child.kill('SIGSTOP')
    try {
      await postAll(
        fe.base,
        [1, 2, 3].map((i) => eventBody(`ping-${i}`, {offset: i})),
      )
      await new Promise((resolve) => setTimeout(resolve, 2000))
    } finally {
      backend.child.kill('SIGCONT')
    }

    await backend.waitForLog((l) => l.msg === 'Overload=true signal sent from backend', 'overload true', 5000)
    await waitFor(() => fe.frontend().overloaded, 'the frontend to hear overload', 5000)
    await backend.waitForLog(
      (l) => l.msg === 'Overload=false signal sent from backend',
      'overload false',
      8000,
    )
    await waitFor(() => !fe.frontend().overloaded, 'the frontend to hear the backend recovered', 5000)
    const recovered = changes(fe).length
    await waitFor(() => changes(fe).length >= recovered + 2, 'two raises after recovery', 3000)

    const seen = changes(fe)
    const shown = seen.map((c) => `${c.overloaded ? '↓' : '↑'}${c.from}→${c.to}`).join(' ')
    // One continuous chain from the initial limit maxEPS − floor((max − min)/2) = 550.
    assert.equal(seen[0]?.from, 550, `starts at 550: ${shown}`)
    for (let i = 1; i < seen.length; i++) {
      assert.equal(seen[i]!.from, seen[i - 1]!.to, `a continuous chain: ${shown}`)
    }
    for (const change of seen) {
      const expected = change.overloaded ? Math.max(100, change.from - 90) : Math.min(1000, change.from + 9)
      assert.equal(change.to, expected, `upstream's step for ${JSON.stringify(change)}: ${shown}`)
    }
    const firstDown = seen.findIndex((c) => c.overloaded)
    assert.ok(firstDown >= 0, `the limit went down: ${shown}`)
    const down = seen.slice(
      firstDown,
      seen.findIndex((c, i) => i > firstDown && !c.overloaded),
    )
    assert.ok(down.length >= 5, `several steps down while overloaded: ${shown}`)
    assert.equal(down.at(-1)!.to, 100, `down to minEPS and no further: ${shown}`)
    const up = seen.slice(firstDown + down.length)
    assert.deepEqual(
      up.slice(0, 2).map((c) => [c.overloaded, c.from, c.to]),
      [
        [false, 100, 109],
        [false, 109, 118],
      ],
      `+9 per adjustment once the backend keeps up: ${shown}`,
    )
    const messages = fe.logs.messages('INFO')
    assert.ok(
      messages.includes('Received overload status change from false to true from backend') &&
        messages.includes('Received overload status change from true to false from backend'),
      'the frontend logs both changes as upstream does',
    )
  })

  it('the paused events were not lost: the backlog went on to stage 2', async () => {
    const files = alarmFiles(dataDir)
    await waitFor(() => readLines(files.events).length === 4, 'four alarm-event lines', 5000)
    const stages = readLines(files.events).map((l) => (JSON.parse(l) as {stage: number}).stage)
    assert.deepEqual(stages, [1, 2, 2, 2])
  })
})

describe('startServe with only the frontend module injected', () => {
  it('keeps the built-in backend (alarm store included) and uses the injected adjustment period', async () => {
    const dataDir = cleanup.dir('dsiem-e2e-inject-data-')
    const s = await serve(
      cleanup,
      serveConfig({
        configDir: writeConfigDir({
          dir: cleanup.dir('dsiem-e2e-inject-config-'),
          directives: [PING_FLOOD_DIRECTIVE],
        }),
        dataDir,
      }),
      {modules: {frontend: createFrontendRole({adjustIntervalMs: 20})}},
    )
    await waitFor(() => changes(s).length >= 2, 'two adjustments at the injected 20 ms period', 2000)
    assert.deepEqual(changes(s).slice(0, 2), [
      {overloaded: false, from: 550, to: 559},
      {overloaded: false, from: 559, to: 568},
    ])
    await postAll(
      s.base,
      [0, 1, 2, 3, 4].map((i) => eventBody(`inject-${i}`, {offset: i})),
    )
    await s.backend().settle()
    assert.equal(readLines(alarmFiles(dataDir).alarms).length, 1, 'the built-in backend correlates')
    assert.ok(existsSync(path.join(dataDir, 'dsiem.db')), 'with its alarm store')
  })
})
