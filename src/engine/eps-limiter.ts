// The frontend's EPS limiter: upstream's token bucket (golang.org/x/time/rate driven by dsiem's
// limiter package) with its arithmetic kept exactly, so an operator's maxEPS/minEPS tuning behaves the
// same. Pure: every call is told the time in milliseconds; sleeping is the caller's business.

import {ConfigError} from './errors.js'

export interface LimitChange {
  readonly overloaded: boolean
  readonly from: number
  readonly to: number
}

/** Tokens granted by `reserveUpTo`, and how long the caller must wait before using the last one. */
export interface Reservation {
  readonly granted: number
  readonly waitMs: number
}

export class EpsLimiter {
  readonly maxEps: number
  readonly minEps: number
  /** Bucket size: upstream's burst is maxEPS. */
  readonly burst: number
  private rate: number
  /** May go negative: reserved tokens are paid back by the refill, as x/time/rate does. */
  private tokens: number
  private last: number

  /**
   * Upstream only limits when both bounds are non-zero; `undefined` means "no limit". A floor above
   * the ceiling (which includes maxEPS 0 with a non-zero minEPS) is refused, as upstream's start-up is.
   */
  static create(maxEps: number, minEps: number, nowMs: number): EpsLimiter | undefined {
    if (!Number.isInteger(maxEps) || !Number.isInteger(minEps) || maxEps < 0 || minEps < 0) {
      throw new ConfigError(
        `EPS limits must be whole numbers ≥ 0 (maxEPS ${maxEps}, minEPS ${minEps})`,
        'DSIEM_E_SERVE_CONFIG',
      )
    }
    if (minEps > maxEps) throw new ConfigError('MinEPS cannot be larger than MaxEPS', 'DSIEM_E_SERVE_CONFIG')
    if (maxEps === 0 || minEps === 0) return undefined
    return new EpsLimiter(maxEps, minEps, nowMs)
  }

  private constructor(maxEps: number, minEps: number, nowMs: number) {
    this.maxEps = maxEps
    this.minEps = minEps
    this.burst = maxEps
    this.rate = maxEps - Math.floor((maxEps - minEps) / 2)
    // x/time/rate starts with a zero "last" time, so the first refill fills the bucket: start full.
    this.tokens = maxEps
    this.last = nowMs
  }

  /** The current rate in events per second (upstream's Limit()). */
  limit(): number {
    return this.rate
  }

  /** One step down: a tenth of the range, not below minEPS. Returns the new limit. */
  lower(nowMs: number): number {
    return this.setRate(
      Math.max(this.minEps, this.rate - Math.floor((this.maxEps - this.minEps) / 10)),
      nowMs,
    )
  }

  /** One step up: a hundredth of the range, not above maxEPS. Returns the new limit. */
  raise(nowMs: number): number {
    return this.setRate(
      Math.min(this.maxEps, this.rate + Math.floor((this.maxEps - this.minEps) / 100)),
      nowMs,
    )
  }

  /** Upstream's 10-second modifier step: lower while overloaded, raise otherwise. */
  adjust(overloaded: boolean, nowMs: number): LimitChange {
    const from = this.rate
    const to = overloaded ? this.lower(nowMs) : this.raise(nowMs)
    return {overloaded, from, to}
  }

  /**
   * Takes one token, waiting at most `maxWaitMs` for it: returns how long the caller must wait before
   * going ahead (0 = now), or undefined when the token would come too late — then nothing is taken,
   * like rate.Limiter.Wait failing early instead of sleeping through its deadline.
   */
  reserve(nowMs: number, maxWaitMs: number): number | undefined {
    const reservation = this.reserveUpTo(1, nowMs, maxWaitMs)
    return reservation.granted === 1 ? reservation.waitMs : undefined
  }

  /**
   * Takes as many of `count` tokens as can be had within `maxWaitMs` (the same as calling reserve()
   * `count` times, in one step): the bulk endpoint's one token per event line.
   */
  reserveUpTo(count: number, nowMs: number, maxWaitMs: number): Reservation {
    this.refill(nowMs)
    // Token k (1-based) is due when tokens - k + 1 >= 0 after refilling, i.e. after (k - tokens) / rate s.
    const affordable = Math.floor(this.tokens + (this.rate * Math.max(0, maxWaitMs)) / 1000)
    const granted = Math.max(0, Math.min(count, affordable))
    if (granted === 0) return {granted: 0, waitMs: 0}
    this.tokens -= granted
    const waitMs = this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000
    return {granted, waitMs}
  }

  /** Milliseconds until one token is available (0 = now). */
  availableInMs(nowMs: number): number {
    const tokens = this.tokensAt(nowMs)
    return tokens >= 1 ? 0 : ((1 - tokens) / this.rate) * 1000
  }

  private tokensAt(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.last)
    return Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000)
  }

  private refill(nowMs: number): void {
    this.tokens = this.tokensAt(nowMs)
    if (nowMs > this.last) this.last = nowMs
  }

  /** SetLimit: tokens earned so far at the old rate are kept, the new rate applies from now. */
  private setRate(rate: number, nowMs: number): number {
    this.refill(nowMs)
    this.rate = rate
    return rate
  }
}
