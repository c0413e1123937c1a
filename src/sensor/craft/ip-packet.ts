// IPv4 and IPv6 datagrams for the frame builder. Every length and checksum is right by default; the
// override fields exist to build the malformed packets the decoder must survive.

import {addWords, checksumOf} from '../decode/checksum.js'
import {addressBytes, concatBytes, toBytes, writeU16, writeU32} from './bytes.js'
import type {Bytes} from './bytes.js'
import {corrupt} from './transport-segment.js'

export interface Ipv4Fields {
  src: string
  dst: string
  protocol: number
  ttl?: number
  id?: number
  tos?: number
  dontFragment?: boolean
  moreFragments?: boolean
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number
  /** Option bytes, padded with end-of-options to a multiple of 4. */
  options?: Bytes
  /** Overrides: the total length field, the header length in bytes (IHL × 4), the version nibble. */
  totalLength?: number
  headerLength?: number
  version?: number
  /** The header checksum to write instead of the computed one, or a certainly wrong one. */
  checksum?: number
  corruptChecksum?: boolean
}

export type Ipv6Extension =
  | {type: 'hop-by-hop' | 'destination'; options?: Bytes}
  /** Routing: type 0 and 2 carry addresses after 4 reserved bytes; `data` replaces that body. */
  | {
      type: 'routing'
      routingType?: number
      segmentsLeft?: number
      addresses?: readonly string[]
      data?: Bytes
    }
  /** `offset` in bytes (a multiple of 8). */
  | {type: 'fragment'; offset: number; more: boolean; id: number}
  | {type: 'ah'; spi?: number; sequence?: number; icv?: Bytes}

export interface Ipv6Fields {
  src: string
  dst: string
  /** The transport protocol, placed after the extension headers. */
  nextHeader: number
  hopLimit?: number
  trafficClass?: number
  flowLabel?: number
  extensions?: readonly Ipv6Extension[]
  /** Override for the payload length field. */
  payloadLength?: number
}

export const EXTENSION_CODE: Readonly<Record<Ipv6Extension['type'], number>> = {
  'hop-by-hop': 0,
  routing: 43,
  fragment: 44,
  destination: 60,
  ah: 51,
}

export function ipv4Packet(fields: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const options = toBytes(fields.options)
  const headerLen = 20 + Math.ceil(options.length / 4) * 4
  const packet = new Uint8Array(headerLen + payload.length)
  packet[0] = ((fields.version ?? 4) << 4) | (((fields.headerLength ?? headerLen) / 4) & 0x0f)
  packet[1] = fields.tos ?? 0
  writeU16(packet, 2, fields.totalLength ?? packet.length)
  writeU16(packet, 4, fields.id ?? 0)
  const flags = (fields.dontFragment ? 0x4000 : 0) | (fields.moreFragments ? 0x2000 : 0)
  writeU16(packet, 6, flags | (((fields.fragmentOffset ?? 0) / 8) & 0x1fff))
  packet[8] = fields.ttl ?? 64
  packet[9] = fields.protocol
  packet.set(addressBytes(fields.src), 12)
  packet.set(addressBytes(fields.dst), 16)
  packet.set(options, 20)
  packet.set(payload, headerLen)
  const computed = checksumOf(addWords(packet, 0, headerLen, 0))
  const checksum = fields.checksum ?? (fields.corruptChecksum ? corrupt(computed) : computed)
  writeU16(packet, 10, checksum)
  return packet
}

export function ipv6Packet(fields: Ipv6Fields, payload: Uint8Array): Uint8Array {
  const extensions = fields.extensions ?? []
  const headers: Uint8Array[] = []
  for (let i = 0; i < extensions.length; i++) {
    const next = i + 1 < extensions.length ? EXTENSION_CODE[extensions[i + 1]!.type] : fields.nextHeader
    headers.push(extensionHeader(extensions[i]!, next))
  }
  const body = concatBytes([...headers, payload])
  const packet = new Uint8Array(40 + body.length)
  const trafficClass = fields.trafficClass ?? 0
  writeU32(packet, 0, ((6 << 28) | (trafficClass << 20) | ((fields.flowLabel ?? 0) & 0xfffff)) >>> 0)
  writeU16(packet, 4, fields.payloadLength ?? body.length)
  packet[6] = extensions.length > 0 ? EXTENSION_CODE[extensions[0]!.type] : fields.nextHeader
  packet[7] = fields.hopLimit ?? 64
  packet.set(addressBytes(fields.src), 8)
  packet.set(addressBytes(fields.dst), 24)
  packet.set(body, 40)
  return packet
}

/**
 * Where the packet finally goes (RFC 8200 §8.1, used by transport checksums): the last address of a
 * type 0 routing header, or the home address of a type 2 one, while segments are left.
 */
export function finalDestination(fields: Ipv6Fields): string {
  let destination = fields.dst
  for (const extension of fields.extensions ?? []) {
    if (extension.type !== 'routing' || (extension.segmentsLeft ?? 0) === 0 || extension.data !== undefined)
      continue
    const addresses = extension.addresses ?? []
    const routingType = extension.routingType ?? 0
    if ((routingType === 0 || routingType === 2) && addresses.length > 0)
      destination = addresses[addresses.length - 1]!
  }
  return destination
}

function extensionHeader(extension: Ipv6Extension, next: number): Uint8Array {
  switch (extension.type) {
    case 'hop-by-hop':
    case 'destination':
      return withLength(next, padOptions(toBytes(extension.options)))
    case 'routing': {
      const body =
        extension.data !== undefined
          ? toBytes(extension.data)
          : concatBytes([new Uint8Array(4), ...(extension.addresses ?? []).map((a) => addressBytes(a))])
      const padded = padTo8(
        concatBytes([Uint8Array.of(extension.routingType ?? 0, extension.segmentsLeft ?? 0), body]),
      )
      return withLength(next, padded)
    }
    case 'fragment': {
      const header = new Uint8Array(8)
      header[0] = next
      writeU16(header, 2, (extension.offset & 0xfff8) | (extension.more ? 1 : 0))
      writeU32(header, 4, extension.id)
      return header
    }
    case 'ah': {
      const icv = toBytes(extension.icv ?? new Uint8Array(12))
      const header = new Uint8Array(12 + icv.length)
      header[0] = next
      // AH counts 4-byte units, minus 2.
      header[1] = header.length / 4 - 2
      writeU32(header, 4, extension.spi ?? 0x100)
      writeU32(header, 8, extension.sequence ?? 1)
      header.set(icv, 12)
      return header
    }
  }
}

/** Prefixes Next Header and Hdr Ext Len (8-byte units beyond the first) to a body of 6 + 8n bytes. */
function withLength(next: number, rest: Uint8Array): Uint8Array {
  const header = new Uint8Array(2 + rest.length)
  header[0] = next
  header[1] = (header.length - 8) / 8
  header.set(rest, 2)
  return header
}

/** Options padded with Pad1/PadN so that the header (2 + options) fills whole 8-byte units. */
function padOptions(options: Uint8Array): Uint8Array {
  const missing = (8 - ((2 + options.length) % 8)) % 8
  if (missing === 0) return options
  const padding =
    missing === 1
      ? Uint8Array.of(0)
      : concatBytes([Uint8Array.of(1, missing - 2), new Uint8Array(missing - 2)])
  return concatBytes([options, padding])
}

/** Zero bytes appended so that the header (2 + rest) fills whole 8-byte units. */
function padTo8(rest: Uint8Array): Uint8Array {
  const missing = (8 - ((2 + rest.length) % 8)) % 8
  return missing === 0 ? rest : concatBytes([rest, new Uint8Array(missing)])
}
