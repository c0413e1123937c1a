// IPv4/IPv6 addresses and CIDR networks with Go's net.ParseIP / net.ParseCIDR rules, which decide what
// upstream Dsiem accepts in asset files and rule address lists: four decimal octets without leading
// zeros, IPv6 with at most one "::" and an optional trailing dotted quad, no zones. An IPv4-mapped IPv6
// address behaves as IPv4 (Go's To4). Addresses are four unsigned 32-bit words; IPv4 uses the last.

export interface IpAddress {
  readonly v4: boolean
  readonly words: readonly [number, number, number, number]
}

export interface IpNetwork {
  readonly v4: boolean
  readonly prefix: number
  /** Network address (host bits cleared). */
  readonly words: readonly [number, number, number, number]
  readonly mask: readonly [number, number, number, number]
}

function parseIpv4Words(s: string): number | undefined {
  let value = 0
  let octets = 0
  let i = 0
  while (i <= s.length) {
    let digits = 0
    let octet = 0
    const start = i
    while (i < s.length) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      octet = octet * 10 + (c - 48)
      digits++
      i++
      if (digits > 3) return undefined
    }
    if (digits === 0 || octet > 255) return undefined
    if (digits > 1 && s.charCodeAt(start) === 48) return undefined // leading zero
    value = value * 256 + octet
    octets++
    if (i === s.length) break
    if (s.charCodeAt(i) !== 46 || octets === 4) return undefined
    i++
  }
  return octets === 4 ? value >>> 0 : undefined
}

function parseIpv6Words(s: string): [number, number, number, number] | undefined {
  const groups: number[] = []
  let ellipsis = -1
  let i = 0
  if (s.startsWith('::')) {
    ellipsis = 0
    i = 2
    if (s.length === 2) return [0, 0, 0, 0]
  }
  while (i < s.length) {
    // A dotted quad may end the address.
    const rest = s.slice(i)
    if (rest.includes('.') && !rest.includes(':')) {
      if (groups.length > 6) return undefined
      const v4 = parseIpv4Words(rest)
      if (v4 === undefined) return undefined
      groups.push(v4 >>> 16, v4 & 0xffff)
      i = s.length
      break
    }
    let value = 0
    let digits = 0
    while (i < s.length) {
      const c = s.charCodeAt(i)
      const h = hexValue(c)
      if (h < 0) break
      value = value * 16 + h
      digits++
      i++
      if (digits > 4) return undefined
    }
    if (digits === 0) return undefined
    groups.push(value)
    if (i === s.length) break
    if (s.charCodeAt(i) !== 58) return undefined
    i++
    if (s.charCodeAt(i) === 58) {
      if (ellipsis >= 0) return undefined
      ellipsis = groups.length
      i++
      if (i === s.length) break
    } else if (i === s.length) {
      return undefined // trailing single colon
    }
    if (groups.length >= 8) return undefined
  }
  if (ellipsis >= 0) {
    if (groups.length > 7) return undefined
    const missing = 8 - groups.length
    groups.splice(ellipsis, 0, ...new Array<number>(missing).fill(0))
  }
  if (groups.length !== 8) return undefined
  return [
    ((groups[0]! << 16) | groups[1]!) >>> 0,
    ((groups[2]! << 16) | groups[3]!) >>> 0,
    ((groups[4]! << 16) | groups[5]!) >>> 0,
    ((groups[6]! << 16) | groups[7]!) >>> 0,
  ]
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Go net.ParseIP; undefined where Go returns nil. */
export function parseIp(s: string): IpAddress | undefined {
  if (s.includes(':')) {
    const words = parseIpv6Words(s)
    if (words === undefined) return undefined
    // IPv4-mapped (::ffff:a.b.c.d) acts as IPv4, as Go's To4 makes it.
    if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
      return {v4: true, words: [0, 0, 0, words[3]]}
    }
    return {v4: false, words}
  }
  const v4 = parseIpv4Words(s)
  return v4 === undefined ? undefined : {v4: true, words: [0, 0, 0, v4]}
}

function maskWords(prefix: number, v4: boolean): [number, number, number, number] {
  const bits = v4 ? prefix + 96 : prefix
  const mask: [number, number, number, number] = [0, 0, 0, 0]
  for (let w = 0; w < 4; w++) {
    const take = Math.max(0, Math.min(32, bits - w * 32))
    mask[w] = take === 0 ? 0 : take === 32 ? 0xffffffff : (0xffffffff << (32 - take)) >>> 0
  }
  if (v4) {
    mask[0] = 0
    mask[1] = 0
    mask[2] = 0
  }
  return mask
}

/** Go net.ParseCIDR: "addr/len", host bits allowed and cleared. */
export function parseCidr(s: string): IpNetwork | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const addressText = s.slice(0, slash)
  const prefixText = s.slice(slash + 1)
  // Go's dtoi: decimal digits only, leading zeros allowed.
  if (!/^[0-9]+$/.test(prefixText)) return undefined
  const prefix = Number(prefixText)
  let v4: boolean
  let words: [number, number, number, number]
  if (addressText.includes(':')) {
    const v6 = parseIpv6Words(addressText)
    if (v6 === undefined) return undefined
    v4 = false
    words = v6
  } else {
    const v4Value = parseIpv4Words(addressText)
    if (v4Value === undefined) return undefined
    v4 = true
    words = [0, 0, 0, v4Value]
  }
  if (prefix > (v4 ? 32 : 128)) return undefined
  if (!v4 && prefix >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    // An IPv4-mapped network whose mask keeps the ::ffff: prefix: Go's IPNet treats it as IPv4 with
    // the last 32 bits of the mask (Contains and String both go through To4).
    return parseCidrV4(words[3], prefix - 96)
  }
  const mask = maskWords(prefix, v4)
  return {
    v4,
    prefix,
    mask,
    words: [
      (words[0] & mask[0]) >>> 0,
      (words[1] & mask[1]) >>> 0,
      (words[2] & mask[2]) >>> 0,
      (words[3] & mask[3]) >>> 0,
    ],
  }
}

function parseCidrV4(address: number, prefix: number): IpNetwork {
  const mask = maskWords(prefix, true)
  return {v4: true, prefix, mask, words: [0, 0, 0, (address & mask[3]) >>> 0]}
}

export function networkContains(network: IpNetwork, ip: IpAddress): boolean {
  if (network.v4 !== ip.v4) return false
  if (network.v4) return (ip.words[3] & network.mask[3]) >>> 0 === network.words[3]
  for (let w = 0; w < 4; w++) {
    if ((ip.words[w]! & network.mask[w]!) >>> 0 !== network.words[w]) return false
  }
  return true
}

/** A host entry: /32 for IPv4, /128 for IPv6 (what upstream uses for names and excludes from networks). */
export function isHostNetwork(network: IpNetwork): boolean {
  return network.prefix === (network.v4 ? 32 : 128)
}

function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`
}

/** RFC 5952 text, as Go prints IPv6: lower-case, the longest run of two or more zero groups as "::". */
function formatIpv6(words: readonly [number, number, number, number]): string {
  const groups: number[] = []
  for (const word of words) groups.push(word >>> 16, word & 0xffff)
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = (g: number) => g.toString(16)
  if (bestStart < 0) return groups.map(hex).join(':')
  const head = groups.slice(0, bestStart).map(hex).join(':')
  const tail = groups
    .slice(bestStart + bestLength)
    .map(hex)
    .join(':')
  return `${head}::${tail}`
}

/** Go's IPNet.String(): the masked network address and the prefix length. */
export function formatNetwork(network: IpNetwork): string {
  const address = network.v4 ? formatIpv4(network.words[3]) : formatIpv6(network.words)
  return `${address}/${network.prefix}`
}

// The ranges Go's shared ip.IsPrivateIP treats as private; intel lookups skip them by default.
const PRIVATE_NETWORKS: readonly IpNetwork[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  'fc00::/7',
  '::1/128',
  'fe80::/10',
].map((cidr) => parseCidr(cidr)!)

/** Private or unparsable (upstream skips both for intel lookups). */
export function isPrivateOrInvalidIp(s: string): boolean {
  const ip = parseIp(s)
  if (ip === undefined) return true
  return PRIVATE_NETWORKS.some((network) => networkContains(network, ip))
}

/**
 * An event address as upstream's list matcher reads it: a plain IP, or the address part of "ip/len"
 * (Go parses the event side with ParseCIDR after appending /32 when there is no slash).
 */
export function parseListTerm(s: string): IpAddress | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return parseIp(s)
  if (parseCidr(s) === undefined) return undefined
  return parseIp(s.slice(0, slash))
}
