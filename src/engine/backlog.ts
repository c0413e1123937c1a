// One backlog: a directive instance bound to the event that opened it. It owns a private copy of the
// directive's rules (references resolved, start/end times, status), per-stage event lists and sticky
// sets, and advances stage by array order. Events are processed one at a time, in arrival order,
// which is what upstream intends (its per-event goroutines can reorder them).

import {computeRisk, type CustomDataEntry} from './alarm.js'
import type {Directive, DirectiveRule} from './directive.js'
import {parseRfc3339Seconds, type NormalizedEvent} from './event.js'
import {compileRule, matchRule, STICKY, StickySet, type CompiledRule, type EventMatchContext} from './rule.js'
import type {EngineContext} from './engine-context.js'

/** The parts of a loaded directive every backlog of it shares. */
export interface CompiledDirective {
  readonly directive: Directive
  readonly rules: readonly CompiledRule[]
}

export function compileDirective(directive: Directive): CompiledDirective {
  return {directive, rules: directive.rules.map(compileRule)}
}

/** Upstream's RefToDigit: a value containing ":" whose colon-trimmed rest is a decimal integer. */
function referenceIndex(value: string): number | undefined {
  if (!value.includes(':')) return undefined
  const digits = value.replace(/^:+|:+$/g, '')
  if (!/^[+-]?[0-9]+$/.test(digits)) return undefined
  return Number(digits) - 1
}

const ADDRESS_KEYWORDS = new Set(['ANY', 'HOME_NET', '!HOME_NET'])

/**
 * Resolves `:N` references in array order against already-resolved earlier rules: a literal value is
 * copied, a keyword (ANY, HOME_NET, !HOME_NET; for ports and custom data only ANY) binds the first
 * event's own value. An out-of-range reference (only possible in unvalidated custom data) stays as
 * written instead of crashing as upstream would.
 */
export function resolveReferences(directive: Directive, first: NormalizedEvent): DirectiveRule[] {
  // Shallow copies: the SID, product and subcategory lists are never changed, so every backlog of the
  // directive shares its lists.
  const rules = directive.rules.map((rule) => ({...rule}))
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    if (i === 0) {
      if (directive.allRulesAlwaysActive) {
        if (ADDRESS_KEYWORDS.has(rule.from)) rule.from = first.srcIp
        if (ADDRESS_KEYWORDS.has(rule.to)) rule.to = first.dstIp
      }
      continue
    }
    const target = (value: string): DirectiveRule | undefined => {
      const index = referenceIndex(value)
      return index === undefined ? undefined : index >= 0 && index < rules.length ? rules[index] : undefined
    }
    const fromRef = target(rule.from)
    if (fromRef) rule.from = ADDRESS_KEYWORDS.has(fromRef.from) ? first.srcIp : fromRef.from
    const toRef = target(rule.to)
    if (toRef) rule.to = ADDRESS_KEYWORDS.has(toRef.to) ? first.dstIp : toRef.to
    const portFromRef = target(rule.portFrom)
    if (portFromRef)
      rule.portFrom = portFromRef.portFrom !== 'ANY' ? portFromRef.portFrom : String(first.srcPort)
    const portToRef = target(rule.portTo)
    if (portToRef) rule.portTo = portToRef.portTo !== 'ANY' ? portToRef.portTo : String(first.dstPort)
    const c1 = target(rule.customData1)
    if (c1) rule.customData1 = c1.customData1 !== 'ANY' ? c1.customData1 : first.customData1
    const c2 = target(rule.customData2)
    if (c2) rule.customData2 = c2.customData2 !== 'ANY' ? c2.customData2 : first.customData2
    const c3 = target(rule.customData3)
    if (c3) rule.customData3 = c3.customData3 !== 'ANY' ? c3.customData3 : first.customData3
  }
  return rules
}

function sameMatchFields(a: DirectiveRule, b: DirectiveRule): boolean {
  return (
    a.from === b.from &&
    a.to === b.to &&
    a.portFrom === b.portFrom &&
    a.portTo === b.portTo &&
    a.customData1 === b.customData1 &&
    a.customData2 === b.customData2 &&
    a.customData3 === b.customData3
  )
}

function appendUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value)
}

/** Upstream drops 0.0.0.0 from the IP lists unless it is the only entry. */
function dropUnspecified(list: string[]): void {
  if (list.length > 1) {
    const at = list.indexOf('0.0.0.0')
    if (at >= 0) list.splice(at, 1)
  }
}

function appendCustomData(list: CustomDataEntry[], label: string, content: string): void {
  if (label === '' || content === '') return
  if (list.some((entry) => entry.label === label && entry.content === content)) return
  list.push({label, content})
}

export class Backlog {
  /** 1-based array position of the stage being filled. */
  currentStage = 1
  risk = 0
  /** Wall-clock Unix seconds of the last change. */
  statusTime = 0
  readonly srcIps: string[] = []
  readonly dstIps: string[] = []
  readonly customData: CustomDataEntry[] = []
  readonly events: string[][]
  readonly sticky: StickySet[]
  /**
   * What the backlog needs of the last event it took: its id for log lines, its ports for the
   * vulnerability lookups. Not the event itself, which would keep every field of it alive as long as
   * the backlog lives (the heaviest part of what survives into the old generation).
   */
  lastEventId: string | undefined
  private lastSrcPort = 0
  private lastDstPort = 0
  deleted = false
  /** Creation order within the directive, so indexed offers keep upstream's order of backlogs. */
  sequence = 0
  /**
   * The IPv4 source the current stage is bound to, when nothing can happen for an event from any other
   * source: the stage's `from` is one plain host, the directive is not all_rules_always_active (which
   * would try earlier stages) and no PLUGIN_SID sticky value is recorded before the address check.
   * Such a backlog is only offered events from that source. null: offer it every event.
   */
  sourceKey: number | null = null

  readonly id: string
  readonly template: CompiledDirective
  readonly title: string
  /**
   * Private copies: references resolved, start/end times and status filled in as stages progress. A
   * rule is replaced, never changed, once an alarm may hold it (`updateRule`), so alarms share them.
   */
  readonly rules: DirectiveRule[]
  readonly compiled: readonly CompiledRule[]
  private readonly ctx: EngineContext
  /** Called for each appended event id, so the directive can guard against duplicate backlogs. */
  private readonly onEventAppended: (eventId: string, backlog: Backlog) => void

  constructor(
    id: string,
    template: CompiledDirective,
    title: string,
    rules: DirectiveRule[],
    compiled: readonly CompiledRule[],
    ctx: EngineContext,
    onEventAppended: (eventId: string, backlog: Backlog) => void,
  ) {
    this.id = id
    this.template = template
    this.title = title
    this.rules = rules
    this.compiled = compiled
    this.ctx = ctx
    this.onEventAppended = onEventAppended
    this.events = rules.map(() => [])
    this.sticky = rules.map(() => new StickySet())
  }

  /**
   * Builds a backlog from the event that matched the directive's first rule. Returns undefined (as
   * upstream's "Fail to create new backlog") when the event timestamp is not RFC 3339.
   */
  static create(
    template: CompiledDirective,
    first: NormalizedEvent,
    ctx: EngineContext,
    onEventAppended: (eventId: string, backlog: Backlog) => void,
  ): Backlog | undefined {
    const startTime = parseRfc3339Seconds(first.timestamp)
    if (Number.isNaN(startTime)) return undefined
    const directive = template.directive
    const rules = resolveReferences(directive, first)
    const compiled = rules.map((rule, i) =>
      sameMatchFields(rule, directive.rules[i]!) ? template.rules[i]! : compileRule(rule),
    )
    rules[0]!.startTime = startTime
    rules[0]!.rcvdTime = first.rcvdTime
    const title = substituteTitle(directive.name, first, ctx)
    return new Backlog(ctx.newId(), template, title, rules, compiled, ctx, onEventAppended)
  }

  get directive(): Directive {
    return this.template.directive
  }

  /** Processes the event that created the backlog: it completes stage 1 by construction. */
  start(first: NormalizedEvent): void {
    this.processMatchedEvent(first, 0)
    this.updateSourceKey()
  }

  private updateSourceKey(): void {
    const rule = this.compiled[this.currentStage - 1]!
    const host =
      this.directive.allRulesAlwaysActive || rule.sticky === STICKY.pluginSid
        ? undefined
        : rule.from.list?.singleIpv4Host
    this.sourceKey = host ?? null
  }

  /**
   * Offers an event to this backlog (upstream's per-backlog worker). Returns whether the backlog
   * consumed it, which stops the event from opening a new backlog.
   */
  offer(match: EventMatchContext): boolean {
    const event = match.event
    const index = this.currentStage - 1
    const rule = this.compiled[index]!
    const sticky = this.sticky[index]!
    const stickyBefore = sticky.size
    if (!matchRule(match, rule, sticky)) {
      if (this.directive.allRulesAlwaysActive && index !== 0) return this.offerToEarlierStages(match, index)
      return false
    }
    if (rule.sticky !== STICKY.none && sticky.size === stickyBefore) {
      this.log(
        'debug',
        `backlog can't find new unique value in stickydiff field ${rule.rule.stickyDifferent}`,
        event.eventId,
      )
      return true
    }
    const eventTime = parseRfc3339Seconds(event.timestamp)
    if (Number.isNaN(eventTime)) {
      this.log('warn', 'cannot parse event timestamp, discarding it', event.eventId)
      return true
    }
    // Up to 5 s older than the previous stage's completion is tolerated (event time). Index 0 can only
    // be current when the first rule's stage field is not 1 (then upstream would crash here).
    if (index > 0 && !(this.rules[index - 1]!.endTime < eventTime + 5)) {
      this.log('warn', 'event timestamp out of order, discarding it', event.eventId)
      return true
    }
    if (this.isUnderPressure(event)) {
      this.log('warn', 'backlog is under pressure', event.eventId)
      this.ctx.emit({kind: 'overload'})
    }
    this.processMatchedEvent(event, index)
    return true
  }

  /** all_rules_always_active: an earlier stage may absorb the event (OSSIM's "capture extra events"). */
  private offerToEarlierStages(match: EventMatchContext, index: number): boolean {
    for (let i = 0; i < index; i++) {
      if (matchRule(match, this.compiled[i]!, this.sticky[i]!)) {
        this.log('debug', `backlog previous rule ${i} consumes matching event`, match.event.eventId)
        this.appendEvent(match.event, i)
        this.upsertAlarm(false)
        return true
      }
    }
    return false
  }

  private isUnderPressure(event: NormalizedEvent): boolean {
    const maxDelay = this.ctx.maxDelaySeconds
    if (maxDelay === 0) return false
    const receivedSeconds = Number(event.rcvdTime / 1_000_000_000n)
    return this.ctx.clock.nowSeconds() - receivedSeconds > maxDelay
  }

  private processMatchedEvent(event: NormalizedEvent, index: number): void {
    this.appendEvent(event, index)
    const rule = this.rules[index]!
    if (this.events[index]!.length < rule.occurrence) return
    const eventTime = parseRfc3339Seconds(event.timestamp)
    const stageTime = Number.isNaN(eventTime) ? 0 : eventTime
    this.updateRule(this.currentStage - 1, {status: 'finished', endTime: stageTime})
    this.calculateRisk()
    if (this.currentStage === this.rules.length) {
      this.upsertAlarm(true)
      this.log('info', 'reached max stage and occurrence, deleting.', event.eventId)
      this.ctx.deleteBacklog(this)
      return
    }
    this.currentStage++
    this.updateSourceKey()
    this.updateRule(this.currentStage - 1, {startTime: stageTime})
    this.statusTime = this.ctx.clock.nowSeconds()
    this.upsertAlarm(true)
  }

  private appendEvent(event: NormalizedEvent, index: number): void {
    this.events[index]!.push(event.eventId)
    appendUnique(this.srcIps, event.srcIp)
    appendUnique(this.dstIps, event.dstIp)
    appendCustomData(this.customData, event.customLabel1, event.customData1)
    appendCustomData(this.customData, event.customLabel2, event.customData2)
    appendCustomData(this.customData, event.customLabel3, event.customData3)
    dropUnspecified(this.srcIps)
    dropUnspecified(this.dstIps)
    this.lastEventId = event.eventId
    this.lastSrcPort = event.srcPort
    this.lastDstPort = event.dstPort
    this.statusTime = this.ctx.clock.nowSeconds()
    this.onEventAppended(event.eventId, this)
    this.ctx.emit({kind: 'alarm-event', alarmId: this.id, stage: index + 1, eventId: event.eventId})
  }

  private calculateRisk(): void {
    let value = 0
    for (const ip of this.srcIps) value = Math.max(value, this.ctx.assets.value(ip))
    for (const ip of this.dstIps) value = Math.max(value, this.ctx.assets.value(ip))
    const reliability = this.rules[this.currentStage - 1]!.reliability
    const risk = computeRisk(this.directive.priority, reliability, value)
    if (risk !== this.risk) {
      this.log('info', `risk changed from ${this.risk} to ${risk}`, this.lastEventId)
      this.risk = risk
    }
  }

  /** Upstream's expiry test, run on each tick: stage start (event time) + timeout is in the past. */
  isExpired(nowSeconds: number): boolean {
    const rule = this.rules[this.currentStage - 1]!
    return rule.startTime + rule.timeout < nowSeconds - this.ctx.minAlarmLifetimeSeconds
  }

  expire(): void {
    this.updateRule(this.currentStage - 1, {status: 'timeout'})
    this.log('info', 'backlog expired, deleting it', undefined)
    this.upsertAlarm(false)
    this.ctx.deleteBacklog(this)
  }

  private upsertAlarm(withLookups: boolean): void {
    const assets = this.ctx.assets
    const networks: string[] = []
    for (const ip of this.srcIps) networks.push(...assets.networks(ip))
    for (const ip of this.dstIps) networks.push(...assets.networks(ip))
    const alarm = this.ctx.alarms.upsert({
      alarmId: this.id,
      directiveId: this.directive.id,
      title: this.title,
      kingdom: this.directive.kingdom,
      category: this.directive.category,
      statusTime: this.statusTime,
      risk: this.risk,
      srcIps: this.srcIps,
      dstIps: this.dstIps,
      customData: this.customData,
      rules: this.rules,
      networks,
    })
    if (alarm.risk !== 0) this.ctx.emit({kind: 'alarm', alarm})
    if (withLookups) {
      this.ctx.emit({
        kind: 'lookup',
        alarm,
        lastSrcPort: this.lastSrcPort,
        lastDstPort: this.lastDstPort,
      })
    }
  }

  /** Alarms hold the rule objects handed over at upserts: a change makes a new one. */
  private updateRule(index: number, changes: Partial<DirectiveRule>): void {
    this.rules[index] = {...this.rules[index]!, ...changes}
  }

  private log(level: 'debug' | 'info' | 'warn', message: string, eventId: string | undefined): void {
    if (level === 'debug' && !this.ctx.debug) return
    this.ctx.emit({
      kind: 'log',
      level,
      message,
      directiveId: this.directive.id,
      backlogId: this.id,
      ...(eventId === undefined ? {} : {eventId}),
    })
  }
}

/** SRC_IP / DST_IP in a directive name become the asset host name, or the IP itself. */
export function substituteTitle(
  name: string,
  event: NormalizedEvent,
  ctx: Pick<EngineContext, 'assets'>,
): string {
  let title = name
  if (title.includes('SRC_IP')) {
    title = title.replaceAll('SRC_IP', ctx.assets.hostName(event.srcIp) || event.srcIp)
  }
  if (title.includes('DST_IP')) {
    title = title.replaceAll('DST_IP', ctx.assets.hostName(event.dstIp) || event.dstIp)
  }
  return title
}
