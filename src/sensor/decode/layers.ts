// Scratch records the decoding stages fill in for the packet at hand. The decoder owns one of each and
// reuses it for every frame, so the per-packet path allocates only what it hands out.

/** Where the decoding stages report anomalies; the decoder adds time, addresses and ports. */
export interface WeirdCollector {
  weird(name: string, addl?: string): void
}

/** What the stage reports: go on, or why the frame stops here (the decoder counts each kind). */
export type StageOutcome = 'ok' | 'truncated' | 'malformed' | 'bad-checksum'

export interface LinkLayer {
  /** Offset of the IP header in the frame. */
  offset: number
  /** Outer and inner VLAN ids, -1 when absent. */
  vlan: number
  innerVlan: number
}

export interface IpLayer {
  version: 4 | 6
  /** Offset of the IP header in the buffer. */
  start: number
  /** IPv4: IHL × 4. IPv6: 40 plus the extension headers in front of the transport (or fragment data). */
  headerLen: number
  /** Datagram length per the header (IPv4 total length, IPv6 40 + payload length). */
  totalLen: number
  /** End of the datagram's bytes present in the buffer: min(captured, start + totalLen). */
  end: number
  /** Transport protocol (after IPv6 extension headers). */
  proto: number
  ttl: number
  src: string
  dst: string
  /** Offsets of the source and (final) destination address bytes, for pseudo-header checksums. */
  srcOffset: number
  dstOffset: number
  /** True for a real fragment (an IPv6 atomic fragment, offset 0 without More Fragments, is not one). */
  fragment: boolean
  /** Fragment offset in bytes. */
  fragOffset: number
  moreFragments: boolean
  dontFragment: boolean
  fragId: number
  /** Where the fragment's data starts (after the IPv4 header or the IPv6 fragment header). */
  fragDataStart: number
  /** Protocol of the fragmentable part (IPv6: the fragment header's Next Header). */
  fragNextHeader: number
  /** IPv6: offset of the fragment header, and of the Next Header byte that points to it. */
  fragHeaderOffset: number
  fragNextHeaderOffset: number
}

export function newIpLayer(): IpLayer {
  return {
    version: 4,
    start: 0,
    headerLen: 0,
    totalLen: 0,
    end: 0,
    proto: 0,
    ttl: 0,
    src: '',
    dst: '',
    srcOffset: 0,
    dstOffset: 0,
    fragment: false,
    fragOffset: 0,
    moreFragments: false,
    dontFragment: false,
    fragId: 0,
    fragDataStart: 0,
    fragNextHeader: 0,
    fragHeaderOffset: -1,
    fragNextHeaderOffset: -1,
  }
}

/** Big-endian 16-bit read; the caller has checked the bounds. */
export function readU16(data: Uint8Array, offset: number): number {
  return (data[offset]! << 8) | data[offset + 1]!
}

/** Big-endian unsigned 32-bit read; the caller has checked the bounds. */
export function readU32(data: Uint8Array, offset: number): number {
  return (
    ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0
  )
}
