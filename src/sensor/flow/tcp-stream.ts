// One direction of a TCP byte stream, put back in order for the analysers. Segments ahead of a hole
// wait in a bounded buffer; bytes already delivered are never delivered again (on overlap the first
// copy wins); a hole becomes a gap only when it can no longer be filled: the other side acknowledged
// past it, the buffer overflowed, or the connection ended. Positions are relative sequence numbers
// (1 = the first byte after the SYN) held in doubles, so 32-bit wrap-around is not a concern here.

export const GAP = {
  /** The peer acknowledged bytes we never saw: real loss. */
  ACKED: 0,
  /** Same, but the acknowledgement came with or after the acker's FIN/RST, which Zeek distrusts. */
  ACKED_AT_CLOSE: 1,
  /** Never acknowledged: the buffer overflowed or the connection ended with a hole. */
  UNACKED: 2,
} as const
export type GapCause = (typeof GAP)[keyof typeof GAP]

export interface StreamConsumer {
  streamData(isOrig: boolean, data: Uint8Array, ts: number): void
  streamGap(isOrig: boolean, length: number, ts: number, cause: GapCause): void
}

/** Per direction: out-of-order bytes kept waiting for a hole to fill, and ranges tracked. */
export const MAX_BUFFERED_BYTES = 1 << 20
export const MAX_BUFFERED_BLOCKS = 4096

interface Block {
  start: number
  end: number
  data: Uint8Array | undefined
}

export class TcpStream {
  /** Relative sequence number of the next byte to deliver. */
  next = 1
  private blocks: Block[] = []
  private buffered = 0
  private keepData = true
  private readonly isOrig: boolean
  private readonly consumer: StreamConsumer

  constructor(isOrig: boolean, consumer: StreamConsumer) {
    this.isOrig = isOrig
    this.consumer = consumer
  }

  /** Bytes held for out-of-order delivery. */
  get bufferedBytes(): number {
    return this.buffered
  }

  /**
   * Nobody wants the bytes any more (no analyser, or all gave up): keep tracking ranges for gaps but
   * store and deliver nothing.
   */
  dropData(): void {
    this.keepData = false
    for (const block of this.blocks) block.data = undefined
    this.buffered = 0
  }

  /** The sequence space was re-initialised (a new SYN): forget positions. */
  reset(): void {
    this.blocks = []
    this.buffered = 0
    this.next = 1
  }

  /**
   * A segment whose payload starts at `start` and is `length` bytes long by its headers; `payload`
   * holds the captured part (a snap length can cut it; the rest stays a hole).
   */
  add(start: number, payload: Uint8Array, length: number, ts: number): void {
    const captured = payload.length < length ? payload.length : length
    const end = start + captured
    if (end <= this.next) return
    if (this.blocks.length === 0 && start <= this.next) {
      // In order (the common case): hand the new part straight through, nothing buffered.
      const offset = this.next - start
      this.next = end
      if (this.keepData) {
        this.consumer.streamData(
          this.isOrig,
          offset === 0 && captured === payload.length ? payload : payload.subarray(offset, captured),
          ts,
        )
      }
      return
    }
    this.insert(start > this.next ? start : this.next, end, payload, start)
    this.flush(ts)
    if (this.buffered > MAX_BUFFERED_BYTES || this.blocks.length > MAX_BUFFERED_BLOCKS) {
      // Out of room: give up on the first hole and move on to what we have.
      const first = this.blocks[0]
      if (first !== undefined) this.skipTo(first.start, ts, GAP.UNACKED)
    }
  }

  /**
   * The other side acknowledged everything below `upTo`: holes there will never be filled. Returns
   * the number of bytes that were missing.
   */
  acked(upTo: number, ts: number, cause: GapCause): number {
    return upTo > this.next ? this.skipTo(upTo, ts, cause) : 0
  }

  /** End of the connection: whatever is still buffered is delivered, holes before it become gaps. */
  finish(dataEnd: number, ts: number): void {
    const last = this.blocks[this.blocks.length - 1]
    const end = last !== undefined && last.end > dataEnd ? last.end : dataEnd
    if (end > this.next) this.skipTo(end, ts, GAP.UNACKED)
  }

  private skipTo(upTo: number, ts: number, cause: GapCause): number {
    let missing = 0
    while (this.next < upTo) {
      const first = this.blocks[0]
      const holeEnd = first === undefined || first.start > upTo ? upTo : first.start
      const length = holeEnd - this.next
      if (length > 0) {
        missing += length
        this.next = holeEnd
        this.consumer.streamGap(this.isOrig, length, ts, cause)
      }
      this.flush(ts)
    }
    return missing
  }

  /** Stores the parts of [from, end) no block covers yet (earlier copies win on overlap). */
  private insert(from: number, end: number, payload: Uint8Array, payloadStart: number): void {
    const blocks = this.blocks
    let i = 0
    let pos = from
    while (pos < end) {
      while (i < blocks.length && blocks[i]!.end <= pos) i++
      const next = blocks[i]
      if (next !== undefined && next.start <= pos) {
        pos = next.end
        i++
        continue
      }
      const stop = next === undefined || next.start > end ? end : next.start
      const data = this.keepData ? payload.slice(pos - payloadStart, stop - payloadStart) : undefined
      blocks.splice(i, 0, {start: pos, end: stop, data})
      if (data !== undefined) this.buffered += data.length
      i++
      pos = stop
    }
  }

  /** Delivers buffered blocks that now continue the stream. */
  private flush(ts: number): void {
    const blocks = this.blocks
    while (blocks.length > 0 && blocks[0]!.start <= this.next) {
      const block = blocks.shift()!
      if (block.data !== undefined) this.buffered -= block.data.length
      if (block.end <= this.next) continue
      const offset = this.next - block.start
      this.next = block.end
      if (block.data !== undefined) {
        this.consumer.streamData(this.isOrig, offset === 0 ? block.data : block.data.subarray(offset), ts)
      }
    }
  }
}
