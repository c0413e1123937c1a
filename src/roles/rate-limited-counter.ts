// Losses that can happen once per event (a dropped event, an unsent log line) are logged without
// flooding the log: the first occurrence at once, then one summed line per key and window. Used by the
// backend and the worker.

/** How long a loss line waits before the next summary, unless flushed with force (on stop). */
export const LOSS_LOG_WINDOW_MS = 10_000

/** A log line that can fire per event: the first goes out at once, the rest as one summary per window. */
export class RateLimitedCounter {
  private readonly windowMs: number
  private readonly emit: (key: string, count: number, detail: string | undefined) => void
  private readonly pending = new Map<string, {count: number; detail: string | undefined}>()
  private lastEmitAt = -Infinity

  constructor(windowMs: number, emit: (key: string, count: number, detail: string | undefined) => void) {
    this.windowMs = windowMs
    this.emit = emit
  }

  add(key: string, count: number, detail?: string): void {
    const entry = this.pending.get(key)
    if (entry === undefined) this.pending.set(key, {count, detail})
    else {
      entry.count += count
      if (detail !== undefined) entry.detail = detail
    }
    this.flush(false)
  }

  flush(force: boolean): void {
    if (this.pending.size === 0) return
    const now = performance.now()
    if (!force && now - this.lastEmitAt < this.windowMs) return
    this.lastEmitAt = now
    for (const [key, {count, detail}] of this.pending) this.emit(key, count, detail)
    this.pending.clear()
  }
}
