// The event generator behind `dsiem directive test --generate`: upstream dtester's idea (for every rule
// of every directive, min(occurrence, max) copies of one template event) made correct by construction.
// dtester picks values without looking at what the rule accepts, fires stages concurrently and ignores
// sticky_different and custom data, so its directives often stall. Here every value is chosen from what
// the rule (with references resolved against the first event, exactly as a backlog resolves them)
// accepts, each event is checked with the engine's own matcher, sticky_different stages get pairwise
// distinct values, and stage k's events are stamped one second after stage k-1's. Where no such events
// exist (or `max` caps an occurrence) the plan says so instead of failing silently.
// Pure: the random source and the start time are injected, so a seed reproduces a run.

import type {AssetTable} from './asset.js'
import {resolveReferences} from './backlog.js'
import {ManualClock} from './clock.js'
import type {Directive, DirectiveRule} from './directive.js'
import {CorrelationEngine} from './engine.js'
import {InputError} from './errors.js'
import {emptyEvent, formatRfc3339, type NormalizedEvent} from './event.js'
import {sequentialIds} from './ids.js'
import {formatNetwork, parseCidr, parseIp, parseListTerm, type IpNetwork} from './ip.js'
import {compileCustomData, NetworkList, splitList, StringList} from './list-match.js'
import {compileRule, EventMatchContext, matchRule, type CompiledRule} from './rule.js'

/** Uniform in [0, 1), like Math.random. */
export type RandomSource = () => number

/** mulberry32: small, fast and good enough to make test data reproducible from a 32-bit seed. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Inclusive on both ends. */
function randomInt(random: RandomSource, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

/** A version-4 UUID drawn from the injected source (the Logstash pipeline stamps events with UUIDs). */
export function randomUuid(random: RandomSource): string {
  const bytes = Array.from({length: 16}, () => Math.floor(random() * 256))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export const GENERATOR_SENSOR = 'dtester'

export interface GenerateOptions {
  directives: readonly Directive[]
  assets: AssetTable
  /** The address used where a rule says HOME_NET (dtester's --homenet); must be inside HOME_NET. */
  homeNet: string
  /** Cap on events per rule (dtester's --max). */
  maxPerRule: number
  random: RandomSource
  /** Unix seconds stamped on the first rule's events; rule k's events are k seconds later. */
  startTime: number
}

/**
 * Why a directive cannot reach its last stage with the generated events: `max` caps an occurrence (a
 * limit of the test run), or `impossible` (no event can satisfy the rule, or the rule can never
 * complete in upstream's engine either, e.g. sticky_different on a field it never records).
 */
export interface GenerationLimit {
  readonly kind: 'max' | 'impossible'
  /** Array position of the rule (0-based). */
  readonly ruleIndex: number
  readonly message: string
}

export interface DirectivePlan {
  readonly directive: Directive
  /** Generated events per rule, in array order (an impossible rule may have fewer, or none). */
  readonly rules: readonly (readonly NormalizedEvent[])[]
  /** The first limit in rule order, if any. */
  readonly limit: GenerationLimit | undefined
}

const RANDOM_CANDIDATES = 512
const ENUMERATE_UP_TO = 256
const DST_PORTS = [20, 1023] as const
const SRC_PORTS = [4000, 65534] as const

/** A field's possible values in order of preference, and what the rule accepts. */
interface FieldSource<T> {
  candidates(): Iterable<T>
  accepts(value: T): boolean
}

function pickFirst<T>(source: FieldSource<T>): T | undefined {
  for (const value of source.candidates()) if (source.accepts(value)) return value
  return undefined
}

function pickDistinct<T>(source: FieldSource<T>, count: number): T[] {
  const seen = new Set<T>()
  for (const value of source.candidates()) {
    if (seen.size >= count) break
    if (!seen.has(value) && source.accepts(value)) seen.add(value)
  }
  return [...seen]
}

/** Starts a list at a random element so repeated runs cover the whole list, not just its head. */
function* rotated<T>(list: readonly T[], random: RandomSource): Generator<T> {
  if (list.length === 0) return
  const start = randomInt(random, 0, list.length - 1)
  for (let i = 0; i < list.length; i++) yield list[(start + i) % list.length]!
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

function randomToken(random: RandomSource): string {
  return `dtester-${Math.floor(random() * 0x100000000)
    .toString(16)
    .padStart(8, '0')}`
}

function positiveTokens(list: string): string[] {
  return splitList(list).filter((token) => !token.startsWith('!'))
}

interface GeneratorContext {
  readonly assets: AssetTable
  readonly homeNet: string
  readonly homeNetworks: readonly IpNetwork[]
  readonly random: RandomSource
}

function addressSource(
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

function portSource(condition: string, source: boolean, random: RandomSource): FieldSource<number> {
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

function listSource<T>(values: readonly T[], random: RandomSource): FieldSource<T> {
  return {accepts: (value) => values.includes(value), candidates: () => rotated(values, random)}
}

function customDataSource(condition: string, wanted: boolean, random: RandomSource): FieldSource<string> {
  const compiled = compileCustomData(condition)
  return {
    accepts: (value) => compiled === null || compiled.matches(value),
    *candidates() {
      if (compiled === null) {
        if (!wanted) yield ''
      } else if (condition.includes(',')) {
        yield* rotated(positiveTokens(condition), random)
      } else if (!condition.startsWith('!')) {
        yield condition.trim()
      }
      for (let i = 0; i < RANDOM_CANDIDATES; i++) yield randomToken(random)
    },
  }
}

const CUSTOM_DATA = [
  {data: 'customData1', label: 'customLabel1', json: 'custom_data1', sticky: 'CUSTOM_DATA1'},
  {data: 'customData2', label: 'customLabel2', json: 'custom_data2', sticky: 'CUSTOM_DATA2'},
  {data: 'customData3', label: 'customLabel3', json: 'custom_data3', sticky: 'CUSTOM_DATA3'},
] as const

/** Upstream's RefToDigit test, as backlogs apply it when resolving references. */
function isReference(value: string): boolean {
  return value.includes(':') && /^[+-]?[0-9]+$/.test(value.replace(/^:+|:+$/g, ''))
}

interface RuleEvents {
  events: NormalizedEvent[]
  /** The template the copies were made from (the next rule's "previous" values). */
  base: NormalizedEvent | undefined
  problem: string | undefined
}

interface RuleRequest {
  directive: Directive
  ruleIndex: number
  /** The template rule for index 0 (what backlog creation tests), the resolved rule after it. */
  rule: DirectiveRule
  previous: NormalizedEvent | undefined
  count: number
  /** custom_dataN the first event should carry because later rules reference it. */
  wantedCustomData: readonly boolean[]
  timestamp: string
}

function describeRule(request: RuleRequest): string {
  const rule = request.rule
  return `stage ${request.ruleIndex + 1}${rule.stage !== request.ruleIndex + 1 ? ` (stage field ${rule.stage})` : ''}`
}

function buildRuleEvents(request: RuleRequest, ctx: GeneratorContext): RuleEvents {
  const {rule, previous, directive} = request
  const {random} = ctx
  const where = describeRule(request)
  const fail = (problem: string): RuleEvents => ({
    events: [],
    base: undefined,
    problem: `${where}: ${problem}`,
  })
  const plugin = rule.type === 'PluginRule'

  const base = emptyEvent()
  base.sensor = GENERATOR_SENSOR
  base.title = rule.name !== '' ? rule.name : directive.name
  base.timestamp = request.timestamp
  base.category = rule.category
  base.protocol = rule.protocol === 'ANY' ? (random() < 0.5 ? 'TCP' : 'UDP') : rule.protocol

  const sources = {
    srcIp: addressSource(rule.from, true, previous?.srcIp, ctx),
    dstIp: addressSource(rule.to, false, previous?.dstIp, ctx),
    srcPort: portSource(rule.portFrom, true, random),
    dstPort: portSource(rule.portTo, false, random),
  }
  const srcIp = pickFirst(sources.srcIp)
  if (srcIp === undefined) return fail(`no source address satisfies from ${JSON.stringify(rule.from)}`)
  const dstIp = pickFirst(sources.dstIp)
  if (dstIp === undefined) return fail(`no destination address satisfies to ${JSON.stringify(rule.to)}`)
  const srcPort = pickFirst(sources.srcPort)
  if (srcPort === undefined)
    return fail(`no source port satisfies port_from ${JSON.stringify(rule.portFrom)}`)
  const dstPort = pickFirst(sources.dstPort)
  if (dstPort === undefined)
    return fail(`no destination port satisfies port_to ${JSON.stringify(rule.portTo)}`)
  Object.assign(base, {srcIp, dstIp, srcPort, dstPort})

  const sids = rule.pluginSid ?? []
  const sidSource = listSource(sids, random)
  if (plugin) {
    base.pluginId = rule.pluginId
    base.pluginSid = pickFirst(sidSource) ?? 0
  } else {
    // A directive with any plugin rule is reached only through its (plugin_id, plugin_sid) pairs, so
    // a taxonomy event for it must carry one of them (upstream's quick check).
    const pair = directive.rules.find((r) => r.pluginId !== 0 && (r.pluginSid?.length ?? 0) > 0)
    base.pluginId = pair?.pluginId ?? rule.pluginId
    base.pluginSid = pair?.pluginSid?.[0] ?? pickFirst(sidSource) ?? 0
  }
  base.product = pickFirst(listSource(rule.product ?? [], random)) ?? ''
  const subcategories = (rule.subcategory ?? []).filter((s) => s !== 'ANY')
  base.subcategory = pickFirst(listSource(subcategories, random)) ?? ''

  const customSources = CUSTOM_DATA.map((field, i) =>
    customDataSource(
      plugin ? rule[field.data] : '',
      request.wantedCustomData[i] === true || rule.stickyDifferent === field.sticky,
      random,
    ),
  )
  for (const [i, field] of CUSTOM_DATA.entries()) {
    const value = pickFirst(customSources[i]!)
    if (value === undefined) {
      return fail(`no value satisfies ${field.json} ${JSON.stringify(rule[field.data])}`)
    }
    base[field.data] = value
    // Labels are display-only; keeping one label per slot keeps the alarm's custom_data list tidy.
    const label = rule[field.label] || previous?.[field.label] || field.json
    base[field.label] = value === '' ? '' : label
  }

  const compiled = compileRule(rule)
  if (!matches(base, compiled, ctx.assets)) {
    return fail('the generated event does not match the rule (a generator limitation; please report it)')
  }

  // sticky_different: every event of the stage needs its own value of the field.
  const count = request.count
  const sticky = rule.stickyDifferent
  const recorded =
    sticky === '' ||
    ['SRC_IP', 'DST_IP', 'SRC_PORT', 'DST_PORT'].includes(sticky) ||
    (plugin && ['PLUGIN_SID', 'CUSTOM_DATA1', 'CUSTOM_DATA2', 'CUSTOM_DATA3'].includes(sticky))
  // The first event of a backlog is processed without sticky state, so only later ones are affected.
  if (!recorded && (request.ruleIndex > 0 || count > 1)) {
    return fail(
      `sticky_different ${JSON.stringify(sticky)} is never recorded for a ${rule.type}, so the engine ignores every event of this stage (as upstream does)`,
    )
  }
  let variants: {key: keyof NormalizedEvent; values: readonly (string | number)[]} | undefined
  if (sticky !== '' && count > 1) {
    const custom = CUSTOM_DATA.findIndex((field) => field.sticky === sticky)
    const [key, source]: [keyof NormalizedEvent, FieldSource<string> | FieldSource<number>] =
      sticky === 'SRC_IP'
        ? ['srcIp', sources.srcIp]
        : sticky === 'DST_IP'
          ? ['dstIp', sources.dstIp]
          : sticky === 'SRC_PORT'
            ? ['srcPort', sources.srcPort]
            : sticky === 'DST_PORT'
              ? ['dstPort', sources.dstPort]
              : sticky === 'PLUGIN_SID'
                ? ['pluginSid', sidSource]
                : [CUSTOM_DATA[custom]!.data, customSources[custom]!]
    const values = pickDistinct<string | number>(source as FieldSource<string | number>, count)
    if (values.length < count) {
      return fail(
        `sticky_different ${sticky} needs ${count} distinct values, but only ${values.length} satisfy the rule`,
      )
    }
    variants = {key, values}
  }

  const events: NormalizedEvent[] = []
  for (let i = 0; i < count; i++) {
    const event: NormalizedEvent = {...base, eventId: randomUuid(random)}
    if (variants !== undefined) {
      ;(event as unknown as Record<string, string | number>)[variants.key] = variants.values[i]!
      const custom = CUSTOM_DATA.find((field) => field.data === variants.key)
      if (custom !== undefined && event[custom.label] === '') {
        event[custom.label] = rule[custom.label] || previous?.[custom.label] || custom.json
      }
      if (!matches(event, compiled, ctx.assets)) {
        return fail(
          'a sticky_different variant does not match the rule (a generator limitation; please report it)',
        )
      }
    }
    events.push(event)
  }
  return {events, base, problem: undefined}
}

function matches(event: NormalizedEvent, rule: CompiledRule, assets: AssetTable): boolean {
  return matchRule(new EventMatchContext(event, assets), rule, null)
}

function generateDirective(
  directive: Directive,
  options: GenerateOptions,
  ctx: GeneratorContext,
): DirectivePlan {
  const rules: NormalizedEvent[][] = []
  let limit: GenerationLimit | undefined
  const note = (candidate: GenerationLimit) => {
    if (limit === undefined || candidate.ruleIndex < limit.ruleIndex) limit = candidate
  }
  const later = directive.rules.slice(1)
  const wantedCustomData = CUSTOM_DATA.map((field) => later.some((rule) => isReference(rule[field.data])))
  let resolved: DirectiveRule[] | undefined
  let previous: NormalizedEvent | undefined
  for (const [index, template] of directive.rules.entries()) {
    const occurrence = template.occurrence
    if (occurrence > options.maxPerRule) {
      note({
        kind: 'max',
        ruleIndex: index,
        message: `stage ${index + 1} needs ${occurrence} events but at most ${options.maxPerRule} are generated per rule`,
      })
    }
    // The engine completes a stage with occurrence ≤ 0 on its first event, so one event is still needed.
    const count = Math.max(1, Math.min(occurrence, options.maxPerRule))
    const built = buildRuleEvents(
      {
        directive,
        ruleIndex: index,
        rule: index === 0 || resolved === undefined ? template : resolved[index]!,
        previous,
        count,
        wantedCustomData: index === 0 ? wantedCustomData : [],
        timestamp: formatRfc3339(options.startTime + index),
      },
      ctx,
    )
    rules.push(built.events)
    if (built.problem !== undefined) {
      // An impossible rule outranks a capped one at the same position.
      if (limit?.ruleIndex === index) limit = undefined
      note({kind: 'impossible', ruleIndex: index, message: built.problem})
    }
    if (index === 0) {
      const first = built.events[0]
      if (first === undefined) break
      resolved = resolveReferences(directive, first)
    }
    previous = built.base ?? previous
  }
  return {directive, rules, limit}
}

/** Builds every directive's events. Throws InputError when a rule needs HOME_NET and homeNet is not in it. */
export function generateEvents(options: GenerateOptions): DirectivePlan[] {
  const {assets} = options
  const needsHomeNet = options.directives.some((d) =>
    d.rules.some((r) => r.from === 'HOME_NET' || r.to === 'HOME_NET'),
  )
  if (needsHomeNet && (!assets.isInHomeNet(options.homeNet) || assets.isWhitelisted(options.homeNet))) {
    throw new InputError(
      `HOME_NET address ${options.homeNet} is not inside a non-whitelisted asset, so events built with it would not match HOME_NET rules`,
      'DSIEM_E_HOMENET',
      {hint: 'pass --homenet with an address covered by an assets_*.json entry'},
    )
  }
  const homeNetworks = assets
    .entries()
    .filter((entry) => !entry.whitelisted)
    .map((entry) => parseCidr(entry.cidr))
    .filter((network): network is IpNetwork => network !== undefined)
  const ctx: GeneratorContext = {assets, homeNet: options.homeNet, homeNetworks, random: options.random}
  return options.directives.map((directive) => generateDirective(directive, options, ctx))
}

/** A directive's events in the order that walks its stages. */
export function planEvents(plan: DirectivePlan): NormalizedEvent[] {
  return plan.rules.flat()
}

/**
 * Events grouped for concurrent sending: wave k holds rule k's events of every directive. Sending the
 * waves one after another keeps each directive's stages in order while events within a wave fly in
 * parallel.
 */
export function eventWaves(plans: readonly DirectivePlan[]): NormalizedEvent[][] {
  const depth = Math.max(0, ...plans.map((plan) => plan.rules.length))
  const waves: NormalizedEvent[][] = []
  for (let k = 0; k < depth; k++) waves.push(plans.flatMap((plan) => plan.rules[k] ?? []))
  return waves.filter((wave) => wave.length > 0)
}

export type DirectiveCheckStatus = 'complete' | 'partial' | 'failed'

export interface DirectiveCheck {
  readonly directiveId: number
  readonly name: string
  readonly stages: number
  readonly events: number
  /** Highest stage (array position) any backlog of the directive reached; 0 = none was opened. */
  readonly reachedStage: number
  /** Some backlog completed the last stage. */
  readonly completed: boolean
  /** complete: finished; partial: went as far as `max` allowed; failed: anything else. */
  readonly status: DirectiveCheckStatus
  readonly message: string | undefined
}

/**
 * Replays each directive's generated events through its own engine (so directives sharing plugin SIDs
 * cannot disturb one another) with the wall clock fixed at `now`, and reports how far it got. With the
 * clock fixed no backlog expires: this checks matching and stage progression, not timeouts.
 */
export function checkGeneratedEvents(
  plans: readonly DirectivePlan[],
  assets: AssetTable,
  now: number,
): DirectiveCheck[] {
  return plans.map((plan) => {
    const directive = plan.directive
    let reachedStage = 0
    let completed = false
    let lastWarning: string | undefined
    const engine = new CorrelationEngine({
      directives: [directive],
      assets,
      clock: new ManualClock(now),
      newId: sequentialIds(),
      emit: (effect) => {
        // Lookups are requested at every stage completion whatever the risk, unlike alarm lines.
        if (effect.kind === 'lookup') {
          const rules = effect.alarm.rules
          let reached = 0
          rules.forEach((rule, i) => {
            if (rule.startTime !== 0) reached = i + 1
          })
          reachedStage = Math.max(reachedStage, reached)
          if (rules.every((rule) => rule.status === 'finished')) completed = true
        } else if (effect.kind === 'log' && effect.level === 'warn') {
          lastWarning = effect.message
        }
      },
    })
    const events = planEvents(plan)
    for (const event of events) engine.process(event)
    for (const backlog of engine.backlogs()) reachedStage = Math.max(reachedStage, backlog.currentStage)

    const stages = directive.rules.length
    const limit = plan.limit
    let status: DirectiveCheckStatus
    let message: string | undefined
    if (completed) {
      status = 'complete'
    } else if (limit?.kind === 'max' && reachedStage >= limit.ruleIndex + 1) {
      status = 'partial'
      message = limit.message
    } else {
      status = 'failed'
      message =
        limit?.kind === 'impossible'
          ? limit.message
          : `reached stage ${reachedStage} of ${stages}${lastWarning === undefined ? '' : ` (engine: ${lastWarning})`}`
    }
    return {
      directiveId: directive.id,
      name: directive.name,
      stages,
      events: events.length,
      reachedStage,
      completed,
      status,
      message,
    }
  })
}
