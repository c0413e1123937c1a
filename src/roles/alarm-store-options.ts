// The alarm store's open options: what callers may tune, the defaults, and their validation.

import {InputError, type EnvironmentError} from '../engine/index.js'

export interface AlarmStoreOptions {
  /** Open for reading only (commands); the file must exist. */
  readonly?: boolean
  /** Fail with "no alarm store" instead of creating the file. Implied by `readonly`. */
  mustExist?: boolean
  /** How long an upsert may wait in the queue before its batch is written (default 50 ms). */
  flushIntervalMs?: number
  /** Queue length that triggers an immediate write (default 500). */
  batchSize?: number
  /** Upserts kept while writes keep failing; beyond it new ones are lost (default 100000). */
  maxQueued?: number
  /** How long to wait for another process's write lock before failing (default 5000 ms). */
  busyTimeoutMs?: number
  /** Background write failures (timer or batch-size flushes), which have no caller to throw to. */
  onError?: (error: EnvironmentError) => void
}

export const BUSY_TIMEOUT_MS = 5_000
const DEFAULT_FLUSH_INTERVAL_MS = 50
const DEFAULT_BATCH_SIZE = 500
const DEFAULT_MAX_QUEUED = 100_000

export function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1)
    throw new InputError(`${name} must be a positive integer, got ${value}`)
  return value
}

export interface WriteBehindSettings {
  readonly flushIntervalMs: number
  readonly batchSize: number
  readonly maxQueued: number
  /** Where background failures go: options.onError, or a warning line on stderr. */
  readonly onError: (error: EnvironmentError) => void
}

/** The write-behind settings, validated, with defaults for what is not given. */
export function writeBehindSettings(options: AlarmStoreOptions): WriteBehindSettings {
  return {
    flushIntervalMs: positiveInteger(options.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 'flushIntervalMs'),
    batchSize: positiveInteger(options.batchSize, DEFAULT_BATCH_SIZE, 'batchSize'),
    maxQueued: positiveInteger(options.maxQueued, DEFAULT_MAX_QUEUED, 'maxQueued'),
    onError: options.onError ?? ((error) => process.stderr.write(`dsiem: warning: ${error.message}\n`)),
  }
}
