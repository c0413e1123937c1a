// Byte helpers for the frame builder: turning the friendly inputs (text, number lists, address and MAC
// strings) into bytes, and writing big-endian fields.

import {InputError} from '../../engine/errors.js'
import {parseIp} from '../../engine/ip.js'

/** Bytes as the builder accepts them: raw, text (UTF-8) or a list of byte values. */
export type Bytes = Uint8Array | string | readonly number[]

const utf8 = new TextEncoder()

export function toBytes(bytes: Bytes | undefined): Uint8Array {
  if (bytes === undefined) return new Uint8Array(0)
  if (typeof bytes === 'string') return utf8.encode(bytes)
  if (bytes instanceof Uint8Array) return bytes
  return Uint8Array.from(bytes)
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

export function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = (value >>> 8) & 0xff
  out[offset + 1] = value & 0xff
}

export function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = (value >>> 24) & 0xff
  out[offset + 1] = (value >>> 16) & 0xff
  out[offset + 2] = (value >>> 8) & 0xff
  out[offset + 3] = value & 0xff
}

/** True when the text is an IPv6 address (the builder picks IPv6 for it). */
export function isIpv6Text(address: string): boolean {
  return address.includes(':')
}

/** 4 bytes for a dotted quad, 16 for IPv6 text (IPv4-mapped text stays a 16-byte IPv6 address). */
export function addressBytes(address: string): Uint8Array {
  const parsed = parseIp(address)
  if (parsed === undefined) throw new InputError(`not an IP address: ${address}`, 'DSIEM_E_CRAFT_ADDRESS')
  const [w0, w1, w2, w3] = parsed.words
  if (!isIpv6Text(address)) {
    const out = new Uint8Array(4)
    writeU32(out, 0, w3)
    return out
  }
  // parseIp folds ::ffff:a.b.c.d into IPv4; on the wire it is an IPv6 address.
  const words = parsed.v4 ? [0, 0, 0xffff, w3] : [w0, w1, w2, w3]
  const out = new Uint8Array(16)
  for (let i = 0; i < 4; i++) writeU32(out, i * 4, words[i]!)
  return out
}

/** Six bytes from "aa:bb:cc:dd:ee:ff" (or with dashes). */
export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/)
  if (parts.length !== 6 || parts.some((part) => !/^[0-9a-fA-F]{1,2}$/.test(part))) {
    throw new InputError(`not a MAC address: ${mac}`, 'DSIEM_E_CRAFT_MAC')
  }
  return Uint8Array.from(parts, (part) => parseInt(part, 16))
}
