// Matching one event against one rule (upstream's DoesEventMatch), with the checks in upstream's order
// because sticky_different values are recorded as a side effect part-way through: PLUGIN_SID before the
// address checks, SRC/DST IP and ports after them, CUSTOM_DATAn whether or not the custom data matched.
// Rules are compiled once (template) or once per backlog (after reference resolution).

import type {AssetTable} from './asset.js'
import type {DirectiveRule} from './directive.js'
import type {NormalizedEvent} from './event.js'
import {parseListTerm, type IpAddress} from './ip.js'
import {compileCustomData, NetworkList, StringList, type CustomDataCondition} from './list-match.js'

const enum_ = {
  any: 0,
  homeNet: 1,
  notHomeNet: 2,
  list: 3,
} as const

interface AddressCondition {
  readonly kind: (typeof enum_)[keyof typeof enum_]
  readonly list: NetworkList | null
}

const ANY_ADDRESS: AddressCondition = {kind: enum_.any, list: null}
const HOME_NET: AddressCondition = {kind: enum_.homeNet, list: null}
const NOT_HOME_NET: AddressCondition = {kind: enum_.notHomeNet, list: null}

/**
 * Address lists already compiled, by text. Backlogs compile their `:1`-bound rules, mostly to the few
 * sources that keep opening backlogs, so the same host is parsed again and again; the lists are
 * immutable and shared. Bounded: emptied when full.
 */
const compiledAddresses = new Map<string, AddressCondition>()
const COMPILED_ADDRESSES_LIMIT = 10_000

function compileAddress(value: string): AddressCondition {
  if (value === 'ANY') return ANY_ADDRESS
  if (value === 'HOME_NET') return HOME_NET
  if (value === '!HOME_NET') return NOT_HOME_NET
  let condition = compiledAddresses.get(value)
  if (condition === undefined) {
    if (compiledAddresses.size >= COMPILED_ADDRESSES_LIMIT) compiledAddresses.clear()
    condition = {kind: enum_.list, list: new NetworkList(value)}
    compiledAddresses.set(value, condition)
  }
  return condition
}

/** Which event field a rule's sticky_different tracks. */
export const STICKY = {
  none: 0,
  pluginSid: 1,
  srcIp: 2,
  dstIp: 3,
  srcPort: 4,
  dstPort: 5,
  customData1: 6,
  customData2: 7,
  customData3: 8,
  /** An unknown keyword: never grows a set, so every event is ignored (upstream quirk). */
  unknown: 9,
} as const
type StickyField = (typeof STICKY)[keyof typeof STICKY]

const STICKY_BY_NAME: Readonly<Record<string, StickyField>> = {
  '': STICKY.none,
  PLUGIN_SID: STICKY.pluginSid,
  SRC_IP: STICKY.srcIp,
  DST_IP: STICKY.dstIp,
  SRC_PORT: STICKY.srcPort,
  DST_PORT: STICKY.dstPort,
  CUSTOM_DATA1: STICKY.customData1,
  CUSTOM_DATA2: STICKY.customData2,
  CUSTOM_DATA3: STICKY.customData3,
}

const RULE_KIND = {plugin: 0, taxonomy: 1, never: 2} as const

export interface CompiledRule {
  readonly rule: DirectiveRule
  readonly kind: (typeof RULE_KIND)[keyof typeof RULE_KIND]
  readonly sids: readonly number[]
  readonly products: readonly string[]
  /** null: no subcategory condition. */
  readonly subcategories: readonly string[] | null
  readonly from: AddressCondition
  readonly to: AddressCondition
  /** null: ANY. */
  readonly portFrom: StringList | null
  readonly portTo: StringList | null
  readonly customData1: CustomDataCondition | null
  readonly customData2: CustomDataCondition | null
  readonly customData3: CustomDataCondition | null
  readonly sticky: StickyField
}

export function compileRule(rule: DirectiveRule): CompiledRule {
  const kind =
    rule.type === 'PluginRule'
      ? RULE_KIND.plugin
      : rule.type === 'TaxonomyRule'
        ? RULE_KIND.taxonomy
        : RULE_KIND.never
  return {
    rule,
    kind,
    sids: rule.pluginSid ?? [],
    products: rule.product ?? [],
    subcategories: rule.subcategory !== undefined && rule.subcategory.length > 0 ? rule.subcategory : null,
    from: compileAddress(rule.from),
    to: compileAddress(rule.to),
    portFrom: rule.portFrom === 'ANY' ? null : new StringList(rule.portFrom),
    portTo: rule.portTo === 'ANY' ? null : new StringList(rule.portTo),
    customData1: compileCustomData(rule.customData1),
    customData2: compileCustomData(rule.customData2),
    customData3: compileCustomData(rule.customData3),
    sticky: STICKY_BY_NAME[rule.stickyDifferent] ?? STICKY.unknown,
  }
}

/** Values already seen by one stage of one backlog, for sticky_different. */
export class StickySet {
  readonly strings = new Set<string>()
  readonly ints = new Set<number>()

  get size(): number {
    return this.strings.size + this.ints.size
  }
}

const UNPARSED = Symbol('unparsed')

/**
 * What matching needs to know about one event, computed lazily and at most once however many rules
 * the event is tested against: parsed addresses, HOME_NET membership, ports as text.
 */
export class EventMatchContext {
  private srcListTerm: IpAddress | undefined | typeof UNPARSED = UNPARSED
  private dstListTerm: IpAddress | undefined | typeof UNPARSED = UNPARSED
  private srcHome: boolean | undefined
  private dstHome: boolean | undefined
  private srcPortText: string | undefined
  private dstPortText: string | undefined

  readonly event: NormalizedEvent
  private readonly assets: AssetTable

  constructor(event: NormalizedEvent, assets: AssetTable) {
    this.event = event
    this.assets = assets
  }

  get srcInHomeNet(): boolean {
    return (this.srcHome ??= this.assets.isInHomeNet(this.event.srcIp))
  }

  get dstInHomeNet(): boolean {
    return (this.dstHome ??= this.assets.isInHomeNet(this.event.dstIp))
  }

  get srcAddress(): IpAddress | undefined {
    if (this.srcListTerm === UNPARSED) this.srcListTerm = parseListTerm(this.event.srcIp)
    return this.srcListTerm
  }

  get dstAddress(): IpAddress | undefined {
    if (this.dstListTerm === UNPARSED) this.dstListTerm = parseListTerm(this.event.dstIp)
    return this.dstListTerm
  }

  get srcPort(): string {
    return (this.srcPortText ??= String(this.event.srcPort))
  }

  get dstPort(): string {
    return (this.dstPortText ??= String(this.event.dstPort))
  }
}

/** One side (from/to) of the address check; the event's address is parsed only for list conditions. */
function addressMatches(condition: AddressCondition, ctx: EventMatchContext, source: boolean): boolean {
  switch (condition.kind) {
    case enum_.any:
      return true
    case enum_.homeNet:
      return source ? ctx.srcInHomeNet : ctx.dstInHomeNet
    case enum_.notHomeNet:
      return !(source ? ctx.srcInHomeNet : ctx.dstInHomeNet)
    default:
      return condition.list!.matches(source ? ctx.srcAddress : ctx.dstAddress)
  }
}

function recordString(sticky: StickySet | null, value: string): void {
  if (sticky !== null) sticky.strings.add(value)
}

function recordInt(sticky: StickySet | null, value: number): void {
  if (sticky !== null) sticky.ints.add(value)
}

function addressesAndPortsMatch(
  ctx: EventMatchContext,
  rule: CompiledRule,
  sticky: StickySet | null,
): boolean {
  if (!addressMatches(rule.from, ctx, true)) return false
  if (!addressMatches(rule.to, ctx, false)) return false
  if (rule.portFrom !== null && !rule.portFrom.matches(ctx.srcPort)) return false
  if (rule.portTo !== null && !rule.portTo.matches(ctx.dstPort)) return false
  switch (rule.sticky) {
    case STICKY.srcIp:
      recordString(sticky, ctx.event.srcIp)
      break
    case STICKY.dstIp:
      recordString(sticky, ctx.event.dstIp)
      break
    case STICKY.srcPort:
      recordInt(sticky, ctx.event.srcPort)
      break
    case STICKY.dstPort:
      recordInt(sticky, ctx.event.dstPort)
      break
  }
  return true
}

function customDataMatches(ctx: EventMatchContext, rule: CompiledRule, sticky: StickySet | null): boolean {
  const event = ctx.event
  const ok1 = rule.customData1 === null || rule.customData1.matches(event.customData1)
  const ok2 = rule.customData2 === null || rule.customData2.matches(event.customData2)
  const ok3 = rule.customData3 === null || rule.customData3.matches(event.customData3)
  switch (rule.sticky) {
    case STICKY.customData1:
      recordString(sticky, event.customData1)
      break
    case STICKY.customData2:
      recordString(sticky, event.customData2)
      break
    case STICKY.customData3:
      recordString(sticky, event.customData3)
      break
  }
  return ok1 && ok2 && ok3
}

/**
 * Does the event match the rule? `sticky` is the stage's sticky set (null where upstream passes nil:
 * the first rule at backlog creation). Protocol is never compared, as upstream.
 */
export function matchRule(ctx: EventMatchContext, rule: CompiledRule, sticky: StickySet | null): boolean {
  const event = ctx.event
  if (rule.kind === RULE_KIND.plugin) {
    if (event.pluginId !== rule.rule.pluginId) return false
    if (!rule.sids.includes(event.pluginSid)) return false
    if (rule.sticky === STICKY.pluginSid) recordInt(sticky, event.pluginSid)
    if (!addressesAndPortsMatch(ctx, rule, sticky)) return false
    return customDataMatches(ctx, rule, sticky)
  }
  if (rule.kind === RULE_KIND.taxonomy) {
    if (event.category !== rule.rule.category) return false
    if (!rule.products.includes(event.product)) return false
    const subcategories = rule.subcategories
    if (subcategories !== null && !subcategories.some((s) => s === event.subcategory || s === 'ANY')) {
      return false
    }
    return addressesAndPortsMatch(ctx, rule, sticky)
  }
  return false
}
