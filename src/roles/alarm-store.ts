// The alarm store contract (implemented over SQLite in src/roles/io/state.ts): alarms upserted with
// the rule upstream's Elasticsearch pipeline applies, so analysts' status and tag edits survive.

import type {Alarm} from '../engine/index.js'

export interface StoredAlarm {
  readonly alarmId: string
  readonly directiveId: number
  readonly title: string
  readonly status: string
  readonly tag: string
  readonly risk: number
  readonly riskClass: string
  readonly createdTime: number
  readonly updateTime: number
  readonly srcIps: readonly string[]
  readonly dstIps: readonly string[]
  /** The last accepted alarm line, exactly as written to siem_alarms.json. */
  readonly json: string
}

export interface AlarmQuery {
  status?: string
  tag?: string
  riskClass?: string
  directiveId?: number
  /** Unix seconds: only alarms updated at or after. */
  since?: number
  limit?: number
}

/**
 * What the backend needs of a store: upserts queued without waiting, written on request, and a close
 * that finishes the writes. The SQLite store (io/state.ts) does it synchronously; the server's writer
 * thread (io/alarm-store-thread.ts) with promises, so no commit ever runs on the event loop.
 */
export interface AlarmWriter {
  /**
   * Queues an alarm line for storage (written in batched transactions). Upstream's rule: an update
   * with lower risk than stored, or equal risk and an older update_time, is dropped; otherwise every
   * field but status and tag is replaced.
   */
  upsert(alarm: Alarm): void
  /** Writes everything queued; a promise settles once it is committed (or its failure reported). */
  flush(): void | Promise<void>
  close(): void | Promise<void>
}

export interface AlarmStore extends AlarmWriter {
  /** Writes everything queued. */
  flush(): void
  list(query?: AlarmQuery): StoredAlarm[]
  get(alarmId: string): StoredAlarm | undefined
  /** Sets an analyst field; `allowed` is the --status / --tags list. Throws InputError otherwise. */
  setStatus(alarmId: string, status: string, allowed: readonly string[]): StoredAlarm
  setTag(alarmId: string, tag: string, allowed: readonly string[]): StoredAlarm
  close(): void
}
