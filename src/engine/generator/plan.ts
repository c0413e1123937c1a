// Generation plans: every directive's events, rule by rule (references resolved against the first
// event, exactly as a backlog resolves them; stage k stamped one second after stage k-1), with the
// first limit that keeps a directive from completing, and the orders the events are sent in.

import type {AssetTable} from '../asset.js'
import {resolveReferences} from '../backlog.js'
import type {Directive, DirectiveRule} from '../directive.js'
import {InputError} from '../errors.js'
import {formatRfc3339, type NormalizedEvent} from '../event.js'
import {parseCidr, type IpNetwork} from '../ip.js'
import {CUSTOM_DATA} from './custom-data.js'
import type {GeneratorContext} from './network-sources.js'
import type {RandomSource} from './random.js'
import {buildRuleEvents} from './rule-events.js'

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

/** Upstream's RefToDigit test, as backlogs apply it when resolving references. */
function isReference(value: string): boolean {
  return value.includes(':') && /^[+-]?[0-9]+$/.test(value.replace(/^:+|:+$/g, ''))
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
