// The flow table: decoded packets in, connections out. Packets are grouped by their unordered 5-tuple
// (VLAN is not part of the key, as in Zeek), each connection is analysed per its transport and, when
// it times out, closes or the input ends, written to conn.log. Time is network time (packet
// timestamps); timers sit in a heap, so the per-packet cost of expiry is one comparison.

import type {
  AnalyzerFactory,
  ConnId,
  ConnProto,
  DecodedPacket,
  IcmpMessage,
  SensorSink,
  TcpSegment,
  UdpDatagram,
} from '../types.js'
import {CaptureLossCounter} from './capture-loss.js'
import {connRecord, type ConnRecordOptions} from './conn-record.js'
import {Connection, type FlowHost} from './connection.js'
import {HIST} from './history.js'
import {icmpCounterpart} from './icmp-pairing.js'
import {flipNewTcp, flipNewUdp} from './server-ports.js'
import {TcpSession} from './tcp-session.js'
import {resolveFlowTimeouts, type FlowTimeouts} from './timeouts.js'
import {TIMER, TimerQueue, type TimerKind} from './timer-queue.js'
import {TupleIndex} from './tuple-index.js'

export {communityId} from './community-id.js'
export {createUidSource} from './uid.js'
export type {FlowTimeouts} from './timeouts.js'

export interface FlowTableOptions {
  sink: SensorSink
  analyzers: AnalyzerFactory
  newUid: () => string
  timeouts?: Partial<FlowTimeouts>
  /** Community ID seed (0 unless the deployment agreed on another). */
  communityIdSeed?: number
  /** Site::local_nets membership for local_orig/local_resp; unset in conn.log without it. */
  isLocal?: (addr: string) => boolean
}

export interface FlowCounters {
  activeTcp: number
  activeUdp: number
  activeIcmp: number
  /** Connections created since start, per transport. */
  tcpConns: number
  udpConns: number
  icmpConns: number
  /** Packets handed to process(). */
  packets: number
  /** Packets with a transport the flow layer does not track. */
  untracked: number
  /** Packets whose transport checksum was wrong (recorded, not analysed). */
  badChecksums: number
}

/** The flow table's side of the connections' needs: timers, time, sink and analyser factory. */
class FlowRuntime implements FlowHost {
  readonly sink: SensorSink
  readonly factory: AnalyzerFactory
  readonly timeouts: FlowTimeouts
  readonly captureLoss = new CaptureLossCounter()
  readonly timers = new TimerQueue<Connection>()
  now = 0

  constructor(sink: SensorSink, factory: AnalyzerFactory, timeouts: FlowTimeouts) {
    this.sink = sink
    this.factory = factory
    this.timeouts = timeouts
  }

  schedule(conn: Connection, kind: TimerKind, at: number): void {
    conn.timers.push(this.timers.push(at, kind, conn))
  }

  cancelTcpTimers(conn: Connection): void {
    const kept = conn.timers.filter((entry) => {
      if (entry.kind === TIMER.INACTIVITY) return true
      this.timers.remove(entry)
      return false
    })
    conn.timers.length = 0
    conn.timers.push(...kept)
  }
}

/** ICMP key: request/reply types pair both directions; a one-way message keeps its direction. */
function icmpKey(src: string, type: number, dst: string, respPort: number, oneWay: boolean): string {
  if (oneWay) return `>${src}|${type}|${dst}|${respPort}`
  return src < dst || (src === dst && type < respPort)
    ? `${src}|${type}|${dst}|${respPort}`
    : `${dst}|${respPort}|${src}|${type}`
}

export class FlowTable {
  private readonly rt: FlowRuntime
  private readonly newUid: () => string
  private readonly recordOptions: ConnRecordOptions
  private readonly tcp = new TupleIndex<Connection>()
  private readonly udp = new TupleIndex<Connection>()
  private readonly icmp = new Map<string, Connection>()
  private created = 0
  private readonly stats: FlowCounters = {
    activeTcp: 0,
    activeUdp: 0,
    activeIcmp: 0,
    tcpConns: 0,
    udpConns: 0,
    icmpConns: 0,
    packets: 0,
    untracked: 0,
    badChecksums: 0,
  }

  constructor(options: FlowTableOptions) {
    this.rt = new FlowRuntime(options.sink, options.analyzers, resolveFlowTimeouts(options.timeouts))
    this.newUid = options.newUid
    this.recordOptions = {communityIdSeed: options.communityIdSeed ?? 0, isLocal: options.isLocal}
  }

  /** Live counters (the same object on every call). */
  get counters(): Readonly<FlowCounters> {
    return this.stats
  }

  /** Cumulative ACK and gap counts for capture_loss.log. */
  captureLoss(): {acks: number; gaps: number} {
    return this.rt.captureLoss.snapshot()
  }

  process(packet: DecodedPacket): void {
    const rt = this.rt
    // Network time never goes back; timers due by now fire before the packet is looked at, as in Zeek.
    if (packet.ts > rt.now) rt.now = packet.ts
    if (rt.timers.nextAt <= rt.now) this.expire(rt.now)
    this.stats.packets++
    const transport = packet.transport
    if (transport === undefined) {
      this.stats.untracked++
      return
    }
    if (!packet.checksumOk) this.stats.badChecksums++
    switch (transport.kind) {
      case 'tcp':
        this.tcpPacket(packet, transport)
        break
      case 'udp':
        this.udpPacket(packet, transport)
        break
      case 'icmp':
        this.icmpPacket(packet, transport)
        break
      default:
        this.stats.untracked++
    }
  }

  /** Time moved on without packets: expire what is due. */
  advance(now: number): void {
    const rt = this.rt
    if (now > rt.now) rt.now = now
    if (rt.timers.nextAt <= rt.now) this.expire(rt.now)
  }

  /** End of input: whatever is due expires as usual, then every open connection is written. */
  finishAll(now?: number): void {
    if (now !== undefined) this.advance(now)
    const open = [...this.tcp.values(), ...this.udp.values(), ...this.icmp.values()]
    open.sort((a, b) => a.order - b.order)
    for (const conn of open) this.remove(conn)
  }

  private tcpPacket(packet: DecodedPacket, seg: TcpSegment): void {
    let conn = this.tcp.get(packet.src, seg.srcPort, packet.dst, seg.dstPort)
    if (conn !== undefined && conn.tcp!.isReuse(conn, seg, packet.ts)) {
      this.remove(conn)
      conn = undefined
    }
    if (conn === undefined) {
      const flip = flipNewTcp(seg.flags, seg.srcPort, seg.dstPort)
      conn = this.open(packet, 'tcp', seg.srcPort, seg.dstPort, flip, new TcpSession())
      this.tcp.set(packet.src, seg.srcPort, packet.dst, seg.dstPort, conn)
    }
    const isOrig = packet.src === conn.origH && seg.srcPort === conn.origP
    conn.tcp!.process(conn, packet, seg, isOrig)
  }

  private udpPacket(packet: DecodedPacket, datagram: UdpDatagram): void {
    let conn = this.udp.get(packet.src, datagram.srcPort, packet.dst, datagram.dstPort)
    if (conn === undefined) {
      const flip = flipNewUdp(datagram.srcPort, datagram.dstPort)
      conn = this.open(packet, 'udp', datagram.srcPort, datagram.dstPort, flip, undefined)
      this.udp.set(packet.src, datagram.srcPort, packet.dst, datagram.dstPort, conn)
    }
    const isOrig = packet.src === conn.origH && datagram.srcPort === conn.origP
    // Zeek's packet counter sees a UDP datagram before its checksum is checked.
    conn.countPacket(isOrig, packet.ipLen)
    if (!packet.checksumOk) {
      conn.badChecksum(isOrig)
      conn.weird('bad_UDP_checksum')
      return
    }
    this.datagram(conn, packet, isOrig)
    conn.history.once(isOrig, HIST.DATA, 'D')
    if (packet.payloadLen > 0 && packet.payload.length > 0)
      conn.deliverDatagram(isOrig, packet.payload, packet.ts)
  }

  private icmpPacket(packet: DecodedPacket, message: IcmpMessage): void {
    const counterpart = icmpCounterpart(message.version, message.type)
    // Request/reply types pair up both directions; any other message is its own one-way flow.
    const respPort = counterpart ?? message.code
    const key = icmpKey(packet.src, message.type, packet.dst, respPort, counterpart === undefined)
    let conn = this.icmp.get(key)
    if (conn === undefined) {
      conn = this.open(packet, 'icmp', message.type, respPort, false, undefined, key)
      this.icmp.set(key, conn)
    }
    const isOrig = packet.src === conn.origH && message.type === conn.origP
    if (!packet.checksumOk) {
      conn.weird('bad_ICMP_checksum')
      return
    }
    conn.countPacket(isOrig, packet.ipLen)
    this.datagram(conn, packet, isOrig)
  }

  /** UDP/ICMP bookkeeping: time and payload size (the side is now active). */
  private datagram(conn: Connection, packet: DecodedPacket, isOrig: boolean): void {
    conn.lastTs = packet.ts
    if (isOrig) conn.origSize = (conn.origSize < 0 ? 0 : conn.origSize) + packet.payloadLen
    else conn.respSize = (conn.respSize < 0 ? 0 : conn.respSize) + packet.payloadLen
  }

  private open(
    packet: DecodedPacket,
    proto: ConnProto,
    srcPort: number,
    dstPort: number,
    flip: boolean,
    tcp: TcpSession | undefined,
    key = '',
  ): Connection {
    const id: ConnId = flip
      ? {origH: packet.dst, origP: dstPort, respH: packet.src, respP: srcPort, proto}
      : {origH: packet.src, origP: srcPort, respH: packet.dst, respP: dstPort, proto}
    const conn = new Connection(
      this.rt,
      {
        order: this.created++,
        key,
        uid: this.newUid(),
        id,
        ts: packet.ts,
        ipProto: packet.ipProto,
        ipVersion: packet.ipVersion,
        vlan: packet.vlan,
        innerVlan: packet.innerVlan,
        flipped: flip,
      },
      tcp,
    )
    const stats = this.stats
    if (proto === 'tcp') {
      stats.tcpConns++
      stats.activeTcp++
    } else if (proto === 'udp') {
      stats.udpConns++
      stats.activeUdp++
    } else {
      stats.icmpConns++
      stats.activeIcmp++
    }
    const timeout = this.inactivityTimeout(conn)
    if (timeout > 0) this.rt.schedule(conn, TIMER.INACTIVITY, packet.ts + timeout)
    return conn
  }

  private inactivityTimeout(conn: Connection): number {
    const timeouts = this.rt.timeouts
    if (conn.proto === 'tcp') return timeouts.tcpInactivity
    return conn.proto === 'udp' ? timeouts.udpInactivity : timeouts.icmpInactivity
  }

  private expire(now: number): void {
    const timers = this.rt.timers
    for (let entry = timers.popDue(now); entry !== undefined; entry = timers.popDue(now)) {
      const conn = entry.owner
      const pending = conn.timers
      const at = pending.indexOf(entry)
      if (at >= 0) pending.splice(at, 1)
      if (!conn.removed && this.fire(conn, entry.kind, now)) this.remove(conn)
    }
  }

  /** Runs one timer; true when the connection is to be removed. */
  private fire(conn: Connection, kind: TimerKind, now: number): boolean {
    if (kind !== TIMER.INACTIVITY) return conn.tcp !== undefined && conn.tcp.timer(conn, kind, now)
    const deadline = conn.lastTs + this.inactivityTimeout(conn)
    if (deadline <= now) return true
    this.rt.schedule(conn, TIMER.INACTIVITY, deadline)
    return false
  }

  /** The connection ends: analysers finish, conn.log gets its record. */
  private remove(conn: Connection): void {
    if (conn.removed) return
    conn.removed = true
    const rt = this.rt
    for (const entry of conn.timers) rt.timers.remove(entry)
    conn.timers.length = 0
    const stats = this.stats
    const id = conn.id
    if (conn.proto === 'tcp') {
      this.tcp.delete(id.origH, id.origP, id.respH, id.respP, conn)
      stats.activeTcp--
    } else if (conn.proto === 'udp') {
      this.udp.delete(id.origH, id.origP, id.respH, id.respP, conn)
      stats.activeUdp--
    } else {
      if (this.icmp.get(conn.key) === conn) this.icmp.delete(conn.key)
      stats.activeIcmp--
    }
    conn.tcp?.finishStreams(rt.now)
    conn.analyzers.finish(conn, rt.now)
    rt.sink.log('conn', connRecord(conn, this.recordOptions))
  }
}
