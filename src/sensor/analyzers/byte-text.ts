// Protocol text (header lines, names, URIs) is bytes, not UTF-8: decode it one byte per code unit
// (latin1) so every byte survives and the JSON writer can escape what is not printable. Decoding is
// done per field, never per byte.

/** Below this length a direct char-code call beats creating a Buffer view. */
const SHORT_TEXT = 48

/** `bytes[start, end)` as a latin1 string (one UTF-16 code unit per byte). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const length = end - start
  if (length <= 0) return ''
  if (length <= SHORT_TEXT) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[])
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1')
}

/** Lower-case hex of `bytes[start, end)`. */
export function hex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, end - start)).toString('hex')
}

/** True when `bytes` at `offset` starts with the ASCII `prefix`, ignoring letter case. */
export function startsWithIgnoreCase(bytes: Uint8Array, offset: number, prefix: string): boolean {
  if (offset + prefix.length > bytes.length) return false
  for (let i = 0; i < prefix.length; i++) {
    let byte = bytes[offset + i]!
    if (byte >= 0x41 && byte <= 0x5a) byte |= 0x20
    let want = prefix.charCodeAt(i)
    if (want >= 0x41 && want <= 0x5a) want |= 0x20
    if (byte !== want) return false
  }
  return true
}
