// A growable byte buffer for the capture writers: space is reserved in place and filled through a
// DataView, so a million records cost a handful of reallocations instead of a million small arrays.

const INITIAL_BYTES = 64 * 1024

export class ByteSink {
  length = 0
  private buffer = new Uint8Array(INITIAL_BYTES)
  private dataView = new DataView(this.buffer.buffer)

  /** The view to fill reserved space through; valid until the next `reserve`. */
  get view(): DataView {
    return this.dataView
  }

  /** Reserves `bytes` zero-filled bytes at the end and returns their offset. */
  reserve(bytes: number): number {
    const start = this.length
    const end = start + bytes
    if (end > this.buffer.length) {
      let size = this.buffer.length * 2
      while (size < end) size *= 2
      const grown = new Uint8Array(size)
      grown.set(this.buffer.subarray(0, start))
      this.buffer = grown
      this.dataView = new DataView(grown.buffer)
    }
    this.length = end
    return start
  }

  /** Copies `data` to `offset` (inside reserved space). */
  set(data: Uint8Array, offset: number): void {
    this.buffer.set(data, offset)
  }

  /** A copy of everything written. */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }

  /** Hands over everything written so far and starts empty again, keeping the buffer for reuse. */
  drain(): Uint8Array {
    const bytes = this.buffer.slice(0, this.length)
    // `reserve` promises zero-filled space.
    this.buffer.fill(0, 0, this.length)
    this.length = 0
    return bytes
  }
}
