// One direction of an HTTP/1.x byte stream cut into messages: start line, header lines (split
// anywhere across chunks, obs-fold continuations joined), then a body delimited by Content-Length,
// chunked transfer coding or the end of the connection. The parser only counts body bytes; what a
// line or a header means is up to its HttpMessageEvents.

import {latin1} from './byte-text.js'

const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const HT = 0x09

/** A start or header line longer than this is not HTTP (Zeek: contentline_size_exceeded). */
export const MAX_LINE_LENGTH = 64 * 1024
/** How much of an unfinished start line is checked for plausibility (a method name is shorter). */
const PLAUSIBILITY_WINDOW = 64

/** How the body after the headers is delimited. */
export type BodyFraming =
  /** No body at all (HEAD responses, 1xx/204/304). */
  | 'none'
  /** By Transfer-Encoding/Content-Length; with neither, none for a request and to the close for a reply. */
  | 'framed'
  /** The connection stops being HTTP after these headers (CONNECT 2xx, 101 Switching Protocols). */
  | 'tunnel'

export interface HttpMessageEvents {
  /** The start line (no line ending). False means it is not HTTP: the stream stops. */
  startLine(line: Uint8Array, ts: number): boolean
  /** The start of a line that has no end yet: false when it already cannot be a start line. */
  plausibleStart(partial: Uint8Array): boolean
  header(name: string, value: string): void
  headersDone(ts: number): BodyFraming
  body(length: number): void
  messageDone(ts: number): void
  weird(name: string, addl?: string): void
}

type State =
  | 'start'
  | 'headers'
  | 'body'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'body-to-close'
  | 'suspended'
  | 'stopped'

const HEX_VALUE = (byte: number): number => {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  const lower = byte | 0x20
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10
  return -1
}

export class HttpStreamParser {
  private readonly events: HttpMessageEvents
  private readonly isRequest: boolean
  private state: State = 'start'
  /** Pieces of a line whose end has not arrived yet (kept as pieces: no quadratic re-copying). */
  private partial: Uint8Array[] = []
  private partialLength = 0
  /** Bytes left in the current Content-Length body or chunk. */
  private remaining = 0
  /** A header line held back until we know the next line is not its continuation. */
  private heldHeader: string | undefined
  private contentLength: number | undefined
  private chunked = false
  private inMessage = false

  constructor(events: HttpMessageEvents, isRequest: boolean) {
    this.events = events
    this.isRequest = isRequest
  }

  /** False once the stream stopped being parsed (not HTTP, tunnel, lost sync). */
  get active(): boolean {
    return this.state !== 'stopped'
  }

  /** Ignore bytes until resume() (a CONNECT request waits for its answer). */
  suspend(): void {
    if (this.state !== 'stopped') this.state = 'suspended'
  }

  resume(): void {
    if (this.state === 'suspended') this.state = 'start'
  }

  stop(): void {
    this.state = 'stopped'
    this.partial = []
    this.partialLength = 0
  }

  feed(data: Uint8Array, ts: number): void {
    let pos = 0
    while (pos < data.length) {
      switch (this.state) {
        case 'stopped':
        case 'suspended':
          return
        case 'body':
        case 'chunk-data': {
          const take = Math.min(this.remaining, data.length - pos)
          this.remaining -= take
          pos += take
          this.events.body(take)
          if (this.remaining === 0) {
            if (this.state === 'body') this.endMessage(ts)
            else this.state = 'chunk-end'
          }
          break
        }
        case 'body-to-close':
          this.events.body(data.length - pos)
          return
        default: {
          const lineEnd = data.indexOf(LF, pos)
          if (lineEnd < 0) {
            this.holdPartial(data.subarray(pos))
            return
          }
          const line = this.completeLine(data.subarray(pos, lineEnd))
          pos = lineEnd + 1
          this.line(line, ts)
        }
      }
    }
  }

  /** `length` bytes of this direction were never seen. */
  gap(length: number, ts: number): void {
    if (this.state === 'body' && length < this.remaining) {
      this.remaining -= length
    } else if (this.state === 'body' && length === this.remaining) {
      this.remaining = 0
      this.endMessage(ts)
    } else if (this.state !== 'body-to-close') {
      // Inside headers or chunk framing there is no way to find the next message again.
      this.stop()
    }
  }

  /** The connection ended: a body delimited by the close, or cut short, ends here. */
  finish(ts: number): void {
    if (this.inMessage) {
      this.flushHeldHeader()
      this.endMessage(ts)
    }
    this.stop()
  }

  private holdPartial(piece: Uint8Array): void {
    // Copy: the caller may reuse its buffer for the next chunk.
    this.partial.push(piece.slice())
    this.partialLength += piece.length
    if (this.partialLength > MAX_LINE_LENGTH) {
      this.events.weird('contentline_size_exceeded')
      this.stop()
      return
    }
    // Only the first bytes of a start line decide whether it can be HTTP; later pieces are not rejoined.
    if (this.state === 'start' && this.partialLength - piece.length < PLAUSIBILITY_WINDOW) {
      const soFar = this.partial.length === 1 ? this.partial[0]! : this.joinPartial(new Uint8Array(0))
      if (this.partial.length > 1) this.partial = [soFar]
      const firstNonBlank = soFar.findIndex((byte) => byte !== CR)
      if (firstNonBlank >= 0 && !this.events.plausibleStart(soFar.subarray(firstNonBlank))) this.stop()
    }
  }

  private joinPartial(tail: Uint8Array): Uint8Array {
    const joined = new Uint8Array(this.partialLength + tail.length)
    let at = 0
    for (const piece of this.partial) {
      joined.set(piece, at)
      at += piece.length
    }
    joined.set(tail, at)
    return joined
  }

  /** The whole line ending in `tail`, without its CR. */
  private completeLine(tail: Uint8Array): Uint8Array {
    let line = tail
    if (this.partialLength > 0) {
      line = this.joinPartial(tail)
      this.partial = []
      this.partialLength = 0
    }
    return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line
  }

  private line(line: Uint8Array, ts: number): void {
    switch (this.state) {
      case 'start':
        if (line.length === 0) return // stray CRLF between messages is tolerated, as servers do
        if (!this.events.startLine(line, ts)) {
          this.stop()
          return
        }
        this.inMessage = true
        this.contentLength = undefined
        this.chunked = false
        this.state = 'headers'
        return
      case 'headers':
        this.headerLine(line, ts)
        return
      case 'chunk-size':
        this.chunkSize(line, ts)
        return
      case 'chunk-end':
        if (line.length !== 0) this.events.weird('HTTP_chunk_missing_CRLF')
        this.state = 'chunk-size'
        return
      case 'trailers':
        if (line.length === 0) this.endMessage(ts)
        return
      default:
        return
    }
  }

  private headerLine(line: Uint8Array, ts: number): void {
    if (line.length > 0 && (line[0] === SP || line[0] === HT)) {
      if (this.heldHeader !== undefined) this.heldHeader += ' ' + latin1(line).trim()
      return
    }
    this.flushHeldHeader()
    if (line.length > 0) {
      this.heldHeader = latin1(line)
      return
    }
    const framing = this.events.headersDone(ts)
    if (framing === 'tunnel') {
      this.inMessage = false
      this.stop()
      return
    }
    if (framing === 'none') {
      this.endMessage(ts)
    } else if (this.chunked) {
      this.state = 'chunk-size'
    } else if (this.contentLength !== undefined && this.contentLength > 0) {
      this.remaining = this.contentLength
      this.state = 'body'
    } else if (this.contentLength === undefined && !this.isRequest) {
      this.state = 'body-to-close'
    } else {
      this.endMessage(ts)
    }
  }

  private flushHeldHeader(): void {
    const text = this.heldHeader
    if (text === undefined) return
    this.heldHeader = undefined
    const colon = text.indexOf(':')
    if (colon <= 0) {
      this.events.weird('HTTP_header_no_colon')
      return
    }
    const name = text.slice(0, colon).trim()
    const value = text.slice(colon + 1).trim()
    const upper = name.toUpperCase()
    if (upper === 'CONTENT-LENGTH') {
      // As Zeek: a value that is not a number counts as 0.
      this.contentLength = /^\d+$/.test(value) ? Number(value) : 0
    } else if (upper === 'TRANSFER-ENCODING') {
      if (value.toLowerCase().includes('chunked')) this.chunked = true
    }
    this.events.header(name, value)
  }

  private chunkSize(line: Uint8Array, ts: number): void {
    let size = 0
    let digits = 0
    let at = 0
    while (at < line.length && (line[at] === SP || line[at] === HT)) at++
    for (; at < line.length; at++) {
      const value = HEX_VALUE(line[at]!)
      if (value < 0) break
      size = size * 16 + value
      digits++
    }
    const rest = at < line.length ? line[at]! : undefined
    const restOk = rest === undefined || rest === 0x3b /* ; */ || rest === SP || rest === HT
    if (digits === 0 || digits > 13 || !restOk) {
      this.events.weird('HTTP_bad_chunk_size', latin1(line, 0, Math.min(line.length, 32)))
      this.finish(ts)
      return
    }
    if (size === 0) {
      this.state = 'trailers'
      return
    }
    this.remaining = size
    this.state = 'chunk-data'
  }

  private endMessage(ts: number): void {
    this.inMessage = false
    this.state = 'start'
    this.events.messageDone(ts)
  }
}
