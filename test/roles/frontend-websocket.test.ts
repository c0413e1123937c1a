// The --websocket `/eps/` feed with a hand-written RFC 6455 client over a raw socket: the handshake
// (Sec-WebSocket-Accept from the RFC's own example key), `{"eps":N}` text frames every period, ping →
// pong, a masked close answered with a close frame, refusals, and shutdown with clients connected.

import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import {describe, it} from 'node:test'
import {MINIMAL_EVENT as EVENT, send, startFrontendHarness} from '../helpers/frontend-harness.js'

interface Frame {
  opcode: number
  payload: Buffer
}

/** A minimal client: handshake, then parsed server frames as they arrive. */
class RawWsClient {
  readonly socket: Socket
  readonly frames: Frame[] = []
  handshake = ''
  ended = false
  private buffer = Buffer.alloc(0)
  private waiters: (() => void)[] = []

  private constructor(socket: Socket) {
    this.socket = socket
  }

  static open(port: number, key = 'dGhlIHNhbXBsZSBub25jZQ==', path = '/eps/'): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      const client = new RawWsClient(socket)
      socket.on('error', reject)
      socket.on('end', () => {
        client.ended = true
        client.wake()
      })
      socket.on('data', (chunk: Buffer) => client.receive(chunk, resolve))
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      )
    })
  }

  private receive(chunk: Buffer, opened: (client: RawWsClient) => void): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (this.handshake === '') {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      this.handshake = this.buffer.subarray(0, end).toString('latin1')
      this.buffer = this.buffer.subarray(end + 4)
      opened(this)
    }
    while (this.buffer.length >= 2) {
      const length = this.buffer[1]! & 0x7f
      assert.ok(length < 126, 'small frames only in this test')
      assert.equal(this.buffer[1]! & 0x80, 0, 'server frames are unmasked')
      if (this.buffer.length < 2 + length) break
      this.frames.push({opcode: this.buffer[0]! & 0x0f, payload: this.buffer.subarray(2, 2 + length)})
      this.buffer = this.buffer.subarray(2 + length)
    }
    this.wake()
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (!predicate()) {
      assert.ok(performance.now() < deadline, `timed out waiting for ${what}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
  }

  /** Sends a masked frame, as clients must. */
  sendFrame(opcode: number, payload: Buffer): void {
    const mask = Buffer.from([1, 2, 3, 4])
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i & 3]!))
    this.socket.write(Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]))
  }
}

describe('/eps/ WebSocket feed (--websocket)', () => {
  it('handshakes, then pushes {"eps": N} every period; answers ping and close', async () => {
    const h = await startFrontendHarness({config: {websocket: true}, frontend: {epsFeedIntervalMs: 30}})
    try {
      const client = await RawWsClient.open(h.port)
      assert.match(client.handshake, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
      // RFC 6455 §1.3's example: this key must be answered with this accept value.
      assert.match(client.handshake, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i)

      for (let i = 0; i < 3; i++) await send(h.base, 'POST', '/events', EVENT)
      await client.waitFor(
        () => client.frames.some((f) => f.opcode === 1 && JSON.parse(f.payload.toString()).eps === 3),
        'a frame counting the three events',
      )
      const texts = client.frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString())
      assert.ok(
        texts.every((t) => /^\{"eps":\d+\}$/.test(t)),
        `messages shaped like upstream's: ${texts.join(' ')}`,
      )

      client.sendFrame(0x9, Buffer.from('hi'))
      await client.waitFor(() => client.frames.some((f) => f.opcode === 0xa), 'a pong')
      assert.equal(client.frames.find((f) => f.opcode === 0xa)!.payload.toString(), 'hi')

      client.sendFrame(0x8, Buffer.from([0x03, 0xe8]))
      await client.waitFor(() => client.ended, 'the server to close')
      const close = client.frames.find((f) => f.opcode === 0x8)
      assert.ok(close !== undefined, 'a close frame came back')
      assert.equal(close.payload.readUInt16BE(0), 1000)
    } finally {
      await h.close()
    }
  })

  it('refuses a bad handshake and a plain GET; other paths still answer over HTTP', async () => {
    const h = await startFrontendHarness({config: {websocket: true}})
    try {
      const bad = await RawWsClient.open(h.port, 'not-a-key')
      assert.match(bad.handshake, /^HTTP\/1\.1 400 /)
      assert.equal((await send(h.base, 'GET', '/eps/')).status, 400)
      // An Upgrade (e.g. h2c) on another path is served as plain HTTP.
      const other = await send(h.base, 'POST', '/nope', undefined, {connection: 'Upgrade', upgrade: 'h2c'})
      assert.equal(other.status, 404)
      const event = await send(h.base, 'POST', '/events', EVENT)
      assert.equal(event.status, 200)
    } finally {
      await h.close()
    }
  })

  it('is absent without --websocket', async () => {
    const h = await startFrontendHarness()
    try {
      assert.equal((await send(h.base, 'GET', '/eps/')).status, 404)
    } finally {
      await h.close()
    }
  })

  it('stopping the role closes connected clients with 1001 and turns late ones away', async () => {
    const h = await startFrontendHarness({config: {websocket: true}, frontend: {epsFeedIntervalMs: 30}})
    try {
      const client = await RawWsClient.open(h.port)
      await h.frontend.stop()
      await client.waitFor(() => client.ended, 'the server to close')
      assert.equal(client.frames.find((f) => f.opcode === 0x8)?.payload.readUInt16BE(0), 1001)
      const late = await RawWsClient.open(h.port)
      await late.waitFor(() => late.ended, 'the late client to be closed')
      assert.equal(late.frames.find((f) => f.opcode === 0x8)?.payload.readUInt16BE(0), 1001)
    } finally {
      await h.close()
    }
  })

  it('closing the server does not wait for connected WebSocket clients', async () => {
    const h = await startFrontendHarness({config: {websocket: true}, frontend: {epsFeedIntervalMs: 30}})
    const client = await RawWsClient.open(h.port)
    await client.waitFor(() => client.frames.length > 0, 'a first message')
    const started = performance.now()
    await h.server.close()
    await client.waitFor(() => client.ended || client.socket.destroyed, 'the connection to drop')
    assert.ok(performance.now() - started < 1000, `closed in ${Math.round(performance.now() - started)} ms`)
    await h.close()
  })
})
