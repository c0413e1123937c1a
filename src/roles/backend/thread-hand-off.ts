// The main thread's side of the event hand-off to the backend thread: the bus handler the frontend's
// events reach in standalone. Events gathered over a millisecond cross as one message: each message
// costs this thread a wake-up of the other (~10 µs on the test VM), which per loop turn (one or two
// events under single-event load) took 7% of this thread; batched by the millisecond, closed-loop
// single-event throughput rose by ~15% in alternating runs, for ~1 ms more median latency.
// Back-pressure is by credit: at most `capacity` events are on their way or in the thread's queue at
// once (the thread reports how many the engine took), so the thread's queue never holds more than its
// capacity, and what does not fit waits here with the same promise the queue's 'wait' gives: resolved
// once handed over, cancel() before that means never handed over (the frontend's 408).

import type {NormalizedEvent} from '../../engine/index.js'
import {BusUnavailableError, type PendingHandOff} from '../bus.js'
import {WaitingLine} from './waiting-line.js'

export interface ThreadHandOffOptions {
  /** Events in flight or queued in the thread at most; Infinity = unbounded (maxQueue 0). */
  capacity: number
  /** Posts one batch to the thread. */
  send: (events: NormalizedEvent[]) => void
  /** How long the first event of a batch waits for company, ms (default 1); 0 = to the end of the loop turn. */
  batchDelayMs?: number
  /** A batch this large goes at once (default 512). */
  maxBatch?: number
}

export class ThreadHandOff {
  readonly capacity: number
  private readonly send: (events: NormalizedEvent[]) => void
  private readonly batchDelayMs: number
  private readonly maxBatch: number
  private batch: NormalizedEvent[] = []
  private scheduled = false
  private timer: NodeJS.Timeout | undefined
  /** Handed over (batched or posted) and not yet reported through the engine. */
  private inFlight = 0
  private readonly waiters = new WaitingLine<NormalizedEvent>()
  private failure: string | undefined

  constructor(options: ThreadHandOffOptions) {
    this.capacity = options.capacity
    this.send = options.send
    this.batchDelayMs = options.batchDelayMs ?? 1
    this.maxBatch = options.maxBatch ?? 512
  }

  /** The bus handler. Throws BusUnavailableError once the thread is gone (the frontend's 503). */
  offer = (event: NormalizedEvent): void | PendingHandOff => {
    if (this.failure !== undefined) throw new BusUnavailableError(this.failure)
    if (this.inFlight >= this.capacity || this.waiters.size > 0) return this.waiters.add(event)
    this.handOver(event)
  }

  /** The thread's engine took `count` events: room for as many, first for those waiting. */
  taken(count: number): void {
    this.inFlight = Math.max(0, this.inFlight - count)
    if (this.waiters.size > 0) this.waiters.admit(this.hasRoom, this.handOver)
  }

  get waiting(): number {
    return this.waiters.size
  }

  get outstanding(): number {
    return this.inFlight
  }

  get full(): boolean {
    return this.inFlight >= this.capacity
  }

  /** Posts the current batch now rather than when its delay ends. */
  flush = (): void => {
    this.scheduled = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.batch.length === 0) return
    const events = this.batch
    this.batch = []
    this.send(events)
  }

  /**
   * Hands over everything still waiting, room or not (at stop: the thread's queue then holds them
   * until its own drain decides), and posts it at once.
   */
  release(): void {
    this.waiters.settleAll({take: this.handOver})
    this.flush()
  }

  /**
   * The thread is gone: waiting senders and later offers hear BusUnavailableError. Returns how many
   * handed-over events the engine had not taken (lost with the thread: the caller counts and logs them).
   */
  fail(reason: string): number {
    this.failure ??= reason
    this.batch = []
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.waiters.settleAll({error: new BusUnavailableError(reason)})
    const lost = this.inFlight
    this.inFlight = 0
    return lost
  }

  private readonly hasRoom = (): boolean => this.inFlight < this.capacity

  private readonly handOver = (event: NormalizedEvent): void => {
    this.inFlight++
    this.batch.push(event)
    if (this.batch.length >= this.maxBatch) return this.flush()
    if (this.scheduled) return
    this.scheduled = true
    if (this.batchDelayMs > 0) this.timer = setTimeout(this.flush, this.batchDelayMs)
    else setImmediate(this.flush)
  }
}
