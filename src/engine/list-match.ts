// Upstream's list matching for rule addresses, ports and comma-separated custom data. The algorithm is
// order dependent and must stay exactly so (directive authors rely on it): walk the tokens; a negated
// token that matches answers false, a plain token that matches answers true, a negated token that
// does not match makes the answer true unless something later decides; otherwise keep going.
// Lists are compiled once per rule so matching an event does no string splitting.

import {networkContains, parseCidr, type IpAddress, type IpNetwork} from './ip.js'

/** Upstream's CsvToSlice: commas become spaces, then split on whitespace. */
export function splitList(value: string): string[] {
  const tokens = value.replace(/,/g, ' ').split(/\s+/)
  return tokens.filter((token) => token !== '')
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
  const expected = (negated ? condition.slice(1) : condition).trim().toLowerCase()
  return {
    matches: (value: string) => (value.trim().toLowerCase() === expected) !== negated,
  }
}
