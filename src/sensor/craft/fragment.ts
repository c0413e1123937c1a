// Splitting a whole IP datagram into fragments the way a sending host does: IPv4 copies the header
// (options included) into every fragment; IPv6 copies the unfragmentable part (the header plus
// hop-by-hop, routing and the destination options before a routing header) and inserts a fragment
// header. Tests reorder, repeat or drop the pieces to exercise reassembly.

import {InputError} from '../../engine/errors.js'
import {addWords, checksumOf} from '../decode/checksum.js'
import {concatBytes, writeU16, writeU32} from './bytes.js'

/** Fragment data bytes per piece, rounded down to a multiple of 8 (at least 8). */
function pieceSize(fragmentSize: number): number {
  return Math.max(8, Math.floor(fragmentSize / 8) * 8)
}

function readU16(data: Uint8Array, offset: number): number {
  return (data[offset]! << 8) | data[offset + 1]!
}

/** Splits an unfragmented IPv4 datagram into fragments carrying at most `fragmentSize` data bytes each. */
export function fragmentIpv4(packet: Uint8Array, fragmentSize: number): Uint8Array[] {
  const headerLen = (packet[0]! & 0x0f) * 4
  const totalLen = readU16(packet, 2)
  if (packet[0]! >> 4 !== 4 || headerLen < 20 || totalLen > packet.length || headerLen > totalLen) {
    throw new InputError('fragmentIpv4 needs a well-formed IPv4 datagram', 'DSIEM_E_CRAFT_FRAGMENT')
  }
  const header = packet.subarray(0, headerLen)
  const data = packet.subarray(headerLen, totalLen)
  const size = pieceSize(fragmentSize)
  const fragments: Uint8Array[] = []
  for (let offset = 0; offset < data.length || offset === 0; offset += size) {
    const piece = data.subarray(offset, Math.min(offset + size, data.length))
    const last = offset + size >= data.length
    const fragment = concatBytes([header, piece])
    writeU16(fragment, 2, fragment.length)
    const dontFragment = readU16(packet, 6) & 0x4000
    writeU16(fragment, 6, dontFragment | (last ? 0 : 0x2000) | (offset / 8))
    writeU16(fragment, 10, 0)
    writeU16(fragment, 10, checksumOf(addWords(fragment, 0, headerLen, 0)))
    fragments.push(fragment)
    if (last) break
  }
  return fragments
}

const EXT_HOP_BY_HOP = 0
const EXT_ROUTING = 43
const EXT_DESTINATION = 60
const EXT_AH = 51
const EXT_FRAGMENT = 44

/** Splits an unfragmented IPv6 datagram into fragments with identification `id`. */
export function fragmentIpv6(packet: Uint8Array, fragmentSize: number, id: number): Uint8Array[] {
  if (packet.length < 40 || packet[0]! >> 4 !== 6) {
    throw new InputError('fragmentIpv6 needs a well-formed IPv6 datagram', 'DSIEM_E_CRAFT_FRAGMENT')
  }
  const end = Math.min(packet.length, 40 + readU16(packet, 4))
  // Walk the chain; the unfragmentable part ends after the last hop-by-hop or routing header.
  let next = packet[6]!
  let at = 40
  let unfragmentableEnd = 40
  let nextHeaderAt = 6
  while (next === EXT_HOP_BY_HOP || next === EXT_ROUTING || next === EXT_DESTINATION || next === EXT_AH) {
    if (at + 2 > end) break
    const length = next === EXT_AH ? (packet[at + 1]! + 2) * 4 : (packet[at + 1]! + 1) * 8
    if (next === EXT_HOP_BY_HOP || next === EXT_ROUTING) {
      unfragmentableEnd = at + length
      nextHeaderAt = at
    }
    next = packet[at]!
    at += length
  }
  const unfragmentable = packet.slice(0, unfragmentableEnd)
  const firstFragmentable = packet[nextHeaderAt]!
  unfragmentable[nextHeaderAt] = EXT_FRAGMENT
  const data = packet.subarray(unfragmentableEnd, end)
  const size = pieceSize(fragmentSize)
  const fragments: Uint8Array[] = []
  for (let offset = 0; offset < data.length || offset === 0; offset += size) {
    const piece = data.subarray(offset, Math.min(offset + size, data.length))
    const last = offset + size >= data.length
    const fragmentHeader = new Uint8Array(8)
    fragmentHeader[0] = firstFragmentable
    writeU16(fragmentHeader, 2, offset | (last ? 0 : 1))
    writeU32(fragmentHeader, 4, id)
    const fragment = concatBytes([unfragmentable, fragmentHeader, piece])
    writeU16(fragment, 4, fragment.length - 40)
    fragments.push(fragment)
    if (last) break
  }
  return fragments
}
