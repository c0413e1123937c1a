// Alarms: integer risk, risk classes, upstream's upsert/merge rules, and the alarm JSON line with
// upstream's exact field order. An alarm id is its backlog id; a line is written only while risk ≠ 0.

import {serializeRule, type DirectiveRule} from './directive.js'
import {ConfigError} from './errors.js'
import {goQuote, goStringArray} from './go-json.js'

export interface CustomDataEntry {
  readonly label: string
  readonly content: string
}

/** An intel hit or a vulnerability, as the plugins report them. */
export interface LookupResult {
  readonly provider: string
  readonly term: string
  readonly result: string
}

/** One alarm line's content (a snapshot: later upserts do not change it). */
export interface Alarm {
  readonly alarmId: string
  readonly directiveId: number
  readonly title: string
  readonly status: string
  readonly kingdom: string
  readonly category: string
  readonly createdTime: number
  readonly updateTime: number
  readonly risk: number
  readonly riskClass: RiskClass
  readonly tag: string
  readonly srcIps: readonly string[]
  readonly dstIps: readonly string[]
  readonly intelHits: readonly LookupResult[]
  readonly vulnerabilities: readonly LookupResult[]
  readonly customData: readonly CustomDataEntry[]
  readonly networks: readonly string[]
  readonly rules: readonly DirectiveRule[]
}

export const RISK_CLASSES = ['Low', 'Medium', 'High'] as const
export type RiskClass = (typeof RISK_CLASSES)[number]

export interface RiskBounds {
  readonly medRiskMin: number
  readonly medRiskMax: number
}

export const DEFAULT_RISK_BOUNDS: RiskBounds = {medRiskMin: 3, medRiskMax: 6}
export const DEFAULT_ALARM_STATUSES = ['Open', 'In-Progress', 'Closed'] as const
export const DEFAULT_ALARM_TAGS = [
  'Identified Threat',
  'False Positive',
  'Valid Threat',
  'Security Incident',
] as const

/** Upstream's start-up check (min > max is not checked there either). */
export function validateRiskBounds(bounds: RiskBounds): RiskBounds {
  if (bounds.medRiskMin < 2 || bounds.medRiskMax > 9 || bounds.medRiskMin === bounds.medRiskMax) {
    throw new ConfigError(
      'Wrong value for medRiskMin or medRiskMax: medRiskMax should be between 3-10, medRiskMin should be between 2-9, and medRiskMin should be < mdRiskMax',
      'DSIEM_E_RISK_BOUNDS',
    )
  }
  return bounds
}

export function riskClassOf(risk: number, bounds: RiskBounds): RiskClass {
  if (risk < bounds.medRiskMin) return 'Low'
  if (risk <= bounds.medRiskMax) return 'Medium'
  return 'High'
}

/** priority × reliability × highest asset value / 25, in Go integer arithmetic (truncated). */
export function computeRisk(priority: number, reliability: number, assetValue: number): number {
  return Math.trunc((priority * reliability * assetValue) / 25)
}

/** What a backlog hands over at each upsert. */
export interface AlarmUpdate {
  readonly alarmId: string
  readonly directiveId: number
  readonly title: string
  readonly kingdom: string
  readonly category: string
  readonly statusTime: number
  readonly risk: number
  readonly srcIps: readonly string[]
  readonly dstIps: readonly string[]
  readonly customData: readonly CustomDataEntry[]
  /** The backlog never changes these rule objects once handed over (it replaces them), so they are shared. */
  readonly rules: readonly DirectiveRule[]
  /** Asset networks of every src/dst IP; accumulated across upserts. */
  readonly networks: readonly string[]
}

interface AlarmState {
  alarm: Alarm
  networks: Set<string>
}

export interface AlarmDefaults {
  readonly status: string
  readonly tag: string
  readonly bounds: RiskBounds
}

/** In-memory alarms keyed by id, merged the way upstream's alarm.Upsert merges them. */
export class AlarmTable {
  private readonly alarms = new Map<string, AlarmState>()
  private readonly defaults: AlarmDefaults

  constructor(defaults: AlarmDefaults) {
    this.defaults = defaults
  }

  get size(): number {
    return this.alarms.size
  }

  get(alarmId: string): Alarm | undefined {
    return this.alarms.get(alarmId)?.alarm
  }

  /** Applies an upsert and returns the resulting alarm. */
  upsert(update: AlarmUpdate): Alarm {
    const state = this.alarms.get(update.alarmId)
    const networks = state?.networks ?? new Set<string>()
    for (const network of update.networks) networks.add(network)
    const previous = state?.alarm
    const alarm: Alarm = {
      alarmId: update.alarmId,
      directiveId: update.directiveId,
      title: update.title,
      status: previous?.status ?? this.defaults.status,
      kingdom: update.kingdom,
      category: update.category,
      createdTime:
        previous !== undefined && previous.createdTime !== 0 ? previous.createdTime : update.statusTime,
      updateTime: update.statusTime,
      risk: update.risk,
      riskClass: riskClassOf(update.risk, this.defaults.bounds),
      tag: previous?.tag ?? this.defaults.tag,
      srcIps: update.srcIps.slice(),
      dstIps: update.dstIps.slice(),
      intelHits: previous?.intelHits ?? [],
      vulnerabilities: previous?.vulnerabilities ?? [],
      customData: update.customData.slice(),
      networks: [...networks],
      rules: update.rules.slice(),
    }
    this.alarms.set(update.alarmId, {alarm, networks})
    return alarm
  }

  /** Adds intel hits or vulnerabilities; returns the new alarm if anything was added. */
  addLookupResults(
    alarmId: string,
    field: 'intelHits' | 'vulnerabilities',
    results: readonly LookupResult[],
  ): Alarm | undefined {
    const state = this.alarms.get(alarmId)
    if (state === undefined || results.length === 0) return undefined
    const alarm: Alarm = {...state.alarm, [field]: [...state.alarm[field], ...results]}
    state.alarm = alarm
    return alarm
  }

  remove(alarmId: string): void {
    this.alarms.delete(alarmId)
  }
}

/** Go json.Marshal of []Result (intel hits and vulnerabilities; also the lookup cache's format). */
export function encodeLookupResults(results: readonly LookupResult[]): string {
  return (
    '[' +
    results
      .map(
        (r) => `{"provider":${goQuote(r.provider)},"term":${goQuote(r.term)},"result":${goQuote(r.result)}}`,
      )
      .join(',') +
    ']'
  )
}

/** The alarm line exactly as upstream writes it to siem_alarms.json (field order, omitempty, escaping). */
export function serializeAlarm(alarm: Alarm): string {
  let out = `{"alarm_id":${goQuote(alarm.alarmId)},"title":${goQuote(alarm.title)}`
  out += `,"status":${goQuote(alarm.status)},"kingdom":${goQuote(alarm.kingdom)}`
  out += `,"category":${goQuote(alarm.category)},"created_time":${alarm.createdTime}`
  out += `,"update_time":${alarm.updateTime},"risk":${alarm.risk},"risk_class":${goQuote(alarm.riskClass)}`
  out += `,"tag":${goQuote(alarm.tag)},"src_ips":${goStringArray(alarm.srcIps)},"dst_ips":${goStringArray(alarm.dstIps)}`
  if (alarm.intelHits.length > 0) out += `,"intel_hits":${encodeLookupResults(alarm.intelHits)}`
  if (alarm.vulnerabilities.length > 0)
    out += `,"vulnerabilities":${encodeLookupResults(alarm.vulnerabilities)}`
  if (alarm.customData.length > 0) {
    out +=
      ',"custom_data":[' +
      alarm.customData.map((c) => `{"label":${goQuote(c.label)},"content":${goQuote(c.content)}}`).join(',') +
      ']'
  }
  out += `,"networks":${goStringArray(alarm.networks)}`
  out += ',"rules":[' + alarm.rules.map(serializeRule).join(',') + ']}'
  return out
}

/** One siem_alarm_events.json line. */
export function serializeAlarmEvent(alarmId: string, stage: number, eventId: string): string {
  return `{"alarm_id":${goQuote(alarmId)},"stage":${stage},"event_id":${goQuote(eventId)}}`
}
