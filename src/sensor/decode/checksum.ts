// The Internet checksum (RFC 1071) and the pseudo-headers TCP, UDP and ICMPv6 add to it (RFC 768,
// RFC 9293, RFC 8200 §8.1). Sums are kept unfolded as plain numbers: even a 64 KiB datagram plus a
// pseudo-header stays far below 2^53, so folding happens once at the end.

/** Below this many bytes, reading bytes one by one beats setting up a DataView. */
const DATAVIEW_MIN_BYTES = 128

/** Adds the big-endian 16-bit words of data[start, end) to `sum`; an odd last byte is padded with zero. */
export function addWords(data: Uint8Array, start: number, end: number, sum: number): number {
  let i = start
  if (end - start >= DATAVIEW_MIN_BYTES) {
    // Full-size packets: 32-bit reads halve the loads. Each adds two words at once; the 32-bit sums
    // are split into 16-bit halves at the end.
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    let wide = 0
    const end8 = end - 7
    for (; i < end8; i += 8) wide += view.getUint32(i) + view.getUint32(i + 4)
    sum += Math.floor(wide / 0x10000) + (wide % 0x10000)
  }
  // Four bytes per round: fewer loop checks on the per-packet path.
  const end4 = end - 3
  for (; i < end4; i += 4) {
    sum += ((data[i]! << 8) | data[i + 1]!) + ((data[i + 2]! << 8) | data[i + 3]!)
  }
  for (; i < end - 1; i += 2) sum += (data[i]! << 8) | data[i + 1]!
  if (i < end) sum += data[i]! << 8
  return sum
}

/** Folds the carries into 16 bits (one's complement addition). */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000)
  return sum
}

/** A region whose stored checksum is right sums to all ones. */
export function isValidSum(sum: number): boolean {
  return foldSum(sum) === 0xffff
}

/** The checksum field value that makes a region summing to `sum` (with a zero field) valid. */
export function checksumOf(sum: number): number {
  return ~foldSum(sum) & 0xffff
}

function word(data: Uint8Array, offset: number): number {
  return (data[offset]! << 8) | data[offset + 1]!
}

/** IPv4 pseudo-header: source, destination, protocol and the transport length. */
export function ipv4PseudoSum(
  data: Uint8Array,
  srcOffset: number,
  dstOffset: number,
  proto: number,
  length: number,
) {
  return (
    word(data, srcOffset) +
    word(data, srcOffset + 2) +
    word(data, dstOffset) +
    word(data, dstOffset + 2) +
    proto +
    length
  )
}

/** IPv6 pseudo-header: source, final destination, 32-bit upper-layer length and next header. */
export function ipv6PseudoSum(
  data: Uint8Array,
  srcOffset: number,
  dstOffset: number,
  proto: number,
  length: number,
) {
  let sum = proto + Math.floor(length / 0x10000) + (length % 0x10000)
  for (let i = 0; i < 16; i += 2) sum += word(data, srcOffset + i) + word(data, dstOffset + i)
  return sum
}
