// The event bus over NATS: the only importer of @nats-io/*. Two wire modes:
// - legacy: upstream Dsiem's subjects and payloads verbatim (`dsiem_events` carrying Go's json.Marshal of
//   the NormalizedEvent, `dsiem_overload_signals` carrying `true`/`false`), every backend gets every event;
// - routed: events on `dsiem.events.<plugin_id>.<plugin_sid>.<cat>.<prod>` so a backend subscribes only
//   to the keys its directives can match; overload signals on `dsiem.overload`; backend announcements
//   (route + heartbeat + leaving) on `dsiem.backends.announce`, queries for them on `dsiem.backends.query`.
// Start-up never fails because NATS is down: the bus keeps dialling, reports its state, and refuses
// events (BusUnavailableError → HTTP 503) while it is disconnected, because nats.js discards what was
// buffered during an outage when it reconnects, and a refused event is one the sender can retry.

import {
  connect,
  errors as natsErrors,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node'
import {
  ConfigError,
  EventDecodeError,
  InputError,
  isValidEvent,
  type NormalizedEvent,
  parseEvent,
  serializeEvent,
} from '../../engine/index.js'
import {
  BusUnavailableError,
  routeAccepts,
  type BackendAnnouncement,
  type BusStatus,
  type BusSubscription,
  type EventBus,
  type EventHandler,
  type EventInterest,
} from '../bus.js'
import type {LogPath} from '../../sensor/types.js'
import type {Logger} from './log.js'
import type {Metrics} from './metrics.js'
import {
  ALL_ROUTED_EVENTS,
  LEGACY_SUBJECTS,
  SUBJECTS,
  routedEventSubject,
  logStreamFromSubject,
  logStreamSubject,
  sidSubscription,
  taxonomySubscription,
} from './subjects.js'

export interface NatsBusOptions {
  /** `--nats-url`: `nats://[user:pass@|token@]host[:port]`, `tls://…` or `host:port`, comma-separated. */
  url: string
  mode: 'routed' | 'legacy'
  /** Client name shown in the server's monitoring (the node name). */
  name: string
  log: Logger
  metrics?: Metrics
  /**
   * Wait between connection attempts, ms. Default: 3000 before the first connection (upstream's
   * start-up retry) and 2000 between reconnects (nats.go's default, which upstream uses). Tests pass
   * ~250 so a restarted server is picked up quickly.
   */
  retryWaitMs?: number
  /** How long one connection attempt may take (TCP + handshake), ms; default 5000. */
  connectTimeoutMs?: number
}

/** nats-server's default max_control_line is 4096 bytes, and `PUB <subject> <size>\r\n` must fit. */
const MAX_SUBJECT_LENGTH = 4000
const LOG_PAYLOAD_CHARS = 200

interface ParsedNatsUrl {
  servers: string[]
  /** The URL list without credentials, for logs and status. */
  display: string
  auth: Pick<ConnectionOptions, 'user' | 'pass' | 'token'>
  tls: boolean
}

/** Parses `--nats-url` the way nats.go reads it (scheme optional, credentials in the URL). */
export function parseNatsUrl(url: string): ParsedNatsUrl {
  const bad = (why: string): ConfigError =>
    new ConfigError(`invalid --nats-url ${JSON.stringify(url)}: ${why}`, 'DSIEM_E_NATS_URL', {
      hint: 'expected nats://host:4222 (several servers separated by commas)',
    })
  const entries = url
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  if (entries.length === 0) throw bad('no server given')
  const servers: string[] = []
  const shown: string[] = []
  let auth: ParsedNatsUrl['auth'] = {}
  let tls = false
  for (const entry of entries) {
    let parsed: URL
    try {
      parsed = new URL(entry.includes('://') ? entry : `nats://${entry}`)
    } catch {
      throw bad(`cannot parse ${JSON.stringify(entry)}`)
    }
    if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') {
      throw bad(
        `unsupported scheme ${JSON.stringify(parsed.protocol.replace(/:$/, ''))} (use nats:// or tls://)`,
      )
    }
    if (parsed.hostname === '') throw bad(`no host in ${JSON.stringify(entry)}`)
    if (parsed.pathname !== '' && parsed.pathname !== '/')
      throw bad(`unexpected path in ${JSON.stringify(entry)}`)
    const port = parsed.port === '' ? 4222 : Number(parsed.port)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`bad port in ${JSON.stringify(entry)}`)
    if (parsed.protocol === 'tls:') tls = true
    if (parsed.username !== '') {
      const user = decodeURIComponent(parsed.username)
      // nats.go: `nats://token@host` is a token, `nats://user:pass@host` a user and password.
      auth = parsed.password === '' ? {token: user} : {user, pass: decodeURIComponent(parsed.password)}
    }
    servers.push(`${parsed.hostname}:${port}`)
    shown.push(`${parsed.protocol}//${parsed.hostname}:${port}`)
  }
  return {servers, display: shown.join(','), auth, tls}
}

/** Connects (in the background) and returns at once; see the file comment. */
export async function connectNatsBus(options: NatsBusOptions): Promise<EventBus> {
  const parsed = parseNatsUrl(options.url)
  const bus = new NatsBus(options, parsed)
  bus.start()
  return bus
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as {code?: unknown}).code
    if (typeof code === 'string' && !error.message.includes(code)) return `${error.message} (${code})`
    return error.message
  }
  return String(error)
}

function clip(text: string): string {
  return text.length <= LOG_PAYLOAD_CHARS
    ? text
    : `${text.slice(0, LOG_PAYLOAD_CHARS)}… (${text.length} chars)`
}

/** Go's json.Unmarshal into a bool: `true` or `false`, JSON whitespace around it allowed. */
function parseOverload(text: string): boolean | undefined {
  const trimmed = text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')
  if (trimmed === 'true') return true
  if (trimmed === 'false') return false
  return undefined
}

/** The wire form of a backend announcement: JSON, readable with `nats sub 'dsiem.backends.>'`. */
export function encodeAnnouncement(announcement: BackendAnnouncement): string {
  const {node, instance, state, startedAt, heartbeatMs, routeHash, route} = announcement
  return JSON.stringify({
    node,
    instance,
    state,
    startedAt,
    heartbeatMs,
    routeHash,
    sids: route.sids,
    taxonomies: route.taxonomies,
  })
}

/** Reads an announcement; throws an Error saying what is wrong with it. */
export function decodeAnnouncement(text: string): BackendAnnouncement {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error('not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
  const v = value as Record<string, unknown>
  const str = (key: string): string => {
    const field = v[key]
    if (typeof field !== 'string' || field === '') throw new Error(`${key} must be a non-empty string`)
    return field
  }
  const number = (key: string, min: number): number => {
    const field = v[key]
    if (typeof field !== 'number' || !Number.isFinite(field) || field < min)
      throw new Error(`${key} must be a number >= ${min}`)
    return field
  }
  const state = v['state']
  if (state !== 'up' && state !== 'leaving') throw new Error('state must be "up" or "leaving"')
  const pairs = <T>(key: string, ok: (item: unknown) => item is T): (readonly [T, T])[] => {
    const field = v[key]
    if (!Array.isArray(field)) throw new Error(`${key} must be an array of pairs`)
    for (const pair of field as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || !ok(pair[0]) || !ok(pair[1]))
        throw new Error(`${key} must be an array of pairs`)
    }
    return field as (readonly [T, T])[]
  }
  const isInt = (item: unknown): item is number => Number.isSafeInteger(item)
  const isString = (item: unknown): item is string => typeof item === 'string'
  return {
    node: str('node'),
    instance: str('instance'),
    state,
    startedAt: number('startedAt', 0),
    heartbeatMs: number('heartbeatMs', 1),
    routeHash: str('routeHash'),
    route: {sids: pairs('sids', isInt), taxonomies: pairs('taxonomies', isString)},
  }
}

/** A bus-level subscription: one or more NATS subjects feeding one handler. */
interface Registration {
  readonly subjects: readonly string[]
  readonly onMessage: (subject: string, payload: Uint8Array, via: string) => void
  natsSubs: Subscription[]
}

interface BusMetrics {
  published: {inc(): void}
  received: {inc(): void}
  invalid: {inc(): void}
  overloadInvalid: {inc(): void}
  announcementsInvalid: {inc(): void}
  handlerErrors: {inc(): void}
  queued: {inc(): void; dec(): void}
  connected: {set(value: number): void}
}

function busMetrics(metrics: Metrics | undefined): BusMetrics | undefined {
  if (metrics === undefined) return undefined
  return {
    published: metrics.counter('dsiem_bus_events_published_total', 'Events published to NATS'),
    received: metrics.counter('dsiem_bus_events_received_total', 'Events received from NATS and handed over'),
    invalid: metrics.counter(
      'dsiem_bus_events_invalid_total',
      'Payloads on event subjects that are not valid events',
    ),
    overloadInvalid: metrics.counter(
      'dsiem_bus_overload_signals_invalid_total',
      'Payloads on overload subjects that are not JSON true/false',
    ),
    announcementsInvalid: metrics.counter(
      'dsiem_bus_announcements_invalid_total',
      'Payloads on the backend announcement subject that are not announcements',
    ),
    handlerErrors: metrics.counter('dsiem_bus_handler_errors_total', 'Event or overload handlers that threw'),
    queued: metrics.gauge('dsiem_bus_events_queued', 'Received events waiting for a busy handler'),
    connected: metrics.gauge('dsiem_bus_connected', '1 while connected to NATS'),
  }
}

const decoder = new TextDecoder()

class NatsBus implements EventBus {
  readonly mode: 'routed' | 'legacy'
  private readonly options: NatsBusOptions
  private readonly parsed: ParsedNatsUrl
  private readonly log: Logger
  private readonly metrics: BusMetrics | undefined
  private readonly listeners = new Set<(status: BusStatus) => void>()
  private readonly registrations = new Set<Registration>()
  private nc: NatsConnection | undefined
  private connected = false
  private everConnected = false
  private lastError: string | undefined
  /** An error seen just before a disconnect (stale connection, server -ERR), used as its reason. */
  private pendingReason: string | undefined
  private closing = false
  private closePromise: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private wakeRetry: (() => void) | undefined
  /** The last overload state published: re-sent after every (re)connect, as it is a level, not an edge. */
  private lastOverload: boolean | undefined
  /** The last `up` announcement per backend instance of this process: re-sent on reconnect and on query. */
  private readonly announcements = new Map<string, BackendAnnouncement>()
  /** Encoded announcements (a heartbeat repeats the same object: encode it once). */
  private readonly encoded = new WeakMap<BackendAnnouncement, string>()
  private querySubscription: BusSubscription | undefined
  private backendSubscribers = 0
  private lastAnnounceError: string | undefined
  private lastInvalidAnnouncementLogAt = -Infinity

  constructor(options: NatsBusOptions, parsed: ParsedNatsUrl) {
    this.options = options
    this.parsed = parsed
    this.mode = options.mode
    this.log = options.log
    this.metrics = busMetrics(options.metrics)
    this.metrics?.connected.set(0)
  }

  start(): void {
    void this.connectLoop()
  }

  status(): BusStatus {
    return {
      connected: this.connected,
      server: this.parsed.display,
      ...(this.lastError === undefined ? {} : {lastError: this.lastError}),
    }
  }

  onStatusChange(listener: (status: BusStatus) => void): BusSubscription {
    this.listeners.add(listener)
    return {unsubscribe: () => this.listeners.delete(listener)}
  }

  // ------------------------------------------------------------------------------------------
  // Connection lifecycle

  /**
   * Dials until the first connection succeeds; nats.js reconnects on its own after that. Our own loop
   * instead of nats.js's waitOnFirstConnect: that promise cannot be cancelled (there is no connection
   * object to close until it resolves), so close() during an outage would leave a dialler running, and
   * it reports nothing while it retries.
   */
  private async connectLoop(): Promise<void> {
    let reported: string | undefined
    const wait = this.options.retryWaitMs ?? 3000
    while (!this.closing) {
      let nc: NatsConnection
      try {
        nc = await connect(this.connectionOptions())
      } catch (error) {
        if (this.closing) return
        const reason = describeError(error)
        this.lastError = reason
        if (reported !== reason) {
          // One line per state change, not one per attempt.
          this.log.warn(
            `NATS not reachable at ${this.parsed.display}: ${reason}; retrying every ${wait / 1000} s`,
            {nats_url: this.parsed.display},
          )
          reported = reason
          this.notify()
        }
        await this.sleep(wait)
        continue
      }
      if (this.closing) {
        await nc.close().catch(() => {})
        return
      }
      this.adopt(nc)
      return
    }
  }

  private connectionOptions(): ConnectionOptions {
    const wait = this.options.retryWaitMs ?? 2000
    return {
      servers: this.parsed.servers,
      name: this.options.name,
      ...this.parsed.auth,
      ...(this.parsed.tls ? {tls: {}} : {}),
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: wait,
      reconnectJitter: Math.min(100, Math.floor(wait / 5)),
      waitOnFirstConnect: false,
      timeout: this.options.connectTimeoutMs ?? 5000,
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeRetry = resolve
      this.retryTimer = setTimeout(resolve, ms)
    }).then(() => {
      this.retryTimer = undefined
      this.wakeRetry = undefined
    })
  }

  private adopt(nc: NatsConnection): void {
    this.nc = nc
    this.setConnected(true)
    this.log.info(`NATS ${this.everConnected ? 'connected again' : 'connected'} to ${this.parsed.display}`, {
      nats_url: this.parsed.display,
      server: nc.getServer(),
    })
    this.everConnected = true
    for (const registration of this.registrations) this.attach(nc, registration)
    this.resendOverload()
    this.resendMembership()
    void this.watchStatus(nc)
    void nc.closed().then((error) => this.onClosed(nc, error))
    this.notify()
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        if (this.nc !== nc) return
        switch (status.type) {
          case 'disconnect': {
            if (!this.connected) break
            const reason = this.pendingReason ?? 'connection lost'
            this.pendingReason = undefined
            this.lastError = reason
            this.setConnected(false)
            this.log.warn(`NATS disconnected from ${this.parsed.display}: ${reason}`, {
              nats_url: this.parsed.display,
            })
            this.notify()
            break
          }
          case 'reconnect':
            this.pendingReason = undefined
            this.lastError = undefined
            this.setConnected(true)
            this.log.info(`NATS reconnected to ${this.parsed.display}`, {
              nats_url: this.parsed.display,
              server: status.server,
            })
            this.resendOverload()
            this.resendMembership()
            this.notify()
            break
          case 'error':
            this.pendingReason = describeError(status.error)
            this.log.warn(`NATS server error: ${this.pendingReason}`, {nats_url: this.parsed.display})
            break
          case 'staleConnection':
            this.pendingReason = 'stale connection (the server stopped answering pings)'
            break
          case 'ldm':
            this.log.info(`NATS server ${status.server} is entering lame duck mode`, {
              nats_url: this.parsed.display,
            })
            break
          default:
            break
        }
      }
    } catch (error) {
      this.log.error('NATS status watcher failed', {error: describeError(error)})
    }
  }

  /** nats.js gave up on a connection we did not close (e.g. authorization): start over. */
  private onClosed(nc: NatsConnection, error: Error | void): void {
    if (this.closing || this.nc !== nc) return
    this.nc = undefined
    for (const registration of this.registrations) registration.natsSubs = []
    this.lastError = error === undefined ? 'connection closed' : describeError(error)
    this.setConnected(false)
    this.log.error(`NATS connection to ${this.parsed.display} closed: ${this.lastError}; connecting again`, {
      nats_url: this.parsed.display,
    })
    this.notify()
    void this.connectLoop()
  }

  private setConnected(connected: boolean): void {
    this.connected = connected
    this.metrics?.connected.set(connected ? 1 : 0)
  }

  private notify(): void {
    const status = this.status()
    for (const listener of this.listeners) {
      try {
        listener(status)
      } catch (error) {
        this.log.error('bus status listener failed', {error: describeError(error)})
      }
    }
  }

  private unavailable(): BusUnavailableError {
    const why = this.closing ? 'the bus is closed' : (this.lastError ?? 'not connected yet')
    return new BusUnavailableError(`NATS unavailable at ${this.parsed.display}: ${why}`)
  }

  // ------------------------------------------------------------------------------------------
  // Subscriptions

  private attach(nc: NatsConnection, registration: Registration): void {
    for (const subject of registration.subjects) {
      const sub = nc.subscribe(subject, {
        callback: (error: Error | null, msg: Msg) => {
          // Whatever happens here must not throw: an exception would end nats.js's socket reader.
          try {
            if (error !== null) {
              this.log.warn(`NATS subscription ${subject} failed: ${describeError(error)}`)
              return
            }
            registration.onMessage(msg.subject, msg.data, subject)
          } catch (failure) {
            this.log.error('bug: NATS message handling threw', {subject, error: describeError(failure)})
          }
        },
      })
      registration.natsSubs.push(sub)
    }
  }

  private register(subjects: readonly string[], onMessage: Registration['onMessage']): BusSubscription {
    if (this.closing) throw this.unavailable()
    const registration: Registration = {subjects, onMessage, natsSubs: []}
    this.registrations.add(registration)
    if (this.nc !== undefined) this.attach(this.nc, registration)
    return {
      unsubscribe: () => {
        if (!this.registrations.delete(registration)) return
        for (const sub of registration.natsSubs) {
          try {
            sub.unsubscribe()
          } catch {
            // already closed with its connection
          }
        }
        registration.natsSubs = []
      },
    }
  }

  subscribeEvents(
    interest: EventInterest,
    handler: EventHandler,
    onInvalid?: (reason: string, payload: string) => void,
  ): BusSubscription {
    let subjects: string[]
    /** Taxonomy subjects whose deliveries are skipped when the sid pair has its own subscription. */
    const taxonomySubjects = new Set<string>()
    const sidKeys = new Set<string>()
    let filter: ((event: NormalizedEvent) => boolean) | undefined
    if (this.mode === 'legacy') {
      // Upstream: every backend gets every event (no queue group). Filtering here keeps the handler's
      // contract the same in all modes: it only sees events its interest accepts.
      subjects = [LEGACY_SUBJECTS.events]
      if (interest.kind === 'routed') {
        const route = interest.route
        filter = (event) => routeAccepts(route, event)
      }
    } else if (interest.kind === 'all') {
      subjects = [ALL_ROUTED_EVENTS]
    } else {
      const sids = new Set<string>()
      for (const [pluginId, pluginSid] of interest.route.sids) {
        sids.add(sidSubscription(pluginId, pluginSid))
        sidKeys.add(`${pluginId}.${pluginSid}`)
      }
      for (const [category, product] of interest.route.taxonomies) {
        taxonomySubjects.add(taxonomySubscription(category, product))
      }
      subjects = [...sids, ...taxonomySubjects]
      // A SUB line over the server's control-line limit would make it drop the connection again and
      // again; such taxonomies cannot be published either (publishEvent refuses them), so skip them.
      for (const subject of subjects.filter((s) => s.length > MAX_SUBJECT_LENGTH)) {
        this.log.warn('not subscribing to a taxonomy too long to route (category + product over ~2.9 kB)', {
          subject: clip(subject),
        })
        taxonomySubjects.delete(subject)
      }
      subjects = subjects.filter((s) => s.length <= MAX_SUBJECT_LENGTH)
    }

    const deliver = this.orderedDelivery(handler)
    const invalid = (reason: string, payload: string): void => {
      this.metrics?.invalid.inc()
      if (onInvalid !== undefined) {
        try {
          onInvalid(reason, payload)
        } catch (error) {
          this.log.error('bus onInvalid callback failed', {error: describeError(error)})
        }
      } else {
        this.log.warn(`ignoring invalid event from NATS: ${reason}`, {payload: clip(payload)})
      }
    }
    const subscription = this.register(subjects, (subject, data, via) => {
      if (taxonomySubjects.has(via)) {
        // `dsiem.events.<pid>.<psid>.<cat>.<prod>`: the sid subscription of this route delivers it too.
        const tokens = subject.split('.')
        if (sidKeys.has(`${tokens[2]}.${tokens[3]}`)) return
      }
      const text = decoder.decode(data)
      let event: NormalizedEvent
      try {
        event = parseEvent(text)
      } catch (error) {
        invalid(
          error instanceof EventDecodeError ? error.message : `undecodable: ${describeError(error)}`,
          text,
        )
        return
      }
      if (!isValidEvent(event)) {
        invalid(
          'not a valid event (needs event_id, timestamp, sensor, src_ip, dst_ip, and product+category when plugin_id or plugin_sid is 0)',
          text,
        )
        return
      }
      if (filter !== undefined && !filter(event)) return
      this.metrics?.received.inc()
      deliver.push(event)
    })
    return {
      unsubscribe: () => {
        subscription.unsubscribe()
        deliver.stop()
      },
    }
  }

  /**
   * Hands events to the handler in arrival order; while a returned promise is pending, later events
   * wait in this subscription's queue (the NATS reader keeps running, so other subscriptions and
   * status changes are not held up).
   */
  private orderedDelivery(handler: EventHandler): {push(event: NormalizedEvent): void; stop(): void} {
    let queue: NormalizedEvent[] = []
    let head = 0
    let busy = false
    let stopped = false
    const failed = (error: unknown): void => {
      this.metrics?.handlerErrors.inc()
      this.log.error('event handler failed', {error: describeError(error)})
    }
    const run = (event: NormalizedEvent): void => {
      let result: void | Promise<void>
      try {
        result = handler(event)
      } catch (error) {
        failed(error)
        return
      }
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        busy = true
        ;(result as Promise<void>).then(settle, (error: unknown) => {
          failed(error)
          settle()
        })
      }
    }
    const settle = (): void => {
      busy = false
      while (!busy && !stopped && head < queue.length) {
        const event = queue[head]!
        head++
        this.metrics?.queued.dec()
        run(event)
      }
      if (head === queue.length) {
        queue = []
        head = 0
      } else if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head)
        head = 0
      }
    }
    return {
      push: (event) => {
        if (stopped) return
        if (busy) {
          queue.push(event)
          this.metrics?.queued.inc()
          return
        }
        run(event)
      },
      stop: () => {
        stopped = true
        for (let i = head; i < queue.length; i++) this.metrics?.queued.dec()
        queue = []
        head = 0
      },
    }
  }

  subscribeOverload(handler: (overloaded: boolean) => void): BusSubscription {
    // Routed nodes also listen on the legacy subject so an upstream backend's signals still count.
    const subjects =
      this.mode === 'legacy' ? [LEGACY_SUBJECTS.overload] : [SUBJECTS.overload, LEGACY_SUBJECTS.overload]
    return this.register(subjects, (subject, data) => {
      const text = decoder.decode(data)
      const overloaded = parseOverload(text)
      if (overloaded === undefined) {
        this.metrics?.overloadInvalid.inc()
        this.log.warn(`ignoring malformed overload signal on ${subject}: expected JSON true or false`, {
          payload: clip(text),
        })
        return
      }
      try {
        handler(overloaded)
      } catch (error) {
        this.metrics?.handlerErrors.inc()
        this.log.error('overload handler failed', {error: describeError(error)})
      }
    })
  }

  // ------------------------------------------------------------------------------------------
  // Publishing

  publishEvent(event: NormalizedEvent): void {
    const nc = this.nc
    if (nc === undefined || !this.connected || this.closing) throw this.unavailable()
    const subject =
      this.mode === 'legacy'
        ? LEGACY_SUBJECTS.events
        : routedEventSubject(event.pluginId, event.pluginSid, event.category, event.product)
    if (subject.length > MAX_SUBJECT_LENGTH) {
      // The server would answer a too-long PUB line by dropping the whole connection.
      throw new InputError(
        `event ${JSON.stringify(event.eventId)} cannot be routed: category and product are too long (subject of ${subject.length} bytes)`,
        'DSIEM_E_EVENT_TOO_LARGE',
      )
    }
    try {
      nc.publish(subject, serializeEvent(event))
    } catch (error) {
      if (
        error instanceof natsErrors.ClosedConnectionError ||
        error instanceof natsErrors.DrainingConnectionError
      ) {
        throw new BusUnavailableError(`NATS unavailable at ${this.parsed.display}: ${error.message}`, {
          cause: error,
        })
      }
      if (
        error instanceof natsErrors.InvalidArgumentError ||
        error instanceof natsErrors.InvalidSubjectError
      ) {
        // e.g. a payload above the server's max_payload (1 MiB by default).
        throw new InputError(
          `event ${JSON.stringify(event.eventId)} cannot be published: ${error.message}`,
          'DSIEM_E_EVENT_TOO_LARGE',
          {
            cause: error,
          },
        )
      }
      throw error
    }
    this.metrics?.published.inc()
  }

  publishLogBatch(stream: LogPath, lines: string): void {
    const nc = this.nc
    if (nc === undefined || !this.connected || this.closing) throw this.unavailable()
    try {
      nc.publish(logStreamSubject(stream), lines)
    } catch (error) {
      throw new BusUnavailableError(`NATS unavailable at ${this.parsed.display}: ${describeError(error)}`, {
        cause: error,
      })
    }
    this.metrics?.published.inc()
  }

  subscribeLogBatches(handler: (stream: LogPath, lines: string) => void): BusSubscription {
    return this.register([`${SUBJECTS.logsPrefix}.*`], (subject, data) => {
      handler(logStreamFromSubject(subject), decoder.decode(data))
    })
  }

  publishOverload(overloaded: boolean): void {
    this.lastOverload = overloaded
    if (this.nc === undefined || !this.connected) {
      this.log.debug(`overload signal ${overloaded} will be sent once NATS is connected`)
      return
    }
    this.sendOverload(this.nc, overloaded)
  }

  private resendOverload(): void {
    if (this.lastOverload !== undefined && this.nc !== undefined)
      this.sendOverload(this.nc, this.lastOverload)
  }

  private sendOverload(nc: NatsConnection, overloaded: boolean): void {
    const subject = this.mode === 'legacy' ? LEGACY_SUBJECTS.overload : SUBJECTS.overload
    try {
      nc.publish(subject, overloaded ? 'true' : 'false')
    } catch (error) {
      this.log.warn(`could not publish overload signal ${overloaded}: ${describeError(error)}`)
    }
  }

  // ------------------------------------------------------------------------------------------
  // Backend membership (routed mode only)

  announceBackend(announcement: BackendAnnouncement): void {
    // Legacy mode speaks upstream's protocol only, which has no membership.
    if (this.mode === 'legacy' || this.closing) return
    if (announcement.state === 'leaving') {
      this.announcements.delete(announcement.instance)
      if (this.announcements.size === 0) {
        this.querySubscription?.unsubscribe()
        this.querySubscription = undefined
      }
    } else {
      this.announcements.set(announcement.instance, announcement)
      this.querySubscription ??= this.register([SUBJECTS.backendsQuery], () => this.resendAnnouncements())
    }
    if (this.nc !== undefined && this.connected) this.sendAnnouncement(this.nc, announcement)
  }

  subscribeBackends(handler: (announcement: BackendAnnouncement) => void): BusSubscription {
    if (this.mode === 'legacy') return {unsubscribe: () => {}}
    const subscription = this.register([SUBJECTS.backendsAnnounce], (_subject, data) => {
      const text = decoder.decode(data)
      let announcement: BackendAnnouncement
      try {
        announcement = decodeAnnouncement(text)
      } catch (error) {
        this.metrics?.announcementsInvalid.inc()
        // A misbehaving publisher repeats itself every heartbeat: one line a minute is enough.
        const now = performance.now()
        if (now - this.lastInvalidAnnouncementLogAt >= 60_000) {
          this.lastInvalidAnnouncementLogAt = now
          this.log.warn(`ignoring invalid backend announcement: ${describeError(error)}`, {
            payload: clip(text),
          })
        }
        return
      }
      try {
        handler(announcement)
      } catch (error) {
        this.metrics?.handlerErrors.inc()
        this.log.error('backend announcement handler failed', {error: describeError(error)})
      }
    })
    this.backendSubscribers++
    if (this.nc !== undefined && this.connected) this.sendQuery(this.nc)
    let subscribed = true
    return {
      unsubscribe: () => {
        if (!subscribed) return
        subscribed = false
        this.backendSubscribers--
        subscription.unsubscribe()
      },
    }
  }

  /** After a (re)connect: tell everyone about our backends, and ask who else is there. */
  private resendMembership(): void {
    this.resendAnnouncements()
    if (this.backendSubscribers > 0 && this.nc !== undefined) this.sendQuery(this.nc)
  }

  private resendAnnouncements(): void {
    const nc = this.nc
    if (nc === undefined || !this.connected) return
    for (const announcement of this.announcements.values()) this.sendAnnouncement(nc, announcement)
  }

  private sendAnnouncement(nc: NatsConnection, announcement: BackendAnnouncement): void {
    let payload = this.encoded.get(announcement)
    if (payload === undefined) this.encoded.set(announcement, (payload = encodeAnnouncement(announcement)))
    try {
      nc.publish(SUBJECTS.backendsAnnounce, payload)
      this.lastAnnounceError = undefined
    } catch (error) {
      // e.g. a route above the server's max_payload; said once, not every heartbeat.
      const reason = describeError(error)
      if (reason !== this.lastAnnounceError) {
        this.log.warn(`could not announce backend ${announcement.node}: ${reason}`, {
          bytes: payload.length,
        })
        this.lastAnnounceError = reason
      }
    }
  }

  private sendQuery(nc: NatsConnection): void {
    try {
      nc.publish(SUBJECTS.backendsQuery)
    } catch (error) {
      this.log.warn(`could not ask backends to announce themselves: ${describeError(error)}`)
    }
  }

  async flush(): Promise<void> {
    const nc = this.nc
    if (nc === undefined || !this.connected || this.closing) throw this.unavailable()
    try {
      await nc.flush()
    } catch (error) {
      throw new BusUnavailableError(`NATS flush failed at ${this.parsed.display}: ${describeError(error)}`, {
        cause: error,
      })
    }
  }

  close(): Promise<void> {
    return (this.closePromise ??= this.shutdown())
  }

  private async shutdown(): Promise<void> {
    this.closing = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.wakeRetry?.()
    const nc = this.nc
    const wasConnected = this.connected
    this.setConnected(false)
    this.lastError = 'closed'
    if (nc !== undefined && !nc.isClosed()) {
      if (wasConnected) {
        // Drain delivers what the server already sent and flushes what we published; bounded, since a
        // connection that drops while draining would otherwise wait for a reconnect.
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))
        await Promise.race([nc.drain().catch(() => {}), timeout])
        clearTimeout(timer)
      }
      if (!nc.isClosed()) await nc.close().catch(() => {})
    }
    this.nc = undefined
    this.registrations.clear()
    this.announcements.clear()
    this.notify()
    this.listeners.clear()
  }
}
