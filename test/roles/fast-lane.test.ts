// The fast lane for single-event POSTs: which requests it answers itself (strictly the plain ones),
// that its answers are byte for byte node:http's (Date aside), and that a connection moves to
// node:http mid-stream without losing or reordering anything: pipelined requests, a request that
// arrives in pieces, a client's FIN, a throwing handler, and shutdown.

import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import {describe, it} from 'node:test'
import {readFastRequest} from '../../src/roles/http/fast-lane.js'
import {HttpRouter, type FastPostRoute} from '../../src/roles/http/router.js'
import {readBody, sendText, startHttpServer, type RunningHttpServer} from '../../src/roles/http/server.js'
import type {Metrics} from '../../src/roles/io/metrics.js'
import {LogCapture, MINIMAL_EVENT as EVENT, startFrontendHarness} from '../helpers/frontend-harness.js'

const ROUTES = new Map<string, FastPostRoute>([['/events', {handle: () => 200, answerText: () => undefined}]])

function request(head: string, body = EVENT): Buffer {
  return Buffer.from(`${head}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

/** Writes raw bytes (in parts, `gapMs` apart) and collects the answers until `until` holds or the close. */
function exchange(
  port: number,
  parts: (string | Buffer)[],
  until: (data: string) => boolean,
  gapMs = 0,
): Promise<{data: string; socket: Socket}> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', async () => {
      for (const part of parts) {
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
        socket.write(part)
      }
    })
    let data = ''
    socket.setEncoding('latin1')
    const done = (): void => resolve({data, socket})
    socket.on('data', (chunk: string) => {
      data += chunk
      if (until(data)) done()
    })
    socket.on('error', reject)
    socket.on('close', done)
  })
}

/** The lane's counts as /metrics exports them. */
async function laneStats(metrics: Metrics): Promise<{answered: number; handedOver: number}> {
  const text = await metrics.render()
  const value = (name: string): number =>
    Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1])
  return {
    answered: value('dsiem_http_fast_lane_requests_total'),
    handedOver: value('dsiem_http_fast_lane_handovers_total'),
  }
}

const answers = (data: string): string[] => data.split(/(?=HTTP\/1\.1 )/).filter((a) => a !== '')
const statusOf = (answer: string): number => Number(answer.slice(9, 12))
const withoutDate = (answer: string): string => answer.replace(/\r\nDate: [^\r]*/, '')

describe('fast lane: which requests it takes', () => {
  const read = (text: string, max = 1000): string => readFastRequest(Buffer.from(text), ROUTES, max).kind
  const head = 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n'

  it('takes a complete plain POST to a fast route, and says where its body is', () => {
    const found = readFastRequest(Buffer.from(head + '{}POST'), ROUTES, 1000)
    assert.deepEqual(found, {kind: 'request', route: '/events', bodyStart: head.length, end: head.length + 2})
    assert.equal(
      read('POST /events HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n'),
      'request',
    )
  })

  it('waits for the rest of a request that could still be one', () => {
    assert.equal(read('POST /ev'), 'partial')
    assert.equal(read('POST /events HTTP/1.1\r\nHost: x\r\n'), 'partial')
    assert.equal(read(head + '{'), 'partial')
  })

  it('leaves everything unusual to node:http', () => {
    const cases: [string, string][] = [
      ['GET /events HTTP/1.1\r\nHost: x\r\n\r\n', 'another method'],
      ['GET /h', 'another method, in part'],
      ['POST /events?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', 'a query'],
      ['POST /events/bulk HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', 'a path without a fast route'],
      ['POST /events HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', 'HTTP/1.0'],
      ['POST /events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}', 'no Host'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 2\r\n\r\n{}', 'two Hosts'],
      ['POST /events HTTP/1.1\r\nHost: x\r\n\r\n', 'no Content-Length'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}', 'two lengths'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: -2\r\n\r\n{}', 'a bad length'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n', 'a body over the limit'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 'chunked'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n', 'Expect'],
      [
        'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        'Connection: close',
      ],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nUpgrade: h2c\r\n\r\n{}', 'Upgrade'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n folded\r\n\r\n{}', 'a folded line'],
      ['POST /events HTTP/1.1\r\nHost: x\r\nContent Length: 2\r\n\r\n{}', 'a name with a space'],
      [
        'POST /events HTTP/1.1\r\nHost: x\r\nno colon\r\nContent-Length: 2\r\n\r\n{}',
        'a line without a colon',
      ],
      [
        'POST /events HTTP/1.1\r\nHost: x\r\nX: a\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}',
        'a bare LF',
      ],
      ['POST /events HTTP/1.1\r\nHost: x\r\nX: a\0b\r\nContent-Length: 2\r\n\r\n{}', 'a NUL'],
    ]
    assert.equal(
      read('POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n', 100_000_000),
      'other',
      'a body over 64 KiB, even within the limit (node:http reads it in chunks)',
    )
    for (const [text, what] of cases) assert.equal(read(text), 'other', what)
    assert.equal(
      read(`POST /events HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}`, 100_000),
      'other',
      'a head over 16 KiB',
    )
  })
})

describe('fast lane: answers and hand-over', () => {
  it('answers as node:http does, Date aside, for every status of POST /events', async () => {
    const h = await startFrontendHarness({health: true})
    try {
      // The same requests once on the lane and once behind a chunked request, which node:http takes.
      const plain = [
        request('POST /events HTTP/1.1\r\nHost: x'),
        request('POST /events/ HTTP/1.1\r\nHost: x', '{'),
      ]
      plain.push(request('POST /events HTTP/1.1\r\nHost: x', '{"event_id":"x"}'))
      const lane = await exchange(h.port, plain, (data) => answers(data).length === 3)
      lane.socket.destroy()
      const chunked = 'POST /events/bulk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
      const node = await exchange(h.port, [chunked, ...plain], (data) => answers(data).length === 4)
      node.socket.destroy()
      const onLane = answers(lane.data)
      const onNode = answers(node.data).slice(1)
      assert.deepEqual(onLane.map(statusOf), [200, 500, 418], lane.data)
      assert.deepEqual(onLane.map(withoutDate), onNode.map(withoutDate), 'the same bytes')
      assert.match(onLane[0]!, /\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/)
      assert.deepEqual(
        await laneStats(h.metrics),
        {answered: 3, handedOver: 1},
        'three on the lane, then node:http',
      )
      assert.ok(
        h.logs.messages('WARN').some((m) => m.startsWith('Cannot parse normalizedEvent from 127.0.0.1')),
      )
    } finally {
      await h.close()
    }
  })

  it('answers pipelined requests in order and hands the connection over at the first other one', async () => {
    const h = await startFrontendHarness({health: true})
    try {
      const events = [0, 1, 2, 3].map((i) => EVENT.replace(/"event_id":"[^"]*"/, `"event_id":"e${i}"`))
      const parts = [
        Buffer.concat([
          request('POST /events HTTP/1.1\r\nHost: x', events[0]),
          request('POST /events HTTP/1.1\r\nHost: x', events[1]),
        ]),
        'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
        Buffer.concat([
          request('POST /events HTTP/1.1\r\nHost: x', events[2]),
          request('POST /events HTTP/1.1\r\nHost: x', events[3]),
        ]),
      ]
      const run = await exchange(
        h.port,
        parts,
        (data) => answers(data).length === 5 && data.endsWith('\r\n\r\n'),
      )
      run.socket.destroy()
      assert.deepEqual(answers(run.data).map(statusOf), [200, 200, 200, 200, 200], run.data)
      assert.match(answers(run.data)[2]!, /content-type: application\/json/, 'the third answer is /health')
      assert.deepEqual(
        h.events.map((e) => e.eventId),
        ['e0', 'e1', 'e2', 'e3'],
        'every event once, in order',
      )
      assert.deepEqual(
        h.events.map((e) => e.connId),
        [1, 2, 3, 4],
      )
      assert.deepEqual(
        await laneStats(h.metrics),
        {answered: 2, handedOver: 1},
        'node:http took over at /health',
      )
      const again = await laneStats(h.metrics)
      assert.deepEqual(again, {answered: 2, handedOver: 1}, 'a second render counts nothing twice')
    } finally {
      await h.close()
    }
  })

  it('takes a request sent in pieces, and one whose client half-closes after sending it', async () => {
    const h = await startFrontendHarness()
    try {
      const whole = request('POST /events HTTP/1.1\r\nHost: x')
      const pieces = [whole.subarray(0, 10), whole.subarray(10, 40), whole.subarray(40)]
      const slow = await exchange(h.port, pieces, (data) => answers(data).length === 1, 50)
      slow.socket.destroy()
      assert.equal(statusOf(answers(slow.data)[0]!), 200)
      const closed = await new Promise<string>((resolve, reject) => {
        const socket = connect(h.port, '127.0.0.1', () => socket.end(whole))
        let data = ''
        socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')))
        socket.on('error', reject)
        socket.on('close', () => resolve(data))
      })
      assert.equal(answers(closed).length, 1, 'answered, then the server ended the connection')
      assert.equal(statusOf(closed), 200)
      assert.equal(h.events.length, 2)
      assert.equal((await laneStats(h.metrics)).answered, 2, 'both on the lane')
    } finally {
      await h.close()
    }
  })

  it('gives a request stuck half-way to node:http, whose deadline then applies', async () => {
    const h = await startFrontendHarness({server: {headersTimeoutMs: 300, requestTimeoutMs: 600}})
    try {
      const started = performance.now()
      const stuck = await exchange(
        h.port,
        ['POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{'],
        () => false,
      )
      assert.match(stuck.data, /^HTTP\/1\.1 408 /, 'node:http cut it off')
      assert.ok(performance.now() - started < 3000, 'within the lane wait plus node:http deadline')
      assert.equal(h.events.length, 0)
    } finally {
      await h.close()
    }
  })

  it('gives a client trickling a fast request to node:http, whose deadline then cuts it off', async () => {
    const h = await startFrontendHarness({server: {headersTimeoutMs: 300, requestTimeoutMs: 600}})
    let trickle: NodeJS.Timeout | undefined
    try {
      const started = performance.now()
      const whole = request('POST /events HTTP/1.1\r\nHost: x')
      let sent = 0
      const run = await new Promise<string>((resolve, reject) => {
        const socket = connect(h.port, '127.0.0.1', () => {
          // A byte every 100 ms: each arrives well within the lane's wait for the rest.
          trickle = setInterval(() => socket.writable && socket.write(whole.subarray(sent, ++sent)), 100)
        })
        let data = ''
        socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')))
        socket.on('error', reject)
        socket.on('close', () => resolve(data))
      })
      assert.match(run, /^HTTP\/1\.1 408 /, 'node:http cut it off')
      assert.ok(performance.now() - started < 3000, 'within the lane wait plus node:http deadline')
      assert.equal(h.events.length, 0)
    } finally {
      clearInterval(trickle)
      await h.close()
    }
  })

  it('a throwing fast handler costs one 500 and one log line; waiting handlers keep the order', async () => {
    const logs = new LogCapture()
    const router = new HttpRouter()
    const seen: string[] = []
    const handle = (body: Buffer): number | Promise<number> => {
      const text = body.toString()
      seen.push(text)
      if (text === 'boom') throw new Error('kaboom')
      if (text === 'later') return new Promise((resolve) => setTimeout(() => resolve(408), 50))
      if (text === 'reject') return Promise.reject(new Error('async kaboom'))
      return 200
    }
    router.exact('POST', '/e', async ({req, res}) => sendText(res, 200, String((await readBody(req)).length)))
    router.fastPost('/e', {handle, answerText: () => undefined})
    const server: RunningHttpServer = await startHttpServer(router, {
      address: '127.0.0.1',
      port: 0,
      log: logs.logger,
    })
    try {
      const bodies = ['a', 'later', 'boom', 'reject', 'b']
      const parts = [Buffer.concat(bodies.map((b) => request('POST /e HTTP/1.1\r\nHost: x', b)))]
      const run = await exchange(
        server.port,
        parts,
        (data) => answers(data).length === 5 && data.endsWith('\r\n\r\n'),
      )
      run.socket.destroy()
      assert.deepEqual(seen, bodies)
      assert.deepEqual(answers(run.data).map(statusOf), [200, 408, 500, 500, 200])
      assert.deepEqual(logs.messages('ERROR'), [
        'HTTP handler for POST /e failed: kaboom',
        'HTTP handler for POST /e failed: async kaboom',
      ])
    } finally {
      await server.close()
    }
  })

  it('stops reading pipelined requests while the client does not read its answers', async () => {
    const router = new HttpRouter()
    let handled = 0
    router.exact('POST', '/e', ({res}) => sendText(res, 200, ''))
    router.fastPost('/e', {handle: () => (handled++, 200), answerText: () => undefined})
    const server = await startHttpServer(router, {
      address: '127.0.0.1',
      port: 0,
      log: new LogCapture().logger,
    })
    const total = 100_000
    const one = request('POST /e HTTP/1.1\r\nHost: x', 'x')
    const socket = connect(server.port, '127.0.0.1')
    try {
      socket.pause()
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write(Buffer.concat(Array.from({length: total}, () => one)))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      // 100,000 answers are ~13 MB, more than the kernel's socket buffers hold for an unread socket.
      assert.ok(handled < total / 2, `${handled} requests handled for a client that reads no answers`)
      let answered = 0
      let tail = ''
      const all = new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          const text = tail + chunk.toString('latin1')
          answered += text.split('HTTP/1.1 200 OK').length - 1
          tail = text.slice(-14) // shorter than a status line: nothing counted twice
          if (answered >= total) resolve()
        }),
      )
      socket.resume()
      await all
      assert.equal(handled, total, 'every request handled once the client reads')
    } finally {
      socket.destroy()
      await server.close()
    }
  })

  it('ends a connection whose client has left its answers unread for the keep-alive time', async () => {
    const router = new HttpRouter()
    router.exact('POST', '/e', ({res}) => sendText(res, 200, ''))
    router.fastPost('/e', {handle: () => 200, answerText: () => undefined})
    const server = await startHttpServer(router, {
      address: '127.0.0.1',
      port: 0,
      log: new LogCapture().logger,
      keepAliveTimeoutMs: 300,
    })
    const socket = connect(server.port, '127.0.0.1')
    try {
      socket.pause()
      socket.on('error', () => {})
      await new Promise((resolve) => socket.once('connect', resolve))
      const one = request('POST /e HTTP/1.1\r\nHost: x', 'x')
      socket.write(Buffer.concat(Array.from({length: 100_000}, () => one)))
      // The server stalls on the unread answers, then its keep-alive time passes.
      await new Promise((resolve) => setTimeout(resolve, 1500))
      let answered = 0
      let tail = ''
      socket.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString('latin1')
        answered += text.split('HTTP/1.1 200 OK').length - 1
        tail = text.slice(-14)
      })
      const closed = new Promise((resolve) => socket.once('close', () => resolve(true)))
      socket.resume()
      const ended = await Promise.race([
        closed,
        new Promise((resolve) => setTimeout(() => resolve(false), 5000)),
      ])
      assert.equal(ended, true, 'the server ended the stalled connection')
      assert.ok(answered < 100_000, `${answered} answers: the rest were never read from the client`)
    } finally {
      socket.destroy()
      await server.close()
    }
  })

  it('closes idle lane connections at shutdown at once, and a busy one after its answer', async () => {
    const router = new HttpRouter()
    let release = (): void => {}
    router.exact('POST', '/e', ({res}) => sendText(res, 200, ''))
    router.fastPost('/e', {
      handle: (body) =>
        body.toString() === 'wait' ? new Promise((resolve) => (release = () => resolve(200))) : 200,
      answerText: () => undefined,
    })
    const server = await startHttpServer(router, {
      address: '127.0.0.1',
      port: 0,
      log: new LogCapture().logger,
    })
    const idle = await exchange(
      server.port,
      [request('POST /e HTTP/1.1\r\nHost: x', 'x')],
      (d) => answers(d).length === 1,
    )
    const busyClosed = exchange(server.port, [request('POST /e HTTP/1.1\r\nHost: x', 'wait')], () => false)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const idleClosed = new Promise((resolve) => idle.socket.once('close', resolve))
    const started = performance.now()
    const closing = server.close()
    await idleClosed
    assert.ok(performance.now() - started < 500, 'the idle connection closed at once')
    release()
    const busy = await busyClosed
    assert.equal(statusOf(busy.data), 200)
    assert.match(busy.data, /\r\nConnection: close\r\n/, 'the last answer says the connection closes')
    await closing
  })
})
