// Connection timers in network time: a binary min-heap whose entries know their position, so a
// removed connection takes its timers out at once instead of leaving them to rot for minutes. Ties
// fire in scheduling order, which keeps conn.log order stable between runs.

export const TIMER = {
  /** Generic inactivity check; reschedules itself while the connection is busy. */
  INACTIVITY: 0,
  /** TCP: a SYN got no answer within tcp_attempt_delay. */
  ATTEMPT: 1,
  /** TCP: closed on both sides; remove. */
  DELETE: 2,
  /** TCP: a side closed first thing; remove unless someone is still active. */
  PARTIAL_CLOSE: 3,
  /** TCP: one side closed; check every tcp_session_timer whether the other went quiet. */
  EXPIRE: 4,
  /** TCP: a RST after a FIN; remove. */
  RESET: 5,
} as const
export type TimerKind = (typeof TIMER)[keyof typeof TIMER]

export class TimerEntry<Owner> {
  readonly at: number
  readonly order: number
  readonly kind: TimerKind
  readonly owner: Owner
  /** Position in the heap; -1 once fired or removed. */
  index = -1

  constructor(at: number, order: number, kind: TimerKind, owner: Owner) {
    this.at = at
    this.order = order
    this.kind = kind
    this.owner = owner
  }
}

function before<T>(a: TimerEntry<T>, b: TimerEntry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order)
}

export class TimerQueue<Owner> {
  private readonly heap: TimerEntry<Owner>[] = []
  private scheduled = 0
  /** When the earliest timer is due (Infinity when none): a cheap per-packet check. */
  nextAt = Number.POSITIVE_INFINITY

  get size(): number {
    return this.heap.length
  }

  push(at: number, kind: TimerKind, owner: Owner): TimerEntry<Owner> {
    const entry = new TimerEntry(at, this.scheduled++, kind, owner)
    entry.index = this.heap.length
    this.heap.push(entry)
    this.up(entry.index)
    this.nextAt = this.heap[0]!.at
    return entry
  }

  /** The earliest entry if it is due at `now`, taken out of the queue. */
  popDue(now: number): TimerEntry<Owner> | undefined {
    const top = this.heap[0]
    if (top === undefined || top.at > now) return undefined
    this.remove(top)
    return top
  }

  remove(entry: TimerEntry<Owner>): void {
    const i = entry.index
    if (i < 0) return
    entry.index = -1
    const last = this.heap.pop()!
    if (last !== entry) {
      this.heap[i] = last
      last.index = i
      this.down(i)
      this.up(last.index)
    }
    this.nextAt = this.heap.length === 0 ? Number.POSITIVE_INFINITY : this.heap[0]!.at
  }

  private up(i: number): void {
    const heap = this.heap
    const entry = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent]!
      if (!before(entry, p)) break
      heap[i] = p
      p.index = i
      i = parent
    }
    heap[i] = entry
    entry.index = i
  }

  private down(i: number): void {
    const heap = this.heap
    const n = heap.length
    const entry = heap[i]!
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      let child = left
      if (right < n && before(heap[right]!, heap[left]!)) child = right
      const c = heap[child]!
      if (!before(c, entry)) break
      heap[i] = c
      c.index = i
      i = child
    }
    heap[i] = entry
    entry.index = i
  }
}
