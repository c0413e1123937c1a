// The frame builder the sensor's tests, benchmark and fuzzer use: one call per packet, every length and
// checksum right unless an option says otherwise. The address text picks the IP version.
//
//   tcpFrame({src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 80, flags: 'S', seq: 1})
//   udpFrame({src: '2001:db8::1', dst: '2001:db8::2', sport: 53, dport: 5353, payload, vlan: [10, 20]})
//   icmpFrame({src, dst, type: 8, id: 1, sequence: 1, link: 'sll', snaplen: 60})
//   fragmentIpv4(udpPacket({...}), 64).map((piece) => frameFromIp(piece))
//
// *Packet functions return the IP datagram bytes, *Frame functions a RawFrame around them.

import {LINKTYPE} from '../types.js'
import type {RawFrame} from '../types.js'
import {addressBytes, isIpv6Text, toBytes} from './bytes.js'
import type {Bytes} from './bytes.js'
import {finalDestination, ipv4Packet, ipv6Packet} from './ip-packet.js'
import type {Ipv6Extension, Ipv6Fields} from './ip-packet.js'
import {frameFromIp, linkBytes, rawFrame} from './link-frame.js'
import type {FrameOptions} from './link-frame.js'
import {IPPROTO, icmpMessage, tcpSegment, udpDatagram} from './transport-segment.js'
import type {IcmpFields, PseudoHeader, TcpFields, UdpFields} from './transport-segment.js'

export {addressBytes, concatBytes, macBytes, toBytes} from './bytes.js'
export type {Bytes} from './bytes.js'
export {fragmentIpv4, fragmentIpv6} from './fragment.js'
export {ipv4Packet, ipv6Packet} from './ip-packet.js'
export type {Ipv4Fields, Ipv6Extension, Ipv6Fields} from './ip-packet.js'
export {DEFAULT_TS, frameFromIp, linkBytes, rawFrame, withSnaplen} from './link-frame.js'
export type {CaptureOptions, FrameOptions, LinkKind, LinkOptions} from './link-frame.js'
export {
  IPPROTO,
  corrupt,
  icmpMessage,
  tcpFlagBits,
  tcpOptions,
  tcpSegment,
  udpDatagram,
} from './transport-segment.js'
export type {IcmpFields, PseudoHeader, TcpFields, TcpOptionValues, UdpFields} from './transport-segment.js'

/** The IP header, IPv4 or IPv6 after the address text. Fields of the other version are ignored. */
export interface IpOptions {
  src: string
  dst: string
  /** IPv4 TTL or IPv6 hop limit (default 64). */
  ttl?: number
  // IPv4
  ipId?: number
  tos?: number
  dontFragment?: boolean
  moreFragments?: boolean
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number
  ipOptions?: Bytes
  ipTotalLength?: number
  /** IHL × 4 override. */
  ipHeaderLength?: number
  ipVersion?: number
  ipChecksum?: number
  corruptIpChecksum?: boolean
  // IPv6
  trafficClass?: number
  flowLabel?: number
  extensions?: readonly Ipv6Extension[]
  ipPayloadLength?: number
}

export interface PayloadOption {
  payload?: Bytes
}

export type TcpPacketOptions = IpOptions & TcpFields & PayloadOption
export type UdpPacketOptions = IpOptions & UdpFields & PayloadOption
export type IcmpPacketOptions = IpOptions & IcmpFields & PayloadOption

/** An IP datagram carrying `payload` as protocol `protocol` (any protocol number). */
export function ipPacket(
  options: IpOptions,
  protocol: number,
  payload: Bytes = new Uint8Array(0),
): Uint8Array {
  const body = toBytes(payload)
  if (isIpv6Text(options.src)) return ipv6Packet(ipv6FieldsOf(options, protocol), body)
  const fields: Parameters<typeof ipv4Packet>[0] = {src: options.src, dst: options.dst, protocol}
  if (options.ttl !== undefined) fields.ttl = options.ttl
  if (options.ipId !== undefined) fields.id = options.ipId
  if (options.tos !== undefined) fields.tos = options.tos
  if (options.dontFragment !== undefined) fields.dontFragment = options.dontFragment
  if (options.moreFragments !== undefined) fields.moreFragments = options.moreFragments
  if (options.fragmentOffset !== undefined) fields.fragmentOffset = options.fragmentOffset
  if (options.ipOptions !== undefined) fields.options = options.ipOptions
  if (options.ipTotalLength !== undefined) fields.totalLength = options.ipTotalLength
  if (options.ipHeaderLength !== undefined) fields.headerLength = options.ipHeaderLength
  if (options.ipVersion !== undefined) fields.version = options.ipVersion
  if (options.ipChecksum !== undefined) fields.checksum = options.ipChecksum
  if (options.corruptIpChecksum !== undefined) fields.corruptChecksum = options.corruptIpChecksum
  return ipv4Packet(fields, body)
}

function ipv6FieldsOf(options: IpOptions, nextHeader: number): Ipv6Fields {
  const fields: Ipv6Fields = {src: options.src, dst: options.dst, nextHeader}
  if (options.ttl !== undefined) fields.hopLimit = options.ttl
  if (options.trafficClass !== undefined) fields.trafficClass = options.trafficClass
  if (options.flowLabel !== undefined) fields.flowLabel = options.flowLabel
  if (options.extensions !== undefined) fields.extensions = options.extensions
  if (options.ipPayloadLength !== undefined) fields.payloadLength = options.ipPayloadLength
  return fields
}

/** Addresses for the transport checksum: IPv6 uses the final destination of a routing header. */
function pseudoHeaderOf(options: IpOptions, protocol: number): PseudoHeader {
  const dst = isIpv6Text(options.src) ? finalDestination(ipv6FieldsOf(options, protocol)) : options.dst
  return {src: addressBytes(options.src), dst: addressBytes(dst)}
}

export function tcpPacket(options: TcpPacketOptions): Uint8Array {
  const segment = tcpSegment(options, toBytes(options.payload), pseudoHeaderOf(options, IPPROTO.TCP))
  return ipPacket(options, IPPROTO.TCP, segment)
}

export function udpPacket(options: UdpPacketOptions): Uint8Array {
  const datagram = udpDatagram(options, toBytes(options.payload), pseudoHeaderOf(options, IPPROTO.UDP))
  return ipPacket(options, IPPROTO.UDP, datagram)
}

/** ICMP over IPv4, ICMPv6 over IPv6. */
export function icmpPacket(options: IcmpPacketOptions): Uint8Array {
  const v6 = isIpv6Text(options.src)
  const protocol = v6 ? IPPROTO.ICMPV6 : IPPROTO.ICMP
  const message = icmpMessage(
    options,
    toBytes(options.payload),
    v6 ? pseudoHeaderOf(options, protocol) : undefined,
  )
  return ipPacket(options, protocol, message)
}

export function tcpFrame(options: TcpPacketOptions & FrameOptions): RawFrame {
  return frameFromIp(tcpPacket(options), options)
}

export function udpFrame(options: UdpPacketOptions & FrameOptions): RawFrame {
  return frameFromIp(udpPacket(options), options)
}

export function icmpFrame(options: IcmpPacketOptions & FrameOptions): RawFrame {
  return frameFromIp(icmpPacket(options), options)
}

/** An Ethernet (or SLL) frame carrying something other than IP, e.g. ARP (0x0806). */
export function nonIpFrame(etherType: number, payload: Bytes, options: FrameOptions = {}): RawFrame {
  const link = options.link === 'sll' ? 'sll' : 'ethernet'
  const linkType = link === 'sll' ? LINKTYPE.LINUX_SLL : LINKTYPE.ETHERNET
  return rawFrame(linkBytes(payload, {...options, link, etherType}), linkType, options)
}
