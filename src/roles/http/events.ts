// Event ingest: upstream's `POST /events` (same steps, same order, same status codes and bodies) plus
// `POST /events/bulk`, NDJSON for shippers, where every line gets the same treatment and a line that
// is not accepted is reported with its number and status instead of being dropped quietly.

import {
  type EpsLimiter,
  EventDecodeError,
  isValidEvent,
  type NormalizedEvent,
  parseEvent,
} from '../../engine/index.js'
import {BusUnavailableError, type EventBus, type PendingHandOff} from '../bus.js'
import type {Logger} from '../io/log.js'
import type {Metrics} from '../io/metrics.js'
import type {HttpRoutes, RouteRequest} from './router.js'
import {readBody, sendJson, sendText} from './server.js'

export interface EventIngestOptions {
  bus: EventBus
  log: Logger
  metrics: Metrics
  /** undefined: no EPS limit (upstream: maxEPS or minEPS is 0). */
  limiter?: EpsLimiter | undefined
  /** Monotonic milliseconds for the limiter and the rate counter. */
  monotonicMs?: () => number
  /** Wall clock in Unix nanoseconds for rcvd_time. */
  wallClockNs?: () => bigint
  /** How long a request may wait for a token (upstream: 3 s). */
  limiterWaitMs?: number
  /** How long a request may wait for a back-pressured hand-off (upstream: 10 s). */
  publishTimeoutMs?: number
  /** Hears about every event the bus took (the frontend's unrouted accounting). */
  accepted?: AcceptedEventSink | undefined
}

/** Where accepted events are accounted for. */
export interface AcceptedEventSink {
  /** One event the bus took (HTTP 200, or a bulk line counted as accepted); runs per event: keep it cheap. */
  count(event: NormalizedEvent): void
  /** After each request: publish what count() gathered (metrics are costly per event). */
  flush(): void
}

export interface IngestStats {
  /** Events (requests or bulk lines) that got past the limiter: upstream's conn_id counter. */
  readonly received: number
  readonly accepted: number
  readonly rejected: number
  /** Events per HTTP status (200 = accepted). */
  readonly byStatus: Readonly<Record<string, number>>
  /** Events received in the last second (upstream's EPS rate counter). */
  readonly eps: number
}

export interface EventIngest {
  stats(): IngestStats
  eps(): number
}

/** One entry of the bulk answer for a line that was not accepted. */
export interface BulkLineError {
  readonly line: number
  readonly status: number
  readonly error: string
}

const TOO_MANY = 'Too many requests\n'
const CANNOT_PARSE = 'Cannot parse the submitted event\n'
const NOT_VALID = 'Not a valid event\n'
const EMPTY_HEADERS = {'content-length': '0'}
/** How much of a refused body goes into the log (upstream logs all of it; a body may be 100 MiB). */
const LOGGED_BODY_CHARS = 2048
/** Bulk requests give the event loop back this often so one huge body cannot stall other clients. */
const BULK_YIELD_EVERY = 1024

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export function defaultWallClockNs(): bigint {
  // performance.timeOrigin + now() keeps microseconds that Date.now() would drop.
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n
}

/** Counts over the last second in ten 100 ms slots (upstream's ratecounter with a 1 s window). */
export class RateCounter {
  private readonly counts = new Float64Array(10)
  private readonly stamps = new Float64Array(10).fill(-1)

  incr(n: number, nowMs: number): void {
    const slot = Math.floor(nowMs / 100)
    const k = slot % 10
    if (this.stamps[k] !== slot) {
      this.stamps[k] = slot
      this.counts[k] = 0
    }
    this.counts[k]! += n
  }

  rate(nowMs: number): number {
    const slot = Math.floor(nowMs / 100)
    let sum = 0
    for (let k = 0; k < 10; k++) {
      if (this.stamps[k]! > slot - 10) sum += this.counts[k]!
    }
    return sum
  }
}

type HandOff = 200 | 408 | 503

/** Registers POST /events, /events/ and /events/bulk on the routes. */
export function registerEventRoutes(routes: HttpRoutes, options: EventIngestOptions): EventIngest {
  const {bus, log, limiter, accepted: sink} = options
  const now = options.monotonicMs ?? (() => performance.now())
  const wallClockNs = options.wallClockNs ?? defaultWallClockNs
  const limiterWaitMs = options.limiterWaitMs ?? 3000
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000

  const received = options.metrics.counter(
    'dsiem_events_received_total',
    'Events received by the frontend, by HTTP status (200 = accepted)',
    ['status'],
  )
  const byStatus = new Map<number, number>()
  const counterByStatus = new Map<number, {inc(n?: number): void}>()
  const count = (status: number, n = 1): void => {
    if (n === 0) return
    byStatus.set(status, (byStatus.get(status) ?? 0) + n)
    let child = counterByStatus.get(status)
    if (child === undefined) counterByStatus.set(status, (child = received.labels(String(status))))
    child.inc(n)
  }
  for (const status of [200, 408, 418, 429, 500, 503])
    counterByStatus.set(status, received.labels(String(status)))

  const rate = new RateCounter()
  let connCounter = 0

  /** Hands one event to the bus: synchronously when it takes it at once (the common case). */
  const handOff = (event: NormalizedEvent, connId: number): HandOff | Promise<HandOff> => {
    let pending: void | PendingHandOff
    try {
      pending = bus.publishEvent(event)
    } catch (error) {
      if (error instanceof BusUnavailableError) {
        log.info(`Error from message queue: ${error.message}`, {connId})
        return 503
      }
      throw error
    }
    if (pending === undefined) {
      sink?.count(event)
      return 200
    }
    return waitForHandOff(event, pending, connId)
  }

  /**
   * Waits for a back-pressured hand-off at most publishTimeoutMs. On timeout the hand-off is cancelled
   * before the 408 goes out, so the event is never processed later and a client's retry is no
   * duplicate. Exact, not racy: the receiver takes an event in a macrotask and our settle handlers run
   * in that task's microtasks, so by the time the timer fires either the event was taken (and `done`
   * is set) or cancel() still finds it waiting.
   */
  const waitForHandOff = (
    event: NormalizedEvent,
    pending: PendingHandOff,
    connId: number,
  ): Promise<HandOff> =>
    new Promise<HandOff>((resolve) => {
      let done = false
      const timer = setTimeout(() => {
        if (done) return
        done = true
        pending.cancel()
        log.info('event channel timed out!', {connId})
        resolve(408)
      }, publishTimeoutMs)
      pending.then(
        () => {
          if (done) return
          done = true
          clearTimeout(timer)
          sink?.count(event)
          resolve(200)
        },
        (error: unknown) => {
          if (done) return
          done = true
          clearTimeout(timer)
          log.info(`Error from message queue: ${(error as Error)?.message ?? String(error)}`, {connId})
          resolve(503)
        },
      )
    })

  /** Counts a hand-off's outcome and publishes what the sink gathered. */
  const handedOff = (status: number): number => {
    count(status)
    sink?.flush()
    return status
  }

  /** POST /events once the limiter let it in: upstream's steps after the token. */
  const admitted = (text: string, client: string): number | Promise<number> => {
    const connId = ++connCounter
    rate.incr(1, now())
    let event: NormalizedEvent
    try {
      event = parseEvent(text)
    } catch (error) {
      if (!(error instanceof EventDecodeError)) throw error
      log.warn(`Cannot parse normalizedEvent from ${client}. err: ${error.message}`, {connId})
      log.warn(
        `The failed message is: ${text.length > LOGGED_BODY_CHARS ? text.slice(0, LOGGED_BODY_CHARS) + '…' : text}`,
      )
      count(500)
      return 500
    }
    if (!isValidEvent(event)) {
      log.warn(`l337 or epic fail attempt from ${client} detected. Discarding.`, {connId})
      count(418)
      return 418
    }
    event.rcvdTime = wallClockNs()
    event.connId = connId
    const outcome = handOff(event, connId)
    return typeof outcome === 'number' ? handedOff(outcome) : outcome.then(handedOff)
  }

  /**
   * One event of POST /events, from node:http or the fast lane: its status (the answer's body follows
   * from it, singleAnswerText). Synchronous unless the limiter or the bus makes it wait.
   */
  const ingestSingle = (body: Buffer, client: string): number | Promise<number> => {
    if (limiter !== undefined) {
      // Before parsing, as upstream: refused and invalid requests spend tokens alike.
      const wait = limiter.reserve(now(), limiterWaitMs)
      if (wait === undefined) {
        count(429)
        return 429
      }
      if (wait > 0) return sleep(wait).then(() => admitted(body.toString('utf8'), client))
    }
    return admitted(body.toString('utf8'), client)
  }

  const single = async ({req, res}: RouteRequest): Promise<void> => {
    const body = await readBody(req)
    const outcome = ingestSingle(body, req.socket.remoteAddress ?? 'unknown')
    const status = typeof outcome === 'number' ? outcome : await outcome
    const text = singleAnswerText(status)
    if (text !== undefined) {
      sendText(res, status, text)
      return
    }
    res.writeHead(status, EMPTY_HEADERS)
    res.end()
  }

  const bulk = async ({req, res}: RouteRequest): Promise<void> => {
    const body = await readBody(req)
    // One copy of the body (bytes → string); lines are then sliced out of it, never copied again.
    const text = body.toString('utf8')
    const starts: number[] = []
    const ends: number[] = []
    const lineNumbers: number[] = []
    let pos = 0
    let lineNumber = 0
    while (pos < text.length) {
      let newline = text.indexOf('\n', pos)
      if (newline < 0) newline = text.length
      lineNumber++
      let end = newline
      if (end > pos && text.charCodeAt(end - 1) === 13) end--
      // Blank lines carry no event (a trailing newline, a spacer); everything else is one event.
      if (!isBlank(text, pos, end)) {
        starts.push(pos)
        ends.push(end)
        lineNumbers.push(lineNumber)
      }
      pos = newline + 1
    }
    const total = starts.length

    let granted = total
    if (limiter !== undefined && total > 0) {
      const reservation = limiter.reserveUpTo(total, now(), limiterWaitMs)
      granted = reservation.granted
      if (reservation.waitMs > 0) await sleep(reservation.waitMs)
    }

    const errors: BulkLineError[] = []
    let accepted = 0
    /** Set once the bus refused or stalled: later valid lines get the same status, unpublished. */
    let busVerdict: 408 | 503 | undefined
    let busDownBeforeAnything = false
    const rcvdTime = wallClockNs()
    const statusCounts = new Map<number, number>()
    const reject = (line: number, status: number, error: string): void => {
      errors.push({line, status, error})
      statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1)
    }

    if (granted > 0) rate.incr(granted, now())
    for (let i = 0; i < granted; i++) {
      if (i > 0 && i % BULK_YIELD_EVERY === 0) await yieldToLoop()
      const line = lineNumbers[i]!
      const connId = ++connCounter
      let event: NormalizedEvent
      try {
        event = parseEvent(text.slice(starts[i], ends[i]))
      } catch (error) {
        if (!(error instanceof EventDecodeError)) throw error
        reject(line, 500, `Cannot parse the submitted event: ${error.message}`)
        continue
      }
      if (!isValidEvent(event)) {
        reject(line, 418, 'Not a valid event')
        continue
      }
      if (busVerdict !== undefined) {
        reject(line, busVerdict, busVerdict === 503 ? 'message bus unavailable' : 'event channel timed out')
        continue
      }
      event.rcvdTime = rcvdTime
      event.connId = connId
      const outcome = handOff(event, connId)
      const status = typeof outcome === 'number' ? outcome : await outcome
      if (status === 200) {
        accepted++
        continue
      }
      busVerdict = status
      if (status === 503 && accepted === 0) busDownBeforeAnything = true
      reject(line, status, status === 503 ? 'message bus unavailable' : 'event channel timed out')
    }
    for (let i = granted; i < total; i++) reject(lineNumbers[i]!, 429, 'Too many requests')

    count(200, accepted)
    for (const [status, n] of statusCounts) count(status, n)
    sink?.flush()
    if (errors.length > 0) {
      log.warn(
        `Bulk request from ${req.socket.remoteAddress ?? 'unknown'}: ${accepted} of ${total} events accepted`,
        {
          rejected: errors.length,
          firstError: errors[0],
        },
      )
    }
    let status = 200
    if (total > 0 && granted === 0) status = 429
    else if (busDownBeforeAnything) status = 503
    sendJson(res, status, JSON.stringify({accepted, rejected: errors.length, errors}))
  }

  routes.exact('POST', '/events', single)
  // Upstream answers 307 to /events/ and relies on clients following it; taking both is simpler for all.
  routes.exact('POST', '/events/', single)
  routes.exact('POST', '/events/bulk', bulk)
  const fast = {handle: ingestSingle, answerText: singleAnswerText}
  routes.fastPost('/events', fast)
  routes.fastPost('/events/', fast)

  return {
    stats: () => {
      let total = 0
      let ok = 0
      const statuses: Record<string, number> = {}
      for (const [status, n] of byStatus) {
        statuses[String(status)] = n
        total += n
        if (status === 200) ok = n
      }
      return {
        received: connCounter,
        accepted: ok,
        rejected: total - ok,
        byStatus: statuses,
        eps: rate.rate(now()),
      }
    },
    eps: () => rate.rate(now()),
  }
}

/** The plain-text body of a POST /events answer (200, 408 and 503 have none, as upstream). */
function singleAnswerText(status: number): string | undefined {
  if (status === 429) return TOO_MANY
  if (status === 500) return CANNOT_PARSE
  if (status === 418) return NOT_VALID
  return undefined
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 13) return false
  }
  return true
}
