// The event bus contract every role talks to: events from frontends to the backends that want them,
// overload signals back, and (routed bus only) backend announcements so frontends know which
// backends are alive and which keys each takes (see backend-membership.ts). Two implementations: the in-memory bus of `--role standalone` (upstream's
// standalone mode: no NATS), and NATS (src/roles/io/bus.ts) in routed or legacy mode.

import type {NormalizedEvent} from '../engine/index.js'
import type {LogPath} from '../sensor/types.js'

/** The pre-filter keys of a backend's directives: which events it can possibly use. */
export interface EventRoute {
  readonly sids: readonly (readonly [pluginId: number, pluginSid: number])[]
  readonly taxonomies: readonly (readonly [category: string, product: string])[]
}

export type EventInterest = {readonly kind: 'all'} | {readonly kind: 'routed'; readonly route: EventRoute}

export interface BusSubscription {
  unsubscribe(): void
}

export interface BusStatus {
  readonly connected: boolean
  /** Where the bus is connected ("memory" for the in-process bus). */
  readonly server: string
  readonly lastError?: string
}

export type BusMode = 'memory' | 'routed' | 'legacy'

/**
 * A hand-off that waits for room at the receiver. `cancel()` withdraws the event if the receiver has not
 * taken it yet (the promise then rejects with HandOffCancelledError); after it was taken, cancel does
 * nothing. The frontend cancels before it answers 408, so a client that retries does not create a
 * duplicate (upstream abandons the hand-off the same way).
 */
export type PendingHandOff = Promise<void> & {cancel(): void}

/**
 * Receives an event; a returned promise means "wait before handing me more" (back-pressure). A promise
 * with a `cancel()` (a PendingHandOff) lets the publisher withdraw the event while it still waits.
 */
export type EventHandler = (event: NormalizedEvent) => void | Promise<void> | PendingHandOff

/**
 * What a backend tells frontends about itself on the routed bus: at start, on every route change
 * (reload), as a heartbeat every `heartbeatMs`, and `leaving` on a graceful stop. A frontend that stops
 * hearing it (3 heartbeats) treats it as down.
 */
export interface BackendAnnouncement {
  /** The node name (`--node`, else the host name). */
  readonly node: string
  /** Random per process start: a new value for the same node is a restart. */
  readonly instance: string
  readonly state: 'up' | 'leaving'
  /** Unix milliseconds when this backend started. */
  readonly startedAt: number
  /** How often the backend repeats the announcement. */
  readonly heartbeatMs: number
  /** A digest of the route (heartbeats with an unchanged hash cost a frontend nothing). */
  readonly routeHash: string
  readonly route: EventRoute
}

export interface EventBus {
  readonly mode: BusMode
  status(): BusStatus
  onStatusChange(listener: (status: BusStatus) => void): BusSubscription
  /**
   * Hands one event to the bus. Throws BusUnavailableError when it cannot take it (HTTP 503). Returns
   * a promise when the receiver applies back-pressure (a full backend queue in standalone): the
   * frontend waits for it at most 10 s, then cancels it and answers 408, as upstream's hand-off does.
   */
  publishEvent(event: NormalizedEvent): void | PendingHandOff
  /**
   * Receives events matching the interest. `onInvalid` hears about payloads that are not events
   * (counted and logged by the caller, never silently dropped).
   */
  subscribeEvents(
    interest: EventInterest,
    handler: EventHandler,
    onInvalid?: (reason: string, payload: string) => void,
  ): BusSubscription
  publishOverload(overloaded: boolean): void
  subscribeOverload(handler: (overloaded: boolean) => void): BusSubscription
  /**
   * Publishes a backend's announcement (routed bus; a no-op in legacy mode, which must not add anything
   * upstream nodes would see). The bus remembers the last `up` announcement per instance and repeats it
   * after a reconnect and when a frontend asks; `leaving` forgets it.
   */
  announceBackend(announcement: BackendAnnouncement): void
  /**
   * Hears backend announcements (routed bus; never called in legacy mode). Subscribing also asks the
   * live backends to announce themselves at once, and again after every reconnect, so a frontend knows
   * the routes within a round trip rather than a heartbeat.
   */
  subscribeBackends(handler: (announcement: BackendAnnouncement) => void): BusSubscription
  /**
   * Publishes a batch of one log stream's lines (newline-separated Zeek JSON) from a worker, for
   * central logging. Throws BusUnavailableError when the bus cannot take it (the worker keeps its
   * local log files either way).
   */
  publishLogBatch(stream: LogPath, lines: string): void
  subscribeLogBatches(handler: (stream: LogPath, lines: string) => void): BusSubscription
  /** Resolves once everything published so far has reached the server. */
  flush(): Promise<void>
  close(): Promise<void>
}

export class BusUnavailableError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'BusUnavailableError'
  }
}

/** How a PendingHandOff rejects once cancelled before the receiver took the event. */
export class HandOffCancelledError extends Error {
  constructor() {
    super('the hand-off was cancelled before the receiver took the event')
    this.name = 'HandOffCancelledError'
  }
}

function isPendingHandOff(wait: Promise<void>): wait is PendingHandOff {
  return typeof (wait as Partial<PendingHandOff>).cancel === 'function'
}

/**
 * One PendingHandOff over the receivers' waits: cancelling it cancels each wait that can be cancelled
 * (a receiver whose promise has no cancel() keeps the event).
 */
export function pendingHandOff(waits: readonly Promise<void>[]): PendingHandOff {
  const first = waits[0]
  if (waits.length === 1 && first !== undefined && isPendingHandOff(first)) return first
  const all = Promise.all(waits).then(() => undefined)
  return Object.assign(all, {
    cancel: () => {
      for (const wait of waits) if (isPendingHandOff(wait)) wait.cancel()
    },
  })
}

/** Does an event carry keys this route asks for? (Mirrors the engine's pre-filter index.) */
export function routeAccepts(route: EventRoute, event: NormalizedEvent): boolean {
  for (const [pluginId, pluginSid] of route.sids) {
    if (event.pluginId === pluginId && event.pluginSid === pluginSid) return true
  }
  for (const [category, product] of route.taxonomies) {
    if (event.category === category && event.product === product) return true
  }
  return false
}

/** Upstream's standalone: frontend and backend in one process, events handed over in memory. */
export class MemoryBus implements EventBus {
  readonly mode = 'memory' as const
  private readonly eventHandlers = new Set<{
    interest: EventInterest
    handler: EventHandler
  }>()
  private readonly overloadHandlers = new Set<(overloaded: boolean) => void>()
  private readonly backendHandlers = new Set<(announcement: BackendAnnouncement) => void>()
  private readonly logHandlers = new Set<(stream: LogPath, lines: string) => void>()
  /** Last `up` announcement per instance, replayed to a late subscriber (what a query does on NATS). */
  private readonly announcements = new Map<string, BackendAnnouncement>()
  private closed = false

  status(): BusStatus {
    return {connected: !this.closed, server: 'memory'}
  }

  onStatusChange(): BusSubscription {
    return {unsubscribe: () => {}}
  }

  publishEvent(event: NormalizedEvent): void | PendingHandOff {
    if (this.closed) throw new BusUnavailableError('the in-memory bus is closed')
    let waits: Promise<void>[] | undefined
    for (const entry of this.eventHandlers) {
      if (entry.interest.kind !== 'all' && !routeAccepts(entry.interest.route, event)) continue
      const wait = entry.handler(event)
      if (wait !== undefined) (waits ??= []).push(wait)
    }
    if (waits !== undefined) return pendingHandOff(waits)
  }

  subscribeEvents(interest: EventInterest, handler: EventHandler): BusSubscription {
    const entry = {interest, handler}
    this.eventHandlers.add(entry)
    return {unsubscribe: () => this.eventHandlers.delete(entry)}
  }

  publishOverload(overloaded: boolean): void {
    for (const handler of this.overloadHandlers) handler(overloaded)
  }

  subscribeOverload(handler: (overloaded: boolean) => void): BusSubscription {
    this.overloadHandlers.add(handler)
    return {unsubscribe: () => this.overloadHandlers.delete(handler)}
  }

  announceBackend(announcement: BackendAnnouncement): void {
    if (this.closed) return
    if (announcement.state === 'leaving') this.announcements.delete(announcement.instance)
    else this.announcements.set(announcement.instance, announcement)
    for (const handler of this.backendHandlers) handler(announcement)
  }

  subscribeBackends(handler: (announcement: BackendAnnouncement) => void): BusSubscription {
    this.backendHandlers.add(handler)
    for (const announcement of this.announcements.values()) handler(announcement)
    return {unsubscribe: () => this.backendHandlers.delete(handler)}
  }

  publishLogBatch(stream: LogPath, lines: string): void {
    if (this.closed) throw new BusUnavailableError('the in-memory bus is closed')
    for (const handler of this.logHandlers) handler(stream, lines)
  }

  subscribeLogBatches(handler: (stream: LogPath, lines: string) => void): BusSubscription {
    this.logHandlers.add(handler)
    return {unsubscribe: () => this.logHandlers.delete(handler)}
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true
    this.logHandlers.clear()
    this.eventHandlers.clear()
    this.overloadHandlers.clear()
    this.backendHandlers.clear()
    this.announcements.clear()
  }
}
