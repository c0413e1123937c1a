// TCP, UDP, ICMP and ICMPv6 headers for the frame builder, with correct checksums unless asked
// otherwise: `checksum` writes a given value, `corruptChecksum` a value that is certainly wrong.

import {InputError} from '../../engine/errors.js'
import {addWords, checksumOf} from '../decode/checksum.js'
import {TCP_FLAG} from '../types.js'
import {concatBytes, toBytes, writeU16, writeU32} from './bytes.js'
import type {Bytes} from './bytes.js'

/** Source and (final) destination address bytes: 4 each for IPv4, 16 each for IPv6. */
export interface PseudoHeader {
  src: Uint8Array
  dst: Uint8Array
}

export interface ChecksumFields {
  /** The value to write instead of the computed checksum. */
  checksum?: number
  /** Write a checksum that is certainly wrong. */
  corruptChecksum?: boolean
}

export interface TcpFields extends ChecksumFields {
  sport: number
  dport: number
  seq?: number
  ack?: number
  /** Letters (S SYN, A or . ACK, F FIN, R RST, P PSH, U URG, E ECE, C CWR) or TCP_FLAG bits. */
  flags?: string | number
  window?: number
  urgent?: number
  /** Option bytes, padded with end-of-list to a multiple of 4 (see tcpOptions). */
  options?: Bytes
  /** Header length in 32-bit words, to build malformed headers (default: what the options need). */
  dataOffset?: number
}

export interface UdpFields extends ChecksumFields {
  sport: number
  dport: number
  /** The length field (default 8 + payload). */
  length?: number
}

export interface IcmpFields extends ChecksumFields {
  type: number
  code?: number
  /** Identifier and sequence number (echo); they fill the 4 bytes after the checksum. */
  id?: number
  sequence?: number
  /** The 4 bytes after the checksum, instead of id/sequence. */
  rest?: Bytes
}

export const IPPROTO = {ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58} as const

const FLAG_LETTERS: Readonly<Record<string, number>> = {
  F: TCP_FLAG.FIN,
  S: TCP_FLAG.SYN,
  R: TCP_FLAG.RST,
  P: TCP_FLAG.PSH,
  A: TCP_FLAG.ACK,
  '.': TCP_FLAG.ACK,
  U: TCP_FLAG.URG,
  E: 0x40,
  C: 0x80,
}

export function tcpFlagBits(flags: string | number): number {
  if (typeof flags === 'number') return flags & 0xff
  let bits = 0
  for (const letter of flags) {
    const bit = FLAG_LETTERS[letter.toUpperCase()]
    if (bit === undefined)
      throw new InputError(`unknown TCP flag letter: ${letter}`, 'DSIEM_E_CRAFT_TCP_FLAG')
    bits |= bit
  }
  return bits
}

export interface TcpOptionValues {
  mss?: number
  windowScale?: number
  sackPermitted?: boolean
  /** TSval and TSecr. */
  timestamp?: readonly [number, number]
}

/** The usual SYN options in the usual order (MSS, SACK permitted, timestamps, window scale). */
export function tcpOptions(values: TcpOptionValues): Uint8Array {
  const bytes: number[] = []
  if (values.mss !== undefined) bytes.push(2, 4, (values.mss >> 8) & 0xff, values.mss & 0xff)
  if (values.sackPermitted) bytes.push(4, 2)
  if (values.timestamp !== undefined) {
    const option = new Uint8Array(10)
    option[0] = 8
    option[1] = 10
    writeU32(option, 2, values.timestamp[0])
    writeU32(option, 6, values.timestamp[1])
    bytes.push(...option)
  }
  if (values.windowScale !== undefined) bytes.push(1, 3, 3, values.windowScale)
  return Uint8Array.from(bytes)
}

export function tcpSegment(fields: TcpFields, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  const options = toBytes(fields.options)
  const optionsLen = Math.ceil(options.length / 4) * 4
  const headerLen = 20 + optionsLen
  const segment = new Uint8Array(headerLen + payload.length)
  writeU16(segment, 0, fields.sport)
  writeU16(segment, 2, fields.dport)
  writeU32(segment, 4, fields.seq ?? 0)
  writeU32(segment, 8, fields.ack ?? 0)
  segment[12] = ((fields.dataOffset ?? headerLen / 4) & 0x0f) << 4
  segment[13] = tcpFlagBits(fields.flags ?? 0)
  writeU16(segment, 14, fields.window ?? 65535)
  writeU16(segment, 18, fields.urgent ?? 0)
  segment.set(options, 20)
  segment.set(payload, headerLen)
  writeU16(segment, 16, checksumField(fields, segment, pseudoSum(pseudo, IPPROTO.TCP, segment.length), false))
  return segment
}

export function udpDatagram(fields: UdpFields, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  const datagram = new Uint8Array(8 + payload.length)
  writeU16(datagram, 0, fields.sport)
  writeU16(datagram, 2, fields.dport)
  writeU16(datagram, 4, fields.length ?? datagram.length)
  datagram.set(payload, 8)
  writeU16(
    datagram,
    6,
    checksumField(fields, datagram, pseudoSum(pseudo, IPPROTO.UDP, datagram.length), true),
  )
  return datagram
}

/** ICMP for IPv4 when `pseudo` is undefined, ICMPv6 (with its pseudo-header) otherwise. */
export function icmpMessage(
  fields: IcmpFields,
  payload: Uint8Array,
  pseudo: PseudoHeader | undefined,
): Uint8Array {
  const rest =
    fields.rest !== undefined
      ? toBytes(fields.rest)
      : Uint8Array.of(
          ((fields.id ?? 0) >> 8) & 0xff,
          (fields.id ?? 0) & 0xff,
          ((fields.sequence ?? 0) >> 8) & 0xff,
          (fields.sequence ?? 0) & 0xff,
        )
  const message = concatBytes([Uint8Array.of(fields.type, fields.code ?? 0, 0, 0), rest, payload])
  const initial = pseudo === undefined ? 0 : pseudoSum(pseudo, IPPROTO.ICMPV6, message.length)
  writeU16(message, 2, checksumField(fields, message, initial, false))
  return message
}

function pseudoSum(pseudo: PseudoHeader, proto: number, length: number): number {
  // IPv6 takes a 32-bit length; both halves are words of the sum.
  const lengthWords = pseudo.src.length === 16 ? Math.floor(length / 0x10000) + (length % 0x10000) : length
  const sum = addWords(pseudo.src, 0, pseudo.src.length, proto + lengthWords)
  return addWords(pseudo.dst, 0, pseudo.dst.length, sum)
}

/** The checksum field: explicit, computed, or corrupted. `bytes` has a zero checksum field. */
function checksumField(
  fields: ChecksumFields,
  bytes: Uint8Array,
  initial: number,
  zeroMeansNone: boolean,
): number {
  if (fields.checksum !== undefined) return fields.checksum & 0xffff
  let checksum = checksumOf(addWords(bytes, 0, bytes.length, initial))
  // UDP sends a computed zero as all ones: zero means "no checksum".
  if (zeroMeansNone && checksum === 0) checksum = 0xffff
  return fields.corruptChecksum ? corrupt(checksum) : checksum
}

/**
 * A checksum value that is wrong for sure: it must differ in one's complement arithmetic (where 0 and
 * 0xffff are the same number) and must not be 0, which UDP over IPv4 reads as "none".
 */
export function corrupt(checksum: number): number {
  const flipped = checksum ^ 0x00ff
  return flipped === 0 || flipped === 0xffff ? checksum ^ 0x0f00 : flipped
}
