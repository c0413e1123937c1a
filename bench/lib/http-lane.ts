// One keep-alive HTTP/1.1 connection of the load generator, written straight on a TCP socket: a request
// is one prebuilt buffer (head + body) and one write; an answer is parsed just far enough to know its
// status and where it ends (Content-Length or chunked). One request is in flight at a time (no
// pipelining, like a shipper waiting for each answer); further requests wait in the lane's queue.
//
// Why not undici: in the latency run the generator shares the two cores with the server, and undici
// spent ~55 µs of CPU per single-event request there (the server itself ~70 µs), so the generator's
// own CPU hunger showed up as run-queue waits in the server's tail. This costs a fraction of that.

import {connect, type Socket} from 'node:net'

export type Answer = (status: number, body: Buffer | undefined, error: Error | undefined) => void

interface Request {
  readonly bytes: Buffer
  readonly keepBody: boolean
  readonly done: Answer
}

const CRLF_CRLF = Buffer.from('\r\n\r\n')

/** Encodes POST requests to one path: the fixed part of the head is built once. */
export class PostEncoder {
  private readonly prefix: Buffer

  constructor(host: string, path: string, contentType: string) {
    // Host is required by HTTP/1.1.
    this.prefix = Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: `,
      'latin1',
    )
  }

  /** The whole request (head and body) as one buffer, for one write. */
  encode(body: Buffer | readonly Buffer[]): Buffer {
    const parts = Buffer.isBuffer(body) ? [body] : body
    let length = 0
    for (const part of parts) length += part.length
    const digits = String(length)
    const bytes = Buffer.allocUnsafe(this.prefix.length + digits.length + 4 + length)
    let at = this.prefix.copy(bytes, 0)
    at += bytes.write(digits + '\r\n\r\n', at, 'latin1')
    for (const part of parts) at += part.copy(bytes, at)
    return bytes
  }
}

/** Parses one answer from the front of `data`: its status, body and length, or undefined if incomplete. */
function parseAnswer(
  data: Buffer,
  keepBody: boolean,
): {status: number; body: Buffer | undefined; consumed: number} | undefined {
  const headEnd = data.indexOf(CRLF_CRLF)
  if (headEnd < 0) return undefined
  const head = data.toString('latin1', 0, headEnd)
  const status = Number(head.slice(9, 12))
  if (!head.startsWith('HTTP/1.') || !Number.isInteger(status)) {
    throw new Error(`not an HTTP/1.x answer: ${JSON.stringify(head.slice(0, 40))}`)
  }
  const bodyStart = headEnd + 4
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  if (lengthMatch !== null) {
    const end = bodyStart + Number(lengthMatch[1])
    if (data.length < end) return undefined
    return {status, body: keepBody ? data.subarray(bodyStart, end) : undefined, consumed: end}
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    const parts: Buffer[] = []
    let at = bodyStart
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at)
      if (lineEnd < 0) return undefined
      const size = parseInt(data.toString('latin1', at, lineEnd), 16)
      if (!Number.isFinite(size)) throw new Error('bad chunk size in an HTTP answer')
      const chunkEnd = lineEnd + 2 + size
      if (data.length < chunkEnd + 2) return undefined
      if (size === 0) {
        // No trailers are sent by the servers measured; the last chunk ends with an empty line.
        return {status, body: keepBody ? Buffer.concat(parts) : undefined, consumed: chunkEnd + 2}
      }
      if (keepBody) parts.push(data.subarray(lineEnd + 2, chunkEnd))
      at = chunkEnd + 2
    }
  }
  // 1xx/204/304 carry no body; anything else without a length is not something the bench sends to.
  if (status < 200 || status === 204 || status === 304) return {status, body: undefined, consumed: bodyStart}
  throw new Error(`HTTP ${status} answer without Content-Length or chunked encoding`)
}

export class HttpLane {
  private readonly socket: Socket
  private readonly queue: Request[] = []
  private queueHead = 0
  private inFlight: Request | undefined
  private received: Buffer = Buffer.alloc(0)
  private failure: Error | undefined
  private readonly ready: Promise<void>

  constructor(host: string, port: number) {
    this.socket = connect({host, port, noDelay: true})
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('error', reject)
    })
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('error', (error) => this.fail(error))
    this.socket.on('close', () => this.fail(new Error('connection closed by the server')))
  }

  /** Resolves once connected (rejects with the connection error). */
  connected(): Promise<void> {
    return this.ready
  }

  /** Queues a request; `done` is called once with its answer or the connection's error. */
  send(bytes: Buffer, keepBody: boolean, done: Answer): void {
    const request = {bytes, keepBody, done}
    if (this.failure !== undefined) return done(0, undefined, this.failure)
    if (this.inFlight === undefined) this.start(request)
    else this.queue.push(request)
  }

  close(): void {
    this.failure ??= new Error('lane closed')
    this.socket.destroy()
  }

  private start(request: Request): void {
    this.inFlight = request
    this.socket.write(request.bytes)
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk])
    while (this.inFlight !== undefined && this.received.length > 0) {
      let answer: ReturnType<typeof parseAnswer>
      try {
        answer = parseAnswer(this.received, this.inFlight.keepBody)
      } catch (error) {
        this.fail(error as Error)
        this.socket.destroy()
        return
      }
      if (answer === undefined) return
      this.received = this.received.subarray(answer.consumed)
      const request = this.inFlight
      this.inFlight = undefined
      const next = this.queue[this.queueHead]
      if (next !== undefined) {
        this.queue[this.queueHead++] = undefined as unknown as Request
        if (this.queueHead === this.queue.length) {
          this.queue.length = 0
          this.queueHead = 0
        }
        this.start(next)
      }
      request.done(answer.status, answer.body, undefined)
    }
  }

  private fail(error: Error): void {
    if (this.failure !== undefined && this.inFlight === undefined && this.queueHead === this.queue.length)
      return
    this.failure ??= error
    const waiting = [this.inFlight, ...this.queue.slice(this.queueHead)]
    this.inFlight = undefined
    this.queue.length = 0
    this.queueHead = 0
    for (const request of waiting) request?.done(0, undefined, this.failure)
  }
}
