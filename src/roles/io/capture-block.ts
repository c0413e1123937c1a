// One retired ring block as JS sees it: the block's bytes (a view over the ring, not a copy) and one
// column per packet field. A block lives until release(); after that its views read as empty, so copy
// anything that must outlive it.

import {LINKTYPE, type RawFrame} from '../../sensor/types.js'
import {PACKET_COLUMN, PACKET_COLUMN_COUNT, TP_STATUS} from './capture-binding.js'
import type {ChecksumMode} from './capture-options.js'

export interface CaptureBlock {
  /** The ring block number (what release() hands back). */
  readonly index: number
  /** The whole block; packet i is `data.subarray(offsets[i], offsets[i] + capLens[i])`. */
  readonly data: Buffer
  /** Packets in the block. */
  readonly count: number
  readonly offsets: Uint32Array
  readonly capLens: Uint32Array
  readonly wireLens: Uint32Array
  readonly tsSec: Uint32Array
  readonly tsNsec: Uint32Array
  /** 802.1Q tag control information the kernel stripped, -1 = none. */
  readonly vlanTci: Int32Array
  /** tp_status bits per packet (TP_STATUS). */
  readonly status: Uint32Array
  /** The capture's checksum mode, for checksumTrusted(). */
  readonly checksumMode: ChecksumMode
  /** Gives the block back to the kernel; its views (and frames cut from them) go empty. Idempotent. */
  release(): void
}

/** Builds the block for one native callback; `release` is called at most once. */
export function makeCaptureBlock(
  index: number,
  buffer: ArrayBuffer,
  count: number,
  table: Uint32Array,
  checksumMode: ChecksumMode,
  release: () => void,
): CaptureBlock {
  const stride = table.length / PACKET_COLUMN_COUNT
  const column = (at: number): Uint32Array => table.subarray(at * stride, at * stride + count)
  let released = false
  return {
    index,
    data: Buffer.from(buffer),
    count,
    offsets: column(PACKET_COLUMN.offset),
    capLens: column(PACKET_COLUMN.capLen),
    wireLens: column(PACKET_COLUMN.wireLen),
    tsSec: column(PACKET_COLUMN.tsSec),
    tsNsec: column(PACKET_COLUMN.tsNsec),
    vlanTci: new Int32Array(table.buffer, table.byteOffset + PACKET_COLUMN.vlanTci * stride * 4, count),
    status: column(PACKET_COLUMN.status),
    checksumMode,
    release() {
      if (released) return
      released = true
      release()
    },
  }
}

/**
 * Packet `i` of `block` as the sensor's RawFrame: Ethernet, timestamp in seconds, the stripped VLAN tag
 * when there was one. `data` is a subarray of the block, valid only until the block is released.
 * Throws a RangeError for an index outside the block (a programming error, not bad traffic).
 */
export function frameAt(block: CaptureBlock, i: number): RawFrame {
  if (!Number.isInteger(i) || i < 0 || i >= block.count) {
    throw new RangeError(`packet ${i} is not in this block of ${block.count}`)
  }
  const offset = block.offsets[i]!
  const frame: RawFrame = {
    // Whole microseconds, as Zeek's packet sources deliver them and as offline mode reads files, so live
    // and offline runs over the same packets log the same times.
    ts: block.tsSec[i]! + Math.floor(block.tsNsec[i]! / 1000) / 1e6,
    linkType: LINKTYPE.ETHERNET,
    data: block.data.subarray(offset, offset + block.capLens[i]!),
    wireLen: block.wireLens[i]!,
  }
  const tci = block.vlanTci[i]!
  if (tci >= 0) frame.vlanTci = tci
  return frame
}

/**
 * Whether the decoder should take packet `i`'s checksums as valid without verifying them (Zeek's
 * checksum_validation_mode): never with `on`, always with `off`, and with `kernel` when the kernel marked
 * the packet as verified (TP_STATUS_CSUM_VALID) or as not yet checksummed because offloading will do it
 * (TP_STATUS_CSUMNOTREADY, typical for traffic the host itself sends).
 */
export function checksumTrusted(block: CaptureBlock, i: number): boolean {
  switch (block.checksumMode) {
    case 'on':
      return false
    case 'off':
      return true
    case 'kernel':
      return ((block.status[i] ?? 0) & (TP_STATUS.CSUM_VALID | TP_STATUS.CSUMNOTREADY)) !== 0
  }
}
