// The IPv6 header and its extension-header chain (hop-by-hop, routing, destination options, fragment,
// AH) up to the transport. As in Zeek, a routing header with segments left makes its last address the
// packet's destination (RFC 8200 §8.1 uses that final destination in the transport checksum too). Behind
// the fragment header of a later fragment lies data, not headers: the walk ends there until the datagram
// is reassembled; a first fragment's headers are walked on, so that it can be analysed on its own.

import {ipv6Text} from './address.js'
import {readU16, readU32} from './layers.js'
import type {IpLayer, StageOutcome, WeirdCollector} from './layers.js'
import {WEIRD} from './weird-names.js'

const HEADER_LEN = 40
const NEXT_HOP_BY_HOP = 0
const NEXT_ROUTING = 43
const NEXT_FRAGMENT = 44
const NEXT_AH = 51
const NEXT_NONE = 59
const NEXT_DESTINATION_OPTIONS = 60

/** Parses the IPv6 header at `start` and its extension headers into `ip`; see parseIpv4 for `wireLen`. */
export function parseIpv6(
  data: Uint8Array,
  start: number,
  wireLen: number,
  ip: IpLayer,
  notes: WeirdCollector,
): StageOutcome {
  const captured = data.length - start
  if (captured < HEADER_LEN) {
    notes.weird(WEIRD.truncatedIp)
    return 'truncated'
  }
  ip.version = 6
  ip.start = start
  ip.srcOffset = start + 8
  ip.dstOffset = start + 24
  ip.src = ipv6Text(data, start + 8)
  ip.dst = ipv6Text(data, start + 24)
  ip.ttl = data[start + 7]!
  ip.fragment = false
  ip.fragOffset = 0
  ip.moreFragments = false
  ip.dontFragment = false
  ip.fragId = 0
  ip.fragDataStart = 0
  ip.fragNextHeader = 0
  ip.fragHeaderOffset = -1
  ip.fragNextHeaderOffset = -1

  const payloadLen = readU16(data, start + 4)
  let next = data[start + 6]!
  let totalLen = HEADER_LEN + payloadLen
  if (payloadLen === 0 && next !== NEXT_NONE) {
    // Segmentation offload (or a jumbogram): take what was captured, like IPv4's zero total length.
    notes.weird(WEIRD.ipHdrLenZero)
    totalLen = captured
  }
  if (totalLen > wireLen) {
    notes.weird(WEIRD.truncatedIp)
    return 'truncated'
  }
  ip.totalLen = totalLen
  const datagramEnd = start + totalLen
  const end = captured < totalLen ? data.length : datagramEnd
  ip.end = end

  let at = start + HEADER_LEN
  let nextHeaderAt = start + 6
  let routed = false
  while (isExtensionHeader(next)) {
    // The length byte is the second one of every extension header.
    const length =
      at + 2 > end
        ? -1
        : next === NEXT_FRAGMENT
          ? 8
          : next === NEXT_AH
            ? (data[at + 1]! + 2) * 4
            : (data[at + 1]! + 1) * 8
    if (length < 0 || at + length > end) {
      // Behind a first fragment's header the chain may go on in the next fragment: reassembly sorts that out.
      if (ip.fragment) break
      const cutByCapture = at + (length < 0 ? 2 : length) <= datagramEnd
      notes.weird(cutByCapture ? WEIRD.internallyTruncatedHeader : WEIRD.truncatedHeader)
      return 'truncated'
    }

    if (next === NEXT_ROUTING) {
      routed = followRoutingHeader(data, at, ip, routed, notes)
    } else if (next === NEXT_FRAGMENT) {
      const offsetField = readU16(data, at + 2)
      const fragOffset = offsetField & 0xfff8
      const moreFragments = (offsetField & 1) !== 0
      // An atomic fragment (RFC 6946) is a whole datagram: walk on as if the header were not there.
      if (fragOffset !== 0 || moreFragments) {
        ip.fragment = true
        ip.fragOffset = fragOffset
        ip.moreFragments = moreFragments
        ip.fragId = readU32(data, at + 4)
        ip.fragHeaderOffset = at
        ip.fragNextHeaderOffset = nextHeaderAt
        ip.fragNextHeader = data[at]!
        ip.fragDataStart = at + 8
        if (fragOffset !== 0) {
          // What follows is the middle of the datagram, not headers.
          ip.proto = data[at]!
          ip.headerLen = at + 8 - start
          return 'ok'
        }
      }
    }
    nextHeaderAt = at
    next = data[at]!
    at += length
  }
  ip.proto = next
  ip.headerLen = at - start
  return 'ok'
}

function isExtensionHeader(next: number): boolean {
  return (
    next === NEXT_HOP_BY_HOP ||
    next === NEXT_ROUTING ||
    next === NEXT_FRAGMENT ||
    next === NEXT_DESTINATION_OPTIONS ||
    next === NEXT_AH
  )
}

/**
 * Applies a routing header at `at` (its bytes are present). Returns whether a final destination has
 * been taken from a routing header so far.
 */
function followRoutingHeader(
  data: Uint8Array,
  at: number,
  ip: IpLayer,
  routedBefore: boolean,
  notes: WeirdCollector,
): boolean {
  const lengthField = data[at + 1]!
  const routingType = data[at + 2]!
  const segmentsLeft = data[at + 3]!
  let routed = routedBefore
  if (routed) {
    // RFC 8200 allows one routing header; Zeek forgets the first final destination and reports it.
    notes.weird(WEIRD.multipleRoutingHeader)
    ip.dstOffset = ip.start + 24
    ip.dst = ipv6Text(data, ip.dstOffset)
    routed = false
  }
  let finalDestination = -1
  if (routingType === 0) {
    if (segmentsLeft > 0 && lengthField >= 2) {
      // Type 0 lists addresses after 4 reserved bytes; the last one is where the packet ends up.
      if (lengthField % 2 === 0) finalDestination = at + 8 + (lengthField / 2 - 1) * 16
      else notes.weird(WEIRD.oddRouting0Len)
    }
    notes.weird(WEIRD.routing0Hdr)
  } else if (routingType === 2) {
    // Mobile IPv6 (RFC 6275): one home address.
    if (segmentsLeft > 0) {
      if (lengthField === 2) finalDestination = at + 8
      else notes.weird(WEIRD.badRouting2Len)
    }
  } else {
    notes.weird(WEIRD.unknownRoutingType, String(routingType))
  }
  if (finalDestination < 0) return routed
  ip.dstOffset = finalDestination
  ip.dst = ipv6Text(data, finalDestination)
  return true
}
