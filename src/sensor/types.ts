// The contracts between the sensor's stages: frames (capture or pcap) → decoded packets → flows →
// protocol analysers → Zeek-style log records. Every stage is pure: data in, records out, time taken
// from the packets themselves (network time, as Zeek does), so offline and live runs agree.

/** pcap LINKTYPE_* values the decoder understands. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
} as const

/** One captured frame, as it came off the ring or out of a pcap file. */
export interface RawFrame {
  /** Seconds since the epoch (microsecond or better precision). */
  ts: number
  /** pcap LINKTYPE_* of `data`. */
  linkType: number
  /** The captured bytes; shorter than `wireLen` when the snap length cut the frame. */
  data: Uint8Array
  /** Length of the frame on the wire. */
  wireLen: number
  /**
   * 802.1Q tag control information the kernel stripped from the frame (AF_PACKET puts it into the
   * ring's metadata instead); the decoder treats it as the outermost tag. Absent for pcap input.
   */
  vlanTci?: number
}

/** TCP header flag bits. */
export const TCP_FLAG = {FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20} as const

export interface TcpSegment {
  kind: 'tcp'
  srcPort: number
  dstPort: number
  /** Unsigned 32-bit sequence number. */
  seq: number
  /** Unsigned 32-bit acknowledgement number (meaningful only with the ACK flag). */
  ack: number
  /** TCP_FLAG bits. */
  flags: number
  window: number
}

export interface UdpDatagram {
  kind: 'udp'
  srcPort: number
  dstPort: number
}

export interface IcmpMessage {
  kind: 'icmp'
  /** 4 for ICMP, 6 for ICMPv6. */
  version: 4 | 6
  type: number
  code: number
}

export type Transport = TcpSegment | UdpDatagram | IcmpMessage

/** One IP packet (after fragment reassembly) with its transport header parsed. */
export interface DecodedPacket {
  ts: number
  /** Frame length on the wire and as captured. */
  wireLen: number
  capLen: number
  /** Outer and inner 802.1Q VLAN ids when tagged. */
  vlan?: number
  innerVlan?: number
  ipVersion: 4 | 6
  /** Addresses in Zeek's text form (IPv6 compressed, lower case, IPv4-mapped as ::ffff:a.b.c.d). */
  src: string
  dst: string
  /** IP protocol number of the transport (after IPv6 extension headers). */
  ipProto: number
  /** Length of the whole IP datagram per its header (total length; IPv6: 40 + payload length). */
  ipLen: number
  ttl: number
  /** Undefined for transports the sensor does not parse (the flow layer still counts nothing for them). */
  transport?: Transport
  /** Transport payload bytes present in the capture (may be shorter than `payloadLen`). */
  payload: Uint8Array
  /** Transport payload length according to the headers. */
  payloadLen: number
  /**
   * False when the transport checksum was verified and is wrong. The flow layer records `c`/`C` in
   * the history and a `bad_TCP_checksum`/`bad_UDP_checksum` weird, and does not analyse the packet.
   */
  checksumOk: boolean
}

/** Something odd the decoder or an analyser saw; becomes a weird.log record. */
export interface WeirdNotice {
  ts: number
  /** Zeek's weird name, e.g. `truncated_IP`, `bad_IP_checksum`, `fragment_overlap`. */
  name: string
  addl?: string
  /** Set when the packet got far enough for addresses (and ports) to be known. */
  src?: string
  dst?: string
  srcPort?: number
  dstPort?: number
  /** The connection's uid when the weird belongs to one. */
  uid?: string
}

export interface DecodeResult {
  /** Undefined when the frame is not analysed (non-IP, malformed, bad IP checksum, fragment held). */
  packet: DecodedPacket | undefined
  /** Usually empty (a shared frozen array: do not mutate). */
  weirds: readonly WeirdNotice[]
}

export type ConnProto = 'tcp' | 'udp' | 'icmp'

/** A connection's 4-tuple as Zeek logs it (for ICMP: orig_p is the type, resp_p the code). */
export interface ConnId {
  origH: string
  origP: number
  respH: string
  respP: number
  proto: ConnProto
}

/** What an analyser may know about the connection it belongs to. */
export interface ConnView {
  readonly uid: string
  readonly id: ConnId
  /** Timestamp of the connection's first packet. */
  readonly startTs: number
}

/** Log streams the sensor writes. */
export type LogPath = 'conn' | 'dns' | 'http' | 'ssl' | 'weird' | 'capture_loss' | 'stats'

export type LogValue = string | number | boolean | readonly string[] | readonly number[]

/**
 * One log record keyed by Zeek's field names (`ts`, `uid`, `id.orig_h`, …); unset fields are left
 * out. Field order and value types (time, interval, count, …) come from the stream's schema in
 * `logs/schema.ts`, so producers need not care about either.
 */
export type LogRecord = Record<string, LogValue | undefined>

/** Where the flow table and the analysers send what they produce. */
export interface SensorSink {
  log(path: LogPath, record: LogRecord): void
  weird(notice: WeirdNotice): void
}

/**
 * A protocol analyser attached to one connection. TCP analysers receive the reassembled, in-order
 * byte stream of each direction; UDP analysers receive one call per datagram.
 */
export interface ProtocolAnalyzer {
  /** The name that goes into conn.log's `service` once confirmed: `dns`, `http`, `ssl`. */
  readonly service: string
  /** True once the payload was recognised as this protocol (Zeek's protocol confirmation). */
  readonly confirmed: boolean
  /** True once the analyser gave up (protocol violation); it is fed nothing more. */
  readonly failed: boolean
  deliver(isOrig: boolean, data: Uint8Array, ts: number): void
  /** TCP only: `length` bytes of this direction's stream were never seen (content gap). */
  gap(isOrig: boolean, length: number, ts: number): void
  /** The connection ended or timed out: write out pending transactions. */
  finish(ts: number): void
}

/**
 * Picks analysers for a connection when its first payload shows up (well-known port or content
 * sniffing, Zeek's DPD). Returns an empty array when nothing applies.
 */
export type AnalyzerFactory = (
  conn: ConnView,
  firstData: Uint8Array,
  isOrig: boolean,
  sink: SensorSink,
) => ProtocolAnalyzer[]
