// The alarm store's upsert rule, from upstream's Logstash painless script: an update with lower risk,
// or equal risk and an older update_time, is dropped; an accepted one keeps the analyst's status and
// tag, and the stored intel hits, vulnerabilities and custom data when it omits them.

import type {Alarm, CustomDataEntry, LookupResult} from '../engine/index.js'
import type {AlarmRow} from './alarm-store-rows.js'

/** Whether an update loses against the stored alarm and is dropped. */
export function isOutdatedUpdate(alarm: Alarm, row: Pick<AlarmRow, 'risk' | 'update_time'>): boolean {
  return alarm.risk < row.risk || (alarm.risk === row.risk && alarm.updateTime < row.update_time)
}

function isLookupResult(value: unknown): value is LookupResult {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v['provider'] === 'string' &&
    typeof v['term'] === 'string' &&
    typeof v['result'] === 'string'
  )
}

function isCustomData(value: unknown): value is CustomDataEntry {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' && v !== null && typeof v['label'] === 'string' && typeof v['content'] === 'string'
  )
}

/** The optional arrays of a stored line (the rule keeps them when an update omits them). */
function storedOptionals(line: string): {
  intelHits: LookupResult[]
  vulnerabilities: LookupResult[]
  customData: CustomDataEntry[]
} {
  const parsed = JSON.parse(line) as Record<string, unknown>
  const list = <T>(value: unknown, guard: (v: unknown) => v is T): T[] =>
    Array.isArray(value) ? value.filter(guard) : []
  return {
    intelHits: list(parsed['intel_hits'], isLookupResult),
    vulnerabilities: list(parsed['vulnerabilities'], isLookupResult),
    customData: list(parsed['custom_data'], isCustomData),
  }
}

/** The alarm to store for an accepted update of `row`. */
export function mergeUpdate(alarm: Alarm, row: Pick<AlarmRow, 'status' | 'tag' | 'json'>): Alarm {
  const needStored =
    alarm.intelHits.length === 0 || alarm.vulnerabilities.length === 0 || alarm.customData.length === 0
  const stored = needStored ? storedOptionals(row.json) : undefined
  return {
    ...alarm,
    status: row.status,
    tag: row.tag,
    intelHits: alarm.intelHits.length > 0 ? alarm.intelHits : (stored?.intelHits ?? []),
    vulnerabilities:
      alarm.vulnerabilities.length > 0 ? alarm.vulnerabilities : (stored?.vulnerabilities ?? []),
    customData: alarm.customData.length > 0 ? alarm.customData : (stored?.customData ?? []),
  }
}
