// The event bus contract every role talks to: events from frontends to the backends that want them,
// overload signals back. Two implementations: the in-memory bus of `--role standalone` (upstream's
// standalone mode: no NATS), and NATS (src/roles/io/bus.ts) in routed or legacy mode.

import type {NormalizedEvent} from '../engine/index.js'

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

/** Receives an event; a returned promise means "wait before handing me more" (back-pressure). */
export type EventHandler = (event: NormalizedEvent) => void | Promise<void>

export interface EventBus {
  readonly mode: BusMode
  status(): BusStatus
  onStatusChange(listener: (status: BusStatus) => void): BusSubscription
  /**
   * Hands one event to the bus. Throws BusUnavailableError when it cannot take it (HTTP 503). Returns
   * a promise when the receiver applies back-pressure (a full backend queue in standalone): the
   * frontend waits for it at most 10 s, then answers 408, as upstream's hand-off does.
   */
  publishEvent(event: NormalizedEvent): void | Promise<void>
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
    handler: (event: NormalizedEvent) => void
  }>()
  private readonly overloadHandlers = new Set<(overloaded: boolean) => void>()
  private closed = false

  status(): BusStatus {
    return {connected: !this.closed, server: 'memory'}
  }

  onStatusChange(): BusSubscription {
    return {unsubscribe: () => {}}
  }

  publishEvent(event: NormalizedEvent): void | Promise<void> {
    if (this.closed) throw new BusUnavailableError('the in-memory bus is closed')
    let waits: Promise<void>[] | undefined
    for (const entry of this.eventHandlers) {
      if (entry.interest.kind !== 'all' && !routeAccepts(entry.interest.route, event)) continue
      const wait = entry.handler(event)
      if (wait !== undefined) (waits ??= []).push(wait)
    }
    if (waits !== undefined) return Promise.all(waits).then(() => undefined)
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

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true
    this.eventHandlers.clear()
    this.overloadHandlers.clear()
  }
}
