// The entry points for reading a capture: a whole file in memory, or a stream of chunks of any size
// (files of many GB). Both sniff the first bytes, undo gzip transparently, and never lose frames to
// a bad ending: a cut file is reported in the summary, and a corrupt record is reported after every
// frame before it has been handed out.

import {Readable, pipeline} from 'node:stream'
import {constants as zlibConstants, createGunzip, gunzipSync} from 'node:zlib'
import {CaptureCorruptError} from './capture-errors.js'
import {CaptureDecoder, isGzipMagic} from './capture-decoder.js'
import type {CaptureSummary} from './capture-decoder.js'
import type {CaptureFrame, CaptureReadOptions} from './capture-frame.js'

const GZIP_MAGIC_BYTES = 2
const GUNZIP_CHUNK_BYTES = 64 * 1024
const GZIP_CUT = 'the gzip stream ends early'

export interface CaptureStreamOptions extends CaptureReadOptions {
  /**
   * Called once with the summary when the input is used up, also just before a corrupt-file error
   * is thrown.
   */
  onEnd?: (summary: CaptureSummary) => void
}

export interface CaptureReadResult extends CaptureSummary {
  frames: CaptureFrame[]
}

/** zlib's errors carry Z_* codes; Z_BUF_ERROR at the end means the compressed input was cut. */
function zlibErrorCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as {code?: unknown}).code : undefined
  return typeof code === 'string' && code.startsWith('Z_') ? code : undefined
}

/**
 * Reads a capture held in memory. Frames point into `bytes` (or into the decompressed copy).
 * Throws CaptureFormatError when the input is no capture file; anything later (a cut file, a
 * corrupt record, a damaged gzip stream) is reported in the result next to the frames read so far.
 */
export function readCaptureBytes(bytes: Uint8Array, options: CaptureReadOptions = {}): CaptureReadResult {
  const decoder = new CaptureDecoder(options)
  const gzip = isGzipMagic(bytes)
  let capture = bytes
  let inputCut: string | undefined
  if (gzip) {
    const inflated = inflateWhole(bytes)
    capture = inflated.data
    inputCut = inflated.cut
    if (inflated.error !== undefined) decoder.fail(inflated.error)
  }
  const frames = decoder.push(capture)
  return {...decoder.finish(inputCut), gzip, frames}
}

interface Inflated {
  data: Uint8Array
  cut: string | undefined
  error: CaptureCorruptError | undefined
}

function inflateWhole(bytes: Uint8Array): Inflated {
  try {
    return {data: gunzipSync(bytes), cut: undefined, error: undefined}
  } catch (error) {
    const code = zlibErrorCode(error)
    if (code === undefined) throw error
    if (code === 'Z_BUF_ERROR') {
      // Flushing instead of finishing returns what the cut stream holds instead of failing.
      try {
        return {
          data: gunzipSync(bytes, {finishFlush: zlibConstants.Z_SYNC_FLUSH}),
          cut: GZIP_CUT,
          error: undefined,
        }
      } catch {
        // Damaged as well as cut: reported as a data error below.
      }
    }
    return {
      data: new Uint8Array(0),
      cut: undefined,
      error: new CaptureCorruptError(0, `gzip data error (${(error as Error).message})`),
    }
  }
}

/**
 * Reads a capture from a stream of chunks (a file stream, say), yielding the frames of each chunk as
 * one batch. The generator's return value (and `options.onEnd`) is the summary; a cut file sets
 * `truncated` there. Throws CaptureFormatError before any frame when the input is no capture file,
 * and a CaptureCorruptError after the last good frame when a record's lengths are impossible (as
 * libpcap, and so Zeek, stops at such a record).
 */
export async function* readCaptureStream(
  source: AsyncIterable<Uint8Array>,
  options: CaptureStreamOptions = {},
): AsyncGenerator<CaptureFrame[], CaptureSummary, undefined> {
  const iterator = source[Symbol.asyncIterator]()
  const head: Uint8Array[] = []
  let headLength = 0
  let sourceDone = false
  while (headLength < GZIP_MAGIC_BYTES) {
    const next = await iterator.next()
    if (next.done === true) {
      sourceDone = true
      break
    }
    head.push(next.value)
    headLength += next.value.length
  }
  const gzip = isGzipMagic(head.length === 1 ? head[0]! : concat(head, GZIP_MAGIC_BYTES))
  const raw = replay(head, iterator, sourceDone)
  const decoder = new CaptureDecoder(options)
  let inputCut: string | undefined
  try {
    for await (const chunk of gzip ? gunzip(raw) : raw) {
      const frames = decoder.push(chunk)
      if (frames.length > 0) yield frames
      if (decoder.done) break
    }
  } catch (error) {
    const code = gzip ? zlibErrorCode(error) : undefined
    if (code === undefined) throw error
    if (code === 'Z_BUF_ERROR') inputCut = GZIP_CUT
    else
      decoder.fail(new CaptureCorruptError(decoder.position, `gzip data error (${(error as Error).message})`))
  }
  const summary = {...decoder.finish(inputCut), gzip}
  options.onEnd?.(summary)
  if (summary.corrupt !== undefined) throw summary.corrupt
  return summary
}

/** The first `length` bytes of some chunks. */
function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let filled = 0
  for (const chunk of chunks) {
    if (filled >= length) break
    const part = chunk.subarray(0, length - filled)
    out.set(part, filled)
    filled += part.length
  }
  return out.subarray(0, filled)
}

/** The chunks read while sniffing, then the rest of the source; closes the source when stopped early. */
async function* replay(
  head: Uint8Array[],
  iterator: AsyncIterator<Uint8Array>,
  sourceDone: boolean,
): AsyncGenerator<Uint8Array, void, undefined> {
  let finished = sourceDone
  try {
    yield* head
    while (!finished) {
      const next = await iterator.next()
      if (next.done === true) finished = true
      else yield next.value
    }
  } finally {
    if (!finished) await iterator.return?.()
  }
}

/** Decompresses a chunk stream. zlib's errors (Z_BUF_ERROR for a cut stream) come out of the iteration. */
async function* gunzip(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const inflater = createGunzip({chunkSize: GUNZIP_CHUNK_BYTES})
  // Errors of either side end up on the inflater, whose iteration below rethrows them.
  pipeline(Readable.from(chunks, {objectMode: false}), inflater, () => {})
  for await (const chunk of inflater) yield chunk as Uint8Array
}
