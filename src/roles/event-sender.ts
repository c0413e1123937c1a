// Posting events to a running frontend's /events endpoint (dtester's sender): a token bucket holds the
// rate to `rps`, at most `concurrency` requests are in flight, and a non-2xx answer or a connection
// failure is retried after `retryDelayMs` up to `maxTries` tries in all. Events come in batches sent one
// after another (a barrier between them), so a directive's stage k+1 never overtakes stage k. Each
// attempt re-encodes its item, which lets the caller stamp the send time as dtester does.

import {EnvironmentError} from '../engine/index.js'
import {httpPost} from './io/http.js'

export interface EventSenderOptions {
  /** Full URL to POST to (…/events). */
  url: string
  rps: number
  concurrency: number
  retryDelayMs: number
  maxTries: number
  /** Per-request deadline (dtester's HTTP client uses 5 s). */
  timeoutMs?: number
  /** Injected in tests; defaults to the shared undici client. */
  post?: (url: string, body: string) => Promise<{status: number}>
}

export interface SendSummary {
  /** Items handed to the sender. */
  readonly events: number
  readonly accepted: number
  readonly rejected: number
  readonly attempts: number
  readonly retries: number
  /** Final outcome of each rejected item: HTTP status, or "connection error". */
  readonly failures: Readonly<Record<string, number>>
  /** The first connection error message, to tell the user why nothing arrived. */
  readonly firstError: string | undefined
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Tokens refill continuously at `rate` per second up to `capacity`; a taker may go into debt and waits it off. */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly rate: number
  private readonly capacity: number
  private readonly now: () => number

  constructor(rate: number, capacity = Math.max(1, rate), now: () => number = () => performance.now()) {
    this.rate = rate
    this.capacity = capacity
    this.tokens = capacity
    this.now = now
    this.last = now()
  }

  /** Milliseconds the caller must wait before using the token it just took. */
  reserve(): number {
    const now = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000
  }

  async take(): Promise<void> {
    const wait = this.reserve()
    if (wait > 0) await sleep(wait)
  }
}

export async function sendEventBatches<T>(
  batches: readonly (readonly T[])[],
  encode: (item: T) => string,
  options: EventSenderOptions,
): Promise<SendSummary> {
  const timeoutMs = options.timeoutMs ?? 5000
  const post = options.post ?? ((url: string, body: string) => httpPost(url, body, {timeoutMs}))
  const bucket = new TokenBucket(options.rps)
  const failures: Record<string, number> = {}
  let events = 0
  let accepted = 0
  let attempts = 0
  let retries = 0
  let firstError: string | undefined

  const deliver = async (item: T): Promise<void> => {
    let outcome = ''
    for (let attempt = 1; attempt <= options.maxTries; attempt++) {
      if (attempt > 1) {
        retries++
        await sleep(options.retryDelayMs)
      }
      await bucket.take()
      attempts++
      try {
        const {status} = await post(options.url, encode(item))
        if (status >= 200 && status < 300) {
          accepted++
          return
        }
        outcome = `HTTP ${status}`
      } catch (error) {
        if (!(error instanceof EnvironmentError)) throw error
        outcome = 'connection error'
        firstError ??= error.message
      }
    }
    failures[outcome] = (failures[outcome] ?? 0) + 1
  }

  for (const batch of batches) {
    events += batch.length
    let next = 0
    const worker = async () => {
      while (next < batch.length) await deliver(batch[next++]!)
    }
    await Promise.all(Array.from({length: Math.min(options.concurrency, batch.length)}, worker))
  }
  const rejected = events - accepted
  return {events, accepted, rejected, attempts, retries, failures, firstError}
}
