// Appends lines to a file descriptor without ever writing on the event loop: lines are gathered, then
// go out in one write on libuv's thread pool, one write at a time, in order. A synchronous append is
// microseconds until the file's last page is under writeback, the journal commits or a pipe's reader
// falls behind; then it stalled every request behind it (50–150 ms on this project's test VM, forever
// for a reader that stopped reading). Gathering keeps the thread pool's wake-ups few, which matters on
// two cores where each wake-up takes the CPU from the threads doing the work.
//
// What may wait is bounded (`capacity`, in lines or in the units of `weigh`, the batch being written
// included). A line past the bound is refused and reported as lost, and so is a batch whose write
// failed: nothing is dropped without the owner hearing of it. The owners are the alarm output files
// (alarm-files.ts) and the process's log output (log-output.ts).

import {closeSync, write} from 'node:fs'
import {writeAllSync} from './write-all.js'

/** How long to wait before retrying a non-blocking output that was full. */
const RETRY_MS = 10

export type LossReason = 'queue_full' | 'write_error'

export interface LineAppenderOptions {
  /** How much may wait, queued or being written, in the units of `weigh`. */
  capacity: number
  /** A line's share of the capacity (default: 1, so the capacity counts lines). */
  weigh?: (line: string) => number
  /** 0: write at the end of the loop turn (setImmediate); else gather lines this long first. */
  gatherMs: number
  /** Lines refused (`queue_full`, or `write_error` once closed) or lost with a failed write. */
  onLost?: (reason: LossReason, count: number, error?: Error) => void
  /** A line to put in front of the next batch, if any (the log output's dropped-lines report). */
  headLine?: () => string | undefined
}

export interface LineAppenderStats {
  /** Lines written. */
  readonly written: number
  /** Lines queued or being written. */
  readonly pending: number
  readonly lost: number
  /** Write batches started (a batch may take more than one write(2) if the kernel writes short). */
  readonly writes: number
}

/** Lines must end with '\n'; the appender writes them as they are. */
export class LineAppender {
  private readonly fd: number
  private readonly capacity: number
  private readonly weigh: ((line: string) => number) | undefined
  private readonly gatherMs: number
  private readonly onLost: LineAppenderOptions['onLost']
  private readonly headLine: LineAppenderOptions['headLine']
  private lines: string[] = []
  private queuedLoad = 0
  /** A batch is being written: its line count and capacity use. */
  private inFlight = false
  private writingLines = 0
  private writingLoad = 0
  private scheduled = false
  private closed = false
  private written = 0
  private lost = 0
  private writes = 0
  private waiters: (() => void)[] = []

  constructor(fd: number, options: LineAppenderOptions) {
    this.fd = fd
    this.capacity = options.capacity
    this.weigh = options.weigh
    this.gatherMs = options.gatherMs
    this.onLost = options.onLost
    this.headLine = options.headLine
  }

  /** Lines queued or being written. */
  get pending(): number {
    return this.lines.length + this.writingLines
  }

  /** More than half of the capacity is in use: a producer that can wait should wait for `drained()`. */
  get congested(): boolean {
    return (this.queuedLoad + this.writingLoad) * 2 > this.capacity
  }

  add(line: string): void {
    if (this.closed) {
      this.lose('write_error', 1, new Error('the output is closed'))
      return
    }
    const weight = this.weigh === undefined ? 1 : this.weigh(line)
    if (this.queuedLoad + this.writingLoad + weight > this.capacity) {
      this.lose('queue_full', 1)
    } else {
      this.lines.push(line)
      this.queuedLoad += weight
    }
    // Also after a refusal: the owner's head line (its loss report) needs a batch to go out in.
    if (this.scheduled || this.inFlight) return
    this.scheduled = true
    if (this.gatherMs > 0) setTimeout(this.writeNext, this.gatherMs)
    else setImmediate(this.writeNext)
  }

  /** Resolves once every line added so far is written or counted as lost. */
  drained(): Promise<void> {
    if (this.idle()) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  stats(): LineAppenderStats {
    return {written: this.written, pending: this.pending, lost: this.lost, writes: this.writes}
  }

  /**
   * Writes the queued lines synchronously (at process exit), retrying a full non-blocking output
   * until `deadlineMs` has passed. A batch already being written is the thread pool's: writing it
   * here too could print it twice.
   */
  flushSync(deadlineMs: number): void {
    const batch = this.takeBatch()
    if (batch === undefined) return
    try {
      writeAllSync(this.fd, Buffer.from(batch.text, 'utf8'), deadlineMs)
    } catch (error) {
      this.lose('write_error', batch.lines, error as Error)
      return
    }
    this.written += batch.lines
  }

  /** Writes what is pending, then closes the descriptor; later lines are counted as lost. */
  async close(): Promise<void> {
    await this.drained()
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  private idle(): boolean {
    return !this.inFlight && this.lines.length === 0
  }

  private lose(reason: LossReason, count: number, error?: Error): void {
    this.lost += count
    this.onLost?.(reason, count, error)
  }

  /** Takes the queued lines, behind the owner's head line if it has one. */
  private takeBatch(): {text: string; lines: number; load: number} | undefined {
    const head = this.headLine?.()
    if (head === undefined && this.lines.length === 0) return undefined
    // The head line is the appender owner's, not a producer's: it weighs nothing and is not counted.
    const batch = {text: (head ?? '') + this.lines.join(''), lines: this.lines.length, load: this.queuedLoad}
    this.lines = []
    this.queuedLoad = 0
    return batch
  }

  private readonly writeNext = (): void => {
    this.scheduled = false
    if (this.inFlight) return
    const batch = this.takeBatch()
    if (batch === undefined) return this.settle()
    this.inFlight = true
    this.writingLines = batch.lines
    this.writingLoad = batch.load
    this.writes++
    this.writeFrom(Buffer.from(batch.text, 'utf8'), 0)
  }

  private writeFrom(buffer: Buffer, offset: number): void {
    write(this.fd, buffer, offset, buffer.length - offset, null, (error, bytes) => {
      if (error !== null && error.code === 'EAGAIN') {
        setTimeout(() => this.writeFrom(buffer, offset), RETRY_MS)
        return
      }
      if (error === null && offset + bytes < buffer.length) return this.writeFrom(buffer, offset + bytes)
      const lines = this.writingLines
      this.inFlight = false
      this.writingLines = 0
      this.writingLoad = 0
      if (error === null) this.written += lines
      else this.lose('write_error', lines, error)
      this.writeNext()
    })
  }

  private settle(): void {
    if (!this.idle()) return
    for (const resolve of this.waiters.splice(0)) resolve()
  }
}
