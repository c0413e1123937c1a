// Text forms of IP addresses read straight out of packet bytes, in the form Zeek logs them: dotted quad
// for IPv4 and RFC 5952 for IPv6 (lower case, no leading zeros, the longest run of two or more zero
// groups as "::", the first run on a tie, IPv4-mapped addresses as ::ffff:a.b.c.d). This runs twice per
// packet, so the text is memoised: a worker sees the same few thousand hosts over and over.

const OCTET_TEXT: readonly string[] = Array.from({length: 256}, (_, i) => String(i))

// Direct-mapped caches: a slot per hash of the address, the newest address wins a shared slot. No Map
// hashing, no allocation on a hit, and a fixed size however many hosts pass by.
const IPV4_SLOT_BITS = 15
const ipv4Keys = new Int32Array(1 << IPV4_SLOT_BITS)
const ipv4Texts: string[] = Array.from({length: 1 << IPV4_SLOT_BITS}, () => '')

const IPV6_SLOT_BITS = 12
const ipv6Keys = new Int32Array(4 << IPV6_SLOT_BITS)
const ipv6Texts: string[] = Array.from({length: 1 << IPV6_SLOT_BITS}, () => '')

function readI32(data: Uint8Array, offset: number): number {
  return (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!
}

/** Dotted quad of the 4 bytes at `offset` (the caller guarantees they are there). */
export function ipv4Text(data: Uint8Array, offset: number): string {
  const key = readI32(data, offset)
  const slot = Math.imul(key, 0x9e3779b1) >>> (32 - IPV4_SLOT_BITS)
  const cached = ipv4Texts[slot]!
  if (cached !== '' && ipv4Keys[slot] === key) return cached
  const text =
    OCTET_TEXT[data[offset]!]! +
    '.' +
    OCTET_TEXT[data[offset + 1]!]! +
    '.' +
    OCTET_TEXT[data[offset + 2]!]! +
    '.' +
    OCTET_TEXT[data[offset + 3]!]!
  ipv4Keys[slot] = key
  ipv4Texts[slot] = text
  return text
}

/** RFC 5952 text of the 16 bytes at `offset` (the caller guarantees they are there). */
export function ipv6Text(data: Uint8Array, offset: number): string {
  const w0 = readI32(data, offset)
  const w1 = readI32(data, offset + 4)
  const w2 = readI32(data, offset + 8)
  const w3 = readI32(data, offset + 12)
  const slot =
    Math.imul(w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ Math.imul(w3, 0x9e3779b1), 0x85ebca6b) >>>
    (32 - IPV6_SLOT_BITS)
  const cached = ipv6Texts[slot]!
  const at = slot * 4
  if (
    cached !== '' &&
    ipv6Keys[at] === w0 &&
    ipv6Keys[at + 1] === w1 &&
    ipv6Keys[at + 2] === w2 &&
    ipv6Keys[at + 3] === w3
  ) {
    return cached
  }
  const text = formatIpv6(data, offset)
  ipv6Keys[at] = w0
  ipv6Keys[at + 1] = w1
  ipv6Keys[at + 2] = w2
  ipv6Keys[at + 3] = w3
  ipv6Texts[slot] = text
  return text
}

function formatIpv6(data: Uint8Array, offset: number): string {
  // Find the longest run of zero groups (at least two) first; the first one wins a tie.
  let bestStart = -1
  let bestLength = 1
  let runStart = -1
  for (let group = 0; group < 8; group++) {
    const at = offset + group * 2
    if (data[at] === 0 && data[at + 1] === 0) {
      if (runStart < 0) runStart = group
      const runLength = group - runStart + 1
      if (runLength > bestLength) {
        bestStart = runStart
        bestLength = runLength
      }
    } else {
      runStart = -1
    }
  }
  if (bestStart === 0 && bestLength === 5 && data[offset + 10] === 0xff && data[offset + 11] === 0xff) {
    return '::ffff:' + ipv4Text(data, offset + 12)
  }
  let text = ''
  for (let group = 0; group < 8; group++) {
    if (group === bestStart) {
      text += '::'
      group += bestLength - 1
      continue
    }
    if (text.length > 0 && group !== bestStart + bestLength) text += ':'
    const at = offset + group * 2
    text += ((data[at]! << 8) | data[at + 1]!).toString(16)
  }
  return text
}
