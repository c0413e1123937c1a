// One connection: its identity (uid, 4-tuple, roles), what conn.log counts about it, its history,
// its analysers and, for TCP, the session with both endpoints. It is also the consumer of its TCP
// streams, so reassembled bytes and gaps go from here to the analysers without a closure per packet.

import type {AnalyzerFactory, ConnId, ConnProto, ConnView, SensorSink} from '../types.js'
import {ConnAnalyzers, type AnalyzerOwner} from './analyzer-set.js'
import type {CaptureLossCounter} from './capture-loss.js'
import {History, ScaledCounter} from './history.js'
import {TCP_STATE} from './tcp-endpoint.js'
import type {TcpSession} from './tcp-session.js'
import {GAP, type GapCause, type StreamConsumer} from './tcp-stream.js'
import type {FlowTimeouts} from './timeouts.js'
import type {TimerEntry, TimerKind} from './timer-queue.js'

/** What connections need from the flow table that owns them. */
export interface FlowHost {
  readonly sink: SensorSink
  readonly factory: AnalyzerFactory
  readonly timeouts: FlowTimeouts
  readonly captureLoss: CaptureLossCounter
  /** Network time: the newest packet timestamp (or advance() time) seen. */
  readonly now: number
  schedule(conn: Connection, kind: TimerKind, at: number): void
  /** Drops the TCP analyser timers (attempt, expire, partial close, reset), not the inactivity one. */
  cancelTcpTimers(conn: Connection): void
}

export interface ConnIdentity {
  /** Creation order, for a stable order of the records written at the end. */
  order: number
  /** ICMP table key ('' for TCP and UDP, which are found by their tuple). */
  key: string
  uid: string
  id: ConnId
  ts: number
  ipProto: number
  ipVersion: 4 | 6
  vlan: number | undefined
  innerVlan: number | undefined
  /** The heuristics made the receiver of the first packet the originator. */
  flipped: boolean
}

export class Connection implements ConnView, AnalyzerOwner, StreamConsumer {
  readonly order: number
  readonly key: string
  readonly uid: string
  readonly id: ConnId
  /** The originator's address and port, copied out of `id` for the per-packet direction test. */
  readonly origH: string
  readonly origP: number
  readonly proto: ConnProto
  readonly startTs: number
  /** Last packet that counts for the duration (TCP stops counting once both sides closed). */
  lastTs: number
  readonly ipProto: number
  readonly ipVersion: 4 | 6
  readonly vlan: number | undefined
  readonly innerVlan: number | undefined
  readonly host: FlowHost
  readonly history = new History()
  readonly analyzers = new ConnAnalyzers()
  readonly tcp: TcpSession | undefined
  origPkts = 0
  origIpBytes = 0
  respPkts = 0
  respIpBytes = 0
  /** UDP/ICMP payload bytes per side; -1 while the side sent nothing (Zeek's request_len/reply_len). */
  origSize = -1
  respSize = -1
  /** Bytes in content gaps (content_gap events), for conn.log's missed_bytes. */
  missedBytes = 0
  /** Pending timers, taken out of the queue when the connection goes. */
  readonly timers: TimerEntry<Connection>[] = []
  removed = false
  /** Some weird was reported for this connection (Zeek's DidWeird). */
  didWeird = false
  private weirdNames: Set<string> | undefined = undefined
  private origBadChecksums: ScaledCounter | undefined = undefined
  private respBadChecksums: ScaledCounter | undefined = undefined

  constructor(host: FlowHost, identity: ConnIdentity, tcp: TcpSession | undefined) {
    this.host = host
    this.order = identity.order
    this.key = identity.key
    this.uid = identity.uid
    this.id = identity.id
    this.origH = identity.id.origH
    this.origP = identity.id.origP
    this.proto = identity.id.proto
    this.startTs = identity.ts
    this.lastTs = identity.ts
    this.ipProto = identity.ipProto
    this.ipVersion = identity.ipVersion
    this.vlan = identity.vlan
    this.innerVlan = identity.innerVlan
    this.tcp = tcp
    if (identity.flipped) this.history.flipped()
  }

  countPacket(isOrig: boolean, ipLen: number): void {
    if (isOrig) {
      this.origPkts++
      this.origIpBytes += ipLen
    } else {
      this.respPkts++
      this.respIpBytes += ipLen
    }
  }

  /** A bad transport checksum on a UDP datagram: C/c on Zeek's logarithmic scale. */
  badChecksum(isOrig: boolean): void {
    const counter = isOrig
      ? (this.origBadChecksums ??= new ScaledCounter())
      : (this.respBadChecksums ??= new ScaledCounter())
    if (counter.hit()) this.history.add(isOrig, 'C')
  }

  /** A flow-level weird, reported once per connection and name (weird.log logs no more anyway). */
  weird(name: string, addl?: string): void {
    this.didWeird = true
    const names = (this.weirdNames ??= new Set())
    if (names.has(name)) return
    names.add(name)
    const id = this.id
    this.host.sink.weird({
      ts: this.host.now,
      name,
      ...(addl === undefined ? {} : {addl}),
      src: id.origH,
      dst: id.respH,
      srcPort: id.origP,
      dstPort: id.respP,
      uid: this.uid,
    })
  }

  /** UDP/ICMP: one datagram's payload for the analysers. */
  deliverDatagram(isOrig: boolean, data: Uint8Array, ts: number): void {
    if (this.analyzers.wantsData)
      this.analyzers.deliver(this, this.host.factory, this.host.sink, isOrig, data, ts)
  }

  streamData(isOrig: boolean, data: Uint8Array, ts: number): void {
    const analyzers = this.analyzers
    analyzers.deliver(this, this.host.factory, this.host.sink, isOrig, data, ts)
    if (!analyzers.wantsData) {
      this.tcp?.orig.stream?.dropData()
      this.tcp?.resp.stream?.dropData()
    }
  }

  streamGap(isOrig: boolean, length: number, ts: number, cause: GapCause): void {
    const tcp = this.tcp
    if (tcp !== undefined && cause !== GAP.UNACKED) {
      const endpoint = isOrig ? tcp.orig : tcp.resp
      if (cause === GAP.ACKED && endpoint.gaps.hit()) this.history.add(isOrig, 'G')
      // Zeek raises content_gap (which missed_bytes sums) only while both sides are established.
      if (tcp.orig.state === TCP_STATE.ESTABLISHED && tcp.resp.state === TCP_STATE.ESTABLISHED) {
        this.missedBytes += length
      }
    }
    this.analyzers.gap(this, isOrig, length, ts)
  }
}
