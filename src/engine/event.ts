// The normalized event: what Logstash POSTs to /events and what travels on the bus. Decoding follows
// Go's encoding/json (see go-json.ts); serialization follows the Go struct's field order and omitempty
// flags, so `event.golden` round-trips byte for byte.

import {
  decodeGoInt,
  decodeGoInt64Exact,
  decodeGoString,
  decodeGoUint,
  expectGoObject,
  foldKey,
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
  return parseEventFast(text) ?? parseEventGoJson(text)
}

/**
 * The reference decoder: our Go-semantics parser, then Go's field rules. parseEvent gives the same
 * result (event or error) for every text; it only takes a faster road when it can.
 */
export function parseEventGoJson(text: string): NormalizedEvent {
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

// ---------------------------------------------------------------------------------------------
// The fast path: JSON.parse (native, several times faster than our parser), accepted only where its
// result cannot differ from Go's reading of the text. JSON.parse loses four things Go's decoder sees:
// repeated keys (only the last value survives, so an earlier bad value or a case-folded twin would go
// unnoticed), how a number was written (`1.0`, `1e3` and `-0.0` become integers; digits beyond 2^53
// are rounded), lone-surrogate escapes (kept, where Go writes U+FFFD) and nesting depth (our parser
// recurses). So the fast path declines (returns undefined, and the reference decoder runs) whenever
// the text might hold one of those, or anything that is an error or needs a message (a wrong type,
// bad JSON): errors always come from the reference decoder, so their text and class are the same.
//
// - Nesting: every top-level value must be a string, number, boolean or null (an object or array in
//   an unknown key would be ignored by both, but is rare enough to decline).
// - Repeated keys: with flat values, every key of the text ends in `"`, blanks, `:`. A colon inside a
//   string can only follow a quote that is escaped (`\":`). So the colons that follow a quote (blanks
//   between allowed) number at least the keys of the text, and equal the distinct keys of
//   JSON.parse's object only if no key repeats. Case-folded twins (`Sensor` and `sensor`) stay
//   distinct in the object and are caught per field (a bit per field).
// - Numbers: in a flat object every number value follows such a colon; the same scan declines when
//   one has a fraction or exponent (look-alikes inside strings only cost the fast path). Integers
//   beyond 2^53 come out of JSON.parse as unsafe integers; only rcvd_time (int64 nanoseconds) takes
//   them (a bus event always has one), and its exact literal is read from the text: the only literal
//   of 16+ digits the scan met, or else the one after its key, found by searching a text without
//   backslashes (where every quote is structural and keys are unique, as checked).
// - Escapes: any \u escape of a surrogate (D800-DFFF) declines, paired or not.

/** A \u escape of a UTF-16 surrogate (or the text `\\ud8..` after an escaped backslash). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/
const INTEGER_AT = /-?\d+/y
const INT64_MIN = -9223372036854775808n
const INT64_MAX = 9223372036854775807n

/** Raw key → index in FIELDS (-1: no field), resolved as Go's case-insensitive match does. */
const fieldIndexByKey = new Map<string, number>()
/** Events use few distinct keys; a stream of random ones must not grow the cache without bound. */
const FIELD_INDEX_CACHE_LIMIT = 1024

function fieldIndexOfKey(key: string): number {
  let index = fieldIndexByKey.get(key)
  if (index === undefined) {
    const field = FIELD_BY_JSON_NAME.get(foldKey(key))
    index = field === undefined ? -1 : FIELDS.indexOf(field)
    if (fieldIndexByKey.size < FIELD_INDEX_CACHE_LIMIT) fieldIndexByKey.set(key, index)
  }
  return index
}

const isBlank = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9
const isDigit = (c: number): boolean => c >= 48 && c <= 57

/**
 * The event the reference decoder would return, or undefined where this path cannot be sure of it
 * (including every text the reference decoder rejects). Exported for the differential test.
 */
export function parseEventFast(text: string): NormalizedEvent | undefined {
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) return undefined
  const object = root as Record<string, unknown>
  const event = emptyEvent()
  let keys = 0
  let seen = 0
  let wideInt64Key: string | undefined
  for (const key in object) {
    keys++
    const value = object[key]
    const index = fieldIndexOfKey(key)
    if (index < 0) {
      if (value !== null && typeof value === 'object') return undefined
      continue
    }
    const bit = 1 << index
    if ((seen & bit) !== 0) return undefined
    seen |= bit
    if (typeof value === 'string') {
      if (!setStringField(event, index, value)) return undefined
    } else if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) {
        // Go integers have no negative zero.
        if (!setIntegerField(event, index, value === 0 ? 0 : value)) return undefined
      } else if (index === RCVD_TIME_INDEX && Number.isInteger(value)) {
        wideInt64Key = key
      } else {
        return undefined
      }
    } else if (value !== null) {
      return undefined
    }
  }

  // One pass over the colons: count the key-ending ones, decline on a non-integral number value, and
  // note where literals too long for a safe integer (16+ digits) start and end.
  let keyColons = 0
  let longLiterals = 0
  let longStart = 0
  let longEnd = 0
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    let before = i - 1
    while (isBlank(text.charCodeAt(before))) before--
    if (text.charCodeAt(before) !== 34) continue
    keyColons++
    let start = i + 1
    while (isBlank(text.charCodeAt(start))) start++
    let end = start
    let c = text.charCodeAt(end)
    if (c === 45) c = text.charCodeAt(++end)
    if (!isDigit(c)) continue
    do c = text.charCodeAt(++end)
    while (isDigit(c))
    if (c === 46 || c === 101 || c === 69) return undefined
    if (end - start >= 16) {
      longLiterals++
      longStart = start
      longEnd = end
    }
  }
  if (keyColons !== keys) return undefined
  if (text.indexOf('\\') !== -1 && SURROGATE_ESCAPE.test(text)) return undefined
  if (wideInt64Key !== undefined) {
    // rcvd_time's literal is among the long ones; when it is the only one, it is that one.
    const literal =
      longLiterals === 1 ? text.slice(longStart, longEnd) : integerLiteralOfKey(text, wideInt64Key)
    if (literal === undefined) return undefined
    const value = BigInt(literal)
    if (value < INT64_MIN || value > INT64_MAX) return undefined
    event.rcvdTime = value
  }
  return event
}

const RCVD_TIME_INDEX = FIELDS.findIndex((f) => f.prop === 'rcvdTime')

/** Stores a string in the field at `index` of FIELDS; false if that field is not a string. */
function setStringField(event: NormalizedEvent, index: number, value: string): boolean {
  // One named store per case keeps every store site monomorphic (a keyed store by name is not).
  switch (index) {
    case 1:
      event.eventId = value
      return true
    case 2:
      event.timestamp = value
      return true
    case 3:
      event.title = value
      return true
    case 4:
      event.sensor = value
      return true
    case 7:
      event.product = value
      return true
    case 8:
      event.category = value
      return true
    case 9:
      event.subcategory = value
      return true
    case 10:
      event.srcIp = value
      return true
    case 12:
      event.dstIp = value
      return true
    case 14:
      event.protocol = value
      return true
    case 15:
      event.customData1 = value
      return true
    case 16:
      event.customLabel1 = value
      return true
    case 17:
      event.customData2 = value
      return true
    case 18:
      event.customLabel2 = value
      return true
    case 19:
      event.customData3 = value
      return true
    case 20:
      event.customLabel3 = value
      return true
    case 22:
      event.traceParent = value
      return true
    case 23:
      event.traceState = value
      return true
    default:
      return false
  }
}

/** Stores a safe integer in the integer field at `index`; false where Go would not take it. */
function setIntegerField(event: NormalizedEvent, index: number, value: number): boolean {
  switch (index) {
    case 0:
      if (value < 0) return false
      event.connId = value
      return true
    case 5:
      event.pluginId = value
      return true
    case 6:
      event.pluginSid = value
      return true
    case 11:
      event.srcPort = value
      return true
    case 13:
      event.dstPort = value
      return true
    case 21:
      event.rcvdTime = BigInt(value)
      return true
    default:
      return false
  }
}

// The two switches above name FIELDS positions; prove at load that each position sets its own field.
for (const [index, field] of FIELDS.entries()) {
  const probe = emptyEvent()
  const stored =
    field.kind === 'string' ? setStringField(probe, index, 'x') : setIntegerField(probe, index, 1)
  const expected = field.kind === 'string' ? 'x' : field.kind === 'int64' ? 1n : 1
  if (!stored || probe[field.prop] !== expected) throw new Error(`event fast path: FIELDS[${index}] mismatch`)
}

/** The integer literal after `"key":` (keys are unique, as checked); undefined if the text has escapes. */
function integerLiteralOfKey(text: string, key: string): string | undefined {
  // Without backslashes every quote is structural, so `"key"` followed by `:` is that key.
  if (text.indexOf('\\') !== -1) return undefined
  const needle = `"${key}"`
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
    let i = at + needle.length
    while (isBlank(text.charCodeAt(i))) i++
    // The same quoted text as a string value is followed by `,` or `}`, a key by `:`.
    if (text.charCodeAt(i) !== 58) continue
    i++
    while (isBlank(text.charCodeAt(i))) i++
    INTEGER_AT.lastIndex = i
    return INTEGER_AT.exec(text)?.[0]
  }
  return undefined
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
