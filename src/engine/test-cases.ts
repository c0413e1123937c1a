// Test-case files for `dsiem directive test --cases`: users unit-test their directives in CI by listing
// events and the alarms they expect. This module is the pure part: it checks the parsed file (any
// JSON/YAML value) field by field, naming the offending path, runs each case through a fresh engine and
// compares expected with actual alarms. Alarms are matched per directive id, order-insensitively, each
// expected alarm taking the actual alarm it differs least from; the rest are missing or unexpected.

import {RISK_CLASSES, type Alarm, type RiskClass} from './alarm.js'
import type {AssetTable} from './asset.js'
import type {Directive} from './directive.js'
import {InputError} from './errors.js'
import {
  EventDecodeError,
  isValidEvent,
  parseEvent,
  parseRfc3339Seconds,
  type NormalizedEvent,
} from './event.js'
import {describeInvalid, replayEvents} from './replay.js'

export type CasePath = readonly (string | number)[]

/** `cases[2].expect.alarms[0].risk_class` */
export function formatCasePath(path: CasePath): string {
  if (path.length === 0) return '(top level)'
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('')
}

/** A case file that does not have the expected shape; `path` locates the field for line lookup. */
export class CaseFileError extends InputError {
  readonly path: CasePath
  readonly reason: string

  constructor(path: CasePath, reason: string) {
    super(`${formatCasePath(path)}: ${reason}`, 'DSIEM_E_CASE_FILE')
    this.name = 'CaseFileError'
    this.path = path
    this.reason = reason
  }
}

export interface ExpectedAlarm {
  readonly directiveId: number
  readonly stage?: number
  readonly risk?: number
  readonly riskClass?: RiskClass
  readonly title?: string
  readonly srcIps?: readonly string[]
  readonly dstIps?: readonly string[]
}

export interface TestCase {
  readonly name: string
  /** Inline events (already decoded with Go's rules), or undefined when `eventsFile` is used. */
  readonly events: readonly NormalizedEvent[] | undefined
  /** NDJSON path as written in the file (relative to the case file). */
  readonly eventsFile: string | undefined
  /** Unix seconds; undefined = event timestamps drive the clock. */
  readonly now: number | undefined
  readonly expect: {readonly alarms: readonly ExpectedAlarm[]}
}

export interface CaseFile {
  readonly configDir: string | undefined
  readonly filePattern: string | undefined
  readonly now: number | undefined
  readonly cases: readonly TestCase[]
}

export const CASE_FILE_KEYS = ['config_dir', 'file_pattern', 'now', 'cases'] as const
export const CASE_KEYS = ['name', 'events', 'events_file', 'now', 'expect'] as const
export const EXPECTED_ALARM_KEYS = [
  'directive_id',
  'stage',
  'risk',
  'risk_class',
  'title',
  'src_ips',
  'dst_ips',
] as const

/** Defaults for inline events, so a case lists only what matters to the directive. */
export const CASE_EVENT_SENSOR = 'dsiem-test'

type Mapping = Record<string, unknown>

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function mapping(value: unknown, path: CasePath, what: string, keys: readonly string[]): Mapping {
  if (!isMapping(value)) throw new CaseFileError(path, `must be a mapping (${what})`)
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new CaseFileError([...path, key], `unknown field (expected one of ${keys.join(', ')})`)
    }
  }
  return value
}

function optionalString(object: Mapping, key: string, path: CasePath): string | undefined {
  const value = object[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value === '') {
    throw new CaseFileError([...path, key], 'must be a non-empty string')
  }
  return value
}

function optionalTime(object: Mapping, key: string, path: CasePath): number | undefined {
  const text = optionalString(object, key, path)
  if (text === undefined) return undefined
  const seconds = parseRfc3339Seconds(text)
  if (Number.isNaN(seconds)) {
    throw new CaseFileError(
      [...path, key],
      `must be an RFC 3339 time like 2026-01-01T00:00:00Z, not ${JSON.stringify(text)}`,
    )
  }
  return seconds
}

function optionalInteger(
  object: Mapping,
  key: string,
  path: CasePath,
  min: number,
  what: string,
): number | undefined {
  const value = object[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new CaseFileError([...path, key], `must be ${what}`)
  }
  return value
}

function optionalIpList(object: Mapping, key: string, path: CasePath): string[] | undefined {
  const value = object[key]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.some((ip) => typeof ip !== 'string' || ip === '')) {
    throw new CaseFileError([...path, key], 'must be a list of IP addresses (strings)')
  }
  return value as string[]
}

function expectedAlarm(value: unknown, path: CasePath): ExpectedAlarm {
  const object = mapping(value, path, 'an expected alarm', EXPECTED_ALARM_KEYS)
  const directiveId = optionalInteger(
    object,
    'directive_id',
    path,
    Number.MIN_SAFE_INTEGER,
    'an integer (the directive id)',
  )
  if (directiveId === undefined) throw new CaseFileError([...path, 'directive_id'], 'is required')
  const riskClass = object['risk_class']
  if (
    riskClass !== undefined &&
    riskClass !== null &&
    !(RISK_CLASSES as readonly unknown[]).includes(riskClass)
  ) {
    throw new CaseFileError([...path, 'risk_class'], 'must be Low, Medium or High')
  }
  const alarm: {-readonly [K in keyof ExpectedAlarm]: ExpectedAlarm[K]} = {directiveId}
  const stage = optionalInteger(object, 'stage', path, 1, 'a stage number (1 or more)')
  if (stage !== undefined) alarm.stage = stage
  const risk = optionalInteger(
    object,
    'risk',
    path,
    1,
    'a positive integer (an alarm is only written while risk is 1 or more)',
  )
  if (risk !== undefined) alarm.risk = risk
  if (typeof riskClass === 'string') alarm.riskClass = riskClass as RiskClass
  const title = optionalString(object, 'title', path)
  if (title !== undefined) alarm.title = title
  const srcIps = optionalIpList(object, 'src_ips', path)
  if (srcIps !== undefined) alarm.srcIps = srcIps
  const dstIps = optionalIpList(object, 'dst_ips', path)
  if (dstIps !== undefined) alarm.dstIps = dstIps
  return alarm
}

/**
 * An inline event: `event_id` defaults to `<case>-<n>`, `sensor` to "dsiem-test" and `timestamp` to the
 * case's `now`; then Go's decoding rules and upstream's Valid() apply, as for a POSTed event.
 */
function inlineEvent(
  value: unknown,
  path: CasePath,
  caseIndex: number,
  index: number,
  now: string | undefined,
): NormalizedEvent {
  if (!isMapping(value)) throw new CaseFileError(path, 'must be a mapping (an event)')
  const lower = new Set(Object.keys(value).map((key) => key.toLowerCase()))
  const withDefaults: Mapping = {...value}
  if (!lower.has('event_id')) withDefaults['event_id'] = `${caseIndex + 1}-${index + 1}`
  if (!lower.has('sensor')) withDefaults['sensor'] = CASE_EVENT_SENSOR
  if (!lower.has('timestamp') && now !== undefined) withDefaults['timestamp'] = now
  let event: NormalizedEvent
  try {
    event = parseEvent(JSON.stringify(withDefaults))
  } catch (error) {
    if (error instanceof EventDecodeError)
      throw new CaseFileError(path, `cannot decode event: ${error.message}`)
    throw error
  }
  if (!isValidEvent(event)) throw new CaseFileError(path, `not a valid event: ${describeInvalid(event)}`)
  if (Number.isNaN(parseRfc3339Seconds(event.timestamp))) {
    throw new CaseFileError(
      [...path, 'timestamp'],
      `must be an RFC 3339 time, not ${JSON.stringify(event.timestamp)}`,
    )
  }
  return event
}

function testCase(value: unknown, index: number, fileNow: string | undefined): TestCase {
  const path = ['cases', index]
  const object = mapping(value, path, 'a test case', CASE_KEYS)
  const name = optionalString(object, 'name', path) ?? `case ${index + 1}`
  const now = optionalTime(object, 'now', path)
  const nowText = now === undefined ? fileNow : (object['now'] as string)
  const hasEvents = object['events'] !== undefined && object['events'] !== null
  const eventsFile = optionalString(object, 'events_file', path)
  if (hasEvents === (eventsFile !== undefined)) {
    throw new CaseFileError(
      path,
      'needs exactly one of events (a list of events) or events_file (an NDJSON file)',
    )
  }
  let events: NormalizedEvent[] | undefined
  if (hasEvents) {
    const list = object['events']
    if (!Array.isArray(list)) throw new CaseFileError([...path, 'events'], 'must be a list of events')
    events = list.map((item, i) => inlineEvent(item, [...path, 'events', i], index, i, nowText))
  }
  if (object['expect'] === undefined || object['expect'] === null) {
    throw new CaseFileError(
      [...path, 'expect'],
      'is required (use `expect: {alarms: []}` to expect no alarm)',
    )
  }
  const expect = mapping(object['expect'], [...path, 'expect'], 'with an alarms list', ['alarms'])
  const alarms = expect['alarms']
  if (!Array.isArray(alarms))
    throw new CaseFileError([...path, 'expect', 'alarms'], 'must be a list (empty to expect no alarm)')
  return {
    name,
    events,
    eventsFile,
    now,
    expect: {alarms: alarms.map((alarm, i) => expectedAlarm(alarm, [...path, 'expect', 'alarms', i]))},
  }
}

/** Checks a parsed case file; throws CaseFileError naming the first bad field. */
export function validateCaseFile(value: unknown): CaseFile {
  const root = mapping(value, [], 'with a cases list', CASE_FILE_KEYS)
  const configDir = optionalString(root, 'config_dir', [])
  const filePattern = optionalString(root, 'file_pattern', [])
  const now = optionalTime(root, 'now', [])
  const cases = root['cases']
  if (!Array.isArray(cases) || cases.length === 0)
    throw new CaseFileError(['cases'], 'must be a non-empty list of test cases')
  const fileNow = now === undefined ? undefined : (root['now'] as string)
  return {configDir, filePattern, now, cases: cases.map((item, i) => testCase(item, i, fileNow))}
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** The fields of an alarm a case can assert on (final state). */
export interface ActualAlarm {
  readonly alarmId: string
  readonly directiveId: number
  readonly title: string
  /** Stage reached: array position of the last rule whose start_time is set. */
  readonly stage: number
  readonly stages: number
  readonly risk: number
  readonly riskClass: RiskClass
  readonly srcIps: readonly string[]
  readonly dstIps: readonly string[]
}

export function summarizeAlarm(alarm: Alarm): ActualAlarm {
  let stage = 1
  alarm.rules.forEach((rule, i) => {
    if (rule.startTime !== 0) stage = i + 1
  })
  return {
    alarmId: alarm.alarmId,
    directiveId: alarm.directiveId,
    title: alarm.title,
    stage,
    stages: alarm.rules.length,
    risk: alarm.risk,
    riskClass: alarm.riskClass,
    srcIps: alarm.srcIps,
    dstIps: alarm.dstIps,
  }
}

export type AlarmField = 'stage' | 'risk' | 'risk_class' | 'title' | 'src_ips' | 'dst_ips'

export interface FieldDifference {
  readonly field: AlarmField
  readonly expected: number | string | readonly string[]
  readonly actual: number | string | readonly string[]
}

export type AlarmMismatch =
  | {
      readonly kind: 'different'
      readonly expectedIndex: number
      readonly expected: ExpectedAlarm
      readonly actual: ActualAlarm
      readonly differences: readonly FieldDifference[]
    }
  | {readonly kind: 'missing'; readonly expectedIndex: number; readonly expected: ExpectedAlarm}
  | {readonly kind: 'unexpected'; readonly actual: ActualAlarm}

function sameIps(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort()
  const y = [...new Set(b)].sort()
  return x.length === y.length && x.every((ip, i) => ip === y[i])
}

/** The fields an expectation states and the alarm does not satisfy (IP lists compare as sets). */
export function alarmDifferences(expected: ExpectedAlarm, actual: ActualAlarm): FieldDifference[] {
  const out: FieldDifference[] = []
  if (expected.stage !== undefined && expected.stage !== actual.stage)
    out.push({field: 'stage', expected: expected.stage, actual: actual.stage})
  if (expected.risk !== undefined && expected.risk !== actual.risk)
    out.push({field: 'risk', expected: expected.risk, actual: actual.risk})
  if (expected.riskClass !== undefined && expected.riskClass !== actual.riskClass)
    out.push({field: 'risk_class', expected: expected.riskClass, actual: actual.riskClass})
  if (expected.title !== undefined && expected.title !== actual.title)
    out.push({field: 'title', expected: expected.title, actual: actual.title})
  if (expected.srcIps !== undefined && !sameIps(expected.srcIps, actual.srcIps))
    out.push({field: 'src_ips', expected: expected.srcIps, actual: actual.srcIps})
  if (expected.dstIps !== undefined && !sameIps(expected.dstIps, actual.dstIps))
    out.push({field: 'dst_ips', expected: expected.dstIps, actual: actual.dstIps})
  return out
}

/**
 * Pairs expected with actual alarms of the same directive, best fit first (fewest differing fields,
 * then file order), and returns everything that is not an exact match.
 */
export function compareAlarms(
  expected: readonly ExpectedAlarm[],
  actual: readonly ActualAlarm[],
): AlarmMismatch[] {
  const candidates: {e: number; a: number; differences: FieldDifference[]}[] = []
  expected.forEach((exp, e) => {
    actual.forEach((act, a) => {
      if (exp.directiveId === act.directiveId)
        candidates.push({e, a, differences: alarmDifferences(exp, act)})
    })
  })
  candidates.sort((x, y) => x.differences.length - y.differences.length || x.e - y.e || x.a - y.a)
  const pairedExpected = new Map<number, {a: number; differences: FieldDifference[]}>()
  const pairedActual = new Set<number>()
  for (const candidate of candidates) {
    if (pairedExpected.has(candidate.e) || pairedActual.has(candidate.a)) continue
    pairedExpected.set(candidate.e, candidate)
    pairedActual.add(candidate.a)
  }
  const mismatches: AlarmMismatch[] = []
  expected.forEach((exp, e) => {
    const pair = pairedExpected.get(e)
    if (pair === undefined) mismatches.push({kind: 'missing', expectedIndex: e, expected: exp})
    else if (pair.differences.length > 0)
      mismatches.push({
        kind: 'different',
        expectedIndex: e,
        expected: exp,
        actual: actual[pair.a]!,
        differences: pair.differences,
      })
  })
  actual.forEach((act, a) => {
    if (!pairedActual.has(a)) mismatches.push({kind: 'unexpected', actual: act})
  })
  return mismatches
}

export interface CaseRunOptions {
  directives: readonly Directive[]
  assets: AssetTable
  /** Used when the case has no `now` of its own (file-level or --now). */
  now?: number
  minAlarmLifetimeMinutes?: number
}

export interface CaseResult {
  readonly name: string
  readonly passed: boolean
  readonly eventCount: number
  readonly alarms: readonly ActualAlarm[]
  readonly mismatches: readonly AlarmMismatch[]
}

/** Runs one case on a fresh engine and compares the final alarms with its expectations. */
export function evaluateCase(
  testCase: TestCase,
  events: readonly NormalizedEvent[],
  options: CaseRunOptions,
): CaseResult {
  const now = testCase.now ?? options.now
  const replay = replayEvents(events, {
    directives: options.directives,
    assets: options.assets,
    minAlarmLifetimeMinutes: options.minAlarmLifetimeMinutes ?? 0,
    ...(now === undefined ? {} : {now}),
  })
  const alarms = replay.alarms.map(summarizeAlarm)
  const mismatches = compareAlarms(testCase.expect.alarms, alarms)
  return {name: testCase.name, passed: mismatches.length === 0, eventCount: events.length, alarms, mismatches}
}
