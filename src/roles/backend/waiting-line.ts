// Events held back because the receiver has no room, in arrival order, each with the PendingHandOff
// its sender waits on. Shared by the backend's queue (standalone 'wait') and the main thread's
// hand-off to the backend thread, which must keep the same promise: resolved means taken, and
// cancel() before that means never taken (the frontend's 408).

import {HandOffCancelledError, type PendingHandOff} from '../bus.js'

interface Waiter<T> {
  readonly item: T
  readonly resolve: () => void
  readonly reject: (error: Error) => void
  /** Taken back by the sender: admit skips it. */
  cancelled: boolean
  /** Admitted, discarded or failed: too late to cancel. */
  done: boolean
}

export class WaitingLine<T> {
  private entries: (Waiter<T> | undefined)[] = []
  private head = 0
  /** Waiters neither admitted nor cancelled. */
  private count = 0

  private readonly onCancel: (() => void) | undefined

  /** @param onCancel runs after a sender took its item back. */
  constructor(onCancel?: () => void) {
    this.onCancel = onCancel
  }

  get size(): number {
    return this.count
  }

  add(item: T): PendingHandOff {
    let waiter!: Waiter<T>
    const promise = new Promise<void>((resolve, reject) => {
      waiter = {item, resolve, reject, cancelled: false, done: false}
    })
    this.entries.push(waiter)
    this.count++
    const cancel = (): void => {
      // Already admitted (resolved) or cancelled: nothing to take back.
      if (waiter.cancelled || waiter.done) return
      waiter.cancelled = true
      this.count--
      waiter.reject(new HandOffCancelledError())
      this.onCancel?.()
    }
    return Object.assign(promise, {cancel})
  }

  /** Admits waiters in order while `hasRoom()`: each item goes to `take`, then its sender hears "taken". */
  admit(hasRoom: () => boolean, take: (item: T) => void): void {
    while (this.head < this.entries.length && hasRoom()) {
      const waiter = this.next()
      if (waiter === undefined) continue
      take(waiter.item)
      waiter.resolve()
    }
    this.compact()
  }

  /** Settles every waiter: resolved (after `take`, when given) or rejected with `error`. Returns how many. */
  settleAll(outcome: {take?: (item: T) => void} | {error: Error}): number {
    let settled = 0
    while (this.head < this.entries.length) {
      const waiter = this.next()
      if (waiter === undefined) continue
      settled++
      if ('error' in outcome) {
        waiter.reject(outcome.error)
      } else {
        outcome.take?.(waiter.item)
        waiter.resolve()
      }
    }
    this.compact()
    return settled
  }

  /** The next live waiter, marked done (undefined for a cancelled one, which is skipped). */
  private next(): Waiter<T> | undefined {
    const waiter = this.entries[this.head]!
    this.entries[this.head++] = undefined
    if (waiter.cancelled) return undefined
    waiter.done = true
    this.count--
    return waiter
  }

  private compact(): void {
    if (this.head === this.entries.length && this.head > 0) {
      this.entries = []
      this.head = 0
    }
  }
}
