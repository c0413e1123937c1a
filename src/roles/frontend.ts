// The frontend role (upstream's cluster-frontend, and the HTTP half of standalone): HTTP ingest of
// normalized events onto the bus, throttled by upstream's EPS token bucket, which follows the last
// overload signal any backend sent — lowered while overloaded, raised otherwise, every 10 s.

import {EpsLimiter, type LimitChange} from '../engine/index.js'
import type {RoleContext} from './context.js'
import {registerEventRoutes, type IngestStats} from './http/events.js'
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
}

export interface RunningFrontend extends RunningRole {
  /** The last overload value received from any backend. */
  readonly overloaded: boolean
  /** The current EPS limit (undefined: not limited). */
  epsLimit(): number | undefined
  /** One adjustment step, as the timer does; undefined when EPS limiting is off. */
  adjustLimit(): LimitChange | undefined
  ingestStats(): IngestStats
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

      const ingest = registerEventRoutes(ctx.http, {
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
        status,
        async stop() {
          for (const timer of timers) clearInterval(timer)
          feed?.stop()
          overloadSubscription.unsubscribe()
        },
      }
    },
  }
}

export const frontendRole: FrontendModule = createFrontendRole()
