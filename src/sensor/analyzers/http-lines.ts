// HTTP start lines and the header values http.log keeps, read the way Zeek's HTTP analyser and
// base/protocols/http scripts read them.

import {latin1, startsWithIgnoreCase} from './byte-text.js'

/** Zeek's HTTP::http_methods (anything else is logged with an unknown_HTTP_method weird). */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
  'CONNECT',
  'PATCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'POLL',
  'REPORT',
  'SUBSCRIBE',
  'BMOVE',
  'SEARCH',
])

/** Zeek's HTTP::proxy_headers: their presence is logged in `proxied`. */
export const PROXY_HEADERS: ReadonlySet<string> = new Set([
  'FORWARDED',
  'X-FORWARDED-FOR',
  'X-FORWARDED-FROM',
  'CLIENT-IP',
  'VIA',
  'XROXY-CONNECTION',
  'PROXY-CONNECTION',
])

/** RFC 9110 tchar: what a method name is made of. */
const TOKEN_CHAR: Uint8Array = (() => {
  const table = new Uint8Array(256)
  for (let byte = 0x21; byte < 0x7f; byte++) table[byte] = 1
  for (const separator of '()<>@,;:\\"/[]?={}') table[separator.charCodeAt(0)] = 0
  return table
})()

/** The longest method name we wait for before deciding a line is not a request. */
const MAX_METHOD_LENGTH = 32

export interface RequestLine {
  method: string
  /** The request target with %-escapes decoded (what Zeek logs as `uri`). */
  uri: string
  /** Text after `HTTP/`, e.g. `1.1`. */
  version: string
}

export interface StatusLine {
  version: string
  code: number
  reason: string
}

export type UriWeirdReporter = (name: string) => void

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39

/** True when `bytes[start, end)` is `<digits>.<digits>`. */
function isVersionNumber(bytes: Uint8Array, start: number, end: number): boolean {
  let at = start
  while (at < end && isDigit(bytes[at])) at++
  if (at === start || at >= end || bytes[at] !== 0x2e) return false
  const minorStart = ++at
  while (at < end && isDigit(bytes[at])) at++
  return at === end && at > minorStart
}

/** Could `partial` (a line without its end yet) still become a request line? */
export function plausibleRequestStart(partial: Uint8Array): boolean {
  const limit = Math.min(partial.length, MAX_METHOD_LENGTH + 1)
  for (let at = 0; at < limit; at++) {
    const byte = partial[at]!
    if (byte === 0x20) return at > 0
    if (TOKEN_CHAR[byte] === 0) return false
  }
  return partial.length <= MAX_METHOD_LENGTH
}

/** Could `partial` still become a status line? */
export function plausibleStatusStart(partial: Uint8Array): boolean {
  return startsWithIgnoreCase(partial, 0, 'HTTP/'.slice(0, Math.min(5, partial.length)))
}

/** `METHOD SP request-target SP HTTP/d.d`, or undefined when the line is not a request line. */
export function parseRequestLine(line: Uint8Array, report: UriWeirdReporter): RequestLine | undefined {
  let methodEnd = 0
  while (methodEnd < line.length && TOKEN_CHAR[line[methodEnd]!] === 1) methodEnd++
  if (methodEnd === 0 || methodEnd >= line.length || line[methodEnd] !== 0x20) return undefined
  let uriStart = methodEnd
  while (uriStart < line.length && line[uriStart] === 0x20) uriStart++
  let end = line.length
  while (end > uriStart && (line[end - 1] === 0x20 || line[end - 1] === 0x09)) end--
  // The version is the last word; the target is everything between (it may hold spaces).
  let versionStart = end
  while (versionStart > uriStart && line[versionStart - 1] !== 0x20) versionStart--
  if (versionStart <= uriStart || !startsWithIgnoreCase(line, versionStart, 'HTTP/')) return undefined
  if (!isVersionNumber(line, versionStart + 5, end)) return undefined
  let uriEnd = versionStart
  while (uriEnd > uriStart && line[uriEnd - 1] === 0x20) uriEnd--
  if (uriEnd === uriStart) return undefined
  return {
    method: latin1(line, 0, methodEnd),
    uri: unescapeUri(line, uriStart, uriEnd, report),
    version: latin1(line, versionStart + 5, end),
  }
}

/** `HTTP/d.d SP ddd [SP reason]`, or undefined. */
export function parseStatusLine(line: Uint8Array): StatusLine | undefined {
  if (!startsWithIgnoreCase(line, 0, 'HTTP/')) return undefined
  let versionEnd = 5
  while (versionEnd < line.length && line[versionEnd] !== 0x20 && line[versionEnd] !== 0x09) versionEnd++
  if (!isVersionNumber(line, 5, versionEnd)) return undefined
  let codeStart = versionEnd
  while (codeStart < line.length && (line[codeStart] === 0x20 || line[codeStart] === 0x09)) codeStart++
  if (!isDigit(line[codeStart]) || !isDigit(line[codeStart + 1]) || !isDigit(line[codeStart + 2])) {
    return undefined
  }
  const afterCode = codeStart + 3
  if (afterCode < line.length && line[afterCode] !== 0x20 && line[afterCode] !== 0x09) return undefined
  let reasonStart = afterCode
  while (reasonStart < line.length && (line[reasonStart] === 0x20 || line[reasonStart] === 0x09))
    reasonStart++
  return {
    version: latin1(line, 5, versionEnd),
    code:
      (line[codeStart]! - 0x30) * 100 + (line[codeStart + 1]! - 0x30) * 10 + (line[codeStart + 2]! - 0x30),
    reason: latin1(line, reasonStart, line.length),
  }
}

/**
 * %-decoding as Zeek's unescape_URI does it: `%XX` and IIS-style `%uXXXX` are decoded, a `%` that
 * starts no escape stays as it is (with a weird), `%%` drops the first `%`.
 */
export function unescapeUri(bytes: Uint8Array, start: number, end: number, report: UriWeirdReporter): string {
  const first = bytes.indexOf(0x25, start)
  if (first < 0 || first >= end) return latin1(bytes, start, end)
  const out = new Uint8Array(end - start)
  let length = 0
  let at = start
  while (at < end) {
    const byte = bytes[at]!
    if (byte !== 0x25) {
      out[length++] = byte
      at++
      continue
    }
    const left = end - at - 1
    if (left === 0) {
      out[length++] = 0x25
      report('illegal_%_at_end_of_URI')
      break
    }
    if (left === 1) {
      out[length++] = 0x25
      out[length++] = bytes[at + 1]!
      report('partial_escape_at_end_of_URI')
      break
    }
    const high = hexDigit(bytes[at + 1]!)
    const low = hexDigit(bytes[at + 2]!)
    if (bytes[at + 1] === 0x25) {
      report('double_%_in_URI')
      at++
    } else if (high >= 0 && low >= 0) {
      out[length++] = (high << 4) | low
      at += 3
    } else if (left >= 5 && bytes[at + 1] === 0x75 && allHex(bytes, at + 2, 4)) {
      const upper = (hexDigit(bytes[at + 2]!) << 4) | hexDigit(bytes[at + 3]!)
      if (upper !== 0) out[length++] = upper
      out[length++] = (hexDigit(bytes[at + 4]!) << 4) | hexDigit(bytes[at + 5]!)
      at += 6
    } else {
      report('unescaped_%_in_URI')
      out[length++] = 0x25
      out[length++] = bytes[at + 1]!
      at += 2
    }
  }
  return latin1(out, 0, length)
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  const lower = byte | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1
}

function allHex(bytes: Uint8Array, start: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (hexDigit(bytes[start + i]!) < 0) return false
  return true
}

/** The Host header without its port, as Zeek logs it (a bracketed IPv6 literal stays whole). */
export function hostWithoutPort(value: string): string {
  if (value.startsWith('[')) {
    const close = value.indexOf(']')
    return close < 0 ? value : value.slice(0, close + 1)
  }
  const colon = value.indexOf(':')
  return colon < 0 ? value : value.slice(0, colon)
}

/** The user name of `Authorization: Basic …` (Zeek logs it; the password only when told to). */
export function basicAuthUsername(value: string): string | undefined {
  if (!/^basic\s/i.test(value)) return undefined
  const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('latin1')
  const colon = decoded.indexOf(':')
  return colon < 0 ? `<problem-decoding> (${value})` : decoded.slice(0, colon)
}
