// The frontend role (upstream's cluster-frontend, and the HTTP half of standalone): HTTP ingest of
// normalized events onto the bus, throttled by upstream's EPS token bucket, which follows the last
// overload signal any backend sent — lowered while overloaded, raised otherwise, every 10 s.
//
// On the routed bus it also accounts for every accepted event (see backend-membership.ts): the backends
// announce their routes and heartbeats, and an accepted event that no live backend takes is counted in
// dsiem_frontend_events_unrouted_total by reason — `backend_down` (a backend that took these keys is
// gone: the event is lost; a WARN names the backend, at most once per backend per 10 s) or
// `no_directive` (no backend ever wanted them: expected, not logged). The HTTP answer stays 200: the
// bus took the event, and upstream answers 200 too (its frontend cannot see backends at all); refusing
// would make shippers retry events no backend can take. /health stays 200 for the same reason, and its
// detail lists the missing backends. The in-memory bus has one in-process backend and the legacy bus
// upstream's broadcast without announcements: neither is accounted.

import type {NormalizedEvent} from '../engine/index.js'
import {EpsLimiter, type LimitChange} from '../engine/index.js'
import {
  BackendMembership,
  type BackendView,
  type LossReport,
  type MembershipChange,
  type Verdict,
} from './backend-membership.js'
import type {RoleContext} from './context.js'
import {registerEventRoutes, type AcceptedEventSink, type IngestStats} from './http/events.js'
import type {Logger} from './io/log.js'
import {sendText} from './http/server.js'
import {registerWebSocket, type WebSocketClient} from './http/websocket.js'
import type {RoleModule, RoleStatus, RunningRole} from './types.js'

export interface FrontendOptions {
  /** Monotonic milliseconds for the limiter (tests drive it). */
  monotonicMs?: () => number
  /** Unix nanoseconds for rcvd_time. */
  wallClockNs?: () => bigint
  /** Period of the limit adjustment (upstream: 10 s); 0 disables the timer (call adjustLimit()). */
  adjustIntervalMs?: number
  /** How long a request may wait for a token (upstream: 3 s). */
  limiterWaitMs?: number
  /** How long a request may wait for a back-pressured hand-off (upstream: 10 s). */
  publishTimeoutMs?: number
  /** Period of the `/eps/` WebSocket feed (upstream: 250 ms). */
  epsFeedIntervalMs?: number
  /** Backend membership timing (routed bus), for tests. */
  membership?: MembershipTiming
}

export interface MembershipTiming {
  /** Monotonic milliseconds (default performance.now). */
  nowMs?: () => number
  /** How often expiry and due loss reports are checked (default 500 ms). */
  sweepIntervalMs?: number
  /** Heartbeats a backend may miss before it counts as down (default 3). */
  missedHeartbeats?: number
  /** At most one loss line per backend per this many ms (default 10 s). */
  reportEveryMs?: number
}

/** Accepted events no live backend took, by reason (routed bus only). */
export interface UnroutedCounts {
  readonly backend_down: number
  readonly no_directive: number
}

export interface RunningFrontend extends RunningRole {
  status(): RoleStatus
  /** The last overload value received from any backend. */
  readonly overloaded: boolean
  /** The current EPS limit (undefined: not limited). */
  epsLimit(): number | undefined
  /** One adjustment step, as the timer does; undefined when EPS limiting is off. */
  adjustLimit(): LimitChange | undefined
  ingestStats(): IngestStats
  /** Live and missing backends as announced on the routed bus (undefined on other buses). */
  backends(): {live: BackendView[]; missing: BackendView[]} | undefined
  unrouted(): UnroutedCounts | undefined
}

export interface FrontendModule extends RoleModule {
  start(ctx: RoleContext): Promise<RunningFrontend>
}

const GAUGE_PERIOD_MS = 1000

/**
 * Upstream's --websocket feed: every connected client gets `{"eps": <events in the last second>}`
 * every 250 ms. The timer runs only while someone listens.
 */
function startEpsFeed(ctx: RoleContext, eps: () => number, periodMs: number): {stop(): void} {
  const clients = new Set<WebSocketClient>()
  let timer: NodeJS.Timeout | undefined
  const push = (): void => {
    if (clients.size === 0) {
      clearInterval(timer)
      timer = undefined
      return
    }
    const message = `{"eps":${eps()}}`
    for (const client of clients) client.sendText(message)
  }
  let stopped = false
  registerWebSocket(ctx.http, '/eps/', (client) => {
    // The route outlives the role (routes are never removed): late clients are turned away.
    if (stopped) return client.close(1001)
    clients.add(client)
    client.onClose(() => clients.delete(client))
    if (timer === undefined) {
      timer = setInterval(push, periodMs)
      timer.unref()
    }
  })
  // A plain GET is what a browser sends before it knows better: tell it this is a WebSocket.
  ctx.http.exact('GET', '/eps/', ({res}) =>
    sendText(res, 400, 'Bad Request: /eps/ is a WebSocket endpoint\n'),
  )
  return {
    stop: () => {
      stopped = true
      clearInterval(timer)
      timer = undefined
      // 1001 "going away": the frontend is stopping.
      for (const client of [...clients]) client.close(1001)
    },
  }
}

interface UnroutedAccounting {
  readonly sink: AcceptedEventSink
  readonly membership: BackendMembership
  counts(): UnroutedCounts
  stop(): void
}

function describeBackend(backend: BackendView): string {
  return `${backend.node} (${backend.sidKeys} plugin_sid and ${backend.taxonomyKeys} category/product keys)`
}

/** Membership plus the per-event verdicts, their metric and logs (see the file comment). */
function startUnroutedAccounting(
  ctx: RoleContext,
  log: Logger,
  timing: MembershipTiming,
): UnroutedAccounting {
  const unroutedTotal = ctx.metrics.counter(
    'dsiem_frontend_events_unrouted_total',
    'Accepted events no live backend takes, by reason (backend_down: lost, a backend that took them is gone; no_directive: no backend wants them)',
    ['reason'],
  )
  const backendsGauge = ctx.metrics.gauge(
    'dsiem_frontend_backends',
    'Backends known from their announcements, by state (live, missing)',
    ['state'],
  )
  const backendDownMetric = unroutedTotal.labels('backend_down')
  const noDirectiveMetric = unroutedTotal.labels('no_directive')
  let backendDown = 0
  let noDirective = 0
  let backendDownFlushed = 0
  let noDirectiveFlushed = 0

  const onChange = (change: MembershipChange): void => {
    const backend = change.backend
    const fields = {backend: backend.node, instance: backend.instance, route: backend.routeHash}
    switch (change.kind) {
      case 'joined':
        log.info(`backend ${describeBackend(backend)} joined`, fields)
        break
      case 'route-changed':
        log.info(`backend ${describeBackend(backend)} changed its route`, fields)
        break
      case 'restarted':
        log.info(`backend ${describeBackend(backend)} restarted`, {
          ...fields,
          previous: change.previous.instance,
        })
        break
      case 'returned':
        log.info(`backend ${describeBackend(backend)} is back`, {
          ...fields,
          missedEvents: change.missedEvents,
        })
        break
      case 'expired':
        log.warn(
          `backend ${describeBackend(backend)} missed its heartbeats (last seen ${backend.lastSeenSecondsAgo} s ago): ` +
            `events for its keys are lost until it returns (counted as backend_down)`,
          // Routed to it after its last heartbeat, before anyone knew: it may not have got them.
          {...fields, unconfirmedEvents: change.unconfirmed},
        )
        break
      case 'left':
        log.warn(
          `backend ${describeBackend(backend)} left: events for its keys are lost until it returns (counted as backend_down)`,
          fields,
        )
        break
      case 'replaced':
        log.info(`backend ${backend.node} instance ${backend.instance} was replaced by a newer one`, fields)
        break
    }
    const {live, missing} = membership.backends()
    backendsGauge.set({state: 'live'}, live.length)
    backendsGauge.set({state: 'missing'}, missing.length)
  }
  const onLoss = (report: LossReport): void => {
    log.warn(
      `backend ${report.backend.node} is down (${report.backend.state}): ${report.events} event(s) for its keys were not delivered to it since the last report`,
      {
        backend: report.backend.node,
        events: report.events,
        missedSinceDown: report.backend.missedEvents,
        keys: report.keys,
      },
    )
  }
  const membership = new BackendMembership({
    ...(timing.nowMs === undefined ? {} : {now: timing.nowMs}),
    ...(timing.missedHeartbeats === undefined ? {} : {missedHeartbeats: timing.missedHeartbeats}),
    ...(timing.reportEveryMs === undefined ? {} : {reportEveryMs: timing.reportEveryMs}),
    onChange,
    onLoss,
  })
  backendsGauge.set({state: 'live'}, 0)
  backendsGauge.set({state: 'missing'}, 0)

  const subscription = ctx.bus.subscribeBackends((announcement) => membership.apply(announcement))
  membership.hold(!ctx.bus.status().connected)
  const statusSubscription = ctx.bus.onStatusChange((status) => membership.hold(!status.connected))
  const sweeper = setInterval(() => membership.sweep(), timing.sweepIntervalMs ?? 500)
  sweeper.unref()

  const flush = (): void => {
    if (backendDown !== backendDownFlushed) {
      backendDownMetric.inc(backendDown - backendDownFlushed)
      backendDownFlushed = backendDown
    }
    if (noDirective !== noDirectiveFlushed) {
      noDirectiveMetric.inc(noDirective - noDirectiveFlushed)
      noDirectiveFlushed = noDirective
    }
  }
  return {
    membership,
    sink: {
      count: (event: NormalizedEvent) => {
        const verdict: Verdict = membership.classify(event)
        if (verdict === 'no_directive') noDirective++
        else if (verdict === 'backend_down') backendDown++
      },
      flush,
    },
    counts: () => ({backend_down: backendDown, no_directive: noDirective}),
    stop: () => {
      clearInterval(sweeper)
      subscription.unsubscribe()
      statusSubscription.unsubscribe()
      flush()
      membership.flushReports()
    },
  }
}

export function createFrontendRole(options: FrontendOptions = {}): FrontendModule {
  return {
    name: 'frontend',
    async start(ctx: RoleContext): Promise<RunningFrontend> {
      const log = ctx.log.child({role: 'frontend'})
      const now = options.monotonicMs ?? (() => performance.now())
      const limiter = EpsLimiter.create(ctx.config.maxEps, ctx.config.minEps, now())
      if (limiter === undefined) log.info('EPS limiting is off (maxEPS or minEPS is 0)')
      else {
        log.info(
          `EPS limiter: initial limit ${limiter.limit()}, burst ${limiter.burst}, ` +
            `range ${limiter.minEps}–${limiter.maxEps}`,
        )
      }

      const accounting =
        ctx.bus.mode === 'routed' ? startUnroutedAccounting(ctx, log, options.membership ?? {}) : undefined

      const ingest = registerEventRoutes(ctx.http, {
        accepted: accounting?.sink,
        bus: ctx.bus,
        log,
        metrics: ctx.metrics,
        limiter,
        monotonicMs: now,
        ...(options.wallClockNs === undefined ? {} : {wallClockNs: options.wallClockNs}),
        ...(options.limiterWaitMs === undefined ? {} : {limiterWaitMs: options.limiterWaitMs}),
        ...(options.publishTimeoutMs === undefined ? {} : {publishTimeoutMs: options.publishTimeoutMs}),
      })

      // Upstream keeps one flag for all backends: the last value received wins.
      let overloaded = false
      const overloadSubscription = ctx.bus.subscribeOverload((value) => {
        if (value !== overloaded) {
          log.info(`Received overload status change from ${overloaded} to ${value} from backend`)
        }
        overloaded = value
      })

      const epsGauge = ctx.metrics.gauge('dsiem_frontend_eps', 'Events received in the last second')
      const limitGauge = ctx.metrics.gauge('dsiem_frontend_eps_limit', 'Current EPS limit (0 = not limited)')
      const overloadGauge = ctx.metrics.gauge(
        'dsiem_frontend_overloaded',
        'Last overload signal received from a backend (1 = overloaded)',
      )
      const updateGauges = (): void => {
        epsGauge.set(ingest.eps())
        limitGauge.set(limiter?.limit() ?? 0)
        overloadGauge.set(overloaded ? 1 : 0)
      }
      updateGauges()

      const adjustLimit = (): LimitChange | undefined => {
        if (limiter === undefined) return undefined
        const change = limiter.adjust(overloaded, now())
        if (change.from !== change.to) {
          log.info(`Overload status is ${overloaded}, EPS limit changed from ${change.from} to ${change.to}`)
        }
        updateGauges()
        return change
      }

      const feed = ctx.config.websocket
        ? startEpsFeed(ctx, ingest.eps, options.epsFeedIntervalMs ?? 250)
        : undefined

      const timers: NodeJS.Timeout[] = []
      const adjustIntervalMs = options.adjustIntervalMs ?? 10_000
      if (limiter !== undefined && adjustIntervalMs > 0)
        timers.push(setInterval(adjustLimit, adjustIntervalMs))
      timers.push(setInterval(updateGauges, GAUGE_PERIOD_MS))
      // Timers must never be what keeps a stopping process alive.
      for (const timer of timers) timer.unref()

      const status = (): RoleStatus => {
        const stats = ingest.stats()
        return {
          role: 'frontend',
          healthy: true,
          detail: {
            eps: stats.eps,
            epsLimit: limiter?.limit() ?? null,
            maxEps: ctx.config.maxEps,
            minEps: ctx.config.minEps,
            overloaded,
            received: stats.received,
            accepted: stats.accepted,
            rejected: stats.rejected,
            byStatus: stats.byStatus,
            ...(accounting === undefined
              ? {}
              : {unrouted: accounting.counts(), backends: accounting.membership.backends()}),
          },
        }
      }

      return {
        name: 'frontend',
        get overloaded() {
          return overloaded
        },
        epsLimit: () => limiter?.limit(),
        adjustLimit,
        ingestStats: () => ingest.stats(),
        backends: () => accounting?.membership.backends(),
        unrouted: () => accounting?.counts(),
        status,
        async stop() {
          for (const timer of timers) clearInterval(timer)
          feed?.stop()
          overloadSubscription.unsubscribe()
          accounting?.stop()
        },
      }
    },
  }
}

export const frontendRole: FrontendModule = createFrontendRole()
