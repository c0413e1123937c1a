// TCP, UDP, ICMP and ICMPv6 headers. Length checks follow Zeek's: a header the IP length cannot hold is
// `truncated_header`, one the capture cut is `internally_truncated_header`. Checksums are verified only
// when the whole datagram was captured (a snap-length cut leaves nothing to check, Zeek treats it as
// valid); a wrong one does not stop the packet, it is handed on with `checksumOk: false`.

import type {Transport} from '../types.js'
import {addWords, ipv4PseudoSum, ipv6PseudoSum, isValidSum} from './checksum.js'
import {readU16, readU32} from './layers.js'
import type {IpLayer, StageOutcome, WeirdCollector} from './layers.js'
import {WEIRD} from './weird-names.js'

export const IPPROTO_ICMP = 1
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17
export const IPPROTO_ICMPV6 = 58

const TCP_MIN_HEADER_LEN = 20
const UDP_HEADER_LEN = 8
/** Type, code, checksum and the 4 type-specific bytes (Zeek's ICMP_MINLEN). */
const ICMP_HEADER_LEN = 8

export interface TransportLayer {
  /** Undefined for protocols the sensor does not parse. */
  transport: Transport | undefined
  /** Offset of the transport header in the buffer. */
  start: number
  headerLen: number
  checksumOk: boolean
  /** Ports once read (-1 before), so weirds can name them. */
  srcPort: number
  dstPort: number
}

export function newTransportLayer(): TransportLayer {
  return {transport: undefined, start: 0, headerLen: 0, checksumOk: true, srcPort: -1, dstPort: -1}
}

/** Parses the transport header that follows `ip` into `out`. */
export function parseTransport(
  data: Uint8Array,
  ip: IpLayer,
  verifyChecksum: boolean,
  out: TransportLayer,
  notes: WeirdCollector,
): StageOutcome {
  const start = ip.start + ip.headerLen
  out.start = start
  out.transport = undefined
  out.headerLen = 0
  out.checksumOk = true
  const ipPayloadLen = ip.totalLen - ip.headerLen
  const captured = ip.end - start
  // Only a complete datagram can be checked (and a reassembled one always is).
  const verify = verifyChecksum && captured >= ipPayloadLen
  const proto = ip.proto
  if (proto === IPPROTO_TCP) return parseTcp(data, ip, start, ipPayloadLen, captured, verify, out, notes)
  if (proto === IPPROTO_UDP) return parseUdp(data, ip, start, ipPayloadLen, captured, verify, out, notes)
  if ((proto === IPPROTO_ICMP && ip.version === 4) || (proto === IPPROTO_ICMPV6 && ip.version === 6)) {
    return parseIcmp(data, ip, start, ipPayloadLen, captured, verify, out, notes)
  }
  return 'ok'
}

/** Zeek's header-length check: first against the IP length, then against the capture. */
function headerMissing(
  minLen: number,
  ipPayloadLen: number,
  captured: number,
  notes: WeirdCollector,
): StageOutcome | undefined {
  if (ipPayloadLen < minLen) {
    notes.weird(WEIRD.truncatedHeader)
    return 'truncated'
  }
  if (captured < minLen) {
    notes.weird(WEIRD.internallyTruncatedHeader)
    return 'truncated'
  }
  return undefined
}

function parseTcp(
  data: Uint8Array,
  ip: IpLayer,
  start: number,
  ipPayloadLen: number,
  captured: number,
  verify: boolean,
  out: TransportLayer,
  notes: WeirdCollector,
): StageOutcome {
  const missing = headerMissing(TCP_MIN_HEADER_LEN, ipPayloadLen, captured, notes)
  if (missing !== undefined) return missing
  const srcPort = readU16(data, start)
  const dstPort = readU16(data, start + 2)
  out.srcPort = srcPort
  out.dstPort = dstPort
  const headerLen = (data[start + 12]! >> 4) * 4
  if (headerLen < TCP_MIN_HEADER_LEN) {
    notes.weird(WEIRD.badTcpHeaderLen)
    return 'malformed'
  }
  if (headerLen > ipPayloadLen || headerLen > captured) {
    // Options reaching past the datagram or the capture.
    notes.weird(WEIRD.truncatedHeader)
    return 'truncated'
  }
  out.headerLen = headerLen
  out.checksumOk =
    !verify || isValidSum(addWords(data, start, start + ipPayloadLen, pseudoSum(data, ip, ipPayloadLen)))
  out.transport = {
    kind: 'tcp',
    srcPort,
    dstPort,
    seq: readU32(data, start + 4),
    ack: readU32(data, start + 8),
    flags: data[start + 13]!,
    window: readU16(data, start + 14),
  }
  return 'ok'
}

function parseUdp(
  data: Uint8Array,
  ip: IpLayer,
  start: number,
  ipPayloadLen: number,
  captured: number,
  verify: boolean,
  out: TransportLayer,
  notes: WeirdCollector,
): StageOutcome {
  const missing = headerMissing(UDP_HEADER_LEN, ipPayloadLen, captured, notes)
  if (missing !== undefined) return missing
  const srcPort = readU16(data, start)
  const dstPort = readU16(data, start + 2)
  out.srcPort = srcPort
  out.dstPort = dstPort
  const udpLen = readU16(data, start + 4)
  if (udpLen !== ipPayloadLen) notes.weird(WEIRD.udpDatagramLengthMismatch, `${udpLen} != ${ipPayloadLen}`)
  out.headerLen = UDP_HEADER_LEN
  // Zero over IPv4 means the sender did not compute one (RFC 768); over IPv6 it is simply wrong.
  if (verify && !(ip.version === 4 && readU16(data, start + 6) === 0)) {
    // The sender summed what its length field covers (padding after it is not part of the datagram).
    const covered = udpLen >= UDP_HEADER_LEN && udpLen <= ipPayloadLen ? udpLen : ipPayloadLen
    out.checksumOk = isValidSum(addWords(data, start, start + covered, pseudoSum(data, ip, covered)))
  }
  out.transport = {kind: 'udp', srcPort, dstPort}
  return 'ok'
}

function parseIcmp(
  data: Uint8Array,
  ip: IpLayer,
  start: number,
  ipPayloadLen: number,
  captured: number,
  verify: boolean,
  out: TransportLayer,
  notes: WeirdCollector,
): StageOutcome {
  const missing = headerMissing(ICMP_HEADER_LEN, ipPayloadLen, captured, notes)
  if (missing !== undefined) return missing
  out.headerLen = ICMP_HEADER_LEN
  if (verify) {
    // ICMPv6 covers a pseudo-header, ICMP for IPv4 only its own bytes.
    const initial = ip.version === 6 ? pseudoSum(data, ip, ipPayloadLen) : 0
    out.checksumOk = isValidSum(addWords(data, start, start + ipPayloadLen, initial))
  }
  out.transport = {kind: 'icmp', version: ip.version, type: data[start]!, code: data[start + 1]!}
  return 'ok'
}

function pseudoSum(data: Uint8Array, ip: IpLayer, length: number): number {
  return ip.version === 4
    ? ipv4PseudoSum(data, ip.srcOffset, ip.dstOffset, ip.proto, length)
    : ipv6PseudoSum(data, ip.srcOffset, ip.dstOffset, ip.proto, length)
}
