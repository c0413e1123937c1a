// The benchmark's asset table (HOME_NET with values, one named server, one whitelisted scanner) and an
// independent IPv4 lookup of the same data. The expected alarms are computed with this lookup, not
// with the engine's AssetTable, so a bug in the engine's asset code cannot hide in both sides.

import type {AssetEntry} from '../../src/engine/index.js'

export const BENCH_ASSETS: readonly AssetEntry[] = [
  {name: 'corp-lan', cidr: '10.0.0.0/8', value: 2, whitelisted: false},
  {name: 'server-farm', cidr: '10.1.0.0/16', value: 4, whitelisted: false},
  {name: 'dmz', cidr: '172.16.0.0/12', value: 3, whitelisted: false},
  {name: 'office-wifi', cidr: '192.168.0.0/16', value: 1, whitelisted: false},
  {name: 'web-01', cidr: '10.1.0.10/32', value: 5, whitelisted: false},
  {name: 'vuln-scanner', cidr: '10.0.0.250/32', value: 5, whitelisted: true},
]

/** The whitelisted scanner's address: its events are dropped before correlation. */
export const SCANNER_IP = '10.0.0.250'

function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`bench: not an IPv4 address: ${ip}`)
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0
}

interface Range {
  readonly base: number
  readonly mask: number
  readonly entry: AssetEntry
}

const RANGES: readonly Range[] = BENCH_ASSETS.map((entry) => {
  const [ip, prefixText] = entry.cidr.split('/') as [string, string]
  const prefix = Number(prefixText)
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return {base: (ipv4ToInt(ip) & mask) >>> 0, mask, entry}
})

function containing(ip: string): Range[] {
  const n = ipv4ToInt(ip)
  return RANGES.filter((r) => (n & r.mask) >>> 0 === r.base)
}

/** Upstream's asset value: the highest value of any non-whitelisted entry holding the address. */
export function assetValue(ip: string): number {
  let value = 0
  for (const r of containing(ip)) if (!r.entry.whitelisted && r.entry.value > value) value = r.entry.value
  return value
}

export function inHomeNet(ip: string): boolean {
  return containing(ip).some((r) => !r.entry.whitelisted)
}

export function isWhitelisted(ip: string): boolean {
  return containing(ip).some((r) => r.entry.whitelisted)
}
