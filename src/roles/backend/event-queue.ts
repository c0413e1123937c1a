// The FIFO between the bus and the engine (upstream's backend event queue, §8.3), and the loop that
// drains it in batches. Each batch runs synchronously, then the loop yields with setImmediate so HTTP
// and NATS keep being served while a backlog of events is worked off.
//
// What differs from upstream, on purpose: nothing is skipped silently. Upstream discards events when
// its bounded queue is full and lets a directive miss events it is too slow for. Here every event that
// is queued reaches the engine, in order. When the queue is full:
//   - 'wait' (the in-memory bus of standalone): the handler returns a promise that settles once the
//     event is queued, so the frontend holds the request (and answers 408 after 10 s, as upstream);
//     the promise's cancel() takes a still-waiting event back, so a 408 really means "not taken";
//   - 'drop' (NATS: a subscriber cannot push back the server): the event is counted as dropped with
//     its reason and the caller logs it; the count is exposed.
// maxQueue 0 means unbounded, as upstream: nothing waits and nothing drops.

import type {NormalizedEvent} from '../../engine/index.js'
import type {PendingHandOff} from '../bus.js'
import {WaitingLine} from './waiting-line.js'

export const FULL_POLICIES = ['wait', 'drop'] as const
export type FullPolicy = (typeof FULL_POLICIES)[number]

/** Why events did not reach the engine (metric label values). */
export const DROP_REASONS = ['queue_full', 'invalid', 'shutdown'] as const
export type DropReason = (typeof DROP_REASONS)[number]

export interface EventQueueOptions {
  /** Most events held at once; 0 (or Infinity) = unbounded. */
  capacity: number
  whenFull: FullPolicy
  /** Runs one event through the engine. */
  handle: (event: NormalizedEvent) => void
  /** After every batch; a returned promise holds the next batch (e.g. outputs catching up). */
  afterBatch?: (count: number) => void | Promise<void>
  onDrop?: (reason: DropReason, count: number) => void
  /** `handle` threw (a bug): the event is counted as failed, the loop goes on. */
  onError?: (event: NormalizedEvent, error: unknown) => void
  /** Wall-clock milliseconds (rcvd_time is wall-clock nanoseconds). */
  nowMs?: () => number
  /** Events per batch at most (default 2048). */
  batchSize?: number
  /** Time per batch at most, in milliseconds (default 8). */
  sliceMs?: number
}

/** Initial ring size (a power of two, so a slot is an index & mask). */
const INITIAL_RING = 1024
/** How often (in events) a batch looks at the time. */
const TIME_CHECK_EVERY = 128

export class EventQueue {
  readonly capacity: number
  readonly whenFull: FullPolicy
  private readonly handle: (event: NormalizedEvent) => void
  private readonly afterBatch: ((count: number) => void | Promise<void>) | undefined
  private readonly onDrop: ((reason: DropReason, count: number) => void) | undefined
  private readonly onError: ((event: NormalizedEvent, error: unknown) => void) | undefined
  private readonly nowMs: () => number
  private readonly batchSize: number
  private readonly sliceMs: number

  // Ring buffer: slots hold events and the wall-clock time they were queued (the age of an event
  // without rcvd_time). Grows by doubling up to the capacity.
  private ring: (NormalizedEvent | undefined)[]
  private queuedAt: Float64Array
  private mask: number
  private head = 0
  private size = 0

  private readonly waiters = new WaitingLine<NormalizedEvent>(() => this.settleIdle())
  private scheduled = false
  /** A batch's afterBatch promise is pending. */
  private holding = false
  private closed = false
  private idleWaiters: (() => void)[] = []

  private processedCount = 0
  private failedCount = 0
  private readonly dropped = new Map<DropReason, number>()
  private lastLagMs = 0
  private lastProcessedAtMs = 0

  constructor(options: EventQueueOptions) {
    this.capacity = options.capacity > 0 ? options.capacity : Infinity
    this.whenFull = options.whenFull
    this.handle = options.handle
    this.afterBatch = options.afterBatch
    this.onDrop = options.onDrop
    this.onError = options.onError
    this.nowMs = options.nowMs ?? Date.now
    this.batchSize = options.batchSize ?? 2048
    this.sliceMs = options.sliceMs ?? 8
    this.ring = new Array<NormalizedEvent | undefined>(INITIAL_RING)
    this.queuedAt = new Float64Array(INITIAL_RING)
    this.mask = INITIAL_RING - 1
  }

  /**
   * The bus handler: queues the event. Returns a PendingHandOff while the queue is full under 'wait';
   * it resolves once the event is queued, and its cancel() takes the event back while it still waits.
   */
  push = (event: NormalizedEvent): void | PendingHandOff => {
    if (this.closed) {
      this.drop('shutdown')
      return
    }
    if (this.size >= this.capacity || this.waiters.size > 0) {
      if (this.whenFull === 'drop') {
        this.drop('queue_full')
        return
      }
      return this.waiters.add(event)
    }
    this.enqueue(event)
    this.schedule()
  }

  /** Counts events that never became queue entries (invalid payloads) next to the queue's own drops. */
  drop(reason: DropReason, count = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count)
    this.onDrop?.(reason, count)
  }

  get depth(): number {
    return this.size
  }

  /** Events held back by 'wait' because the queue is full. */
  get waiting(): number {
    return this.waiters.size
  }

  get processed(): number {
    return this.processedCount
  }

  /** Events whose processing threw. */
  get failed(): number {
    return this.failedCount
  }

  get full(): boolean {
    return this.size >= this.capacity
  }

  droppedBy(): Readonly<Record<DropReason, number>> {
    return {
      queue_full: this.dropped.get('queue_full') ?? 0,
      invalid: this.dropped.get('invalid') ?? 0,
      shutdown: this.dropped.get('shutdown') ?? 0,
    }
  }

  get droppedTotal(): number {
    let total = 0
    for (const count of this.dropped.values()) total += count
    return total
  }

  /** Age of the oldest queued event (from its rcvd_time, else from when it was queued), ms. */
  oldestAgeMs(now = this.nowMs()): number {
    if (this.size === 0) return 0
    return Math.max(0, now - this.receivedMs(this.head))
  }

  /** How old the last processed event was when the engine got it, ms. */
  get lastProcessedLagMs(): number {
    return this.lastLagMs
  }

  /** Wall-clock ms of the last batch (0 = none yet). */
  get lastProcessedAt(): number {
    return this.lastProcessedAtMs
  }

  /** The current lag: the oldest queued event's age, else the last processed event's. */
  lagMs(now = this.nowMs()): number {
    return this.size > 0 ? this.oldestAgeMs(now) : this.lastLagMs
  }

  /** Refuses new events from now on (they count as dropped for 'shutdown'); queued ones still run. */
  close(): void {
    this.closed = true
  }

  /**
   * Resolves true once everything queued (and waiting) went through the engine, false if that took
   * longer than `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true)
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done)
        resolve(false)
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      this.idleWaiters.push(done)
    })
  }

  /** Gives up on what is still queued or waiting (after a drain timeout); returns how many, counted as dropped. */
  discardRemaining(reason: DropReason): number {
    const count = this.size + this.waiting
    for (let i = 0; i < this.size; i++) this.ring[(this.head + i) & this.mask] = undefined
    this.head = 0
    this.size = 0
    this.waiters.settleAll({})
    if (count > 0) this.drop(reason, count)
    this.settleIdle()
    return count
  }

  private isIdle(): boolean {
    return this.size === 0 && this.waiting === 0 && !this.holding
  }

  private receivedMs(slot: number): number {
    const rcvd = this.ring[slot]!.rcvdTime
    return rcvd > 0n ? Number(rcvd / 1_000_000n) : this.queuedAt[slot]!
  }

  private enqueue(event: NormalizedEvent): void {
    if (this.size === this.ring.length) this.grow()
    const slot = (this.head + this.size) & this.mask
    this.ring[slot] = event
    this.queuedAt[slot] = event.rcvdTime > 0n ? 0 : this.nowMs()
    this.size++
  }

  private grow(): void {
    const length = this.ring.length * 2
    const ring = new Array<NormalizedEvent | undefined>(length)
    const queuedAt = new Float64Array(length)
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & this.mask
      ring[i] = this.ring[from]
      queuedAt[i] = this.queuedAt[from]!
    }
    this.ring = ring
    this.queuedAt = queuedAt
    this.mask = length - 1
    this.head = 0
  }

  private schedule(): void {
    if (this.scheduled || this.holding) return
    this.scheduled = true
    setImmediate(this.runBatch)
  }

  private readonly runBatch = (): void => {
    this.scheduled = false
    const started = performance.now()
    const handle = this.handle
    let count = 0
    let last: NormalizedEvent | undefined
    let lastQueuedAt = 0
    while (this.size > 0) {
      const slot = this.head
      const event = this.ring[slot]!
      this.ring[slot] = undefined
      this.head = (slot + 1) & this.mask
      this.size--
      last = event
      lastQueuedAt = this.queuedAt[slot]!
      try {
        handle(event)
      } catch (error) {
        this.failedCount++
        this.onError?.(event, error)
      }
      count++
      if (count >= this.batchSize) break
      if (count % TIME_CHECK_EVERY === 0 && performance.now() - started >= this.sliceMs) break
    }
    if (last !== undefined) {
      const now = this.nowMs()
      const received = last.rcvdTime > 0n ? Number(last.rcvdTime / 1_000_000n) : lastQueuedAt
      this.processedCount += count
      this.lastProcessedAtMs = now
      this.lastLagMs = Math.max(0, now - received)
    }
    this.admitWaiters()
    const wait = count > 0 ? this.afterBatch?.(count) : undefined
    if (wait !== undefined) {
      this.holding = true
      wait.then(this.resume, this.resume)
      return
    }
    this.continueOrIdle()
  }

  private readonly resume = (): void => {
    this.holding = false
    this.continueOrIdle()
  }

  private continueOrIdle(): void {
    if (this.size > 0) this.schedule()
    else this.settleIdle()
  }

  private admitWaiters(): void {
    if (this.waiters.size > 0) this.waiters.admit(this.hasRoom, this.admit)
  }

  private readonly hasRoom = (): boolean => this.size < this.capacity
  private readonly admit = (event: NormalizedEvent): void => this.enqueue(event)

  private settleIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
