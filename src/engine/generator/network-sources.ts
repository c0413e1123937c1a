// Address and port planning for generated events: candidate IPs and ports that satisfy a rule's
// from/to/port_from/port_to (HOME_NET, lists, CIDRs, ANY), with dtester's defaults where the rule is
// open: public-looking IPv4s, high source ports and well-known destination ports.

import type {AssetTable} from '../asset.js'
import {formatNetwork, parseCidr, parseIp, parseListTerm, type IpNetwork} from '../ip.js'
import {NetworkList, StringList} from '../list-match.js'
import {positiveTokens, RANDOM_CANDIDATES, rotated, type FieldSource} from './field-source.js'
import {randomInt, type RandomSource} from './random.js'

const ENUMERATE_UP_TO = 256
const DST_PORTS = [20, 1023] as const
const SRC_PORTS = [4000, 65534] as const

/** What generated values are drawn against: the assets, the HOME_NET address and networks, the random source. */
export interface GeneratorContext {
  readonly assets: AssetTable
  readonly homeNet: string
  readonly homeNetworks: readonly IpNetwork[]
  readonly random: RandomSource
}

function addressText(network: IpNetwork, lastWord: number): string {
  const words = [network.words[0], network.words[1], network.words[2], lastWord >>> 0] as const
  const host: IpNetwork = {...network, prefix: network.v4 ? 32 : 128, words}
  return formatNetwork(host).replace(/\/\d+$/, '')
}

/** Addresses inside a network: all of a small one (without network/broadcast), else a random sample. */
function* addressesIn(network: IpNetwork, random: RandomSource): Generator<string> {
  const hostBits = Math.min(32, (network.v4 ? 32 : 128) - network.prefix)
  const size = 2 ** hostBits
  const base = network.words[3]
  if (size <= ENUMERATE_UP_TO) {
    const first = size > 2 ? 1 : 0
    const end = size > 2 ? size - 1 : size
    for (let i = first; i < end; i++) yield addressText(network, base + i)
    return
  }
  for (let i = 0; i < ENUMERATE_UP_TO; i++) yield addressText(network, base + randomInt(random, 1, size - 2))
}

/** dtester's "public-looking" IPv4: first octet never 0, 10, 127, 172 or 192 (nor multicast). */
function publicIpv4(random: RandomSource): string {
  let first = 0
  while (first === 0 || first === 10 || first === 127 || first === 172 || first === 192) {
    first = randomInt(random, 1, 223)
  }
  const octet = () => randomInt(random, 1, 254)
  return `${first}.${octet()}.${octet()}.${octet()}`
}

export function addressSource(
  condition: string,
  source: boolean,
  previous: string | undefined,
  ctx: GeneratorContext,
): FieldSource<string> {
  const {assets, random} = ctx
  const list = condition === 'ANY' || condition === 'HOME_NET' || condition === '!HOME_NET' ? null : condition
  const compiled = list === null ? null : new NetworkList(list)
  const conditionAccepts = (ip: string): boolean => {
    if (condition === 'ANY') return parseIp(ip) !== undefined
    if (condition === 'HOME_NET') return assets.isInHomeNet(ip)
    if (condition === '!HOME_NET') return parseIp(ip) !== undefined && !assets.isInHomeNet(ip)
    return compiled!.matches(parseListTerm(ip))
  }
  return {
    // A whitelisted source address would make the engine drop the event before any directive sees it.
    accepts: (ip) => conditionAccepts(ip) && !(source && assets.isWhitelisted(ip)),
    *candidates() {
      // Reusing the previous rule's address keeps a generated attack between the same hosts, as dtester does.
      if (previous !== undefined) yield previous
      if (condition === 'HOME_NET') {
        yield ctx.homeNet
        for (const network of ctx.homeNetworks) yield* addressesIn(network, random)
      }
      if (list !== null) {
        for (const token of positiveTokens(list)) {
          const network = parseCidr(token.includes('/') ? token : `${token}/32`)
          if (network !== undefined) yield* addressesIn(network, random)
        }
      }
      for (let i = 0; i < RANDOM_CANDIDATES; i++) yield publicIpv4(random)
    },
  }
}

export function portSource(condition: string, source: boolean, random: RandomSource): FieldSource<number> {
  const list = condition === 'ANY' ? null : new StringList(condition)
  const [low, high] = source ? SRC_PORTS : DST_PORTS
  return {
    accepts: (port) => list === null || list.matches(String(port)),
    *candidates() {
      if (list === null) {
        // dtester's ranges: a high source port, a well-known destination port.
        const span = high - low + 1
        const start = randomInt(random, 0, span - 1)
        for (let i = 0; i < Math.min(span, 4 * RANDOM_CANDIDATES); i++) yield low + ((start + i) % span)
        return
      }
      const numbers = positiveTokens(condition)
        .filter((token) => /^[0-9]+$/.test(token))
        .map(Number)
      yield* rotated(numbers, random)
      for (let i = 0; i < RANDOM_CANDIDATES; i++) yield randomInt(random, 2, 65534)
    },
  }
}
