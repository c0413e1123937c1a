// Turns weird notices into weird.log records with Zeek's volume controls: a weird that belongs to a
// connection is logged once per connection and name (Weird::ACTION_LOG_PER_CONN), and each name is
// sampled once it got noisy (Weird::sampling_threshold / sampling_rate, both 1000, reset every
// sampling_duration of network time), so a flood of malformed packets cannot flood the log.

import type {LogRecord, WeirdNotice} from './types.js'

export const WEIRD_SAMPLING = {threshold: 1000, rate: 1000, durationSeconds: 600} as const

export class WeirdLog {
  private readonly peer: string
  private readonly namesByConn = new Map<string, Set<string>>()
  private readonly countByName = new Map<string, number>()
  private windowStart = Number.NaN
  /** Weirds not written because of per-connection de-duplication or sampling. */
  suppressed = 0

  constructor(peer: string) {
    this.peer = peer
  }

  /** The record to write, or undefined when the notice is suppressed. */
  record(notice: WeirdNotice): LogRecord | undefined {
    if (!(notice.ts - this.windowStart < WEIRD_SAMPLING.durationSeconds)) {
      this.windowStart = notice.ts
      this.countByName.clear()
    }
    if (notice.uid !== undefined) {
      let names = this.namesByConn.get(notice.uid)
      if (names === undefined) this.namesByConn.set(notice.uid, (names = new Set()))
      if (names.has(notice.name)) return this.suppress()
      names.add(notice.name)
    }
    const count = (this.countByName.get(notice.name) ?? 0) + 1
    this.countByName.set(notice.name, count)
    if (count > WEIRD_SAMPLING.threshold && count % WEIRD_SAMPLING.rate !== 0) return this.suppress()
    return {
      ts: notice.ts,
      uid: notice.uid,
      'id.orig_h': notice.src,
      'id.orig_p': notice.src === undefined ? undefined : (notice.srcPort ?? 0),
      'id.resp_h': notice.dst,
      'id.resp_p': notice.dst === undefined ? undefined : (notice.dstPort ?? 0),
      name: notice.name,
      addl: notice.addl,
      notice: false,
      peer: this.peer,
    }
  }

  /** A connection is gone: its per-connection de-duplication keys are no longer needed. */
  forgetConnection(uid: string): void {
    this.namesByConn.delete(uid)
  }

  private suppress(): undefined {
    this.suppressed++
    return undefined
  }
}
