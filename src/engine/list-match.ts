// Upstream's list matching for rule addresses, ports and comma-separated custom data. The algorithm is
// order dependent and must stay exactly so (directive authors rely on it): walk the tokens; a negated
// token that matches answers false, a plain token that matches answers true, a negated token that
// does not match makes the answer true unless something later decides; otherwise keep going.
// Lists are compiled once per rule so matching an event does no string splitting.

import {networkContains, parseCidr, type IpAddress, type IpNetwork} from './ip.js'

// Go's unicode.IsSpace set (strings.Fields, strings.TrimSpace): JavaScript's \s without U+FEFF, plus U+0085.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const GO_SPACE_RUN = new RegExp(`[${GO_SPACE}]+`)
const ASCII_ONLY = /^[\x00-\x7f]*$/

/** Upstream's CsvToSlice: commas become spaces, then strings.Fields. */
export function splitList(value: string): string[] {
  const tokens = value.replace(/,/g, ' ').split(GO_SPACE_RUN)
  return tokens.filter((token) => token !== '')
}

function isGoSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13)
  if (c < 0x85) return false
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  )
}

/** Go's strings.TrimSpace (runs per event on custom data, hence no regex). */
export function goTrimSpace(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && isGoSpace(value.charCodeAt(start))) start++
  while (end > start && isGoSpace(value.charCodeAt(end - 1))) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

/**
 * Go's strings.ToLower: a per-rune simple mapping, so no context-dependent final sigma and U+0130
 * becomes a plain "i" (JavaScript's toLowerCase applies Unicode's full, contextual mappings).
 */
export function goToLower(value: string): string {
  if (ASCII_ONLY.test(value)) return value.toLowerCase()
  let out = ''
  for (const ch of value) out += ch === '\u0130' ? 'i' : ch.toLowerCase()
  return out
}

interface StringToken {
  readonly negated: boolean
  readonly value: string
}

/** A compiled port or custom-data list (exact, case-sensitive tokens). */
export class StringList {
  private readonly tokens: readonly StringToken[]

  constructor(list: string) {
    this.tokens = splitList(list).map((token) =>
      token.startsWith('!') ? {negated: true, value: token.slice(1)} : {negated: false, value: token},
    )
  }

  matches(term: string): boolean {
    let result = false
    for (const token of this.tokens) {
      const equal = token.value === term
      if (token.negated) {
        if (equal) return false
        result = true
      } else if (equal) {
        return true
      }
    }
    return result
  }
}

interface NetworkToken {
  readonly negated: boolean
  /** undefined: the token is not a CIDR; reaching it ends the match as false (upstream's early return). */
  readonly network: IpNetwork | undefined
}

/** A compiled address list: IPs and CIDRs, each optionally negated; bare IPs get /32 (also IPv6). */
export class NetworkList {
  private readonly tokens: readonly NetworkToken[]

  constructor(list: string) {
    this.tokens = splitList(list).map((token) => {
      const negated = token.startsWith('!')
      let text = negated ? token.slice(1) : token
      if (!text.includes('/')) text += '/32'
      return {negated, network: parseCidr(text)}
    })
  }

  /**
   * The IPv4 address this list admits when it is exactly one plain host (`a.b.c.d` or `a.b.c.d/32`,
   * not negated): then it matches an event address iff the two are equal, which lets backlogs be
   * indexed by it. undefined for anything else.
   */
  get singleIpv4Host(): number | undefined {
    if (this.tokens.length !== 1) return undefined
    const token = this.tokens[0]!
    const network = token.network
    if (token.negated || network === undefined || !network.v4 || network.prefix !== 32) return undefined
    return network.words[3]
  }

  /** `ip` undefined = the event's address does not parse, which never matches a list. */
  matches(ip: IpAddress | undefined): boolean {
    if (ip === undefined) return false
    let result = false
    for (const token of this.tokens) {
      if (token.network === undefined) return false
      const contained = networkContains(token.network, ip)
      if (token.negated) {
        if (contained) return false
        result = true
      } else if (contained) {
        return true
      }
    }
    return result
  }
}

/**
 * A custom-data condition of a PluginRule. Empty or "ANY" is no condition (null). A value with a comma
 * is a StringList; otherwise a single value compared case-insensitively with whitespace trimmed, "!"
 * negating it.
 */
export type CustomDataCondition = {readonly matches: (value: string) => boolean}

export function compileCustomData(condition: string): CustomDataCondition | null {
  if (condition === '' || condition === 'ANY') return null
  if (condition.includes(',')) return new StringList(condition)
  const negated = condition.startsWith('!')
  const expected = goTrimSpace(goToLower(negated ? condition.slice(1) : condition))
  return {
    matches: (value: string) => (goTrimSpace(goToLower(value)) === expected) !== negated,
  }
}
