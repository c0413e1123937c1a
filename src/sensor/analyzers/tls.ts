// TLS analyser: record layer reassembled from the byte stream of each side, handshake messages
// reassembled across records, and the plaintext part of the handshake turned into one ssl.log
// record. Like Zeek, records a side sends after its ChangeCipherSpec (and TLS 1.3 application data)
// are encrypted and only counted; the record is written when the connection is established
// (application data after both sides went encrypted) or, failing that, when it ends.

import type {ConnView, LogRecord, ProtocolAnalyzer, SensorSink} from '../types.js'
import {hex} from './byte-text.js'
import {connFields, connWeird} from './conn-weird.js'
import {parseClientHello, parseEcdheServerKeyExchangeCurve, parseServerHello} from './tls-hello.js'
import {
  RECORD_LETTER,
  TLS_VERSION,
  alertName,
  cipherSuiteName,
  curveName,
  handshakeLetter,
  isEcdheSuite,
  tlsVersionName,
} from './tls-names.js'

export const CONTENT_TYPE = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
  heartbeat: 24,
} as const

export const HANDSHAKE_TYPE = {clientHello: 1, serverHello: 2, serverKeyExchange: 12} as const

/** RFC 5246 §6.2.3: the longest record a peer may send (2^14 plus expansion). */
const MAX_RECORD_LENGTH = 16384 + 2048
/** Handshake messages we read are buffered up to this size; bigger ones are skipped unread. */
const MAX_KEPT_HANDSHAKE = 64 * 1024
const RECORD_HEADER_LENGTH = 5
const HANDSHAKE_HEADER_LENGTH = 4

/** Parsing state of one direction. */
class TlsSide {
  readonly isClient: boolean
  readonly header = new Uint8Array(RECORD_HEADER_LENGTH)
  headerFill = 0
  recordType = 0
  recordLeft = 0
  readonly handshakeHeader = new Uint8Array(HANDSHAKE_HEADER_LENGTH)
  handshakeHeaderFill = 0
  handshakeType = 0
  handshakeLeft = 0
  /** Body of a handshake message we want to read, or undefined while skipping one. */
  handshakeBody: Uint8Array | undefined
  handshakeFill = 0
  /** First byte of an alert whose second byte is in the next record chunk. */
  alertLevel: number | undefined
  encrypted = false
  stopped = false

  constructor(isClient: boolean) {
    this.isClient = isClient
  }

  resetHandshake(): void {
    this.handshakeHeaderFill = 0
    this.handshakeLeft = 0
    this.handshakeBody = undefined
    this.handshakeFill = 0
  }
}

export class TlsAnalyzer implements ProtocolAnalyzer {
  readonly service = 'ssl'
  confirmed = false
  failed = false
  private readonly conn: ConnView
  private readonly sink: SensorSink
  private readonly client = new TlsSide(true)
  private readonly server = new TlsSide(false)
  private logged = false
  private tls13 = false
  private clientSessionId = ''
  private cipherSuite: number | undefined
  private ts: number | undefined
  private version: string | undefined
  private cipher: string | undefined
  private curve: string | undefined
  private serverName: string | undefined
  private resumed = false
  private lastAlert: string | undefined
  private nextProtocol: string | undefined
  private established = false
  private history = ''

  constructor(conn: ConnView, sink: SensorSink) {
    this.conn = conn
    this.sink = sink
  }

  deliver(isOrig: boolean, data: Uint8Array, ts: number): void {
    if (this.failed || this.logged) return
    const side = isOrig ? this.client : this.server
    let pos = 0
    while (pos < data.length && !side.stopped && !this.failed && !this.logged) {
      if (side.headerFill < RECORD_HEADER_LENGTH) {
        const take = Math.min(RECORD_HEADER_LENGTH - side.headerFill, data.length - pos)
        side.header.set(data.subarray(pos, pos + take), side.headerFill)
        side.headerFill += take
        pos += take
        if (side.headerFill === RECORD_HEADER_LENGTH) this.recordStart(side, ts)
        continue
      }
      const take = Math.min(side.recordLeft, data.length - pos)
      this.recordPayload(side, data.subarray(pos, pos + take), ts)
      side.recordLeft -= take
      pos += take
      if (side.recordLeft === 0) this.recordEnd(side, ts)
    }
  }

  gap(_isOrig: boolean, _length: number, _ts: number): void {
    // Record framing cannot be found again after a hole; Zeek's SSL analyser stops too.
    this.client.stopped = true
    this.server.stopped = true
  }

  finish(_ts: number): void {
    if (!this.failed) this.write()
  }

  private violation(side: TlsSide): void {
    if (!this.confirmed) this.failed = true
    side.stopped = true
  }

  private letter(side: TlsSide, letter: string, ts: number): void {
    this.ts ??= ts
    this.history += side.isClient ? letter : letter.toLowerCase()
  }

  private recordStart(side: TlsSide, ts: number): void {
    const header = side.header
    const type = header[0]!
    const length = (header[3]! << 8) | header[4]!
    const knownType = type >= CONTENT_TYPE.changeCipherSpec && type <= CONTENT_TYPE.heartbeat
    if (header[1] !== 3 || header[2]! > 4 || length > MAX_RECORD_LENGTH || (!knownType && !this.confirmed)) {
      this.violation(side)
      return
    }
    side.recordType = type
    side.recordLeft = length
    if (!knownType) {
      this.letter(side, RECORD_LETTER.unknownContentType, ts)
    } else if (type === CONTENT_TYPE.applicationData) {
      this.applicationData(side, ts)
    } else if (type === CONTENT_TYPE.heartbeat && !side.encrypted) {
      this.letter(side, RECORD_LETTER.heartbeat, ts)
    }
    if (length === 0) this.recordEnd(side, ts)
  }

  private applicationData(side: TlsSide, ts: number): void {
    // In TLS 1.3 everything after the hellos travels as application data, and it is encrypted.
    if (this.tls13) side.encrypted = true
    if (!side.encrypted) {
      this.letter(side, RECORD_LETTER.applicationData, ts)
      return
    }
    if (this.client.encrypted && this.server.encrypted && !this.established) {
      this.established = true
      this.write()
    }
  }

  private recordPayload(side: TlsSide, payload: Uint8Array, ts: number): void {
    if (side.encrypted && side.recordType !== CONTENT_TYPE.changeCipherSpec) return
    if (side.recordType === CONTENT_TYPE.handshake) {
      this.handshakeBytes(side, payload, ts)
    } else if (side.recordType === CONTENT_TYPE.alert) {
      for (const byte of payload) {
        if (side.alertLevel === undefined) {
          side.alertLevel = byte
        } else {
          side.alertLevel = undefined
          this.lastAlert = alertName(byte)
          this.letter(side, RECORD_LETTER.alert, ts)
        }
      }
    }
  }

  private recordEnd(side: TlsSide, ts: number): void {
    side.headerFill = 0
    if (side.recordType === CONTENT_TYPE.changeCipherSpec) {
      this.letter(side, RECORD_LETTER.changeCipherSpec, ts)
      side.encrypted = true
      side.resetHandshake()
    }
  }

  /** Reassembles handshake messages from record payloads (a message may span several records). */
  private handshakeBytes(side: TlsSide, bytes: Uint8Array, ts: number): void {
    let pos = 0
    while (pos < bytes.length && !side.stopped && !this.failed) {
      if (side.handshakeHeaderFill < HANDSHAKE_HEADER_LENGTH) {
        const take = Math.min(HANDSHAKE_HEADER_LENGTH - side.handshakeHeaderFill, bytes.length - pos)
        side.handshakeHeader.set(bytes.subarray(pos, pos + take), side.handshakeHeaderFill)
        side.handshakeHeaderFill += take
        pos += take
        if (side.handshakeHeaderFill === HANDSHAKE_HEADER_LENGTH) this.handshakeStart(side, ts)
        continue
      }
      const take = Math.min(side.handshakeLeft, bytes.length - pos)
      if (side.handshakeBody !== undefined) {
        side.handshakeBody.set(bytes.subarray(pos, pos + take), side.handshakeFill)
        side.handshakeFill += take
      }
      side.handshakeLeft -= take
      pos += take
      if (side.handshakeLeft === 0) this.handshakeEnd(side, ts)
    }
  }

  private handshakeStart(side: TlsSide, ts: number): void {
    const header = side.handshakeHeader
    side.handshakeType = header[0]!
    const length = (header[1]! << 16) | (header[2]! << 8) | header[3]!
    if (!this.confirmed && side.handshakeType !== HANDSHAKE_TYPE.clientHello) {
      if (side.handshakeType !== HANDSHAKE_TYPE.serverHello || side.isClient) {
        this.violation(side)
        return
      }
    }
    side.handshakeLeft = length
    const wanted =
      side.handshakeType === HANDSHAKE_TYPE.clientHello ||
      side.handshakeType === HANDSHAKE_TYPE.serverHello ||
      side.handshakeType === HANDSHAKE_TYPE.serverKeyExchange
    if (wanted && length > MAX_KEPT_HANDSHAKE) {
      this.sink.weird(connWeird(this.conn, ts, 'SSL_handshake_message_too_long', String(length)))
    }
    side.handshakeBody = wanted && length <= MAX_KEPT_HANDSHAKE ? new Uint8Array(length) : undefined
    side.handshakeFill = 0
    if (length === 0) this.handshakeEnd(side, ts)
  }

  private handshakeEnd(side: TlsSide, ts: number): void {
    const body = side.handshakeBody
    const type = side.handshakeType
    side.resetHandshake()
    if (body !== undefined) {
      if (type === HANDSHAKE_TYPE.clientHello && side.isClient && !this.clientHello(body, ts)) {
        this.violation(side)
        return
      }
      if (type === HANDSHAKE_TYPE.serverHello && !side.isClient && !this.serverHello(body)) {
        this.violation(side)
        return
      }
      if (type === HANDSHAKE_TYPE.serverKeyExchange && !side.isClient) this.serverKeyExchange(body)
    }
    this.letter(side, handshakeLetter(type), ts)
  }

  private clientHello(body: Uint8Array, ts: number): boolean {
    const hello = parseClientHello(body)
    if (hello === undefined) return false
    this.confirmed = true
    const [firstName] = hello.serverNames
    if (firstName !== undefined) {
      this.serverName = firstName
      if (hello.serverNames.length > 1) {
        this.sink.weird(connWeird(this.conn, ts, 'SSL_many_server_names', hello.serverNames.join(',')))
      }
    }
    this.clientSessionId = hex(hello.sessionId)
    return true
  }

  private serverHello(body: Uint8Array): boolean {
    const hello = parseServerHello(body)
    if (hello === undefined) return false
    this.confirmed = true
    const version = hello.selectedVersion ?? hello.legacyVersion
    this.tls13 = version === TLS_VERSION.TLSv13 || version >> 8 === 0x7f
    this.version = tlsVersionName(version)
    this.cipherSuite = hello.cipherSuite
    this.cipher = cipherSuiteName(hello.cipherSuite)
    if (hello.keyShareGroup !== undefined) this.curve = curveName(hello.keyShareGroup)
    const [protocol] = hello.alpn
    if (protocol !== undefined) this.nextProtocol = protocol
    // A TLS 1.3 server echoes the session id for middlebox compatibility; only a PSK means resumption.
    if (hello.preSharedKey) this.resumed = true
    else if (!this.tls13 && this.clientSessionId !== '' && hex(hello.sessionId) === this.clientSessionId) {
      this.resumed = true
    }
    return true
  }

  private serverKeyExchange(body: Uint8Array): void {
    if (this.cipherSuite === undefined || !isEcdheSuite(this.cipherSuite)) return
    const curve = parseEcdheServerKeyExchangeCurve(body)
    if (curve !== undefined) this.curve = curveName(curve)
  }

  private write(): void {
    if (this.logged || this.ts === undefined) return
    this.logged = true
    const record: LogRecord = {ts: this.ts, ...connFields(this.conn)}
    if (this.version !== undefined) record['version'] = this.version
    if (this.cipher !== undefined) record['cipher'] = this.cipher
    if (this.curve !== undefined) record['curve'] = this.curve
    if (this.serverName !== undefined) record['server_name'] = this.serverName
    record['resumed'] = this.resumed
    if (this.lastAlert !== undefined) record['last_alert'] = this.lastAlert
    if (this.nextProtocol !== undefined) record['next_protocol'] = this.nextProtocol
    record['established'] = this.established
    record['ssl_history'] = this.history
    this.sink.log('ssl', record)
  }
}
