// An independent Community ID v1 (corelight/community-id-spec) for checking conn.log, written from the
// spec rather than from the sensor's implementation: SHA-1 over seed, the two endpoints ordered so the
// smaller address (then port) comes first, protocol, one pad byte and the ports; base64; "1:" prefix.

import {createHash} from 'node:crypto'
import {isIP} from 'node:net'

function addressBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number))
  const [head = '', tail = ''] = address.split('::')
  const groups = (text: string) => (text === '' ? [] : text.split(':').map((g) => parseInt(g, 16)))
  const left = groups(head)
  const right = address.includes('::') ? groups(tail) : []
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  const out = Buffer.alloc(16)
  all.forEach((group, i) => out.writeUInt16BE(group, i * 2))
  return out
}

/** ICMP types whose counterpart makes a two-way "port" pair (echo, timestamp, info, address mask). */
const ICMP_COUNTERPART: Readonly<Record<number, number>> = {
  8: 0,
  0: 8,
  13: 14,
  14: 13,
  15: 16,
  16: 15,
  17: 18,
  18: 17,
}

export function expectedCommunityId(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  proto: number,
  seed = 0,
): string {
  let a = addressBytes(src)
  let b = addressBytes(dst)
  let pa = sport
  let pb = dport
  let oneWay = false
  if (proto === 1) {
    const counterpart = ICMP_COUNTERPART[sport]
    if (counterpart === undefined) oneWay = true
    else pb = counterpart
  }
  const order = Buffer.compare(a, b)
  if (!oneWay && (order > 0 || (order === 0 && pa > pb))) {
    ;[a, b] = [b, a]
    ;[pa, pb] = [pb, pa]
  }
  const seedBytes = Buffer.alloc(2)
  seedBytes.writeUInt16BE(seed)
  const ports = Buffer.alloc(4)
  ports.writeUInt16BE(pa, 0)
  ports.writeUInt16BE(pb, 2)
  const digest = createHash('sha1')
    .update(Buffer.concat([seedBytes, a, b, Buffer.from([proto, 0]), ports]))
    .digest('base64')
  return `1:${digest}`
}
