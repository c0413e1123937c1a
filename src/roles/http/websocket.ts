// The smallest WebSocket server that upstream's `/eps/` feed needs (RFC 6455 over node:crypto, no
// dependency): the opening handshake, unfragmented text frames out, and close/ping handling in. Client
// messages are otherwise ignored, as upstream's feed ignores them.

import {createHash} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import type {Logger} from '../io/log.js'
import type {HttpRoutes} from './router.js'

export interface WebSocketClient {
  readonly open: boolean
  /** Sends one text message; false when the client is gone or too far behind (then it is closed). */
  sendText(text: string): boolean
  /** Sends a close frame and ends the connection. */
  close(code?: number): void
  onClose(listener: () => void): void
}

export type WebSocketOpenHandler = (client: WebSocketClient, req: IncomingMessage) => void

/** WebSocket paths registered on a router; the HTTP server listens for upgrades only once one exists. */
export interface UpgradeRegistry {
  readonly handlers: Map<string, WebSocketOpenHandler>
  readonly listeners: Set<() => void>
}

const registries = new WeakMap<object, UpgradeRegistry>()

export function upgradeRegistry(routes: HttpRoutes): UpgradeRegistry {
  let registry = registries.get(routes)
  if (registry === undefined) registries.set(routes, (registry = {handlers: new Map(), listeners: new Set()}))
  return registry
}

/** Serves WebSocket connections on `path` of the server that runs these routes. */
export function registerWebSocket(routes: HttpRoutes, path: string, onOpen: WebSocketOpenHandler): void {
  const registry = upgradeRegistry(routes)
  registry.handlers.set(path, onOpen)
  for (const listener of registry.listeners) listener()
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const KEY = /^[A-Za-z0-9+/]{22}==$/
/** Client frames above this are refused (the feed expects nothing but control frames). */
const MAX_CLIENT_FRAME = 64 * 1024
/** A client this far behind is dropped rather than buffered for. */
const MAX_PENDING_BYTES = 1024 * 1024

/** Completes the opening handshake on an upgraded socket, or answers 400 and closes it. */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  onOpen: WebSocketOpenHandler,
  log: Logger,
): void {
  const key = req.headers['sec-websocket-key']
  if (typeof key !== 'string' || !KEY.test(key) || req.headers['sec-websocket-version'] !== '13') {
    log.warn(`error returned from websocket: bad handshake from ${req.socket.remoteAddress ?? 'unknown'}`)
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nServer: dsiem\r\nSec-WebSocket-Version: 13\r\n' +
        'Connection: close\r\nContent-Length: 0\r\n\r\n',
    )
    return
  }
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64')
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\nServer: dsiem\r\n\r\n`,
  )
  const connection = new Connection(socket)
  if (head.length > 0) connection.receive(head)
  socket.on('data', (chunk: Buffer) => connection.receive(chunk))
  onOpen(connection, req)
}

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10
  const out = Buffer.allocUnsafe(headerLength + length)
  out[0] = 0x80 | opcode
  if (length < 126) out[1] = length
  else if (length < 65536) {
    out[1] = 126
    out.writeUInt16BE(length, 2)
  } else {
    out[1] = 127
    out.writeBigUInt64BE(BigInt(length), 2)
  }
  payload.copy(out, headerLength)
  return out
}

class Connection implements WebSocketClient {
  private readonly socket: Duplex
  private pending: Buffer = Buffer.alloc(0)
  private closed = false
  private readonly closeListeners: (() => void)[] = []

  constructor(socket: Duplex) {
    this.socket = socket
    const gone = (): void => this.markClosed()
    socket.on('close', gone)
    socket.on('error', gone)
  }

  get open(): boolean {
    return !this.closed
  }

  sendText(text: string): boolean {
    if (this.closed) return false
    if (this.socket.writableLength > MAX_PENDING_BYTES) {
      this.close(1008)
      return false
    }
    this.socket.write(frame(0x1, Buffer.from(text, 'utf8')))
    return true
  }

  close(code = 1000): void {
    if (this.closed) return
    const payload = Buffer.allocUnsafe(2)
    payload.writeUInt16BE(code, 0)
    this.socket.end(frame(0x8, payload))
    this.markClosed()
  }

  onClose(listener: () => void): void {
    if (this.closed) listener()
    else this.closeListeners.push(listener)
  }

  receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    while (!this.closed) {
      const buffer = this.pending
      if (buffer.length < 2) return
      const opcode = buffer[0]! & 0x0f
      const masked = (buffer[1]! & 0x80) !== 0
      let length = buffer[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (buffer.length < 4) return
        length = buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (buffer.length < 10) return
        const big = buffer.readBigUInt64BE(2)
        length = big > BigInt(MAX_CLIENT_FRAME) ? MAX_CLIENT_FRAME + 1 : Number(big)
        offset = 10
      }
      // RFC 6455 §5.1: a server must close on an unmasked client frame.
      if (!masked) return this.close(1002)
      if (length > MAX_CLIENT_FRAME) return this.close(1009)
      if (buffer.length < offset + 4 + length) return
      const mask = buffer.subarray(offset, offset + 4)
      const payload = Buffer.allocUnsafe(length)
      for (let i = 0; i < length; i++) payload[i] = buffer[offset + 4 + i]! ^ mask[i & 3]!
      this.pending = buffer.subarray(offset + 4 + length)
      if (opcode === 0x8) {
        this.close(1000)
      } else if (opcode === 0x9) {
        this.socket.write(frame(0xa, payload))
      }
      // Text, binary, continuation and pong frames are ignored.
    }
  }

  private markClosed(): void {
    if (this.closed) return
    this.closed = true
    this.pending = Buffer.alloc(0)
    for (const listener of this.closeListeners.splice(0)) listener()
  }
}
