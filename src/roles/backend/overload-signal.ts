// The backend's overload signal to the frontends (upstream's initBpTicker): `false` once at start; on
// any overload the hold timer restarts and `true` goes out only on the false → true transition; when
// holdDuration passes without a new overload while the state is true, `false` goes out. Frontends
// lower or raise their EPS limit from the last value they heard.
//
// Upstream resets a timer on every overload. Overloads can arrive once per event here, so a trigger
// only records its time; the one pending timer re-arms itself for the rest of the window when it
// fires early. The signal sequence is the same.

export interface SignalTimers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /** Milliseconds on a monotonic clock. */
  now(): number
}

export const realTimers: SignalTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms)
    // A pending "back to normal" must not keep a stopping process alive.
    handle.unref()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => performance.now(),
}

export interface OverloadSignalOptions {
  /** `--holdDuration` in milliseconds. */
  holdMs: number
  publish: (overloaded: boolean) => void
  timers?: SignalTimers
  /** Told about each transition (for the log). */
  onChange?: (overloaded: boolean) => void
}

export class OverloadSignal {
  private readonly holdMs: number
  private readonly publish: (overloaded: boolean) => void
  private readonly timers: SignalTimers
  private readonly onChange: ((overloaded: boolean) => void) | undefined
  private state = false
  private lastOverload = 0
  private timer: unknown = undefined
  private stopped = false
  private transitions = 0

  constructor(options: OverloadSignalOptions) {
    this.holdMs = options.holdMs
    this.publish = options.publish
    this.timers = options.timers ?? realTimers
    this.onChange = options.onChange
  }

  /** Upstream sends an initial `false` so frontends start from a known state. */
  start(): void {
    this.publish(false)
  }

  get overloaded(): boolean {
    return this.state
  }

  /** Times the state flipped to true. */
  get overloads(): number {
    return this.transitions
  }

  /** Something is overloaded now (the engine's probe, queue lag, a half-full queue). */
  trigger(): void {
    if (this.stopped) return
    this.lastOverload = this.timers.now()
    if (this.state) return
    this.state = true
    this.transitions++
    this.publish(true)
    this.onChange?.(true)
    this.arm(this.holdMs)
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = this.timers.setTimeout(() => this.expire(), Math.max(0, ms))
  }

  private expire(): void {
    this.timer = undefined
    if (this.stopped || !this.state) return
    const quiet = this.timers.now() - this.lastOverload
    if (quiet < this.holdMs) {
      this.arm(this.holdMs - quiet)
      return
    }
    this.state = false
    this.publish(false)
    this.onChange?.(false)
  }
}
