// Content sniffing for analysers on ports nobody registered them for (Zeek's dynamic protocol
// detection). It looks only at the first payload of a connection and only says "worth trying":
// the analyser itself confirms or fails on what follows.

import {KNOWN_HTTP_METHODS, parseRequestLine} from './http-lines.js'

const LF = 0x0a
const CR = 0x0d

/** An HTTP/1.x request line: `METHOD SP uri SP HTTP/1.x`, or a known method followed by SP if the line is cut. */
export function looksLikeHttpRequest(data: Uint8Array): boolean {
  let start = 0
  while (start < data.length && (data[start] === CR || data[start] === LF)) start++
  const lineEnd = data.indexOf(LF, start)
  if (lineEnd < 0) {
    const space = data.indexOf(0x20, start)
    if (space <= start || space - start > 16) return false
    return KNOWN_HTTP_METHODS.has(String.fromCharCode(...data.subarray(start, space)))
  }
  const end = lineEnd > start && data[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd
  const line = parseRequestLine(data.subarray(start, end), () => {})
  return line !== undefined && line.version.startsWith('1.')
}

/** A TLS handshake record (record version 3.x) whose first message is a ClientHello. */
export function looksLikeTlsClientHello(data: Uint8Array): boolean {
  if (data.length < 6) return false
  if (data[0] !== 22 || data[1] !== 3 || data[2]! > 4) return false
  const recordLength = (data[3]! << 8) | data[4]!
  if (recordLength < 4 || recordLength > 16384 + 2048) return false
  if (data[5] !== 1) return false
  if (data.length < 9) return true
  const helloLength = (data[6]! << 16) | (data[7]! << 8) | data[8]!
  // legacy_version + random + three length bytes at least; and a ClientHello is never huge.
  return helloLength >= 38 && helloLength < 1 << 17
}
