// The backend role: the correlation engine over this node's directives. It pulls its config from a
// frontend when clustered (upstream's cluster-backend), subscribes to the events its directives can
// use, queues them (bounded, back-pressure or counted drops — never silent), runs them through the
// engine in batches, and performs the engine's effects: alarm and alarm-event lines (files and the
// alarm store), intel/vuln lookups, the overload signal, logs. It ticks the engine every second for
// expiry, reloads directives and assets without a restart, and on stop drains what it accepted. On the
// routed bus it announces its route to frontends (start, reload, heartbeat, leaving: see
// backend-membership.ts) so they can tell an event lost to a dead backend from one nobody wants.

import {hostname} from 'node:os'
import path from 'node:path'
import {
  CorrelationEngine,
  DsiemError,
  EnvironmentError,
  INTEL_FILE_GLOB,
  messageOf,
  VULN_FILE_GLOB,
  randomIds,
  requireDirectives,
  type Alarm,
  type AssetTable,
  type Directive,
  type DirectiveSet,
  type EngineEffect,
  type IdGenerator,
  type ReloadSummary,
} from '../engine/index.js'
import {AlarmEnricher} from './alarm-enricher.js'
import {startBackendAnnouncer, type BackendAnnouncer} from './backend-membership.js'
import type {AlarmWriter} from './alarm-store.js'
import {pullConfig, type HttpGet} from './backend/config-pull.js'
import {EventQueue, type DropReason, type FullPolicy} from './backend/event-queue.js'
import {tuneHeapGrowthForBackend} from './backend/heap-growth.js'
import {LOSS_LOG_WINDOW_MS, RateLimitedCounter} from './rate-limited-counter.js'
import {OverloadSignal, type SignalTimers} from './backend/overload-signal.js'
import type {BusSubscription, EventInterest, EventRoute} from './bus.js'
import type {RoleContext} from './context.js'
import {AlarmFiles, OUTPUT_LOST_MESSAGE, type LossReason, type OutputFile} from './io/alarm-files.js'
import {
  globFiles,
  loadAssetsFromDir,
  loadDirectivesFromDir,
  readConfigFiles,
  requireDirectory,
} from './io/config-dir.js'
import type {Logger} from './io/log.js'
import {
  loadXcorrelatorPlugins,
  type XcorrelatorConfigOptions,
  type XcorrelatorPlugins,
} from './io/xcorrelator-config.js'
import type {ServeConfig} from './serve-config.js'
import type {RoleModule, RoleStatus, RunningRole} from './types.js'

export interface BackendOptions {
  /**
   * Opens the alarm store alarm lines also go to (the server passes `openAlarmStoreThread` of
   * io/alarm-store-thread.ts); the backend owns it: flushed and closed on stop. Without it (and without
   * `alarmStore`) only files are written.
   */
  openAlarmStore?: (file: string) => AlarmWriter
  /** Where `openAlarmStore` opens; default DATA_DIR/dsiem.db. */
  alarmStorePath?: string
  /** An already open store shared with other roles: flushed on stop, not closed. */
  alarmStore?: AlarmWriter
  /** Backlog (alarm) ids; default random 9-character ids as upstream. */
  newId?: IdGenerator
  /** Timers of the overload signal (tests). */
  timers?: SignalTimers
  /** Engine tick period (expiry), default 1000 ms. */
  tickIntervalMs?: number
  /** How long stop() may take to work off the queue, default 10 s. */
  drainTimeoutMs?: number
  /** What a full queue does; default 'wait' on the in-memory bus, 'drop' on NATS. */
  whenFull?: FullPolicy
  /** Wall-clock milliseconds, for queue lag (tests). */
  nowMs?: () => number
  /** Plugin registries and timeouts for intel/vuln (tests). */
  xcorrelator?: XcorrelatorConfigOptions
  /** HTTP GET used by the config pull (tests); default the shared undici client. */
  httpGet?: HttpGet
  /** Output queue lengths (upstream: 1000 alarm lines, 10000 alarm-event lines). */
  alarmQueueLines?: number
  alarmEventQueueLines?: number
  /** Period of the route announcement heartbeat on the routed bus (default 2000 ms). */
  heartbeatMs?: number
  /** After every engine batch, with its event count (the backend thread's credit return). */
  onBatch?: (count: number) => void
}

export type ReloadResult =
  | {readonly ok: true; readonly summary: ReloadSummary; readonly message: string}
  | {readonly ok: false; readonly error: Error; readonly message: string}

/** A running backend, on this thread or on its own (backend/threaded.ts). */
export interface RunningBackend extends RunningRole {
  readonly name: 'backend'
  /** Re-reads directives, assets, intel and vuln files; on any error keeps the running set. */
  reload(): Promise<ReloadResult>
  /** Resolves once every event accepted so far went through the engine and its lines are on disk. */
  settle(): Promise<void>
}

/** The backend on the calling thread: its status is at hand and its engine can be looked at. */
export interface InProcessBackend extends RunningBackend {
  status(): RoleStatus
  readonly engine: CorrelationEngine
}

export interface BackendRoleModule extends RoleModule {
  readonly name: 'backend'
  start(ctx: RoleContext): Promise<RunningBackend>
}

export interface InProcessBackendModule extends BackendRoleModule {
  start(ctx: RoleContext): Promise<InProcessBackend>
}

export function isRunningBackend(role: RunningRole): role is RunningBackend {
  return role.name === 'backend' && typeof (role as Partial<RunningBackend>).reload === 'function'
}

/** Directive files this backend loads: its own when clustered with a node name, else all. */
export function directivePattern(config: ServeConfig): string {
  return !config.standalone && config.node !== '' ? `directives_${config.node}_*.json` : 'directives_*.json'
}

/** The bus route for these pre-filter keys (the engine's index rule, see CorrelationEngine). */
export function routeOf(engine: CorrelationEngine): EventRoute {
  return engine.preFilterKeys()
}

interface LoadedConfig {
  directives: Directive[]
  assets: AssetTable
  set: DirectiveSet
  plugins: XcorrelatorPlugins
  /** Names and contents of the intel/vuln files, to tell whether a reload changed them. */
  pluginSignature: string
}

function pluginSignature(configDir: string): string {
  const files = readConfigFiles([
    ...globFiles(configDir, INTEL_FILE_GLOB),
    ...globFiles(configDir, VULN_FILE_GLOB),
  ])
  return JSON.stringify(files.map((f) => [path.basename(f.name), f.text]))
}

function loadConfig(config: ServeConfig, options: BackendOptions): LoadedConfig {
  requireDirectory(config.configDir, 'config directory')
  const filePattern = directivePattern(config)
  const set = loadDirectivesFromDir({
    configDir: config.configDir,
    filePattern,
    allowSingleStage: config.allowSingleStage,
  })
  const directives = requireDirectives(set, path.join(config.configDir, filePattern))
  const assets = loadAssetsFromDir(config.configDir)
  const plugins = loadXcorrelatorPlugins(config.configDir, options.xcorrelator)
  return {directives, assets, set, plugins, pluginSignature: pluginSignature(config.configDir)}
}

function logLoaded(log: Logger, loaded: LoadedConfig, pattern: string): void {
  for (const skipped of loaded.set.skipped) log.warn(skipped.message, {file: skipped.file})
  for (const warning of loaded.set.warnings) log.info(warning.message, {file: warning.file})
  for (const message of loaded.plugins.messages) log[message.level](message.message)
  log.info(
    `Loaded ${loaded.directives.length} directives out of ${loaded.set.totalFromFiles} from ${loaded.set.files.length} file(s) matching ${pattern}`,
  )
}

const WATCHDOG_EVERY_MS = 10_000
const QUEUE_REPORT_EVERY_MS = 30_000
/** A drop, or a lagging event, this recent makes the backend unhealthy. */
const RECENT_MS = 10_000

export async function startBackend(
  ctx: RoleContext,
  options: BackendOptions = {},
): Promise<InProcessBackend> {
  const {config} = ctx
  const log = ctx.log.child({role: 'backend'})
  const nowMs = options.nowMs ?? Date.now
  tuneHeapGrowthForBackend()
  const pattern = directivePattern(config)

  const pullFromFrontend = async (): Promise<void> => {
    const result = await pullConfig({
      frontend: config.frontend,
      node: config.node,
      configDir: config.configDir,
      ...(options.httpGet === undefined ? {} : {get: options.httpGet}),
      onDownload: (url) => log.info(`downloading ${url}`),
    })
    log.info(`pulled ${result.files.length} config file(s) from ${config.frontend} into ${config.configDir}`)
  }
  const pullsConfig = config.frontend !== '' && !config.standalone
  if (pullsConfig) await pullFromFrontend()

  let loaded = loadConfig(config, options)
  logLoaded(log, loaded, pattern)

  // ---- metrics (updated per batch or per tick, never per event)
  const m = ctx.metrics
  const processedTotal = m.counter('dsiem_backend_events_processed_total', 'Events run through the engine')
  const droppedTotal = m.counter(
    'dsiem_backend_events_dropped_total',
    'Events that never reached the engine, by reason',
    ['reason'],
  )
  const failedTotal = m.counter('dsiem_backend_events_failed_total', 'Events whose processing threw')
  const linesLostTotal = m.counter(
    'dsiem_backend_output_lines_lost_total',
    'Alarm and alarm-event lines that could not be written, by file and reason',
    ['file', 'reason'],
  )
  const alarmLinesTotal = m.counter('dsiem_backend_alarm_lines_total', 'Alarm lines written')
  const queueDepthGauge = m.gauge('dsiem_backend_queue_depth', 'Events queued for the engine')
  const queueLagGauge = m.gauge(
    'dsiem_backend_queue_lag_seconds',
    'Age of the oldest queued event, else of the last event processed in the last 10 s',
  )
  const backlogsGauge = m.gauge('dsiem_backend_backlogs', 'Live backlogs')
  const alarmsGauge = m.gauge('dsiem_backend_alarms', 'Alarms of live backlogs')
  const overloadGauge = m.gauge('dsiem_backend_overloaded', '1 while the backend signals overload')

  // ---- outputs
  const lossLog = new RateLimitedCounter(LOSS_LOG_WINDOW_MS, (key, count, detail) => {
    const [file, reason] = key.split(':')
    log.warn(OUTPUT_LOST_MESSAGE, {file, reason, lines: count, ...(detail ? {error: detail} : {})})
  })
  // Opened last (see openOutputs below), once nothing else can fail start-up.
  let files!: AlarmFiles
  let ownedStore: AlarmWriter | undefined
  let store: AlarmWriter | undefined
  const storeErrors = new RateLimitedCounter(LOSS_LOG_WINDOW_MS, (_key, count, detail) =>
    log.error(`alarm store update failed (${count} time(s))`, {error: detail}),
  )
  let alarmLines = 0
  const writeAlarm = (alarm: Alarm): void => {
    files.writeAlarm(alarm)
    alarmLines++
    alarmLinesTotal.inc()
    if (store === undefined) return
    try {
      store.upsert(alarm)
    } catch (error) {
      storeErrors.add('upsert', 1, messageOf(error))
    }
  }
  /** Writes what the store has queued; resolves once it is written (or the failure is counted). */
  const flushStore = async (): Promise<void> => {
    if (store === undefined) return
    try {
      await store.flush()
    } catch (error) {
      storeErrors.add('flush', 1, messageOf(error))
    }
  }

  // ---- overload signal (upstream's initBpTicker)
  const overload = new OverloadSignal({
    holdMs: config.holdDuration * 1000,
    publish: (value) => ctx.bus.publishOverload(value),
    ...(options.timers === undefined ? {} : {timers: options.timers}),
    onChange: (value) => {
      overloadGauge.set(value ? 1 : 0)
      log.info(`Overload=${value} signal sent from backend`)
    },
  })

  // ---- engine and enricher
  let enricher: AlarmEnricher
  const logEffect = (effect: Extract<EngineEffect, {kind: 'log'}>): void => {
    const fields: Record<string, unknown> = {}
    if (effect.directiveId !== undefined) fields['directive'] = effect.directiveId
    if (effect.backlogId !== undefined) fields['backlog'] = effect.backlogId
    if (effect.eventId !== undefined) fields['event'] = effect.eventId
    log[effect.level](effect.message, fields)
  }
  const emit = (effect: EngineEffect): void => {
    switch (effect.kind) {
      case 'alarm-event':
        files.writeAlarmEvent(effect.alarmId, effect.stage, effect.eventId)
        return
      case 'alarm':
        writeAlarm(effect.alarm)
        return
      case 'lookup':
      case 'alarm-removed':
        enricher.handle(effect)
        return
      case 'overload':
        overload.trigger()
        return
      case 'log':
        logEffect(effect)
        return
    }
  }
  const engine = new CorrelationEngine({
    directives: loaded.directives,
    assets: loaded.assets,
    clock: ctx.clock,
    emit,
    newId: options.newId ?? randomIds,
    maxDelaySeconds: config.maxDelay,
    minAlarmLifetimeMinutes: config.minAlarmLifetime,
    riskBounds: {medRiskMin: config.medRiskMin, medRiskMax: config.medRiskMax},
    defaultStatus: config.status[0]!,
    defaultTag: config.tags[0]!,
    debug: log.level === 'debug',
  })
  const makeEnricher = (plugins: XcorrelatorPlugins): AlarmEnricher =>
    new AlarmEnricher({
      engine,
      intel: plugins.intel,
      vuln: plugins.vuln,
      emitAlarm: writeAlarm,
      cacheDurationMinutes: config.cacheDuration,
      intelPrivateIp: config.intelPrivateIp,
      clock: ctx.clock,
      log: (level, message) => log[level](message),
    })
  enricher = makeEnricher(loaded.plugins)

  // ---- queue
  const dropLog = new RateLimitedCounter(LOSS_LOG_WINDOW_MS, (reason, count, detail) =>
    log.warn(`Backend queue discarded: ${count} events. Reason: ${reason}`, detail ? {detail} : {}),
  )
  let lastDropAt = -Infinity
  let lastInvalid: string | undefined
  const capacity = config.maxQueue > 0 ? config.maxQueue * 2 : 0
  // Overload (besides the engine's own probe): a queue more than half full, as upstream's zero-wait
  // threshold, or events older than maxDelay: the batch just processed, or the oldest still queued.
  const halfFull = (): boolean => queue.capacity !== Infinity && queue.depth * 2 > queue.capacity
  const tooOld = (ageMs: number): boolean => config.maxDelay > 0 && ageMs > config.maxDelay * 1000
  /** How far behind the backend is: the oldest queued event, else the last one processed recently. */
  const currentLagMs = (): number => {
    if (queue.depth > 0) return queue.oldestAgeMs()
    return nowMs() - queue.lastProcessedAt < RECENT_MS ? queue.lastProcessedLagMs : 0
  }
  const queue: EventQueue = new EventQueue({
    capacity,
    whenFull: options.whenFull ?? (ctx.bus.mode === 'memory' ? 'wait' : 'drop'),
    nowMs,
    handle: (event) => engine.process(event),
    afterBatch: (count) => {
      processedTotal.inc(count)
      options.onBatch?.(count)
      if (halfFull() || tooOld(queue.lastProcessedLagMs)) overload.trigger()
      return files.needsWait() ? files.drained() : undefined
    },
    onDrop: (reason: DropReason, count: number) => {
      // A full queue makes the backend unhealthy for a while; bad payloads from a publisher do not.
      if (reason === 'queue_full') lastDropAt = performance.now()
      droppedTotal.inc({reason}, count)
      dropLog.add(reason, count, reason === 'invalid' ? lastInvalid : undefined)
    },
    onError: (event, error) => {
      failedTotal.inc()
      log.error(`processing event ${event.eventId} failed: ${(error as Error).stack ?? String(error)}`)
    },
  })

  // ---- bus subscription and announcement
  let subscription: BusSubscription | undefined
  let subscribedRoute = ''
  // Only the routed bus has announcements: legacy must stay upstream's protocol, and on the in-memory
  // bus the frontend shares this process.
  const announcer: BackendAnnouncer | undefined =
    ctx.bus.mode === 'routed'
      ? startBackendAnnouncer(ctx.bus, {
          node: config.node !== '' ? config.node : hostname(),
          ...(options.heartbeatMs === undefined ? {} : {heartbeatMs: options.heartbeatMs}),
        })
      : undefined
  const onInvalid = (reason: string, payload: string): void => {
    lastInvalid = `${reason}: ${payload.slice(0, 200)}`
    queue.drop('invalid')
  }
  const subscribe = (): void => {
    // Only NATS routed subjects narrow what reaches this process; on the in-memory and legacy buses
    // every event arrives and the engine's own index drops what no directive can match.
    const interest: EventInterest =
      ctx.bus.mode === 'routed' ? {kind: 'routed', route: routeOf(engine)} : {kind: 'all'}
    const key = JSON.stringify(interest)
    if (subscription !== undefined && key === subscribedRoute) return
    const previous = subscription
    subscription = ctx.bus.subscribeEvents(interest, queue.push, onInvalid)
    subscribedRoute = key
    // Announced after subscribing: on one NATS connection the server sees the SUB before the
    // announcement, so no frontend counts on a route that is not in place yet.
    if (interest.kind === 'routed') announcer?.update(interest.route)
    previous?.unsubscribe()
  }

  // ---- ticks
  let lastTickAt = performance.now()
  let lastProcessed = 0
  let eps = 0
  let lastWatchdog = lastTickAt
  let lastQueueReport = lastTickAt
  const tick = (): void => {
    try {
      engine.tick()
    } catch (error) {
      log.error(`engine tick failed: ${(error as Error).stack ?? String(error)}`)
    }
    const now = performance.now()
    const elapsed = (now - lastTickAt) / 1000
    if (elapsed > 0) eps = Math.round((queue.processed - lastProcessed) / elapsed)
    lastProcessed = queue.processed
    lastTickAt = now
    if (halfFull() || tooOld(queue.oldestAgeMs())) overload.trigger()
    void flushStore()
    dropLog.flush(false)
    lossLog.flush(false)
    storeErrors.flush(false)
    const stats = engine.stats()
    queueDepthGauge.set(queue.depth)
    queueLagGauge.set(currentLagMs() / 1000)
    backlogsGauge.set(stats.backlogsActive)
    alarmsGauge.set(stats.alarmsActive)
    if (now - lastWatchdog >= WATCHDOG_EVERY_MS) {
      lastWatchdog = now
      log.info(
        `Watchdog tick ended, # of backlogs: ${stats.backlogsActive} directives (in-use/total): ${stats.directivesInUse}/${stats.directives} events/sec: ${eps}`,
      )
    }
    if (now - lastQueueReport >= QUEUE_REPORT_EVERY_MS) {
      lastQueueReport = now
      log.info(
        `Backend queue length: ${queue.depth} lag: ${(currentLagMs() / 1000).toFixed(3)}s processed: ${queue.processed} dropped: ${queue.droppedTotal}`,
      )
    }
  }

  const openOutputs = async (): Promise<void> => {
    try {
      files = AlarmFiles.open(config.dataDir, {
        ...(options.alarmQueueLines === undefined ? {} : {alarmQueueLines: options.alarmQueueLines}),
        ...(options.alarmEventQueueLines === undefined
          ? {}
          : {alarmEventQueueLines: options.alarmEventQueueLines}),
        onLost: (file: OutputFile, reason: LossReason, count: number, error?: Error) => {
          linesLostTotal.inc({file, reason}, count)
          lossLog.add(`${file}:${reason}`, count, error?.message)
        },
      })
    } catch (error) {
      throw new EnvironmentError(
        `cannot open the alarm files in ${path.join(config.dataDir, 'logs')}: ${messageOf(error)}`,
        'DSIEM_E_OUTPUT',
        {cause: error, hint: 'pass --data-dir (DSIEM_DATA_DIR) pointing at a writable directory'},
      )
    }
    try {
      if (options.alarmStore === undefined && options.openAlarmStore !== undefined) {
        ownedStore = options.openAlarmStore(options.alarmStorePath ?? path.join(config.dataDir, 'dsiem.db'))
      }
    } catch (error) {
      await files.close()
      throw error
    }
    store = options.alarmStore ?? ownedStore
  }

  await openOutputs()
  try {
    subscribe()
  } catch (error) {
    await files.close()
    await ownedStore?.close()
    throw error
  }
  overload.start()
  const ticker = setInterval(tick, options.tickIntervalMs ?? 1000)
  ticker.unref()
  log.info(
    `backend started: ${engine.directives.length} directives, queue ${capacity > 0 ? `capacity ${capacity}` : 'unbounded'} (${queue.whenFull} when full), outputs in ${files.dir}`,
  )

  // ---- reload
  let stopped = false
  // One reload at a time (SIGHUP and the API may ask together); a second waits for the first.
  let reloadChain: Promise<unknown> = Promise.resolve()
  const reload = (): Promise<ReloadResult> => {
    const run = reloadChain.then(reloadNow, reloadNow)
    reloadChain = run
    return run
  }
  const reloadNow = async (): Promise<ReloadResult> => {
    if (stopped) {
      const error = new EnvironmentError('the backend is stopping', 'DSIEM_E_STOPPING')
      return {ok: false, error, message: error.message}
    }
    let next: LoadedConfig
    try {
      if (pullsConfig) await pullFromFrontend()
      next = loadConfig(config, options)
    } catch (error) {
      const message = `reload failed, still running the previous ${engine.directives.length} directives: ${messageOf(error)}`
      log.error(message, error instanceof DsiemError && error.hint ? {hint: error.hint} : {})
      return {ok: false, error: error as Error, message}
    }
    for (const skipped of next.set.skipped) log.warn(skipped.message, {file: skipped.file})
    const summary = engine.reload(next.directives, next.assets)
    subscribe()
    let plugins = 'intel/vuln unchanged'
    if (next.pluginSignature !== loaded.pluginSignature) {
      for (const message of next.plugins.messages) log[message.level](message.message)
      const old = enricher
      enricher = makeEnricher(next.plugins)
      void old.close()
      plugins = `intel/vuln reloaded (${next.plugins.intel.length} intel, ${next.plugins.vuln.length} vuln plugins)`
    }
    loaded = next
    const list = (ids: readonly number[]): string => (ids.length === 0 ? '' : ` [${ids.join(', ')}]`)
    const message =
      `reloaded ${next.directives.length} directives from ${pattern}: ${summary.kept} unchanged, ` +
      `${summary.added.length} added${list(summary.added)}, ${summary.changed.length} changed${list(summary.changed)}, ` +
      `${summary.removed.length} removed${list(summary.removed)}, ${summary.backlogsDiscarded} backlogs discarded; ` +
      `assets reloaded; ${plugins}`
    log.info(message)
    return {ok: true, summary, message}
  }

  // ---- stop
  let stopping: Promise<void> | undefined
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopped = true
      if (announcer !== undefined) {
        // Leaving before unsubscribing: frontends count what they send from now on as backend_down
        // instead of it vanishing (a few in flight may still arrive and be processed).
        announcer.leave()
        await ctx.bus.flush().catch(() => {})
      }
      subscription?.unsubscribe()
      subscription = undefined
      clearInterval(ticker)
      queue.close()
      if (!(await queue.drain(drainTimeoutMs))) {
        const left = queue.discardRemaining('shutdown')
        log.error(`stop: ${left} accepted events were not processed within ${drainTimeoutMs} ms`)
      }
      await enricher.close()
      overload.stop()
      await files.close()
      await flushStore()
      dropLog.flush(true)
      lossLog.flush(true)
      storeErrors.flush(true)
      if (ownedStore !== undefined) {
        try {
          await ownedStore.close()
        } catch (error) {
          log.error(`closing the alarm store failed: ${messageOf(error)}`)
        }
      }
      log.info(`backend stopped: ${queue.processed} events processed, ${alarmLines} alarm lines written`)
    })())

  const status = (): RoleStatus => {
    const stats = engine.stats()
    const lagSeconds = currentLagMs() / 1000
    const dropping = performance.now() - lastDropAt < RECENT_MS
    const lagging = config.maxDelay > 0 && lagSeconds > config.maxDelay
    const outputs = files.stats()
    return {
      role: 'backend',
      healthy: !stopped && !queue.full && !dropping && !lagging,
      detail: {
        directives: stats.directives,
        directivesInUse: stats.directivesInUse,
        backlogs: stats.backlogsActive,
        alarms: stats.alarmsActive,
        queueDepth: queue.depth,
        queueCapacity: Number.isFinite(queue.capacity) ? queue.capacity : null,
        queueWaiting: queue.waiting,
        whenFull: queue.whenFull,
        lagSeconds,
        lastEventLagSeconds: queue.lastProcessedLagMs / 1000,
        dropped: queue.droppedTotal,
        droppedBy: queue.droppedBy(),
        processed: queue.processed,
        failed: queue.failed,
        eps,
        overloaded: overload.overloaded,
        alarmLines,
        outputLinesLost: outputs.alarms.lost + outputs.alarmEvents.lost,
      },
    }
  }

  const settle = async (): Promise<void> => {
    await queue.drain(2 ** 31 - 1)
    await enricher.idle()
    await files.drained()
    await flushStore()
  }

  return {name: 'backend', status, stop, reload, settle, engine}
}

/** The backend RoleModule with injected seams (alarm store, timers, ...). */
export function createBackendRole(options: BackendOptions = {}): InProcessBackendModule {
  return {name: 'backend', start: (ctx) => startBackend(ctx, options)}
}

/** The backend role without an alarm store; the orchestrator passes one via createBackendRole. */
export const backend: InProcessBackendModule = createBackendRole()
