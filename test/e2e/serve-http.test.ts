// Upstream's S1 and S2 tables against `dsiem serve` itself (startServe in standalone, one HTTP server
// with every route a real deployment has), plus what only the assembled server shows: the EPS limit
// from --maxEPS/--minEPS, 503 once the bus is gone, and an oversized body refused while serving on.

import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MAX_BODY_BYTES} from '../../src/roles/http/server.js'
import type {ServeConfig} from '../../src/roles/serve-config.js'
import {PING_FLOOD_DIRECTIVE, writeConfigDir} from '../helpers/config-fixtures.js'
import {Cleanup, eventBody, postEvent, send, serve, serveConfig, type Served} from '../helpers/e2e.js'
import {S1_CASES, S2_TABLE, WITH_PLUGIN, s2ConfigDir} from '../helpers/upstream-tables.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

async function standalone(fields: Partial<ServeConfig> = {}): Promise<Served> {
  const configDir = writeConfigDir({
    directives: [PING_FLOOD_DIRECTIVE],
    dir: cleanup.dir('dsiem-e2e-config-'),
  })
  return serve(cleanup, serveConfig({configDir, dataDir: cleanup.dir('dsiem-e2e-data-'), ...fields}))
}

describe('dsiem serve: S1 over HTTP', () => {
  let s: Served
  before(async () => {
    s = await standalone()
  })

  it('answers every S1 row as upstream, in order', async () => {
    for (const [name, body, status, text] of S1_CASES) {
      const response = await postEvent(s.base, body)
      assert.equal(response.status, status, `${name}: ${response.body}`)
      assert.equal(response.body, text, name)
      assert.equal(response.headers['server'], 'dsiem', `${name}: server header`)
    }
    const detail = s.frontend().status().detail as {byStatus: Record<string, number>}
    assert.deepEqual(
      detail.byStatus,
      {'200': 2, '418': 3, '500': 3},
      'the serve-level frontend counted each row once',
    )
  })

  it('POST /events/ is accepted as /events (upstream answers 307 and the client follows)', async () => {
    const response = await send(s.base, 'POST', '/events/', JSON.stringify(WITH_PLUGIN))
    assert.equal(response.status, 200, response.body)
  })

  it('maxEps 5 / minEps 1 and 30 parallel posts → only 200 and 429, mostly 429', async () => {
    const limited = await standalone({maxEps: 5, minEps: 1})
    const started = performance.now()
    const responses = await Promise.all(
      Array.from({length: 30}, (_, i) => postEvent(limited.base, eventBody(`p${i}`))),
    )
    const elapsed = performance.now() - started
    const ok = responses.filter((r) => r.status === 200).length
    const refused = responses.filter((r) => r.status === 429)
    assert.equal(ok + refused.length, 30, `only 200 and 429: ${responses.map((r) => r.status).join(',')}`)
    // Limit 3/s (5 − floor(4/2)), burst 5: 5 at once plus 9 more within the 3 s wait.
    const earned = Math.floor((elapsed / 1000) * 3)
    assert.ok(ok >= 14 && ok <= 14 + earned + 1, `accepted ${ok} in ${Math.round(elapsed)} ms`)
    assert.ok(refused.length > 15 - earned, `mostly 429 (${refused.length})`)
    assert.equal(refused[0]!.body, 'Too many requests\n', 'upstream body')
    await limited.backend().settle()
    assert.equal((await limited.backendDetail())['processed'], ok, 'every 200 reached the backend')
  })

  it('once the bus is gone: POST /events → 503, /health → 503, other routes still answer', async () => {
    const gone = await standalone()
    assert.equal((await send(gone.base, 'GET', '/health')).status, 200, 'healthy at first')
    await gone.serve.bus.close()
    const response = await postEvent(gone.base, eventBody('after-close'))
    assert.equal(response.status, 503, response.body)
    assert.ok(
      gone.logs.messages('INFO').some((m) => m.startsWith('Error from message queue')),
      'the bus error is logged as upstream does',
    )
    const health = await send(gone.base, 'GET', '/health')
    assert.equal(health.status, 503)
    assert.equal((JSON.parse(health.body) as {bus: {connected: boolean}}).bus.connected, false)
    assert.equal((await send(gone.base, 'GET', '/config/')).status, 200, '/config/ still served')
  })

  it('refuses a declared oversized body (over 100 MiB) with 413 without reading it, and keeps serving', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(s.serve.port, '127.0.0.1', () => {
        socket.write(
          `POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${
            DEFAULT_MAX_BODY_BYTES + 1
          }\r\n\r\n{"event_id":`,
        )
      })
      let data = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => (data += chunk))
      socket.on('error', reject)
      socket.on('close', () => resolve(data))
    })
    assert.match(answer, /^HTTP\/1\.1 413 /, answer.slice(0, 200))
    assert.ok(
      s.logs
        .messages('WARN')
        .some((m) => m.startsWith(`Refusing a request body over ${DEFAULT_MAX_BODY_BYTES}`)),
      'one warning names the limit',
    )
    const after = await postEvent(s.base, eventBody('after-413'))
    assert.equal(after.status, 200, 'the server keeps serving')
  })
})

describe('dsiem serve: S2 over HTTP with --writeableConfig', () => {
  let s: Served
  let configDir: string
  before(async () => {
    configDir = s2ConfigDir(cleanup.dir('dsiem-e2e-s2-'))
    writeConfigDir({directives: [PING_FLOOD_DIRECTIVE], dir: configDir, assetsFile: 'assets_lan.json'})
    s = await serve(
      cleanup,
      serveConfig({configDir, dataDir: cleanup.dir('dsiem-e2e-data-'), writeableConfig: true}),
    )
  })

  for (const [method, urlPath, body, status, text] of S2_TABLE) {
    it(`${method} ${decodeURI(urlPath)}${body === '' ? '' : ` ${body}`} → ${status}`, async () => {
      const response = await send(s.base, method, urlPath, body === '' ? undefined : body)
      assert.equal(response.status, status, response.body)
      if (text !== undefined) assert.equal(response.body, text)
    })
  }

  it('lists what serve itself wrote into the config dir (dsiem_config.json) next to the configs', async () => {
    const listing = JSON.parse((await send(s.base, 'GET', '/config/')).body) as {files: {filename: string}[]}
    const names = listing.files.map((f) => f.filename)
    for (const name of ['assets_b.json', 'assets_lan.json', 'directives_test.json', 'dsiem_config.json']) {
      assert.ok(names.includes(name), `${name} listed: ${names.join(', ')}`)
    }
    const effective = JSON.parse((await send(s.base, 'GET', '/config/dsiem_config.json')).body) as Record<
      string,
      unknown
    >
    assert.equal(effective['mode'], 'standalone')
    assert.equal(effective['writeableconfig'], true)
    assert.deepEqual(effective['status'], ['Open', 'In-Progress', 'Closed'])
  })
})
