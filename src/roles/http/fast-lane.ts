// The fast lane for single-event POSTs. node:http spends about 11 µs of the HTTP thread per request on
// its JavaScript (request and response objects, streams, header maps, timers), close to half of what
// bare node:http costs per event on the test VM; a shipper posting one event per request pays it for
// every event. So the server reads each connection itself first: a request that is plainly a
// complete `POST /events` (HTTP/1.1, Host, a Content-Length of at most 64 KiB, nothing else that
// changes how it must be read or answered) is answered here, through the same handler, with the same
// bytes node:http would send (Date aside). At the first request that is anything else, or that does
// not arrive whole soon, the connection is handed to node:http for good, with every byte not yet
// answered: oversized bodies, chunked bodies, Expect, upgrades, slow clients, other paths and every
// malformed request are node:http's, exactly as without the lane.

import {STATUS_CODES} from 'node:http'
import type {Socket} from 'node:net'
import type {Logger} from '../io/log.js'
import type {FastPostRoute} from './router.js'

/** node:http's default limit on a request head; a longer buffered head goes to node:http at once. */
const MAX_HEAD_BYTES = 16 * 1024
/** Larger bodies go to node:http, which reads them in chunks (a single event is far smaller). */
const MAX_LANE_BODY_BYTES = 64 * 1024
/** How long a request that arrived in part may wait for the rest before node:http takes the connection. */
const PARTIAL_WAIT_MS = 500

export interface FastLaneOptions {
  /** The fast routes, by path (HttpRouter.fastPosts). */
  routes: ReadonlyMap<string, FastPostRoute>
  maxBodyBytes: number
  keepAliveTimeoutMs: number
  log: Logger
  /** Gives the connection to node:http; `unread` goes back in front of what the socket reads next. */
  handOver: (socket: Socket, unread: Buffer | undefined) => void
}

/** What the buffered bytes of a connection hold at their start. */
export type FastRequestHead =
  | {readonly kind: 'request'; readonly route: string; readonly bodyStart: number; readonly end: number}
  /** So far a fast request, not all there yet. */
  | {readonly kind: 'partial'}
  /** Anything the lane does not answer itself. */
  | {readonly kind: 'other'}

const REQUEST_LINE_END = ' HTTP/1.1\r\n'
/** A header name (RFC 9110's token characters). */
const TOKEN = /^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/
/** What a header value must not hold: a bare CR or LF, NUL or another control but tab. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/

/**
 * Reads the request at the start of `buf`: a complete fast request, the beginning of one, or other.
 * Strict on purpose: whatever is unusual goes to node:http, which knows every rule of HTTP/1.1.
 */
export function readFastRequest(
  buf: Buffer,
  routes: ReadonlyMap<string, FastPostRoute>,
  maxBodyBytes: number,
): FastRequestHead {
  const lineEnd = buf.indexOf('\r\n')
  if (lineEnd < 0)
    return buf.length < 64 && isPrefixOfFastLine(buf, routes) ? {kind: 'partial'} : {kind: 'other'}
  const line = buf.toString('latin1', 0, lineEnd + 2)
  if (!line.startsWith('POST /') || !line.endsWith(REQUEST_LINE_END)) return {kind: 'other'}
  const route = line.slice(5, line.length - REQUEST_LINE_END.length)
  if (!routes.has(route)) return {kind: 'other'}
  const headEnd = buf.indexOf('\r\n\r\n', lineEnd)
  if (headEnd < 0) return buf.length <= MAX_HEAD_BYTES ? {kind: 'partial'} : {kind: 'other'}
  if (headEnd + 4 > MAX_HEAD_BYTES) return {kind: 'other'}
  let length = -1
  let host = false
  let at = lineEnd + 2
  while (at < headEnd + 2) {
    const end = buf.indexOf('\r\n', at)
    const field = buf.toString('latin1', at, end)
    at = end + 2
    const colon = field.indexOf(':')
    if (colon <= 0) return {kind: 'other'}
    const rawName = field.slice(0, colon)
    const rawValue = field.slice(colon + 1)
    // Whatever node:http would refuse, it refuses itself.
    if (!TOKEN.test(rawName) || CONTROL.test(rawValue)) return {kind: 'other'}
    const name = rawName.toLowerCase()
    const value = rawValue.trim()
    if (name === 'content-length') {
      if (length >= 0 || !/^\d{1,15}$/.test(value)) return {kind: 'other'}
      length = Number(value)
    } else if (name === 'host') {
      if (host) return {kind: 'other'}
      host = true
    } else if (name === 'connection') {
      if (value.toLowerCase() !== 'keep-alive') return {kind: 'other'}
    } else if (
      name === 'transfer-encoding' ||
      name === 'expect' ||
      name === 'upgrade' ||
      name === 'keep-alive' ||
      name === 'proxy-connection'
    ) {
      return {kind: 'other'}
    }
  }
  if (length < 0 || !host || length > Math.min(maxBodyBytes, MAX_LANE_BODY_BYTES)) return {kind: 'other'}
  const end = headEnd + 4 + length
  if (buf.length < end) return {kind: 'partial'}
  return {kind: 'request', route, bodyStart: headEnd + 4, end}
}

/** Whether the first `buf.length` bytes could still become a fast request line. */
function isPrefixOfFastLine(buf: Buffer, routes: ReadonlyMap<string, FastPostRoute>): boolean {
  const text = buf.toString('latin1')
  for (const route of routes.keys()) {
    const line = `POST ${route}${REQUEST_LINE_END}`
    if (line.startsWith(text)) return true
  }
  return false
}

let dateSecond = -1
let dateText = ''
/** The Date header's value, formatted once a second as node:http does. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateText = new Date(second * 1000).toUTCString()
  }
  return dateText
}

/** The answer node:http writes for `res.writeHead(status, headers); res.end(text)` on this server. */
export function fastAnswer(
  status: number,
  text: string | undefined,
  keepAliveSeconds: number | undefined,
): string {
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\nserver: dsiem\r\n` +
    (text === undefined
      ? 'content-length: 0\r\n'
      : `content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n`) +
    `Date: ${httpDate()}\r\n` +
    (keepAliveSeconds === undefined
      ? 'Connection: close\r\n\r\n'
      : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`)
  return text === undefined ? head : head + text
}

/** One connection on the lane. Requests are answered one at a time, in order. */
class LaneConnection {
  private unread: Buffer | undefined
  /** A request is being answered: later bytes wait (and the socket pauses) until it is. */
  private busy = false
  /** The client is not reading its answers: no more requests are read until they drain. */
  private draining = false
  private partialTimer: NodeJS.Timeout | undefined
  private left = false
  private clientEnded = false
  private readonly client: string

  private readonly socket: Socket
  private readonly lane: FastLane

  constructor(socket: Socket, lane: FastLane) {
    this.socket = socket
    this.lane = lane
    this.client = socket.remoteAddress ?? 'unknown'
    socket.on('data', this.onData)
    socket.on('timeout', this.onIdle)
    socket.on('error', this.onError)
    socket.on('end', this.onEnd)
    socket.setTimeout(lane.options.keepAliveTimeoutMs)
  }

  get idle(): boolean {
    return !this.busy && !this.draining && this.unread === undefined
  }

  /** Ends the connection at once (shutdown deadline, idle at shutdown). */
  destroy(): void {
    this.leave()
    this.socket.destroy()
  }

  private readonly onData = (chunk: Buffer): void => {
    this.unread = this.unread === undefined ? chunk : Buffer.concat([this.unread, chunk])
    if (!this.busy && !this.draining) this.serve()
  }

  /**
   * Nothing moved either way for the keep-alive time: an idle connection ends, as on node:http, and
   * so does one whose client has left its answers unread all that time (a request being answered is
   * bounded by its own deadlines, a partial one by the lane's wait).
   */
  private readonly onIdle = (): void => {
    if (!this.busy) this.destroy()
  }

  private readonly onError = (): void => {
    this.destroy()
  }

  /** Answers the buffered requests one after the other, until one must wait or is not the lane's. */
  private serve(): void {
    while (this.unread !== undefined && !this.left && !this.draining) {
      const buf = this.unread
      const found = readFastRequest(buf, this.lane.options.routes, this.lane.options.maxBodyBytes)
      if (found.kind === 'other') return this.handOver()
      if (found.kind === 'partial') {
        // A request cut short by the client's FIN can never be completed or answered.
        if (this.clientEnded) return this.endNow()
        // Counted from the request's first bytes, not its latest: a client trickling a request must
        // reach node:http and its deadlines, not be kept here by every byte it sends.
        this.partialTimer ??= setTimeout(() => this.handOver(), PARTIAL_WAIT_MS)
        return
      }
      if (this.partialTimer !== undefined) clearTimeout(this.partialTimer)
      this.partialTimer = undefined
      this.unread = found.end === buf.length ? undefined : buf.subarray(found.end)
      const route = this.lane.options.routes.get(found.route)!
      let outcome: number | Promise<number>
      this.lane.answered++
      try {
        outcome = route.handle(buf.subarray(found.bodyStart, found.end), this.client)
      } catch (error) {
        this.failed(found.route, error)
        continue
      }
      if (typeof outcome === 'number') {
        this.answer(outcome, route.answerText(outcome))
        continue
      }
      this.busy = true
      this.socket.pause()
      outcome.then(
        (status) => this.settled(() => this.answer(status, route.answerText(status))),
        (error: unknown) => this.settled(() => this.failed(found.route, error)),
      )
      return
    }
    if (this.clientEnded && !this.busy && !this.draining) this.endNow()
  }

  /** A waiting handler settled: answer, then read on (unless the answers are not being read). */
  private settled(answer: () => void): void {
    this.busy = false
    answer()
    if (!this.draining) this.resume()
  }

  private resume(): void {
    if (this.left) return
    this.socket.resume()
    this.serve()
  }

  /** A handler bug: one 500 and one log line, as for node:http's requests (server.ts). */
  private failed(path: string, error: unknown): void {
    this.lane.options.log.error(
      `HTTP handler for POST ${path} failed: ${(error as Error)?.message ?? String(error)}`,
      {client: this.client},
    )
    this.answer(500, 'Internal Server Error')
  }

  private answer(status: number, text: string | undefined): void {
    if (this.left || this.socket.destroyed) return
    if (this.lane.closing) {
      this.socket.end(fastAnswer(status, text, undefined), 'latin1')
      this.leave()
      return
    }
    if (this.socket.write(fastAnswer(status, text, this.lane.keepAliveSeconds), 'latin1')) return
    // Answers pile up unread (a client pipelining without reading): stop reading requests until they
    // drain, as node:http does, so memory stays bounded.
    this.draining = true
    this.socket.pause()
    this.socket.once('drain', this.onDrain)
  }

  private readonly onDrain = (): void => {
    this.draining = false
    if (!this.busy) this.resume()
  }

  /** The client sent FIN (the server allows half-open connections): end ours once nothing is owed. */
  private readonly onEnd = (): void => {
    this.clientEnded = true
    if (this.partialTimer !== undefined) clearTimeout(this.partialTimer)
    this.partialTimer = undefined
    if (!this.busy && !this.draining) this.serve()
  }

  private endNow(): void {
    this.leave()
    this.socket.end()
  }

  /** At shutdown: an idle connection ends now, a busy one after its answer. */
  shutDown(): void {
    if (this.idle) this.destroy()
  }

  private handOver(): void {
    if (this.left) return
    const unread = this.unread
    this.unread = undefined
    this.leave()
    this.socket.setTimeout(0)
    this.lane.handedOver++
    this.lane.options.handOver(this.socket, unread)
  }

  private leave(): void {
    if (this.left) return
    this.left = true
    if (this.partialTimer !== undefined) clearTimeout(this.partialTimer)
    this.socket.off('data', this.onData)
    this.socket.off('timeout', this.onIdle)
    this.socket.off('error', this.onError)
    this.socket.off('end', this.onEnd)
    this.socket.off('drain', this.onDrain)
    this.lane.connections.delete(this)
  }
}

export class FastLane {
  readonly options: FastLaneOptions
  readonly keepAliveSeconds: number
  readonly connections = new Set<LaneConnection>()
  closing = false
  /** Requests the lane answered, and connections it gave to node:http. */
  answered = 0
  handedOver = 0

  constructor(options: FastLaneOptions) {
    this.options = options
    this.keepAliveSeconds = Math.floor(options.keepAliveTimeoutMs / 1000)
  }

  /** Takes a new connection (the HTTP server's 'connection' event). */
  accept(socket: Socket): void {
    if (this.closing) {
      this.options.handOver(socket, undefined)
      return
    }
    this.connections.add(new LaneConnection(socket, this))
  }

  /** Server shutdown: idle connections end now, busy ones after their answer (Connection: close). */
  close(): void {
    this.closing = true
    for (const connection of [...this.connections]) connection.shutDown()
  }

  /** The shutdown deadline passed: every connection ends now. */
  destroyAll(): void {
    for (const connection of [...this.connections]) connection.destroy()
  }
}
