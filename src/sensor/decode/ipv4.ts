// The IPv4 header, checked in the order Zeek's IP analyser checks it: header present, total length
// (0 from segmentation offload is tolerated), total length against the wire length, header length,
// header checksum. A capture shorter than the total length is fine (snap length): the bytes present
// are analysed and the shortfall shows in `end`.

import {ipv4Text} from './address.js'
import {addWords, isValidSum} from './checksum.js'
import {readU16} from './layers.js'
import type {IpLayer, StageOutcome, WeirdCollector} from './layers.js'
import {WEIRD} from './weird-names.js'

const MIN_HEADER_LEN = 20
const FLAG_DF = 0x4000
const FLAG_MF = 0x2000
const OFFSET_MASK = 0x1fff

/**
 * Parses the IPv4 header at `start` into `ip`. `wireLen` is how many bytes from `start` were on the
 * wire; the captured ones end at `data.length`.
 */
export function parseIpv4(
  data: Uint8Array,
  start: number,
  wireLen: number,
  verifyChecksum: boolean,
  ip: IpLayer,
  notes: WeirdCollector,
): StageOutcome {
  const captured = data.length - start
  if (captured < MIN_HEADER_LEN) {
    notes.weird(WEIRD.truncatedIp)
    return 'truncated'
  }
  // Checks in Zeek's order (packet_analysis/protocol/ip), with its weird names. Until they pass, the
  // header is not trusted, so these weirds carry no addresses (Zeek reports them as net weirds).
  let totalLen = readU16(data, start + 2)
  if (totalLen === 0) {
    // TCP segmentation offload zeroes the length; with checksums verified the packet is dropped.
    notes.weird(WEIRD.ipHdrLenZero)
    if (verifyChecksum) return 'malformed'
    totalLen = captured
  }
  if (totalLen > wireLen) {
    notes.weird(WEIRD.truncatedIpLen)
    return 'truncated'
  }
  const available = captured < totalLen ? captured : totalLen
  const headerLen = (data[start]! & 0x0f) * 4
  if (headerLen > totalLen) {
    notes.weird(WEIRD.invalidIpHeaderSize)
    return 'malformed'
  }
  if (headerLen > captured) {
    // The options are there on the wire but the snap length cut them.
    notes.weird(WEIRD.internallyTruncatedHeader)
    return 'truncated'
  }
  if (headerLen < MIN_HEADER_LEN) {
    notes.weird(WEIRD.ipv4MinHeaderSize)
    return 'malformed'
  }
  ip.version = 4
  ip.start = start
  ip.srcOffset = start + 12
  ip.dstOffset = start + 16
  ip.src = ipv4Text(data, start + 12)
  ip.dst = ipv4Text(data, start + 16)
  ip.ttl = data[start + 8]!
  ip.proto = data[start + 9]!
  if (verifyChecksum && !isValidSum(addWords(data, start, start + headerLen, 0))) {
    notes.weird(WEIRD.badIpChecksum)
    return 'bad-checksum'
  }
  ip.headerLen = headerLen
  ip.totalLen = totalLen
  ip.end = start + available

  const fragmentField = readU16(data, start + 6)
  ip.dontFragment = (fragmentField & FLAG_DF) !== 0
  ip.moreFragments = (fragmentField & FLAG_MF) !== 0
  ip.fragOffset = (fragmentField & OFFSET_MASK) * 8
  ip.fragment = ip.moreFragments || ip.fragOffset !== 0
  ip.fragId = readU16(data, start + 4)
  ip.fragDataStart = start + headerLen
  ip.fragNextHeader = ip.proto
  ip.fragHeaderOffset = -1
  ip.fragNextHeaderOffset = -1
  return 'ok'
}
