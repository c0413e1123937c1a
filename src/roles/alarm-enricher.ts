// Runs the engine's `lookup` effects: threat-intel checks of an alarm's IPs and vulnerability checks
// of its rule ip:port terms (upstream's asyncIntelCheck / asyncVulnCheck). Checks are asynchronous and
// serialised per alarm — one intel and one vuln check at a time, later requests queue behind, as
// upstream's per-alarm IntelMu/VulnMu do — and each term goes through the cache, then every plugin in
// order. Only new findings reach the engine, which writes an alarm line for them when risk ≠ 0.
//
// Upstream asks for lookups at every stage completion, including the final one, right before the
// backlog (and alarm) is deleted; its goroutines keep the alarm and still write a line with what they
// find. The same happens here: checks already requested when `alarm-removed` arrives still run, and
// their findings go out through `emitAlarm` on the last known alarm; then the alarm is forgotten.

import {
  LookupCache,
  hasTerm,
  intelCandidates,
  readCachedLookup,
  storeLookup,
  systemClock,
  vulnCacheKey,
  vulnCandidates,
  type Alarm,
  type CheckResult,
  type Clock,
  type EngineEffect,
  type IntelPlugin,
  type LogLevel,
  type LookupResult,
  type NamedPlugin,
  type VulnPlugin,
} from '../engine/index.js'

type LookupField = 'intelHits' | 'vulnerabilities'

/** The part of CorrelationEngine the enricher needs. */
export interface EnrichmentTarget {
  alarm(alarmId: string): Alarm | undefined
  addLookupResults(alarmId: string, field: LookupField, results: readonly LookupResult[]): void
}

export interface AlarmEnricherOptions {
  engine: EnrichmentTarget
  intel: readonly NamedPlugin<IntelPlugin>[]
  vuln: readonly NamedPlugin<VulnPlugin>[]
  /** Writes an alarm line for an alarm whose backlog is already gone (see above). */
  emitAlarm: (alarm: Alarm) => void
  /** `--cacheDuration` minutes (0 = 10). */
  cacheDurationMinutes?: number
  /** `--intelPrivateIP`: also check private (and unparsable) IPs. */
  intelPrivateIp?: boolean
  clock?: Clock
  log?: (level: LogLevel, message: string) => void
}

export interface EnricherStats {
  /** Lookup effects accepted. */
  requests: number
  /** Intel or vuln checks completed (one per alarm per request and kind). */
  checks: number
  /** Terms looked up (cache or plugins). */
  lookups: number
  cacheHits: number
  /** Plugin calls that failed (network, timeout, unusable answer). */
  errors: number
  /** Times new findings were added to an alarm. */
  updates: number
  /** Checks queued or running. */
  pending: number
}

interface AlarmState {
  readonly alarmId: string
  /** Latest known content, used once the engine has dropped the alarm. */
  snapshot: Alarm
  intel: Promise<void>
  vuln: Promise<void>
  pending: number
}

interface PluginCall {
  readonly name: string
  readonly check: () => Promise<CheckResult>
}

const noLog = (): void => {}

export class AlarmEnricher {
  private readonly engine: EnrichmentTarget
  private readonly intel: readonly NamedPlugin<IntelPlugin>[]
  private readonly vuln: readonly NamedPlugin<VulnPlugin>[]
  private readonly emitAlarm: (alarm: Alarm) => void
  private readonly intelPrivateIp: boolean
  private readonly log: (level: LogLevel, message: string) => void
  private readonly intelCache: LookupCache
  private readonly vulnCache: LookupCache
  private readonly alarms = new Map<string, AlarmState>()
  private readonly idleWaiters: (() => void)[] = []
  private closed = false
  private readonly counters = {requests: 0, checks: 0, lookups: 0, cacheHits: 0, errors: 0, updates: 0}
  private pending = 0

  constructor(options: AlarmEnricherOptions) {
    this.engine = options.engine
    this.intel = options.intel
    this.vuln = options.vuln
    this.emitAlarm = options.emitAlarm
    this.intelPrivateIp = options.intelPrivateIp ?? false
    this.log = options.log ?? noLog
    const clock = options.clock ?? systemClock
    this.intelCache = new LookupCache(options.cacheDurationMinutes ?? 0, clock)
    this.vulnCache = new LookupCache(options.cacheDurationMinutes ?? 0, clock)
  }

  /** Intel / vuln lookups are enabled iff at least one plugin of that kind initialised. */
  get enabled(): boolean {
    return this.intel.length > 0 || this.vuln.length > 0
  }

  /** Feed every engine effect here; only `lookup` and `alarm-removed` matter. */
  handle(effect: EngineEffect): void {
    if (effect.kind === 'lookup') this.request(effect.alarm, effect.lastSrcPort, effect.lastDstPort)
    else if (effect.kind === 'alarm-removed') this.forget(effect.alarmId)
  }

  /** Queues an intel check and a vuln check for this alarm (ports: the last event's). */
  request(alarm: Alarm, lastSrcPort: number, lastDstPort: number): void {
    if (this.closed || !this.enabled) return
    this.counters.requests++
    let state = this.alarms.get(alarm.alarmId)
    if (state === undefined) {
      state = {
        alarmId: alarm.alarmId,
        snapshot: alarm,
        intel: Promise.resolve(),
        vuln: Promise.resolve(),
        pending: 0,
      }
      this.alarms.set(alarm.alarmId, state)
    }
    state.snapshot = alarm
    const current = state
    if (this.intel.length > 0) {
      current.intel = this.enqueue(current, current.intel, () => this.checkIntel(current))
    }
    if (this.vuln.length > 0) {
      current.vuln = this.enqueue(current, current.vuln, () =>
        this.checkVuln(current, lastSrcPort, lastDstPort),
      )
    }
  }

  /**
   * The alarm's backlog is gone. Checks already queued still finish (upstream's do); the state goes
   * when the last of them does, or now if none is pending.
   */
  forget(alarmId: string): void {
    const state = this.alarms.get(alarmId)
    if (state !== undefined && state.pending === 0) this.alarms.delete(alarmId)
  }

  stats(): EnricherStats {
    return {...this.counters, pending: this.pending}
  }

  /** Alarms with checks queued or running. */
  get trackedAlarms(): number {
    return this.alarms.size
  }

  /** Resolves once no check is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Graceful stop: refuses new requests, skips queued checks, waits for the running ones. */
  close(): Promise<void> {
    this.closed = true
    return this.idle()
  }

  private enqueue(state: AlarmState, tail: Promise<void>, run: () => Promise<void>): Promise<void> {
    state.pending++
    this.pending++
    return tail
      .then(async () => {
        if (this.closed) return
        await run()
        this.counters.checks++
      })
      .catch((error: unknown) => {
        // Plugin failures are handled per plugin; reaching here is a bug, but it must not stall the queue.
        this.log(
          'warn',
          `lookup for alarm ${state.alarmId} failed: ${(error as Error).stack ?? String(error)}`,
        )
      })
      .finally(() => this.settle(state))
  }

  private settle(state: AlarmState): void {
    state.pending--
    this.pending--
    if (state.pending === 0 && this.alarms.get(state.alarmId) === state) this.alarms.delete(state.alarmId)
    if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  /** The alarm as it stands now: the engine's copy while it has one, else the last one seen. */
  private current(state: AlarmState): Alarm {
    const live = this.engine.alarm(state.alarmId)
    if (live !== undefined) state.snapshot = live
    return state.snapshot
  }

  private async checkIntel(state: AlarmState): Promise<void> {
    const alarm = this.current(state)
    const known = [...alarm.intelHits]
    const added: LookupResult[] = []
    for (const ip of intelCandidates(alarm, this.intelPrivateIp)) {
      // Findings of this very check count as existing too, as in upstream's loop.
      if (hasTerm(known, ip)) continue
      const calls = this.intel.map(({name, plugin}) => ({name, check: () => plugin.checkIp(ip)}))
      const {found, results} = await this.lookup('intel', this.intelCache, ip, calls)
      if (!found) continue
      known.push(...results)
      added.push(...results)
      this.log('info', `Found intel result for ${ip}`)
    }
    if (added.length > 0) this.publish(state, 'intelHits', added)
  }

  private async checkVuln(state: AlarmState, lastSrcPort: number, lastDstPort: number): Promise<void> {
    const alarm = this.current(state)
    const known = [...alarm.vulnerabilities]
    const added: LookupResult[] = []
    for (const candidate of vulnCandidates(alarm.rules, lastSrcPort, lastDstPort, known)) {
      if (hasTerm(known, candidate.term)) continue
      const {ip, port} = candidate
      const calls = this.vuln.map(({name, plugin}) => ({name, check: () => plugin.checkIpPort(ip, port)}))
      const {found, results} = await this.lookup('vuln', this.vulnCache, vulnCacheKey(ip, port), calls)
      if (!found) continue
      known.push(...results)
      added.push(...results)
      this.log('info', `found vulnerability for ${candidate.term}`)
    }
    if (added.length > 0) this.publish(state, 'vulnerabilities', added)
  }

  /** Upstream's CheckIntelIP / CheckVulnIPPort: cache, then every plugin, caching unless all failed. */
  private async lookup(
    kind: 'intel' | 'vuln',
    cache: LookupCache,
    key: string,
    calls: readonly PluginCall[],
  ): Promise<CheckResult> {
    this.counters.lookups++
    const cached = readCachedLookup(cache, key)
    if (cached.kind === 'found' || cached.kind === 'not-found') {
      this.counters.cacheHits++
      this.log('debug', `Returning ${kind} cache entry (${cached.kind.replace('-', ' ')}) for ${key}`)
      return cached.kind === 'found' ? {found: true, results: cached.results} : {found: false, results: []}
    }
    if (cached.kind === 'corrupt') this.log('debug', `Failed to unmarshal ${kind} cache for ${key}`)

    let answered = false
    let found = false
    const results: LookupResult[] = []
    for (const call of calls) {
      let answer: CheckResult
      try {
        answer = await call.check()
      } catch (error) {
        this.counters.errors++
        this.log('warn', `Error received from ${kind} checker ${call.name}: ${(error as Error).message}`)
        continue
      }
      answered = true
      if (answer.found) {
        found = true
        results.push(...answer.results)
      }
    }
    if (!answered) return {found: false, results: []}
    storeLookup(cache, key, found, results)
    this.log('debug', `Storing ${kind} ${found ? 'result' : 'not found result'} for ${key} in cache`)
    return {found, results}
  }

  private publish(state: AlarmState, field: LookupField, added: readonly LookupResult[]): void {
    this.counters.updates++
    if (this.engine.alarm(state.alarmId) !== undefined) {
      this.engine.addLookupResults(state.alarmId, field, added)
      state.snapshot = this.engine.alarm(state.alarmId) ?? state.snapshot
      return
    }
    const alarm: Alarm = {...state.snapshot, [field]: [...state.snapshot[field], ...added]}
    state.snapshot = alarm
    if (alarm.risk !== 0) this.emitAlarm(alarm)
  }
}
