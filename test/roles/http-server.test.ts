// The HTTP server itself: oversized bodies (413, nothing buffered, the server keeps serving), slow
// clients cut off by the deadlines without holding up others, a throwing handler costing one 500, and
// keep-alive; plus /health, /metrics and the frontend's overload → EPS limit loop.

import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import {Agent, request as httpRequest} from 'node:http'
import {describe, it} from 'node:test'
import {HttpRouter} from '../../src/roles/http/router.js'
import {readBody, sendText, startHttpServer, type RunningHttpServer} from '../../src/roles/http/server.js'
import {LogCapture, MINIMAL_EVENT as EVENT, send, startFrontendHarness} from '../helpers/frontend-harness.js'

async function echoServer(
  options: {maxBodyBytes?: number; headersTimeoutMs?: number; requestTimeoutMs?: number} = {},
): Promise<{server: RunningHttpServer; base: string; logs: LogCapture}> {
  const logs = new LogCapture()
  const router = new HttpRouter()
  router.exact('POST', '/echo', async ({req, res}) => {
    const body = await readBody(req)
    sendText(res, 200, `${body.length}`)
  })
  router.exact('GET', '/boom', () => {
    throw new Error('kaboom')
  })
  router.exact('GET', '/async-boom', async () => {
    await Promise.resolve()
    throw new Error('async kaboom')
  })
  router.exact('GET', '/ok', ({res}) => sendText(res, 200, 'ok'))
  const server = await startHttpServer(router, {
    address: '127.0.0.1',
    port: 0,
    log: logs.logger,
    closeGraceMs: 500,
    ...options,
  })
  return {server, base: `http://127.0.0.1:${server.port}`, logs}
}

/** Sends raw bytes and collects everything until the server closes the connection. */
function rawExchange(
  port: number,
  write: (socket: Socket) => void,
): Promise<{data: string; closedAfterMs: number}> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = connect(port, '127.0.0.1', () => write(socket))
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (data += chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve({data, closedAfterMs: performance.now() - started}))
  })
}

describe('HTTP server', () => {
  it('refuses a declared oversized body with 413 and keeps serving', async () => {
    const {server, base, logs} = await echoServer({maxBodyBytes: 1024})
    try {
      const big = Buffer.alloc(4096, 0x61)
      const refused = await send(base, 'POST', '/echo', big)
      assert.equal(refused.status, 413)
      assert.equal(refused.headers['connection'], 'close')
      assert.ok(
        logs.messages('WARN').some((m) => m.startsWith('Refusing a request body over 1024 bytes')),
        'one warning names the limit',
      )
      const fine = await send(base, 'POST', '/echo', Buffer.alloc(1024, 0x61))
      assert.equal(fine.status, 200)
      assert.equal(fine.body, '1024')
    } finally {
      await server.close()
    }
  })

  it('refuses a chunked body once it passes the limit, without reading the rest', async () => {
    const {server, port} = await echoServer({maxBodyBytes: 1000}).then((s) => ({...s, port: s.server.port}))
    try {
      const result = await rawExchange(port, (socket) => {
        socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
        socket.write('400\r\n' + 'a'.repeat(0x400) + '\r\n') // 1024 bytes: over the limit
        // The rest never comes; the server must answer anyway and close after its linger.
      })
      assert.match(result.data, /^HTTP\/1\.1 413 /)
      assert.match(result.data, /server: dsiem/i)
    } finally {
      await server.close()
    }
  })

  it('cuts off a client trickling its headers without holding up other clients', async () => {
    const {server, base, logs} = await echoServer({headersTimeoutMs: 300, requestTimeoutMs: 600})
    try {
      let trickle: NodeJS.Timeout | undefined
      const slow = rawExchange(server.port, (socket) => {
        socket.write('GET /ok HTTP/1.1\r\n')
        trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 50)
      })
      // Meanwhile the server answers others at once.
      const others = await Promise.all([send(base, 'GET', '/ok'), send(base, 'POST', '/echo', EVENT)])
      assert.deepEqual(
        others.map((r) => r.status),
        [200, 200],
      )
      const result = await slow
      clearInterval(trickle)
      assert.match(result.data, /^HTTP\/1\.1 408 /)
      assert.ok(result.closedAfterMs < 2000, `closed after ${Math.round(result.closedAfterMs)} ms`)
      assert.ok(
        logs.messages('WARN').some((m) => m.includes('request not received within 300 ms')),
        'a clear log line',
      )
    } finally {
      await server.close()
    }
  })

  it('cuts off a client trickling its body at the request deadline', async () => {
    const {server} = await echoServer({headersTimeoutMs: 200, requestTimeoutMs: 400})
    try {
      let trickle: NodeJS.Timeout | undefined
      const result = await rawExchange(server.port, (socket) => {
        socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n')
        trickle = setInterval(() => socket.writable && socket.write('a'), 50)
      })
      clearInterval(trickle)
      assert.ok(result.closedAfterMs < 2000, `closed after ${Math.round(result.closedAfterMs)} ms`)
      assert.doesNotMatch(result.data, /^HTTP\/1\.1 200/)
    } finally {
      await server.close()
    }
  })

  it('a throwing handler (sync or async) → 500 and one log line; the process carries on', async () => {
    const {server, base, logs} = await echoServer()
    try {
      assert.equal((await send(base, 'GET', '/boom')).status, 500)
      assert.equal((await send(base, 'GET', '/async-boom')).status, 500)
      const errors = logs.messages('ERROR')
      assert.equal(errors.length, 2, errors.join('\n'))
      assert.match(errors[0]!, /GET \/boom failed: kaboom/)
      assert.equal((await send(base, 'GET', '/ok')).status, 200)
    } finally {
      await server.close()
    }
  })

  it('keeps connections alive across requests and closes promptly with idle keep-alive sockets', async () => {
    const {server, base} = await echoServer()
    const agent = new Agent({keepAlive: true, maxSockets: 1})
    try {
      const sockets = new Set<unknown>()
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest(`${base}/echo`, {method: 'POST', agent}, (res) => {
            sockets.add(res.socket)
            res.resume()
            res.on('end', () => resolve())
          })
          req.on('error', reject)
          req.end(EVENT)
        })
      }
      assert.equal(sockets.size, 1, 'one connection for three requests')
      const started = performance.now()
      await server.close()
      assert.ok(performance.now() - started < 400, 'close() does not wait for idle keep-alive connections')
    } finally {
      agent.destroy()
      await server.close()
    }
  })

  it('answers 404 and 405 with the dsiem server header', async () => {
    const {server, base} = await echoServer()
    try {
      const missing = await send(base, 'GET', '/nothing')
      assert.equal(missing.status, 404)
      assert.equal(missing.headers['server'], 'dsiem')
      assert.equal((await send(base, 'GET', '/echo')).status, 405)
    } finally {
      await server.close()
    }
  })
})

describe('/health and /metrics', () => {
  it('200 while the bus is connected, 503 once it is closed; metrics carry the node label', async () => {
    const h = await startFrontendHarness({health: true, config: {maxEps: 1000, minEps: 100}})
    try {
      await send(h.base, 'POST', '/events', EVENT)
      const healthy = await send(h.base, 'GET', '/health')
      assert.equal(healthy.status, 200)
      const report = JSON.parse(healthy.body) as {
        node: string
        healthy: boolean
        bus: {connected: boolean; server: string; mode: string}
        roles: {role: string; healthy: boolean; detail: Record<string, unknown>}[]
      }
      assert.equal(report.node, 'test-node')
      assert.equal(report.healthy, true)
      assert.deepEqual(report.bus, {connected: true, server: 'memory', mode: 'memory'})
      assert.equal(report.roles[0]!.role, 'frontend')
      assert.equal(report.roles[0]!.detail['epsLimit'], 550)
      assert.equal(report.roles[0]!.detail['accepted'], 1)

      const metrics = await send(h.base, 'GET', '/metrics')
      assert.equal(metrics.status, 200)
      assert.match(String(metrics.headers['content-type']), /^text\/plain/)
      assert.match(metrics.body, /dsiem_events_received_total\{status="200",node="test-node"\} 1/)
      assert.match(metrics.body, /dsiem_frontend_eps_limit\{node="test-node"\} 550/)

      await h.bus.close()
      const down = await send(h.base, 'GET', '/health')
      assert.equal(down.status, 503)
      assert.equal((JSON.parse(down.body) as {healthy: boolean}).healthy, false)
    } finally {
      await h.close()
    }
  })
})

describe('frontend overload loop', () => {
  it('lowers the limit while backends report overload and raises it after false (upstream arithmetic)', async () => {
    let clock = 0
    const h = await startFrontendHarness({
      config: {maxEps: 1000, minEps: 100},
      frontend: {monotonicMs: () => clock, adjustIntervalMs: 0},
    })
    try {
      assert.equal(h.frontend.epsLimit(), 550)
      h.bus.publishOverload(false)
      h.bus.publishOverload(true) // the last value from any backend wins
      assert.equal(h.frontend.overloaded, true)
      const lowered: number[] = []
      for (let i = 0; i < 6; i++) {
        clock += 10_000
        lowered.push(h.frontend.adjustLimit()!.to)
      }
      assert.deepEqual(lowered, [460, 370, 280, 190, 100, 100])
      h.bus.publishOverload(false)
      clock += 10_000
      assert.deepEqual(h.frontend.adjustLimit(), {overloaded: false, from: 100, to: 109})
      const info = h.logs.messages('INFO')
      assert.ok(
        info.includes('Received overload status change from false to true from backend'),
        'change logged',
      )
      assert.ok(
        info.includes('Overload status is true, EPS limit changed from 550 to 460'),
        'first step logged',
      )
      assert.ok(info.includes('Overload status is false, EPS limit changed from 100 to 109'), 'raise logged')
      assert.equal(
        info.filter((m) => m.includes('EPS limit changed from 100 to 100')).length,
        0,
        'no line when nothing changed',
      )
    } finally {
      await h.close()
    }
  })

  it('the adjustment timer runs by itself and stops with the role', async () => {
    const h = await startFrontendHarness({
      config: {maxEps: 1000, minEps: 100},
      frontend: {adjustIntervalMs: 20},
    })
    try {
      h.bus.publishOverload(true)
      await new Promise((resolve) => setTimeout(resolve, 120))
      const limit = h.frontend.epsLimit()!
      assert.ok(limit < 550, `lowered by the timer to ${limit}`)
      await h.frontend.stop()
      await new Promise((resolve) => setTimeout(resolve, 60))
      assert.equal(h.frontend.epsLimit(), limit, 'no change after stop()')
    } finally {
      await h.close()
    }
  })
})
