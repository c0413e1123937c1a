// The correlation engine: data in (events, ticks), effects out. Upstream copies every event to every
// directive and lets each run its quick check; here the quick-check keys index the directives, so an
// event costs two map lookups plus the work of the directives that can actually match it:
//   - a directive with any (plugin_id, plugin_sid) pair is reachable only through those pairs;
//   - a directive without any is reachable through its (product, category) pairs.
// That is exactly upstream's quick check (a mixed directive is filtered by its plugin pairs only).

import {
  AlarmTable,
  DEFAULT_RISK_BOUNDS,
  validateRiskBounds,
  type Alarm,
  type LookupResult,
  type RiskBounds,
} from './alarm.js'
import type {AssetTable} from './asset.js'
import type {Backlog, CompiledDirective} from './backlog.js'
import type {Clock} from './clock.js'
import type {Directive} from './directive.js'
import {DirectiveRuntime} from './directive-runtime.js'
import type {EffectSink} from './effects.js'
import type {EngineContext} from './engine-context.js'
import type {NormalizedEvent} from './event.js'
import {randomIds, type IdGenerator} from './ids.js'
import {EventMatchContext} from './rule.js'

export interface EngineOptions {
  directives: readonly Directive[]
  assets: AssetTable
  clock: Clock
  emit: EffectSink
  newId?: IdGenerator
  /** `--maxDelay` seconds (0 = off). */
  maxDelaySeconds?: number
  /** `--minAlarmLifetime` minutes. */
  minAlarmLifetimeMinutes?: number
  riskBounds?: RiskBounds
  /** First of `--status` / `--tags`. */
  defaultStatus?: string
  defaultTag?: string
  debug?: boolean
}

export interface EngineStats {
  eventsProcessed: number
  /** Events dropped for a whitelisted src_ip that would otherwise have reached a directive. */
  eventsWhitelisted: number
  /** Events that reached at least one directive through the index. */
  eventsIndexed: number
  /** Directive offers made (upstream would make eventsProcessed × directives). */
  directiveOffers: number
  backlogsCreated: number
  backlogsActive: number
  alarmsActive: number
  /** Directives loaded, and those holding at least one live backlog (upstream's "in-use/total"). */
  directives: number
  directivesInUse: number
}

/** What `reload` did, by directive id. */
export interface ReloadSummary {
  /** Directives whose definition is unchanged: runtime and live backlogs kept. */
  readonly kept: number
  readonly added: readonly number[]
  /** Same id, different definition: old backlogs discarded, starts empty. */
  readonly changed: readonly number[]
  readonly removed: readonly number[]
  /** Live backlogs of changed and removed directives, dropped without an alarm line. */
  readonly backlogsDiscarded: number
}

/** The pre-filter keys of the loaded directives (what an event needs to reach any of them). */
export interface PreFilterKeys {
  readonly sids: readonly (readonly [pluginId: number, pluginSid: number])[]
  readonly taxonomies: readonly (readonly [category: string, product: string])[]
}

type RuntimeList = readonly DirectiveRuntime[]

function addToIndex<K1, K2>(
  index: Map<K1, Map<K2, DirectiveRuntime[]>>,
  k1: K1,
  k2: K2,
  runtime: DirectiveRuntime,
): void {
  let inner = index.get(k1)
  if (inner === undefined) index.set(k1, (inner = new Map()))
  const list = inner.get(k2)
  if (list === undefined) inner.set(k2, [runtime])
  else if (list[list.length - 1] !== runtime) list.push(runtime)
}

export class CorrelationEngine {
  private runtimes: DirectiveRuntime[]
  private readonly order = new Map<DirectiveRuntime, number>()
  private readonly bySid = new Map<number, Map<number, DirectiveRuntime[]>>()
  private readonly byTaxonomy = new Map<string, Map<string, DirectiveRuntime[]>>()
  private readonly runtimeByTemplate = new Map<CompiledDirective, DirectiveRuntime>()
  private readonly alarms: AlarmTable
  private readonly ctx: EngineContext
  private readonly counters = {
    eventsProcessed: 0,
    eventsWhitelisted: 0,
    eventsIndexed: 0,
    directiveOffers: 0,
    backlogsCreated: 0,
  }

  constructor(options: EngineOptions) {
    this.alarms = new AlarmTable({
      status: options.defaultStatus ?? 'Open',
      tag: options.defaultTag ?? 'Identified Threat',
      bounds: validateRiskBounds(options.riskBounds ?? DEFAULT_RISK_BOUNDS),
    })
    const newId = options.newId ?? randomIds
    this.ctx = {
      assets: options.assets,
      alarms: this.alarms,
      clock: options.clock,
      emit: options.emit,
      newId: () => {
        this.counters.backlogsCreated++
        return newId()
      },
      maxDelaySeconds: options.maxDelaySeconds ?? 0,
      minAlarmLifetimeSeconds: (options.minAlarmLifetimeMinutes ?? 0) * 60,
      debug: options.debug ?? false,
      deleteBacklog: (backlog) => this.deleteBacklog(backlog),
    }
    this.runtimes = options.directives.map((directive) => new DirectiveRuntime(directive, this.ctx))
    this.rebuildIndex()
  }

  private rebuildIndex(): void {
    this.order.clear()
    this.runtimeByTemplate.clear()
    this.bySid.clear()
    this.byTaxonomy.clear()
    this.runtimes.forEach((runtime, i) => {
      this.order.set(runtime, i)
      this.runtimeByTemplate.set(runtime.compiled, runtime)
      this.index(runtime)
    })
  }

  /**
   * Replaces the directive set and the asset table between two events (hot reload). A directive
   * whose definition is unchanged (same canonical text) keeps its runtime and live backlogs; a changed
   * or removed one loses its backlogs (their alarms are dropped: `alarm-removed`, no alarm line); a
   * new one starts empty. Existing backlogs use the new asset table from now on. The caller validates
   * the new set first (ids unique), exactly as for the constructor.
   */
  reload(directives: readonly Directive[], assets: AssetTable): ReloadSummary {
    const previous = new Map<number, DirectiveRuntime[]>()
    for (const runtime of this.runtimes) {
      const list = previous.get(runtime.directive.id)
      if (list === undefined) previous.set(runtime.directive.id, [runtime])
      else list.push(runtime)
    }
    const next: DirectiveRuntime[] = []
    const added: number[] = []
    const changed: number[] = []
    const dropped: DirectiveRuntime[] = []
    let kept = 0
    for (const directive of directives) {
      const fresh = new DirectiveRuntime(directive, this.ctx)
      const old = previous.get(directive.id)?.shift()
      if (old === undefined) {
        added.push(directive.id)
        next.push(fresh)
      } else if (old.canonical === fresh.canonical) {
        kept++
        next.push(old)
      } else {
        changed.push(directive.id)
        dropped.push(old)
        next.push(fresh)
      }
    }
    const removed: number[] = []
    for (const [id, left] of previous) {
      for (const runtime of left) {
        removed.push(id)
        dropped.push(runtime)
      }
    }
    let backlogsDiscarded = 0
    for (const runtime of dropped) {
      for (const backlog of runtime.discardAll()) {
        backlogsDiscarded++
        this.alarms.remove(backlog.id)
        this.ctx.emit({kind: 'alarm-removed', alarmId: backlog.id})
      }
    }
    this.ctx.assets = assets
    this.runtimes = next
    this.rebuildIndex()
    if (dropped.length > 0) {
      this.ctx.emit({
        kind: 'log',
        level: backlogsDiscarded > 0 ? 'warn' : 'info',
        message: `reload discarded ${backlogsDiscarded} backlog(s) of ${changed.length} changed and ${removed.length} removed directive(s)`,
      })
    }
    return {kept, added, changed, removed, backlogsDiscarded}
  }

  /** The index's keys: exactly the events some directive can use (a backend's subscription). */
  preFilterKeys(): PreFilterKeys {
    const sids: [number, number][] = []
    for (const [pluginId, inner] of this.bySid) for (const sid of inner.keys()) sids.push([pluginId, sid])
    const taxonomies: [string, string][] = []
    for (const [category, inner] of this.byTaxonomy) {
      for (const product of inner.keys()) taxonomies.push([category, product])
    }
    return {sids, taxonomies}
  }

  private index(runtime: DirectiveRuntime): void {
    const rules = runtime.directive.rules
    const withSids = rules.filter(
      (r) => r.pluginId !== 0 && r.pluginSid !== undefined && r.pluginSid.length > 0,
    )
    if (withSids.length > 0) {
      for (const rule of withSids) {
        for (const sid of rule.pluginSid!) addToIndex(this.bySid, rule.pluginId, sid, runtime)
      }
      return
    }
    for (const rule of rules) {
      if (rule.product === undefined || rule.product.length === 0 || rule.category === '') continue
      for (const product of rule.product) addToIndex(this.byTaxonomy, rule.category, product, runtime)
    }
  }

  get directives(): readonly Directive[] {
    return this.runtimes.map((r) => r.directive)
  }

  /** Directives the pre-filter lets this event reach, in load order. */
  candidates(event: NormalizedEvent): RuntimeList {
    const bySid = this.bySid.get(event.pluginId)?.get(event.pluginSid)
    const byTaxonomy = this.byTaxonomy.get(event.category)?.get(event.product)
    if (byTaxonomy === undefined) return bySid ?? []
    if (bySid === undefined) return byTaxonomy
    // The two sets are disjoint (see above); merge them back into load order.
    return [...bySid, ...byTaxonomy].sort((a, b) => this.order.get(a)! - this.order.get(b)!)
  }

  /** Correlates one event (the backend's per-event entry point). */
  process(event: NormalizedEvent): void {
    this.counters.eventsProcessed++
    const candidates = this.candidates(event)
    const count = candidates.length
    if (count === 0) return
    // Upstream drops whitelisted sources before any directive sees them; checking after the index
    // lookup gives the same result and spares the asset lookup for the many events nothing wants.
    if (this.ctx.assets.isWhitelisted(event.srcIp)) {
      this.counters.eventsWhitelisted++
      return
    }
    this.counters.eventsIndexed++
    this.counters.directiveOffers += count
    const match = new EventMatchContext(event, this.ctx.assets)
    for (let i = 0; i < count; i++) candidates[i]!.offer(match)
  }

  /** Expires timed-out backlogs; call every few seconds (upstream ticks every 10 s). */
  tick(): void {
    const now = this.ctx.clock.nowSeconds()
    for (const runtime of this.runtimes) runtime.expire(now)
  }

  /** Intel or vulnerability results found for an alarm; writes a new alarm line if risk ≠ 0. */
  addLookupResults(
    alarmId: string,
    field: 'intelHits' | 'vulnerabilities',
    results: readonly LookupResult[],
  ): void {
    const alarm = this.alarms.addLookupResults(alarmId, field, results)
    if (alarm !== undefined && alarm.risk !== 0) this.ctx.emit({kind: 'alarm', alarm})
  }

  /** The alarm's current state, or undefined once its backlog is gone. */
  alarm(alarmId: string): Alarm | undefined {
    return this.alarms.get(alarmId)
  }

  backlogs(): Backlog[] {
    return this.runtimes.flatMap((r) => [...r.liveBacklogs()])
  }

  stats(): EngineStats {
    let backlogsActive = 0
    let directivesInUse = 0
    for (const runtime of this.runtimes) {
      const count = runtime.backlogCount
      backlogsActive += count
      if (count > 0) directivesInUse++
    }
    return {
      ...this.counters,
      backlogsActive,
      alarmsActive: this.alarms.size,
      directives: this.runtimes.length,
      directivesInUse,
    }
  }

  private deleteBacklog(backlog: Backlog): void {
    if (backlog.deleted) return
    backlog.deleted = true
    this.runtimeByTemplate.get(backlog.template)!.release(backlog)
    this.alarms.remove(backlog.id)
    this.ctx.emit({kind: 'alarm-removed', alarmId: backlog.id})
  }
}
