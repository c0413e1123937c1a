// IPv4 and IPv6 fragment reassembly with Zeek's rules: fragments are keyed by source, destination and
// identification; where fragments overlap the bytes that arrived first win (`fragment_overlap` when the
// copies agree, `fragment_inconsistency` when they differ); the datagram is complete once the last
// fragment fixed its size and the pieces cover it without a hole. The result is a whole IP datagram
// (fragment fields cleared, lengths and IPv4 checksum rewritten) that decodes like any other packet.

import {addWords, checksumOf} from './checksum.js'
import type {IpLayer, WeirdCollector} from './layers.js'
import {WEIRD} from './weird-names.js'

/** Zeek's MIN_ACCEPTABLE_FRAG_SIZE: a non-last fragment this short (IP length) is suspicious. */
const MIN_ACCEPTABLE_FRAGMENT = 64
/** Zeek's MAX_ACCEPTABLE_FRAG_SIZE: payload offsets beyond this are not reassembled. */
const MAX_ACCEPTABLE_FRAGMENT = 64000

interface FragmentBlock {
  start: number
  end: number
  bytes: Uint8Array
}

interface Reassembly {
  version: 4 | 6
  /** Timestamp of the first fragment: the timeout runs from it, as Zeek's fragment timer does. */
  firstTs: number
  /** Non-overlapping pieces of the payload, sorted by offset. */
  blocks: FragmentBlock[]
  /** Payload size set by the last fragment, -1 until it arrives. */
  totalSize: number
  /** Header bytes of the offset-0 fragment (IPv6: everything up to the fragment header). */
  header: Uint8Array | undefined
  /** IPv6: position in `header` of the Next Header byte that pointed at the fragment header. */
  nextHeaderAt: number
  proto: number
  /** Header length (IPv4) or unfragmentable part length (IPv6) the fragments must agree on. */
  unfragmentableLen: number
}

export class FragmentReassembler {
  /** Seconds after its first fragment an incomplete datagram is dropped; 0 keeps it forever. */
  readonly timeout: number
  /** Incomplete datagrams held at most; the oldest is dropped to make room. */
  readonly maxPending: number
  /** Incomplete datagrams dropped by the timeout, and to make room. */
  expired = 0
  evicted = 0
  private readonly pending = new Map<string, Reassembly>()

  constructor(timeout: number, maxPending: number) {
    this.timeout = timeout
    this.maxPending = maxPending
  }

  /** Incomplete datagrams currently held. */
  get size(): number {
    return this.pending.size
  }

  /**
   * Takes the fragment `ip` describes (its bytes are in `data`, fully captured). Returns the whole
   * datagram when this fragment completed it, `held` while it is incomplete, `dropped` when the fragment
   * cannot be used.
   */
  add(data: Uint8Array, ip: IpLayer, ts: number, notes: WeirdCollector): Uint8Array | 'held' | 'dropped' {
    const key = ip.src + '|' + ip.dst + '|' + ip.fragId
    const unfragmentableLen = ip.version === 4 ? ip.headerLen : ip.fragHeaderOffset - ip.start
    let reassembly = this.pending.get(key)
    if (reassembly !== undefined && this.timeout > 0 && ts - reassembly.firstTs >= this.timeout) {
      this.pending.delete(key)
      this.expired++
      reassembly = undefined
    }
    if (reassembly === undefined) {
      if (this.pending.size >= this.maxPending) this.evictOldest()
      reassembly = {
        version: ip.version,
        firstTs: ts,
        blocks: [],
        totalSize: -1,
        header: undefined,
        nextHeaderAt: -1,
        proto: ip.fragNextHeader,
        unfragmentableLen,
      }
      this.pending.set(key, reassembly)
    } else if (reassembly.proto !== ip.fragNextHeader || reassembly.unfragmentableLen !== unfragmentableLen) {
      notes.weird(WEIRD.fragmentProtocolInconsistency)
    }
    if (ip.dontFragment) notes.weird(WEIRD.fragmentWithDf)

    const dataStart = ip.fragDataStart
    const from = ip.fragOffset
    const to = from + ip.start + ip.totalLen - dataStart
    if (from === 0 && reassembly.header === undefined) {
      reassembly.header = data.slice(ip.start, ip.start + unfragmentableLen)
      reassembly.proto = ip.fragNextHeader
      reassembly.nextHeaderAt = ip.version === 6 ? ip.fragNextHeaderOffset - ip.start : -1
    }
    if (!ip.moreFragments) {
      if (reassembly.totalSize < 0) {
        reassembly.totalSize = to
      } else if (to !== reassembly.totalSize) {
        notes.weird(WEIRD.fragmentSizeInconsistency)
        if (to > reassembly.totalSize) reassembly.totalSize = to
      }
    } else {
      if (ip.totalLen < MIN_ACCEPTABLE_FRAGMENT) notes.weird(WEIRD.excessivelySmallFragment)
      if (reassembly.totalSize >= 0 && to > reassembly.totalSize) notes.weird(WEIRD.fragmentSizeInconsistency)
    }
    if (to > MAX_ACCEPTABLE_FRAGMENT) {
      notes.weird(WEIRD.excessivelyLargeFragment)
      return 'dropped'
    }
    insertBlock(reassembly, data, dataStart, from, to, notes)
    if (reassembly.totalSize < 0 || reassembly.header === undefined || !isComplete(reassembly)) return 'held'
    this.pending.delete(key)
    return buildDatagram(reassembly, notes) ?? 'dropped'
  }

  /** Drops incomplete datagrams whose first fragment is `timeout` seconds older than `now`. */
  expire(now: number): number {
    if (this.timeout <= 0) return 0
    let dropped = 0
    for (const [key, reassembly] of this.pending) {
      if (now - reassembly.firstTs >= this.timeout) {
        this.pending.delete(key)
        dropped++
      }
    }
    this.expired += dropped
    return dropped
  }

  private evictOldest(): void {
    // Maps iterate in insertion order, so the first key is the longest held.
    for (const key of this.pending.keys()) {
      this.pending.delete(key)
      this.evicted++
      return
    }
  }
}

/** Adds payload [from, to) where nothing is yet, comparing the bytes where something is. */
function insertBlock(
  reassembly: Reassembly,
  data: Uint8Array,
  dataStart: number,
  from: number,
  to: number,
  notes: WeirdCollector,
): void {
  const blocks = reassembly.blocks
  let position = from
  let overlapped = false
  let differs = false
  const added: FragmentBlock[] = []
  for (const block of blocks) {
    if (position >= to) break
    if (block.end <= position) continue
    if (block.start >= to) break
    if (block.start > position) added.push(pieceOf(data, dataStart, from, position, block.start))
    const overlapEnd = block.end < to ? block.end : to
    const overlapStart = block.start > position ? block.start : position
    overlapped = true
    for (let at = overlapStart; at < overlapEnd && !differs; at++) {
      if (data[dataStart + at - from] !== block.bytes[at - block.start]) differs = true
    }
    position = overlapEnd
  }
  if (position < to) added.push(pieceOf(data, dataStart, from, position, to))
  if (overlapped) notes.weird(differs ? WEIRD.fragmentInconsistency : WEIRD.fragmentOverlap)
  if (added.length === 0) return
  blocks.push(...added)
  blocks.sort((a, b) => a.start - b.start)
}

function pieceOf(
  data: Uint8Array,
  dataStart: number,
  from: number,
  start: number,
  end: number,
): FragmentBlock {
  return {start, end, bytes: data.slice(dataStart + start - from, dataStart + end - from)}
}

function isComplete(reassembly: Reassembly): boolean {
  let covered = 0
  for (const block of reassembly.blocks) {
    if (block.start > covered) return false
    if (block.end > covered) covered = block.end
    if (covered >= reassembly.totalSize) return true
  }
  return covered >= reassembly.totalSize
}

function buildDatagram(reassembly: Reassembly, notes: WeirdCollector): Uint8Array | undefined {
  const header = reassembly.header!
  const size = reassembly.totalSize
  const lastBlock = reassembly.blocks[reassembly.blocks.length - 1]
  if (lastBlock !== undefined && lastBlock.end > size) notes.weird(WEIRD.fragmentSizeInconsistency)
  const datagram = new Uint8Array(header.length + size)
  datagram.set(header)
  for (const block of reassembly.blocks) {
    if (block.start >= size) break
    const bytes = block.end > size ? block.bytes.subarray(0, size - block.start) : block.bytes
    datagram.set(bytes, header.length + block.start)
  }
  if (reassembly.version === 4) {
    const total = datagram.length
    datagram[2] = total >> 8
    datagram[3] = total & 0xff
    // Keep Don't Fragment, clear More Fragments and the offset.
    datagram[6] = datagram[6]! & 0x40
    datagram[7] = 0
    datagram[10] = 0
    datagram[11] = 0
    const checksum = checksumOf(addWords(datagram, 0, header.length, 0))
    datagram[10] = checksum >> 8
    datagram[11] = checksum & 0xff
    return datagram
  }
  const payloadLen = datagram.length - 40
  if (payloadLen > 0xffff) {
    notes.weird(WEIRD.excessivelyLargeFragment)
    return undefined
  }
  datagram[4] = payloadLen >> 8
  datagram[5] = payloadLen & 0xff
  datagram[reassembly.nextHeaderAt] = reassembly.proto
  return datagram
}
