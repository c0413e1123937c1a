// What the format readers share: the frame they produce (a RawFrame plus the exact timestamp) and
// the record-parser contract the chunk assembler in capture-decoder.ts drives.

import type {RawFrame} from '../types.js'
import type {CaptureCorruptError, CaptureFormatError} from './capture-errors.js'

export type CaptureFormat = 'pcap' | 'pcapng'

/**
 * A frame read from a capture file. `ts` is a double: at today's epoch values it resolves about a
 * quarter of a microsecond, so nanosecond files lose their last digits there. `tsSec` and `tsNsec`
 * keep the file's timestamp exactly (to the nanosecond; finer or power-of-two resolutions are
 * rounded down to the nanosecond).
 */
export interface CaptureFrame extends RawFrame {
  /** Whole seconds since the epoch. */
  tsSec: number
  /** Nanoseconds within `tsSec`, 0 … 999,999,999. */
  tsNsec: number
}

export interface CaptureReadOptions {
  /**
   * Set when the source refills the buffers it hands over: frames are then copied out of each chunk.
   * Node's file and zlib streams allocate a fresh buffer per chunk, so the default (false) lets
   * frames point into the chunks without copying.
   */
  reusesChunks?: boolean
  /**
   * 'micro' cuts `ts` down to whole microseconds, as libpcap does when a file is opened in its default
   * (microsecond) mode, which is how Zeek reads traces. 'native' (default) keeps the file's resolution.
   * `tsSec`/`tsNsec` are exact either way.
   */
  timestampPrecision?: 'native' | 'micro'
}

/**
 * Parses whole units (file header, record, block) of one format from a byte range. A parser keeps
 * its own state across calls (byte order, interfaces), so the caller must hand it the bytes in file
 * order and resume exactly where the last call stopped.
 */
export interface RecordParser {
  readonly format: CaptureFormat
  /**
   * Bytes the next unit takes, counted from where the last parse stopped (its header size while the
   * header is incomplete).
   */
  readonly needed: number
  /** What the next unit is, for truncation messages: 'record', 'block header', … */
  readonly unitName: string
  /** Set when parsing stopped for good; a format error can only come from the file's first unit. */
  readonly failure: CaptureFormatError | CaptureCorruptError | undefined
  /** pcapng blocks that carry no packets and were skipped (name resolution, statistics, unknown types). */
  readonly skippedBlocks: number
  /**
   * Appends the frames of every whole unit in `buf[pos, end)` to `out` and returns where the first
   * incomplete (or bad) unit starts. `base` is the file offset of `buf[0]`, for error messages.
   * Frames point into `buf`.
   */
  parse(buf: Uint8Array, pos: number, end: number, base: number, out: CaptureFrame[]): number
}

/**
 * A record or block longer than this is corrupt whatever the snap length says (libpcap's usual
 * maximum is 256 KiB, a few link types allow some MiB). The bound keeps a corrupt length from making
 * the stream reader buffer gigabytes.
 */
export const MAX_UNIT_BYTES = 64 * 1024 * 1024
