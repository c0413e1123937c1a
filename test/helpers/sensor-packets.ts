// Builders for the flow layer's tests: DecodedPacket objects made directly (no decoder involved), a
// TCP conversation that keeps both sides' sequence numbers, a sink that records what it is given and
// an analyser that records what it is fed.

import {TCP_FLAG} from '../../src/sensor/types.js'
import type {
  AnalyzerFactory,
  ConnView,
  DecodedPacket,
  LogPath,
  LogRecord,
  LogValue,
  ProtocolAnalyzer,
  SensorSink,
  WeirdNotice,
} from '../../src/sensor/types.js'

export type Payload = string | Uint8Array | number | undefined

const encoder = new TextEncoder()

/** A string as its UTF-8 bytes, a number as that many 'x' bytes. */
export function payloadBytes(payload: Payload): Uint8Array {
  if (payload === undefined) return new Uint8Array(0)
  if (typeof payload === 'number') return new Uint8Array(payload).fill(0x78)
  return typeof payload === 'string' ? encoder.encode(payload) : payload
}

/** TCP flags from letters: S F R P A U (e.g. 'SA', 'FA', 'RA'). */
export function tcpFlags(letters: string): number {
  const bits: Record<string, number> = {
    S: TCP_FLAG.SYN,
    F: TCP_FLAG.FIN,
    R: TCP_FLAG.RST,
    P: TCP_FLAG.PSH,
    A: TCP_FLAG.ACK,
    U: TCP_FLAG.URG,
  }
  let flags = 0
  for (const letter of letters) {
    const bit = bits[letter]
    if (bit === undefined) throw new Error(`unknown TCP flag letter ${letter}`)
    flags |= bit
  }
  return flags
}

interface PacketBase {
  ts: number
  src: string
  dst: string
  vlan?: number
  innerVlan?: number
  checksumOk?: boolean
  payload?: Payload
  /** Payload length per the headers when the capture holds less (snap length). */
  payloadLen?: number
}

function ipFields(base: PacketBase, ipProto: number, transportHeader: number) {
  const payload = payloadBytes(base.payload)
  const payloadLen = base.payloadLen ?? payload.length
  const ipVersion: 4 | 6 = base.src.includes(':') ? 6 : 4
  const ipLen = (ipVersion === 6 ? 40 : 20) + transportHeader + payloadLen
  return {
    ts: base.ts,
    wireLen: ipLen + 14,
    capLen: ipLen + 14 - (payloadLen - payload.length),
    ...(base.vlan === undefined ? {} : {vlan: base.vlan}),
    ...(base.innerVlan === undefined ? {} : {innerVlan: base.innerVlan}),
    ipVersion,
    src: base.src,
    dst: base.dst,
    ipProto,
    ipLen,
    ttl: 64,
    payload,
    payloadLen,
    checksumOk: base.checksumOk ?? true,
  }
}

export interface TcpSpec extends PacketBase {
  sport: number
  dport: number
  flags: string
  seq: number
  ack?: number
  window?: number
}

/** IP and TCP headers of 20 bytes each (IPv6: 40 + 20). */
export function tcpPacket(spec: TcpSpec): DecodedPacket {
  return {
    ...ipFields(spec, 6, 20),
    transport: {
      kind: 'tcp',
      srcPort: spec.sport,
      dstPort: spec.dport,
      seq: spec.seq >>> 0,
      ack: (spec.ack ?? 0) >>> 0,
      flags: tcpFlags(spec.flags),
      window: spec.window ?? 65535,
    },
  }
}

export interface UdpSpec extends PacketBase {
  sport: number
  dport: number
}

export function udpPacket(spec: UdpSpec): DecodedPacket {
  return {...ipFields(spec, 17, 8), transport: {kind: 'udp', srcPort: spec.sport, dstPort: spec.dport}}
}

export interface IcmpSpec extends PacketBase {
  type: number
  code?: number
}

/** `payload` is what follows the 8-byte ICMP header. */
export function icmpPacket(spec: IcmpSpec): DecodedPacket {
  const version: 4 | 6 = spec.src.includes(':') ? 6 : 4
  return {
    ...ipFields(spec, version === 6 ? 58 : 1, 8),
    transport: {kind: 'icmp', version, type: spec.type, code: spec.code ?? 0},
  }
}

export interface DialogOptions {
  client?: string
  clientPort?: number
  server?: string
  serverPort?: number
  clientIsn?: number
  serverIsn?: number
  /** Time of the first packet and the spacing of the following ones. */
  start?: number
  step?: number
  vlan?: number
}

export interface SegmentOptions {
  /** Explicit sequence number (the side's next sequence number does not move). */
  seq?: number
  /** Explicit acknowledgement number. */
  ack?: number
  window?: number
  checksumOk?: boolean
  ts?: number
  payloadLen?: number
}

/**
 * A TCP conversation that numbers segments like a real stack: each side's sequence number advances
 * by its payload (and SYN/FIN), and ACKs acknowledge everything the other side sent so far.
 */
export class TcpDialog {
  readonly client: string
  readonly clientPort: number
  readonly server: string
  readonly serverPort: number
  clientNext: number
  serverNext: number
  now: number
  private readonly step: number
  private readonly vlan: number | undefined

  constructor(options: DialogOptions = {}) {
    this.client = options.client ?? '10.0.0.1'
    this.clientPort = options.clientPort ?? 40000
    this.server = options.server ?? '10.0.0.2'
    this.serverPort = options.serverPort ?? 80
    this.clientNext = options.clientIsn ?? 1000
    this.serverNext = options.serverIsn ?? 5000
    this.now = (options.start ?? 100) - (options.step ?? 0.1)
    this.step = options.step ?? 0.1
    this.vlan = options.vlan
  }

  /** A segment from the client. */
  c(flags: string, payload?: Payload, options: SegmentOptions = {}): DecodedPacket {
    return this.segment(true, flags, payload, options)
  }

  /** A segment from the server. */
  s(flags: string, payload?: Payload, options: SegmentOptions = {}): DecodedPacket {
    return this.segment(false, flags, payload, options)
  }

  /** The usual three packets of a handshake. */
  handshake(): DecodedPacket[] {
    return [this.c('S'), this.s('SA'), this.c('A')]
  }

  private segment(
    fromClient: boolean,
    flags: string,
    payload: Payload,
    options: SegmentOptions,
  ): DecodedPacket {
    const bytes = payloadBytes(payload)
    const length = options.payloadLen ?? bytes.length
    const own = fromClient ? this.clientNext : this.serverNext
    const other = fromClient ? this.serverNext : this.clientNext
    const seq = options.seq ?? own
    const consumed = length + (flags.includes('S') ? 1 : 0) + (flags.includes('F') ? 1 : 0)
    if (options.seq === undefined) {
      if (fromClient) this.clientNext = (own + consumed) >>> 0
      else this.serverNext = (own + consumed) >>> 0
    }
    this.now = options.ts ?? this.now + this.step
    return tcpPacket({
      ts: this.now,
      src: fromClient ? this.client : this.server,
      dst: fromClient ? this.server : this.client,
      sport: fromClient ? this.clientPort : this.serverPort,
      dport: fromClient ? this.serverPort : this.clientPort,
      flags,
      seq,
      ack: flags.includes('A') ? (options.ack ?? other) : 0,
      ...(options.window === undefined ? {} : {window: options.window}),
      ...(options.checksumOk === undefined ? {} : {checksumOk: options.checksumOk}),
      ...(this.vlan === undefined ? {} : {vlan: this.vlan}),
      payload: bytes,
      payloadLen: length,
    })
  }
}

type ConnField =
  | 'ts'
  | 'uid'
  | 'id.orig_h'
  | 'id.orig_p'
  | 'id.resp_h'
  | 'id.resp_p'
  | 'proto'
  | 'service'
  | 'duration'
  | 'orig_bytes'
  | 'resp_bytes'
  | 'conn_state'
  | 'local_orig'
  | 'local_resp'
  | 'missed_bytes'
  | 'history'
  | 'orig_pkts'
  | 'orig_ip_bytes'
  | 'resp_pkts'
  | 'resp_ip_bytes'
  | 'tunnel_parents'
  | 'ip_proto'
  | 'community_id'
  | 'vlan'
  | 'inner_vlan'

/** A conn.log record with its field names spelled out, so tests can write `record.history`. */
export type ConnLog = Partial<Record<ConnField, LogValue>>

/** Keeps every record and weird it is given. */
export class RecordingSink implements SensorSink {
  readonly records: {path: LogPath; record: LogRecord}[] = []
  /** The same records and their paths as two parallel lists, for tests that look at one stream. */
  readonly logged: LogRecord[] = []
  readonly paths: LogPath[] = []
  readonly weirds: WeirdNotice[] = []

  log(path: LogPath, record: LogRecord): void {
    this.records.push({path, record})
    this.logged.push(record)
    this.paths.push(path)
  }

  weird(notice: WeirdNotice): void {
    this.weirds.push(notice)
  }

  conns(): ConnLog[] {
    return this.records.filter((r) => r.path === 'conn').map((r) => r.record as ConnLog)
  }

  /** The only conn record; fails when there is not exactly one. */
  conn(): ConnLog {
    const conns = this.conns()
    if (conns.length !== 1) throw new Error(`expected one conn record, got ${conns.length}`)
    return conns[0]!
  }

  weirdNames(): string[] {
    return this.weirds.map((w) => w.name)
  }
}

export type AnalyzerEvent =
  | {kind: 'data'; isOrig: boolean; text: string; ts: number}
  | {kind: 'gap'; isOrig: boolean; length: number; ts: number}
  | {kind: 'finish'; ts: number}

/** An analyser that records what it gets; confirms once it has seen `confirmOn` (if given). */
export class RecordingAnalyzer implements ProtocolAnalyzer {
  readonly service: string
  readonly events: AnalyzerEvent[] = []
  confirmed = false
  failed = false
  private readonly confirmOn: string | undefined
  private readonly failOn: string | undefined
  private readonly decoder = new TextDecoder('latin1')

  constructor(service: string, options: {confirmOn?: string; failOn?: string} = {}) {
    this.service = service
    this.confirmOn = options.confirmOn
    this.failOn = options.failOn
  }

  deliver(isOrig: boolean, data: Uint8Array, ts: number): void {
    const text = this.decoder.decode(data)
    this.events.push({kind: 'data', isOrig, text, ts})
    if (this.confirmOn !== undefined && text.includes(this.confirmOn)) this.confirmed = true
    if (this.failOn !== undefined && text.includes(this.failOn)) this.failed = true
  }

  gap(isOrig: boolean, length: number, ts: number): void {
    this.events.push({kind: 'gap', isOrig, length, ts})
  }

  finish(ts: number): void {
    this.events.push({kind: 'finish', ts})
  }

  /** The bytes delivered in one direction, concatenated. */
  stream(isOrig: boolean): string {
    return this.events
      .filter((e): e is Extract<AnalyzerEvent, {kind: 'data'}> => e.kind === 'data' && e.isOrig === isOrig)
      .map((e) => e.text)
      .join('')
  }
}

export interface FactoryCall {
  uid: string
  firstData: string
  isOrig: boolean
}

/** A factory that hands out analysers made by `make` and remembers each call. */
export function recordingFactory(make: (conn: ConnView) => ProtocolAnalyzer[] = () => []): {
  factory: AnalyzerFactory
  calls: FactoryCall[]
} {
  const calls: FactoryCall[] = []
  const decoder = new TextDecoder('latin1')
  const factory: AnalyzerFactory = (conn, firstData, isOrig) => {
    calls.push({uid: conn.uid, firstData: decoder.decode(firstData), isOrig})
    return make(conn)
  }
  return {factory, calls}
}
