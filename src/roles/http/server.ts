// The one HTTP server a dsiem process runs (node:http; upstream used fasthttp): routes come from the
// HttpRouter, every answer says `server: dsiem`, bodies are capped (100 MiB like upstream, whose
// directive files can exceed 50 MB) without buffering what is refused, slow clients are cut off, and a
// failing handler costs one 500 and one log line, never the process.

import {createServer, ServerResponse, type IncomingMessage} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type {Logger} from '../io/log.js'
import type {Metrics} from '../io/metrics.js'
import type {HttpRouter} from './router.js'
import {FastLane} from './fast-lane.js'
import {acceptWebSocket, upgradeRegistry} from './websocket.js'

export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024

export interface HttpServerOptions {
  address: string
  /** 0 picks a free port (tests). */
  port: number
  log: Logger
  /** Bodies above this answer 413 (upstream: 100 MiB). */
  maxBodyBytes?: number
  /** A client must deliver its request headers within this (default 60 s). */
  headersTimeoutMs?: number
  /** ...and the whole request, body included, within this (default 300 s; ≥ headersTimeoutMs). */
  requestTimeoutMs?: number
  /** Idle keep-alive connections are kept this long (default 65 s: longer than common proxy idles). */
  keepAliveTimeoutMs?: number
  /** close() waits this long for requests in flight before cutting connections (default 11 s). */
  closeGraceMs?: number
  /** Where the fast lane's counts are exported (dsiem_http_fast_lane_*). */
  metrics?: Metrics
}

export interface RunningHttpServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number
  /** Stops accepting, lets requests in flight finish (up to the grace period), closes connections. */
  close(): Promise<void>
}

/** A body over the server's limit: the server answers 413 when a handler lets this escape. */
export class BodyTooLargeError extends Error {
  readonly limit: number

  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`)
    this.limit = limit
    this.name = 'BodyTooLargeError'
  }
}

/** The client went away before its body arrived: nobody to answer. */
export class RequestAbortedError extends Error {
  constructor() {
    super('client closed the connection before the request body was complete')
    this.name = 'RequestAbortedError'
  }
}

const BODY_LIMIT = Symbol('dsiem.bodyLimit')
type LimitedRequest = IncomingMessage & {[BODY_LIMIT]?: number}
const EMPTY = Buffer.alloc(0)

/**
 * Reads a request body, refusing (BodyTooLargeError) as soon as it passes the server's limit, so a
 * huge body is never held in memory. A single-chunk body (the usual small JSON event) is returned
 * as-is, without a copy.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  const limit = (req as LimitedRequest)[BODY_LIMIT] ?? DEFAULT_MAX_BODY_BYTES
  if (req.readableEnded) return Promise.resolve(EMPTY)
  return new Promise<Buffer>((resolve, reject) => {
    let first: Buffer | undefined
    let chunks: Buffer[] | undefined
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        // Stop reading: the 413 path drains and closes the connection without keeping anything.
        req.pause()
        reject(new BodyTooLargeError(limit))
        return
      }
      if (first === undefined) first = chunk
      else (chunks ??= [first]).push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks !== undefined ? Buffer.concat(chunks, size) : (first ?? EMPTY))
    }
    const onError = (): void => {
      cleanup()
      reject(new RequestAbortedError())
    }
    const onClose = (): void => {
      if (req.complete) return
      cleanup()
      reject(new RequestAbortedError())
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

const TEXT = 'text/plain; charset=utf-8'

/** Writes a complete plain-text answer (upstream's handlers all answer text). */
export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers?: Record<string, string>,
): void {
  res.writeHead(status, {'content-type': TEXT, 'content-length': Buffer.byteLength(body), ...headers})
  res.end(body)
}

/** Writes a complete answer whose body is already JSON text. */
export function sendJson(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(json)})
  res.end(json)
}

/** A client whose connection is closed after a refusal still gets to read the answer: drain, then cut. */
const LINGER_MS = 2000

export async function startHttpServer(
  router: HttpRouter,
  options: HttpServerOptions,
): Promise<RunningHttpServer> {
  const log = options.log
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const headersTimeout = options.headersTimeoutMs ?? 60_000
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 300_000, headersTimeout)
  const closeGraceMs = options.closeGraceMs ?? 11_000
  const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 65_000

  const refuseTooLarge = (req: IncomingMessage, res: ServerResponse): void => {
    log.warn(`Refusing a request body over ${maxBodyBytes} bytes from ${remote(req.socket)}`, {
      method: req.method,
      path: req.url,
    })
    if (!res.headersSent) {
      sendText(res, 413, 'Request Entity Too Large', {connection: 'close'})
    }
    // Discard (never buffer) what the client still sends so it can read the 413, then cut it off.
    req.resume()
    const socket = req.socket
    const timer = setTimeout(() => socket.destroy(), LINGER_MS)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }

  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    if (error instanceof BodyTooLargeError) {
      refuseTooLarge(req, res)
      return
    }
    if (error instanceof RequestAbortedError || req.socket.destroyed) {
      log.debug(`Client ${remote(req.socket)} went away during ${req.method} ${req.url}`)
      if (!res.writableEnded) res.destroy()
      return
    }
    log.error(
      `HTTP handler for ${req.method} ${req.url} failed: ${(error as Error)?.message ?? String(error)}`,
      {
        client: remote(req.socket),
      },
    )
    if (res.headersSent) {
      // Half an answer is worse than none: the client sees a cut connection.
      res.destroy()
      return
    }
    sendText(res, 500, 'Internal Server Error')
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('server', 'dsiem')
    ;(req as LimitedRequest)[BODY_LIMIT] = maxBodyBytes
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      refuseTooLarge(req, res)
      return
    }
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const path = query < 0 ? url : url.slice(0, query)
    const found = router.match(req.method ?? 'GET', path)
    if ('status' in found) {
      if (found.status === 404) sendText(res, 404, 'Not Found')
      else sendText(res, 405, 'Method Not Allowed')
      return
    }
    try {
      const result = found.handler({req, res, path, rest: found.rest})
      if (result !== undefined) result.catch((error: unknown) => fail(req, res, error))
    } catch (error) {
      fail(req, res, error)
    }
  }

  const server = createServer(
    {
      headersTimeout: headersTimeout,
      requestTimeout,
      keepAliveTimeout: keepAliveTimeoutMs,
      // Node checks the two deadlines on this period; a tenth of the shorter one keeps the cut-off
      // close to the deadline without a busy timer.
      connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(headersTimeout / 10))),
      noDelay: true,
    },
    onRequest,
  )

  // Every connection starts on the fast lane (fast-lane.ts), which gives it to node:http's own
  // connection listener at the first request it does not answer itself.
  const nodeConnectionListeners = server.listeners('connection') as ((socket: Socket) => void)[]
  server.removeAllListeners('connection')
  const lane = new FastLane({
    routes: router.fastPosts,
    maxBodyBytes,
    keepAliveTimeoutMs,
    log,
    handOver: (socket, unread) => {
      if (unread !== undefined) socket.unshift(unread)
      for (const listener of nodeConnectionListeners) listener.call(server, socket)
    },
  })
  server.on('connection', (socket: Socket) => lane.accept(socket))
  options.metrics?.counterOf(
    'dsiem_http_fast_lane_requests_total',
    'Single-event requests answered by the fast lane, without node:http',
    () => lane.answered,
  )
  options.metrics?.counterOf(
    'dsiem_http_fast_lane_handovers_total',
    'Connections the fast lane gave to node:http at a request it does not answer itself',
    () => lane.handedOver,
  )

  // WebSocket upgrades (the /eps/ feed) are listened for only once a WebSocket path is registered:
  // with an 'upgrade' listener Node hands every Upgrade request (h2c too) over as a raw socket.
  const registry = upgradeRegistry(router)
  const upgraded = new Set<Duplex>()
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
    socket.on('error', () => socket.destroy())
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const handler = registry.handlers.get(query < 0 ? url : url.slice(0, query))
    if (handler !== undefined && req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket') {
      acceptWebSocket(req, socket, head, handler, log)
      return
    }
    // Not a WebSocket of ours: answer it as plain HTTP on this one connection, then close it. A body
    // cannot be read any more (Node stopped parsing the connection), so such requests are refused.
    const te = req.headers['transfer-encoding']
    const length = req.headers['content-length']
    if (te !== undefined || (length !== undefined && length !== '0')) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nServer: dsiem\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      )
      return
    }
    const res = new ServerResponse(req)
    res.shouldKeepAlive = false
    res.assignSocket(socket as Socket)
    res.on('finish', () => {
      res.detachSocket(socket as Socket)
      socket.end()
    })
    onRequest(req, res)
  }
  let listeningForUpgrades = false
  const listenForUpgrades = (): void => {
    if (listeningForUpgrades) return
    listeningForUpgrades = true
    server.on('upgrade', onUpgrade)
  }
  if (registry.handlers.size > 0) listenForUpgrades()
  else registry.listeners.add(listenForUpgrades)

  // Replaces Node's silent default so a cut-off slow client leaves a clear log line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const code = error.code ?? ''
    let answer: string | undefined
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      log.warn(
        `Closing the connection from ${remote(socket)}: request not received within ` +
          `${headersTimeout} ms (headers) / ${requestTimeout} ms (whole request)`,
      )
      answer = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
    } else if (code === 'ECONNRESET' || code === 'EPIPE') {
      socket.destroy()
      return
    } else if (code === 'HPE_HEADER_OVERFLOW') {
      log.warn(`Refusing oversized request headers from ${remote(socket)}`)
      answer =
        'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
    } else {
      log.warn(`Malformed HTTP request from ${remote(socket)}: ${error.message}`)
      answer = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
    }
    const pending = (socket as Socket & {_httpMessage?: ServerResponse | null})._httpMessage
    if (socket.writable && (pending === undefined || pending === null || !pending.headersSent)) {
      socket.end(answer)
      const timer = setTimeout(() => socket.destroy(), LINGER_MS)
      timer.unref()
      socket.once('close', () => clearTimeout(timer))
    } else {
      socket.destroy()
    }
  })

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening)
      reject(error)
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options.port, options.address)
  })
  server.on('error', (error) => log.error(`HTTP server error: ${error.message}`))
  const port = (server.address() as AddressInfo).port

  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // Idle keep-alive connections close now; busy ones as soon as their request is answered.
      const sweep = setInterval(() => server.closeIdleConnections(), 50)
      const deadline = setTimeout(() => {
        server.closeAllConnections()
        lane.destroyAll()
      }, closeGraceMs)
      registry.listeners.delete(listenForUpgrades)
      server.close(() => {
        clearInterval(sweep)
        clearTimeout(deadline)
        resolve()
      })
      server.closeIdleConnections()
      lane.close()
      // Upgraded connections are no longer Node's HTTP connections: end them here (the feed's
      // clients reconnect to another frontend).
      for (const socket of upgraded) socket.destroy()
    }))

  return {port, close}
}

function remote(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown'
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`
}
