// The lookup result cache (upstream's bigcache with a life window): what each intel or vuln term
// resolved to, stored as upstream stores it, so repeated alarms do not query the plugins again.

import {encodeLookupResults, type LookupResult} from '../alarm.js'
import type {Clock} from '../clock.js'
import {decodeGoString, forEachGoField} from '../go-json.js'
import {decodeGoStructList} from './go-slices.js'

export const NOT_FOUND_MARKER = 'n/f'
export const DEFAULT_CACHE_MINUTES = 10

/**
 * Upstream's bigcache with a life window, as a plain TTL map keyed `ip` (intel) or `ip:port` (vuln).
 * Values are what upstream stores: the JSON result array or the not-found marker. Expired entries are
 * dropped when read and swept at most once per lifetime on write, so memory stays bounded.
 */
export class LookupCache {
  readonly lifetimeSeconds: number
  private readonly clock: Clock
  private readonly entries = new Map<string, {value: string; storedAt: number}>()
  private lastSweep: number

  /** `lifetimeMinutes` is `--cacheDuration`; 0 means 10 as upstream (negatives too, which upstream never checks). */
  constructor(lifetimeMinutes: number, clock: Clock) {
    this.lifetimeSeconds = (lifetimeMinutes > 0 ? lifetimeMinutes : DEFAULT_CACHE_MINUTES) * 60
    this.clock = clock
    this.lastSweep = clock.nowSeconds()
  }

  get size(): number {
    return this.entries.size
  }

  get(key: string): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (this.clock.nowSeconds() - entry.storedAt >= this.lifetimeSeconds) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: string): void {
    const now = this.clock.nowSeconds()
    if (now - this.lastSweep >= this.lifetimeSeconds) {
      for (const [k, entry] of this.entries) {
        if (now - entry.storedAt >= this.lifetimeSeconds) this.entries.delete(k)
      }
      this.lastSweep = now
    }
    this.entries.delete(key) // re-insert so the map stays in storage order
    this.entries.set(key, {value, storedAt: now})
  }
}

/** Go json.Unmarshal into []Result; throws on anything else. */
export function decodeLookupResults(text: string): LookupResult[] {
  return decodeGoStructList(text, 'intel.Result', (object, path) => {
    const result = {provider: '', term: '', result: ''}
    forEachGoField(object, (field, value, key) => {
      if (field === 'provider' || field === 'term' || field === 'result') {
        result[field] = decodeGoString(value, `Result.${field}`, [...path, key]) ?? ''
      }
    })
    return result
  })
}

export type CachedLookup =
  | {readonly kind: 'found'; readonly results: LookupResult[]}
  | {readonly kind: 'not-found'}
  | {readonly kind: 'miss'}
  /** An entry that does not decode: upstream logs it and queries the plugins as on a miss. */
  | {readonly kind: 'corrupt'}

export function readCachedLookup(cache: LookupCache, key: string): CachedLookup {
  const value = cache.get(key)
  if (value === undefined) return {kind: 'miss'}
  if (value === NOT_FOUND_MARKER) return {kind: 'not-found'}
  try {
    return {kind: 'found', results: decodeLookupResults(value)}
  } catch {
    return {kind: 'corrupt'}
  }
}

/** Stores a completed lookup (call only when at least one plugin answered). */
export function storeLookup(
  cache: LookupCache,
  key: string,
  found: boolean,
  results: readonly LookupResult[],
): void {
  cache.set(key, found ? encodeLookupResults(results) : NOT_FOUND_MARKER)
}
