// One rule's generated events: a template event whose every field is picked from what the rule
// accepts (checked with the engine's own matcher), copied `count` times with fresh event ids and, for
// sticky_different, a distinct value of the sticky field per copy.

import type {AssetTable} from '../asset.js'
import type {Directive, DirectiveRule} from '../directive.js'
import {emptyEvent, type NormalizedEvent} from '../event.js'
import {compileRule, EventMatchContext, matchRule, type CompiledRule} from '../rule.js'
import {CUSTOM_DATA, customDataSource} from './custom-data.js'
import {listSource, pickFirst} from './field-source.js'
import {addressSource, portSource, type GeneratorContext} from './network-sources.js'
import {randomUuid} from './random.js'
import {planStickyVariants} from './sticky-different.js'

export const GENERATOR_SENSOR = 'dtester'

export interface RuleEvents {
  events: NormalizedEvent[]
  /** The template the copies were made from (the next rule's "previous" values). */
  base: NormalizedEvent | undefined
  problem: string | undefined
}

export interface RuleRequest {
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

/** Labels are display-only; keeping one label per slot keeps the alarm's custom_data list tidy. */
function slotLabel(
  slot: (typeof CUSTOM_DATA)[number],
  rule: DirectiveRule,
  previous: NormalizedEvent | undefined,
): string {
  return rule[slot.label] || previous?.[slot.label] || slot.json
}

function matches(event: NormalizedEvent, rule: CompiledRule, assets: AssetTable): boolean {
  return matchRule(new EventMatchContext(event, assets), rule, null)
}

export function buildRuleEvents(request: RuleRequest, ctx: GeneratorContext): RuleEvents {
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
    base[field.label] = value === '' ? '' : slotLabel(field, rule, previous)
  }

  const compiled = compileRule(rule)
  if (!matches(base, compiled, ctx.assets)) {
    return fail('the generated event does not match the rule (a generator limitation; please report it)')
  }

  // sticky_different: every event of the stage needs its own value of the field.
  const count = request.count
  const sticky = planStickyVariants(rule, request.ruleIndex, count, {
    ...sources,
    pluginSid: sidSource,
    customData: customSources,
  })
  if (sticky.problem !== undefined) return fail(sticky.problem)
  const variants = sticky.variants

  const events: NormalizedEvent[] = []
  for (let i = 0; i < count; i++) {
    const event: NormalizedEvent = {...base, eventId: randomUuid(random)}
    if (variants !== undefined) {
      ;(event as unknown as Record<string, string | number>)[variants.key] = variants.values[i]!
      const custom = CUSTOM_DATA.find((field) => field.data === variants.key)
      if (custom !== undefined && event[custom.label] === '') {
        event[custom.label] = slotLabel(custom, rule, previous)
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
