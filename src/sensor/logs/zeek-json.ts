// Zeek's JSON log line (LogAscii::use_json=T): one object per record, keys in the stream's field
// order, unset fields left out, times and intervals as epoch doubles with at most six decimals
// (rapidjson's maxDecimalPlaces, which truncates the shortest form rather than rounding), and bytes
// that are not printable escaped as `\xNN` the way Zeek's default HEX string policy does.

import type {LogPath, LogRecord, LogValue} from '../types.js'
import {LOG_SCHEMAS, type LogSchema, type ZeekType} from './schema.js'

/** A double as Zeek's JSON writer prints it: `5.0`, `0.254`, `1591367999.430166`. */
export function formatZeekDouble(value: number): string {
  if (!Number.isFinite(value)) return '0.0'
  if (value !== 0 && Math.abs(value) < 1e-6) return value < 0 ? '-0.0' : '0.0'
  let text = String(value)
  if (text.includes('e')) text = value.toFixed(6)
  const dot = text.indexOf('.')
  if (dot < 0) return text + '.0'
  let end = Math.min(text.length, dot + 7)
  while (end > dot + 2 && text.charCodeAt(end - 1) === 48 /* 0 */) end--
  return text.slice(0, end)
}

const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

function hex(byte: number): string {
  return '\\\\x' + (byte < 16 ? '0' : '') + byte.toString(16)
}

/** Length of the valid UTF-8 sequence starting at `i` of a byte string, or 0. */
function utf8SequenceLength(text: string, i: number): number {
  const lead = text.charCodeAt(i)
  const length = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 0
  if (length === 0 || lead > 0xf4 || i + length > text.length) return 0
  for (let k = 1; k < length; k++) {
    const c = text.charCodeAt(i + k)
    if (c < 0x80 || c > 0xbf) return 0
  }
  return length
}

/**
 * A JSON string literal for a protocol string. Producers hand in byte strings (one char per byte,
 * latin1); valid UTF-8 sequences come out as the characters they encode, everything else that is not
 * printable ASCII as a literal `\xNN`.
 */
export function zeekJsonString(text: string): string {
  if (PLAIN_STRING.test(text)) return '"' + text + '"'
  let out = '"'
  let i = 0
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code === 0x22) out += '\\"'
    else if (code === 0x5c) out += '\\\\'
    else if (code >= 0x20 && code < 0x7f) out += text[i]
    else if (code > 0xff)
      out += text[i] // already a decoded character (not a byte string)
    else if (code >= 0x80) {
      const length = utf8SequenceLength(text, i)
      if (length > 0) {
        out += Buffer.from(text.slice(i, i + length), 'latin1').toString('utf8')
        i += length
        continue
      }
      out += hex(code)
    } else out += hex(code)
    i++
  }
  return out + '"'
}

function formatValue(value: LogValue, type: ZeekType): string {
  switch (type) {
    case 'time':
    case 'interval':
    case 'double':
      return formatZeekDouble(value as number)
    case 'count':
    case 'int':
    case 'port':
      return String(Math.trunc(value as number))
    case 'bool':
      return value ? 'true' : 'false'
    case 'vector[interval]':
      return '[' + (value as readonly number[]).map(formatZeekDouble).join(',') + ']'
    case 'set[string]':
    case 'vector[string]':
      return '[' + (value as readonly string[]).map(zeekJsonString).join(',') + ']'
    default:
      return zeekJsonString(String(value))
  }
}

/** One JSON log line (without the newline) for a record of the given schema. */
export function formatRecordWithSchema(record: LogRecord, schema: LogSchema): string {
  let out = '{'
  let first = true
  for (const [field, type] of schema) {
    const value = record[field]
    if (value === undefined) continue
    out += (first ? '"' : ',"') + field + '":' + formatValue(value, type)
    first = false
  }
  return out + '}'
}

export function formatZeekJson(path: LogPath, record: LogRecord): string {
  return formatRecordWithSchema(record, LOG_SCHEMAS[path])
}
