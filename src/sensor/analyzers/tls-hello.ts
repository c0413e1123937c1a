// Bodies of the plaintext TLS handshake messages ssl.log is made from: ClientHello, ServerHello
// and (TLS 1.2 ECDHE) ServerKeyExchange. Every read is bounds-checked; a message that does not fit
// its own length fields yields undefined instead of throwing.

import {latin1} from './byte-text.js'

export const EXTENSION = {
  serverName: 0,
  alpn: 16,
  preSharedKey: 41,
  supportedVersions: 43,
  keyShare: 51,
} as const

/** ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest". */
const HELLO_RETRY_RANDOM = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
)

export interface ClientHello {
  legacyVersion: number
  sessionId: Uint8Array
  cipherSuites: number[]
  serverNames: string[]
  alpn: string[]
  supportedVersions: number[]
  keyShareGroups: number[]
}

export interface ServerHello {
  legacyVersion: number
  sessionId: Uint8Array
  cipherSuite: number
  compression: number
  /** From the supported_versions extension (TLS 1.3). */
  selectedVersion?: number
  /** The group of the server's key_share (TLS 1.3), or the group a HelloRetryRequest asks for. */
  keyShareGroup?: number
  alpn: string[]
  /** The server accepted a pre-shared key: a TLS 1.3 resumption. */
  preSharedKey: boolean
  helloRetryRequest: boolean
}

/** A cursor over one length-delimited region; any over-read marks it broken instead of throwing. */
class Cursor {
  readonly data: Uint8Array
  pos: number
  end: number
  broken = false

  constructor(data: Uint8Array, start = 0, end = data.length) {
    this.data = data
    this.pos = start
    this.end = end
  }

  get left(): number {
    return this.end - this.pos
  }

  private need(count: number): boolean {
    if (this.broken || this.end - this.pos < count) {
      this.broken = true
      return false
    }
    return true
  }

  u8(): number {
    return this.need(1) ? this.data[this.pos++]! : 0
  }

  u16(): number {
    if (!this.need(2)) return 0
    const value = (this.data[this.pos]! << 8) | this.data[this.pos + 1]!
    this.pos += 2
    return value
  }

  bytes(count: number): Uint8Array {
    if (!this.need(count)) return new Uint8Array(0)
    const slice = this.data.subarray(this.pos, this.pos + count)
    this.pos += count
    return slice
  }

  /** A sub-cursor over the next `count` bytes (this one skips past them). */
  region(count: number): Cursor {
    if (!this.need(count)) return new Cursor(this.data, this.pos, this.pos)
    const region = new Cursor(this.data, this.pos, this.pos + count)
    this.pos += count
    return region
  }
}

/** Calls `visit` for each extension in the rest of `cursor`; false when the list is malformed. */
function forEachExtension(cursor: Cursor, visit: (type: number, body: Cursor) => void): boolean {
  if (cursor.left === 0) return true // extensions are optional before TLS 1.3
  const list = cursor.region(cursor.u16())
  while (!list.broken && list.left > 0) {
    const type = list.u16()
    const body = list.region(list.u16())
    if (list.broken) break
    visit(type, body)
  }
  return !list.broken
}

function readAlpn(body: Cursor): string[] {
  const names: string[] = []
  const list = body.region(body.u16())
  while (!list.broken && list.left > 0) {
    const name = list.bytes(list.u8())
    if (!list.broken) names.push(latin1(name))
  }
  return names
}

export function parseClientHello(message: Uint8Array): ClientHello | undefined {
  const cursor = new Cursor(message)
  const hello: ClientHello = {
    legacyVersion: cursor.u16(),
    sessionId: new Uint8Array(0),
    cipherSuites: [],
    serverNames: [],
    alpn: [],
    supportedVersions: [],
    keyShareGroups: [],
  }
  cursor.bytes(32)
  hello.sessionId = cursor.bytes(cursor.u8())
  const suites = cursor.region(cursor.u16())
  while (!suites.broken && suites.left >= 2) hello.cipherSuites.push(suites.u16())
  cursor.bytes(cursor.u8()) // compression methods
  if (cursor.broken) return undefined
  const ok = forEachExtension(cursor, (type, body) => {
    switch (type) {
      case EXTENSION.serverName: {
        const list = body.region(body.u16())
        while (!list.broken && list.left > 0) {
          const nameType = list.u8()
          const name = list.bytes(list.u16())
          if (!list.broken && nameType === 0) hello.serverNames.push(latin1(name))
        }
        return
      }
      case EXTENSION.alpn:
        hello.alpn = readAlpn(body)
        return
      case EXTENSION.supportedVersions: {
        const list = body.region(body.u8())
        while (!list.broken && list.left >= 2) hello.supportedVersions.push(list.u16())
        return
      }
      case EXTENSION.keyShare: {
        const list = body.region(body.u16())
        while (!list.broken && list.left > 0) {
          const group = list.u16()
          list.bytes(list.u16())
          if (!list.broken) hello.keyShareGroups.push(group)
        }
        return
      }
      default:
        return
    }
  })
  return ok ? hello : undefined
}

export function parseServerHello(message: Uint8Array): ServerHello | undefined {
  const cursor = new Cursor(message)
  const legacyVersion = cursor.u16()
  const random = cursor.bytes(32)
  const hello: ServerHello = {
    legacyVersion,
    sessionId: cursor.bytes(cursor.u8()),
    cipherSuite: cursor.u16(),
    compression: cursor.u8(),
    alpn: [],
    preSharedKey: false,
    helloRetryRequest: random.length === 32 && random.every((byte, i) => byte === HELLO_RETRY_RANDOM[i]),
  }
  if (cursor.broken) return undefined
  const ok = forEachExtension(cursor, (type, body) => {
    switch (type) {
      case EXTENSION.supportedVersions:
        if (body.left >= 2) hello.selectedVersion = body.u16()
        return
      case EXTENSION.keyShare:
        // A ServerHello carries one KeyShareEntry; a HelloRetryRequest only the group.
        if (body.left >= 2) hello.keyShareGroup = body.u16()
        return
      case EXTENSION.alpn:
        hello.alpn = readAlpn(body)
        return
      case EXTENSION.preSharedKey:
        hello.preSharedKey = true
        return
      default:
        return
    }
  })
  return ok ? hello : undefined
}

/** The named curve of an ECDHE ServerKeyExchange (ECParameters with curve_type named_curve). */
export function parseEcdheServerKeyExchangeCurve(message: Uint8Array): number | undefined {
  const namedCurve = 3
  if (message.length < 3 || message[0] !== namedCurve) return undefined
  return (message[1]! << 8) | message[2]!
}
