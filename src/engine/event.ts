// The normalized event: what Logstash POSTs to /events and what travels on the bus. Decoding follows
// Go's encoding/json (see go-json.ts); serialization follows the Go struct's field order and omitempty
// flags, so `event.golden` round-trips byte for byte.

import {
  decodeGoInt,
  decodeGoInt64Exact,
  decodeGoString,
  decodeGoUint,
  expectGoObject,
  forEachGoField,
  goQuote,
  JsonSyntaxError,
  JsonTypeError,
  parseJson,
  type JsonValue,
} from './go-json.js'

export interface NormalizedEvent {
  connId: number
  eventId: string
  timestamp: string
  title: string
  sensor: string
  pluginId: number
  pluginSid: number
  product: string
  category: string
  subcategory: string
  srcIp: string
  srcPort: number
  dstIp: string
  dstPort: number
  protocol: string
  customData1: string
  customLabel1: string
  customData2: string
  customLabel2: string
  customData3: string
  customLabel3: string
  /** Unix nanoseconds when the frontend received the event (0 = unknown). Exact, hence bigint. */
  rcvdTime: bigint
  traceParent: string
  traceState: string
}

export function emptyEvent(): NormalizedEvent {
  return {
    connId: 0,
    eventId: '',
    timestamp: '',
    title: '',
    sensor: '',
    pluginId: 0,
    pluginSid: 0,
    product: '',
    category: '',
    subcategory: '',
    srcIp: '',
    srcPort: 0,
    dstIp: '',
    dstPort: 0,
    protocol: '',
    customData1: '',
    customLabel1: '',
    customData2: '',
    customLabel2: '',
    customData3: '',
    customLabel3: '',
    rcvdTime: 0n,
    traceParent: '',
    traceState: '',
  }
}

type EventField = Exclude<keyof NormalizedEvent, 'rcvdTime'>
type FieldKind = 'string' | 'int' | 'uint'

/** Go declaration order = JSON output order; `omitEmpty` mirrors the struct tags. */
const FIELDS: readonly {
  json: string
  prop: keyof NormalizedEvent
  kind: FieldKind | 'int64'
  omitEmpty: boolean
}[] = [
  {json: 'conn_id', prop: 'connId', kind: 'uint', omitEmpty: true},
  {json: 'event_id', prop: 'eventId', kind: 'string', omitEmpty: false},
  {json: 'timestamp', prop: 'timestamp', kind: 'string', omitEmpty: false},
  {json: 'title', prop: 'title', kind: 'string', omitEmpty: true},
  {json: 'sensor', prop: 'sensor', kind: 'string', omitEmpty: false},
  {json: 'plugin_id', prop: 'pluginId', kind: 'int', omitEmpty: true},
  {json: 'plugin_sid', prop: 'pluginSid', kind: 'int', omitEmpty: true},
  {json: 'product', prop: 'product', kind: 'string', omitEmpty: true},
  {json: 'category', prop: 'category', kind: 'string', omitEmpty: true},
  {json: 'subcategory', prop: 'subcategory', kind: 'string', omitEmpty: true},
  {json: 'src_ip', prop: 'srcIp', kind: 'string', omitEmpty: false},
  {json: 'src_port', prop: 'srcPort', kind: 'int', omitEmpty: false},
  {json: 'dst_ip', prop: 'dstIp', kind: 'string', omitEmpty: false},
  {json: 'dst_port', prop: 'dstPort', kind: 'int', omitEmpty: false},
  {json: 'protocol', prop: 'protocol', kind: 'string', omitEmpty: false},
  {json: 'custom_data1', prop: 'customData1', kind: 'string', omitEmpty: true},
  {json: 'custom_label1', prop: 'customLabel1', kind: 'string', omitEmpty: true},
  {json: 'custom_data2', prop: 'customData2', kind: 'string', omitEmpty: true},
  {json: 'custom_label2', prop: 'customLabel2', kind: 'string', omitEmpty: true},
  {json: 'custom_data3', prop: 'customData3', kind: 'string', omitEmpty: true},
  {json: 'custom_label3', prop: 'customLabel3', kind: 'string', omitEmpty: true},
  {json: 'rcvd_time', prop: 'rcvdTime', kind: 'int64', omitEmpty: true},
  {json: 'trace_parent', prop: 'traceParent', kind: 'string', omitEmpty: true},
  {json: 'trace_state', prop: 'traceState', kind: 'string', omitEmpty: true},
]

const FIELD_BY_JSON_NAME = new Map(FIELDS.map((f) => [f.json, f]))

/** Event JSON that Go's decoder would reject (HTTP 500 upstream). */
export class EventDecodeError extends Error {
  /** Character offset of the problem in the input, where known. */
  readonly offset: number | undefined

  constructor(message: string, offset: number | undefined) {
    super(message)
    this.offset = offset
    this.name = 'EventDecodeError'
  }
}

/** Decodes an already-parsed JSON value with Go's rules into a new event. */
export function decodeEventValue(root: JsonValue): NormalizedEvent {
  const event = emptyEvent()
  const object = expectGoObject(root, 'event.NormalizedEvent', [])
  if (object === undefined) return event
  const target = event as unknown as Record<string, string | number | bigint>
  forEachGoField(object, (name, value, key) => {
    const field = FIELD_BY_JSON_NAME.get(name)
    if (field === undefined) return
    const goName = `NormalizedEvent.${field.json}`
    const path = [key]
    let decoded: string | number | bigint | undefined
    switch (field.kind) {
      case 'string':
        decoded = decodeGoString(value, goName, path)
        break
      case 'int':
        decoded = decodeGoInt(value, goName, path)
        break
      case 'uint':
        decoded = decodeGoUint(value, goName, path)
        break
      case 'int64':
        decoded = decodeGoInt64Exact(value, goName, path)
        break
    }
    if (decoded !== undefined) target[field.prop] = decoded
  })
  return event
}

/** Parses one event from JSON text; throws EventDecodeError where upstream answers 500. */
export function parseEvent(text: string): NormalizedEvent {
  let root: JsonValue
  try {
    root = parseJson(text).value
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new EventDecodeError(error.message, error.offset)
    throw error
  }
  try {
    return decodeEventValue(root)
  } catch (error) {
    if (error instanceof JsonTypeError) throw new EventDecodeError(error.message, undefined)
    throw error
  }
}

/** Upstream's `Valid()`: required strings, and product+category when plugin id or sid is missing. */
export function isValidEvent(event: NormalizedEvent): boolean {
  if (
    event.timestamp === '' ||
    event.sensor === '' ||
    event.eventId === '' ||
    event.srcIp === '' ||
    event.dstIp === ''
  ) {
    return false
  }
  if (event.pluginId === 0 || event.pluginSid === 0) {
    if (event.product === '' || event.category === '') return false
  }
  return true
}

/** JSON exactly as Go's json.Marshal writes a NormalizedEvent. */
export function serializeEvent(event: NormalizedEvent): string {
  let out = '{'
  let first = true
  for (const field of FIELDS) {
    const value = event[field.prop as EventField | 'rcvdTime']
    if (field.omitEmpty && (value === '' || value === 0 || value === 0n)) continue
    out += (first ? '"' : ',"') + field.json + '":'
    out += typeof value === 'string' ? goQuote(value) : String(value)
    first = false
  }
  return out + '}'
}

// ---------------------------------------------------------------------------------------------
// RFC 3339 timestamps (Go's time.Parse(time.RFC3339, ...))

// Go tries a strict RFC 3339 fast path and falls back to its general layout parser, which is what
// decides acceptance: the hour ("15") may have one digit, the fraction may start with "," and a zone
// offset may reach 24:60. Month, day, minute and second need two digits.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

let lastTimestampText = ''
let lastTimestampSeconds = Number.NaN

/**
 * Unix seconds of an RFC 3339 timestamp (fraction truncated, as Go's t.Unix()), or NaN where Go's
 * parser fails. Consecutive events often share a timestamp, so the last answer is remembered.
 */
export function parseRfc3339Seconds(text: string): number {
  if (text === lastTimestampText) return lastTimestampSeconds
  const seconds = parseRfc3339Uncached(text)
  lastTimestampText = text
  lastTimestampSeconds = seconds
  return seconds
}

/** Days from 1970-01-01 to a proleptic Gregorian date (any year ≥ 0; Date.UTC maps 0–99 to 19xx). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra - 719468
}

function parseRfc3339Uncached(text: string): number {
  const m = RFC3339.exec(text)
  if (m === null) return Number.NaN
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return Number.NaN
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const maxDay = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!
  if (day < 1 || day > maxDay) return Number.NaN
  let offsetSeconds = 0
  if (m[7] !== undefined) {
    const zoneHours = Number(m[8])
    const zoneMinutes = Number(m[9])
    if (zoneHours > 24 || zoneMinutes > 60) return Number.NaN
    offsetSeconds = (zoneHours * 3600 + zoneMinutes * 60) * (m[7] === '-' ? -1 : 1)
  }
  return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds
}

/** RFC 3339 text (seconds precision, UTC) for a Unix time in seconds, as dtester writes it. */
export function formatRfc3339(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
