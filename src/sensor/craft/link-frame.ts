// Link layers around an IP datagram (Ethernet with optional 802.1Q/QinQ tags, Linux SLL, BSD NULL in
// either byte order, raw IP) and the RawFrame a capture would hand over, optionally cut to a snap length.

import {LINKTYPE} from '../types.js'
import type {RawFrame} from '../types.js'
import {concatBytes, macBytes, toBytes, writeU16} from './bytes.js'
import type {Bytes} from './bytes.js'

export type LinkKind = 'ethernet' | 'sll' | 'null' | 'null-be' | 'raw' | 'ipv4' | 'ipv6'

export interface LinkOptions {
  /** Default 'ethernet'. `null` writes the address family little-endian, `null-be` big-endian. */
  link?: LinkKind
  srcMac?: string
  dstMac?: string
  /** VLAN tags in the frame, outermost first: a VLAN id (or a whole TCI with priority bits). */
  vlan?: number | readonly number[]
  /** Tag protocol ids, outermost first (default: 0x88a8 for outer tags of a stack, 0x8100 for the innermost). */
  vlanTpids?: readonly number[]
  /** Overrides the Ethertype (SLL protocol) after the tags, e.g. 0x0806 for a non-IP frame. */
  etherType?: number
  /** Address family for NULL links (default 2 for IPv4, 24 for IPv6). */
  nullFamily?: number
}

export interface CaptureOptions {
  ts?: number
  /** Cut the captured bytes to this many (wireLen keeps the full length). */
  snaplen?: number
  /** A tag the kernel stripped into the ring's metadata (RawFrame.vlanTci). */
  vlanTci?: number
}

export type FrameOptions = LinkOptions & CaptureOptions

export const DEFAULT_TS = 1_700_000_000
const DEFAULT_SRC_MAC = '02:00:00:00:00:01'
const DEFAULT_DST_MAC = '02:00:00:00:00:02'

const LINK_TYPES: Readonly<Record<LinkKind, number>> = {
  ethernet: LINKTYPE.ETHERNET,
  sll: LINKTYPE.LINUX_SLL,
  null: LINKTYPE.NULL,
  'null-be': LINKTYPE.NULL,
  raw: LINKTYPE.RAW,
  ipv4: LINKTYPE.IPV4,
  ipv6: LINKTYPE.IPV6,
}

/** The link header(s) for `payload` (an IP datagram unless `etherType` says otherwise). */
export function linkBytes(payload: Bytes, options: LinkOptions = {}): Uint8Array {
  const body = toBytes(payload)
  const isIpv6 = body.length > 0 && body[0]! >> 4 === 6
  const etherType = options.etherType ?? (isIpv6 ? 0x86dd : 0x0800)
  switch (options.link ?? 'ethernet') {
    case 'ethernet': {
      const header = new Uint8Array(12)
      header.set(macBytes(options.dstMac ?? DEFAULT_DST_MAC), 0)
      header.set(macBytes(options.srcMac ?? DEFAULT_SRC_MAC), 6)
      return concatBytes([header, vlanTags(options, etherType), body])
    }
    case 'sll': {
      const header = new Uint8Array(14)
      writeU16(header, 0, 0) // addressed to this host
      writeU16(header, 2, 1) // ARPHRD_ETHER
      writeU16(header, 4, 6)
      header.set(macBytes(options.srcMac ?? DEFAULT_SRC_MAC), 6)
      return concatBytes([header, vlanTags(options, etherType), body])
    }
    case 'null':
    case 'null-be': {
      const family = options.nullFamily ?? (isIpv6 ? 24 : 2)
      const header = new Uint8Array(4)
      const view = new DataView(header.buffer)
      view.setUint32(0, family, options.link === 'null')
      return concatBytes([header, body])
    }
    case 'raw':
    case 'ipv4':
    case 'ipv6':
      return body
  }
}

/** Each tag as TPID + TCI, then the Ethertype of what follows the tags. */
function vlanTags(options: LinkOptions, etherType: number): Uint8Array {
  const tags =
    options.vlan === undefined ? [] : typeof options.vlan === 'number' ? [options.vlan] : options.vlan
  const out = new Uint8Array(tags.length * 4 + 2)
  for (let i = 0; i < tags.length; i++) {
    const tpid = options.vlanTpids?.[i] ?? (i < tags.length - 1 ? 0x88a8 : 0x8100)
    writeU16(out, i * 4, tpid)
    writeU16(out, i * 4 + 2, tags[i]!)
  }
  writeU16(out, tags.length * 4, etherType)
  return out
}

/** A RawFrame as a capture hands it over: `data` cut to the snap length, `wireLen` the full length. */
export function rawFrame(bytes: Uint8Array, linkType: number, options: CaptureOptions = {}): RawFrame {
  const data =
    options.snaplen !== undefined && options.snaplen < bytes.length ? bytes.slice(0, options.snaplen) : bytes
  const frame: RawFrame = {ts: options.ts ?? DEFAULT_TS, linkType, data, wireLen: bytes.length}
  if (options.vlanTci !== undefined) frame.vlanTci = options.vlanTci
  return frame
}

/** Wraps an IP datagram into the requested link layer and returns the frame. */
export function frameFromIp(ip: Uint8Array, options: FrameOptions = {}): RawFrame {
  return rawFrame(linkBytes(ip, options), LINK_TYPES[options.link ?? 'ethernet'], options)
}

/** The same frame as captured with a snap length: the bytes cut, the wire length kept. */
export function withSnaplen(frame: RawFrame, snaplen: number): RawFrame {
  const cut: RawFrame = {...frame, data: frame.data.slice(0, Math.max(0, snaplen))}
  return cut
}
