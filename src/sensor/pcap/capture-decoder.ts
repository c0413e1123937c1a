// Turns a capture file handed over in arbitrary chunks into frames. The first bytes pick the format;
// after that, whole records are parsed straight out of each chunk (frames point into it), and only
// a record split across chunks is assembled in a buffer of its own. Every such buffer is fresh, so
// frames stay valid however far the decoder moves on.

import {CaptureCorruptError, CaptureFormatError} from './capture-errors.js'
import type {CaptureFormat, CaptureFrame, CaptureReadOptions, RecordParser} from './capture-frame.js'
import {PcapRecordParser, readPcapMagic} from './pcap-reader.js'
import {PCAPNG_BLOCK, PcapngBlockParser} from './pcapng-reader.js'

/** Enough to tell pcap, pcapng and gzip apart. */
export const MAGIC_BYTES = 4

/** How a read ended. `truncated` and `corrupt` never both hold. */
export interface CaptureSummary {
  format: CaptureFormat | undefined
  /** Whether the input was gzip-compressed (set by the entry points in capture-file.ts). */
  gzip: boolean
  frameCount: number
  /** Bytes of the (decompressed) capture read as whole records and blocks. */
  bytesRead: number
  /** The input ended inside the file header, a record or a block (or the gzip stream was cut). */
  truncated: boolean
  /** Byte offset of the incomplete record or block in the (decompressed) capture. */
  truncatedAt: number | undefined
  /** What was cut, in words, for a warning. */
  truncation: string | undefined
  /** Set when a record with impossible lengths stopped the read. */
  corrupt: CaptureCorruptError | undefined
  /** pcapng blocks without packets that were skipped. */
  skippedBlocks: number
}

/** True for the first bytes of a gzip stream. */
export function isGzipMagic(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b
}

/** Describes the first bytes for an unknown-format message. */
function magicHex(buf: Uint8Array): string {
  let hex = ''
  for (let i = 0; i < buf.length && i < MAGIC_BYTES; i++) hex += buf[i]!.toString(16).padStart(2, '0')
  return `0x${hex}`
}

/**
 * Picks the parser for a file's first 4 bytes; throws CaptureFormatError for anything else. Gzip is
 * undone before the decoder sees the bytes (capture-file.ts), so here it is an error too.
 */
export function parserForMagic(head: Uint8Array, options: CaptureReadOptions): RecordParser {
  if (head.length >= MAGIC_BYTES && readPcapMagic(head, 0) !== undefined) return new PcapRecordParser(options)
  if (head.length >= MAGIC_BYTES) {
    const type = (head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!
    if (type === PCAPNG_BLOCK.SECTION_HEADER) return new PcapngBlockParser(options)
  }
  if (isGzipMagic(head)) {
    throw new CaptureFormatError(
      'gzip-compressed capture handed to the raw decoder; use readCaptureStream or readCaptureBytes',
    )
  }
  throw new CaptureFormatError(`not a pcap or pcapng file (magic ${magicHex(head)})`)
}

export class CaptureDecoder {
  private parser: RecordParser | undefined = undefined
  /** The start of an incomplete unit (or the magic) copied out of earlier chunks. */
  private pending: Uint8Array | undefined = new Uint8Array(MAGIC_BYTES)
  private pendingLength = 0
  /** File offset of the first byte not yet parsed (the start of `pending` when there is one). */
  private offset = 0
  private frameCount = 0
  private stopped = false
  private externalFailure: CaptureCorruptError | undefined = undefined
  private readonly options: CaptureReadOptions

  constructor(options: CaptureReadOptions = {}) {
    this.options = options
  }

  /** True once a corrupt record (or finish) ended the read; further chunks are ignored. */
  get done(): boolean {
    return this.stopped
  }

  /** File offset of the first byte not yet parsed as part of a whole unit. */
  get position(): number {
    return this.offset
  }

  get format(): CaptureFormat | undefined {
    return this.parser?.format
  }

  /**
   * Parses a chunk and returns the frames it completed (a new array each call). Throws
   * CaptureFormatError only while the file's first bytes are being recognised; a corrupt record
   * later on ends the read and shows up in `finish()`.
   */
  push(input: Uint8Array): CaptureFrame[] {
    const out: CaptureFrame[] = []
    if (this.stopped || input.length === 0) return out
    const chunk = this.options.reusesChunks === true ? input.slice() : input
    let pos = 0
    if (this.pending !== undefined) {
      pos = this.fillPending(chunk, out)
      if (this.pending !== undefined || this.stopped) {
        this.frameCount += out.length
        return out
      }
    }
    const parser = this.parser!
    const base = this.offset - pos
    const stop = parser.parse(chunk, pos, chunk.length, base, out)
    this.frameCount += out.length
    this.offset = base + stop
    if (parser.failure !== undefined) return this.stop(parser, out)
    if (stop < chunk.length) {
      // The leftover is shorter than the unit it starts, so `needed` bytes hold the whole unit.
      this.pending = new Uint8Array(Math.max(parser.needed, chunk.length - stop))
      this.pending.set(chunk.subarray(stop))
      this.pendingLength = chunk.length - stop
    }
    return out
  }

  /** Ends the read. `inputCut` says why the input itself ended early (a cut gzip stream). */
  finish(inputCut?: string): CaptureSummary {
    this.stopped = true
    const parser = this.parser
    const corrupt = parser?.failure instanceof CaptureCorruptError ? parser.failure : this.externalFailure
    let truncation: string | undefined
    if (corrupt === undefined) {
      if (parser === undefined) {
        truncation =
          this.pendingLength === 0
            ? 'the file is empty'
            : `the file ends after ${this.pendingLength} bytes of its magic`
      } else if (this.pendingLength > 0) {
        truncation =
          `the file ends at byte offset ${this.offset + this.pendingLength} inside a ${parser.unitName} starting at ` +
          `byte offset ${this.offset} (${parser.needed} bytes needed, ${this.pendingLength} present)`
      }
      if (inputCut !== undefined)
        truncation = truncation === undefined ? inputCut : `${inputCut}; ${truncation}`
    }
    return {
      format: parser?.format,
      gzip: false,
      frameCount: this.frameCount,
      bytesRead: this.offset,
      truncated: truncation !== undefined,
      truncatedAt: truncation !== undefined ? this.offset : undefined,
      truncation,
      corrupt,
      skippedBlocks: parser?.skippedBlocks ?? 0,
    }
  }

  /** Stops the read at a problem found outside the capture format (a gzip data error). */
  fail(error: CaptureCorruptError): void {
    this.stopped = true
    this.externalFailure ??= error
  }

  /**
   * Completes the pending unit from the front of `chunk`, parsing it once whole. Returns how many
   * bytes of the chunk it took; `pending` stays set when the chunk ran out first.
   */
  private fillPending(chunk: Uint8Array, out: CaptureFrame[]): number {
    let pos = 0
    for (;;) {
      let pending = this.pending!
      const needed = this.parser === undefined ? MAGIC_BYTES : this.parser.needed
      if (needed > pending.length) {
        const grown = new Uint8Array(needed)
        grown.set(pending.subarray(0, this.pendingLength))
        this.pending = pending = grown
      }
      const take = Math.min(needed - this.pendingLength, chunk.length - pos)
      pending.set(chunk.subarray(pos, pos + take), this.pendingLength)
      this.pendingLength += take
      pos += take
      if (this.pendingLength < needed) return pos
      if (this.parser === undefined) {
        this.parser = parserForMagic(pending.subarray(0, MAGIC_BYTES), this.options)
        continue
      }
      const used = this.parser.parse(pending, 0, this.pendingLength, this.offset, out)
      if (this.parser.failure !== undefined) {
        this.stop(this.parser, out)
        return pos
      }
      if (used === this.pendingLength) {
        this.offset += used
        this.pending = undefined
        this.pendingLength = 0
        return pos
      }
      if (used > 0) {
        // Not expected (a unit is never smaller than the header that sized it), but stay correct.
        this.offset += used
        this.pending = pending.slice(used, this.pendingLength)
        this.pendingLength -= used
      } else if (this.parser.needed <= this.pendingLength) {
        throw new Error(`capture parser made no progress at byte offset ${this.offset}`)
      }
    }
  }

  private stop(parser: RecordParser, out: CaptureFrame[]): CaptureFrame[] {
    this.stopped = true
    if (parser.failure instanceof CaptureFormatError) throw parser.failure
    return out
  }
}
