// The terms an alarm is checked for: its IPs for threat intel, and the (ip, port) pairs written in its
// rules for vulnerabilities, minus those it already holds a result for, in upstream's check order.

import type {Alarm, LookupResult} from '../alarm.js'
import type {DirectiveRule} from '../directive.js'
import {isPrivateOrInvalidIp} from '../ip.js'

/** Whether an alarm already holds a result for this term (upstream skips those). */
export function hasTerm(results: readonly LookupResult[], term: string): boolean {
  return results.some((r) => r.term === term)
}

/**
 * IPs to check for threat intel: unique src ∪ dst IPs (first-seen order; upstream's order is random),
 * without private or unparsable ones unless `checkPrivateIp` (`--intelPrivateIP`, which then lets
 * unparsable strings through too), and without IPs that already have a hit.
 */
export function intelCandidates(
  alarm: Pick<Alarm, 'srcIps' | 'dstIps' | 'intelHits'>,
  checkPrivateIp: boolean,
): string[] {
  const candidates: string[] = []
  for (const ip of new Set([...alarm.srcIps, ...alarm.dstIps])) {
    if (!checkPrivateIp && isPrivateOrInvalidIp(ip)) continue
    if (hasTerm(alarm.intelHits, ip)) continue
    candidates.push(ip)
  }
  return candidates
}

/** An (ip, port) pair as written in a rule: neither part is trimmed or validated yet. */
export interface VulnSearchTerm {
  readonly ip: string
  readonly port: string
}

type RuleAddresses = Pick<DirectiveRule, 'from' | 'to' | 'portFrom' | 'portTo'>

const NOT_AN_ADDRESS = new Set(['ANY', 'HOME_NET', '!HOME_NET'])

/** Go strings.Split + de-duplication: no trimming, empty items kept. */
function uniqueItems(list: string): string[] {
  return [...new Set(list.split(','))]
}

function addTerms(terms: VulnSearchTerm[], ips: string, ports: string, lastPort: number): void {
  const portList = uniqueItems(ports)
  const last = String(lastPort)
  for (const ip of uniqueItems(ips)) {
    if (NOT_AN_ADDRESS.has(ip) || ip.includes('/')) continue
    for (const port of portList) if (port !== 'ANY') terms.push({ip, port})
    // The last event's port is tried as well, unless it is 0.
    if (last !== '0') terms.push({ip, port: last})
  }
}

/**
 * Upstream's construcTerms over every alarm rule: each literal address in `from` paired with every
 * `port_from` entry and the last event's source port, then the same for `to`/`port_to`/destination
 * port; de-duplicated in first-seen order. Only IPs written in rules (or bound by references) count.
 */
export function buildVulnSearchTerms(
  rules: readonly RuleAddresses[],
  lastSrcPort: number,
  lastDstPort: number,
): VulnSearchTerm[] {
  const terms: VulnSearchTerm[] = []
  for (const rule of rules) {
    addTerms(terms, rule.from, rule.portFrom, lastSrcPort)
    addTerms(terms, rule.to, rule.portTo, lastDstPort)
  }
  const seen = new Set<string>()
  return terms.filter((t) => {
    const key = `${t.ip}\u0000${t.port}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

const INT64_MAX = 9223372036854775807n

/** Go strconv.Atoi: optional sign, decimal digits only, within int64. */
export function parseGoAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined
  const value = BigInt(s)
  if (value > INT64_MAX || value < -INT64_MAX - 1n) return undefined
  return Number(value)
}

export interface VulnCandidate {
  readonly ip: string
  readonly port: number
  /** `ip:port` as written in the rule; what an existing vulnerability's term is compared with. */
  readonly term: string
}

/** Search terms not yet holding a vulnerability and with an integer port, in upstream's check order. */
export function vulnCandidates(
  rules: readonly RuleAddresses[],
  lastSrcPort: number,
  lastDstPort: number,
  existing: readonly LookupResult[],
): VulnCandidate[] {
  const candidates: VulnCandidate[] = []
  for (const {ip, port} of buildVulnSearchTerms(rules, lastSrcPort, lastDstPort)) {
    const term = `${ip}:${port}`
    if (hasTerm(existing, term)) continue
    const portNumber = parseGoAtoi(port)
    if (portNumber === undefined) continue
    candidates.push({ip, port: portNumber, term})
  }
  return candidates
}

/** The cache key (and Nesd result term) of a vulnerability check: the port as Go's Itoa writes it. */
export function vulnCacheKey(ip: string, port: number): string {
  return `${ip}:${port}`
}
