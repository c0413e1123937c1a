// The messages between the standalone server's main thread (backend/threaded.ts) and the backend
// thread (backend/thread-entry.ts). Plain data only: everything crosses by structured clone.

import {DsiemError, type ErrorCategory, type NormalizedEvent, type ReloadSummary} from '../../engine/index.js'
import type {LogFields, LogLevel} from '../io/log.js'
import type {ServeConfig} from '../serve-config.js'
import type {RoleStatus} from '../types.js'

/** What the backend thread is started with. */
export interface BackendThreadData {
  readonly config: ServeConfig
  readonly node: string
  readonly logLevel: LogLevel
  /** Engine tick period (tests), default 1000 ms. */
  readonly tickIntervalMs?: number
  /** How long the stop may take to work off the queue, default 10 s. */
  readonly drainTimeoutMs?: number
}

export type ThreadRequest =
  | {readonly op: 'status'}
  | {readonly op: 'metrics'}
  | {readonly op: 'reload'}
  | {readonly op: 'settle'}
  | {readonly op: 'stop'}

export type ThreadReloadResult =
  | {readonly ok: true; readonly summary: ReloadSummary; readonly message: string}
  | {readonly ok: false; readonly error: SerializedError; readonly message: string}

/** The answer to each request op. */
export interface ThreadReplies {
  status: RoleStatus
  metrics: string
  reload: ThreadReloadResult
  settle: null
  stop: null
}

export type ToBackendThread =
  | {readonly kind: 'events'; readonly events: readonly NormalizedEvent[]}
  | {readonly kind: 'request'; readonly id: number; readonly request: ThreadRequest}

export interface ThreadLogRecord {
  readonly level: LogLevel
  readonly message: string
  readonly fields: LogFields
  /** When it was logged (epoch ms): records cross in batches, so the main thread's clock would be late. */
  readonly at: number
}

export type FromBackendThread =
  | {readonly kind: 'started'}
  | {readonly kind: 'start-failed'; readonly error: SerializedError}
  /** Events that went through the engine since the last report: room for as many more. */
  | {readonly kind: 'taken'; readonly count: number}
  | {readonly kind: 'overload'; readonly overloaded: boolean}
  | {readonly kind: 'logs'; readonly records: readonly ThreadLogRecord[]}
  | {readonly kind: 'reply'; readonly id: number; readonly value: unknown}
  | {readonly kind: 'reply-failed'; readonly id: number; readonly error: SerializedError}

/** An error as data; a DsiemError keeps its code, category and hint, so the CLI prints it the same. */
export interface SerializedError {
  readonly name: string
  readonly message: string
  readonly stack?: string | undefined
  readonly code?: string | undefined
  readonly category?: ErrorCategory | undefined
  readonly hint?: string | undefined
  readonly exitCode?: number | undefined
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return {name: 'Error', message: String(error)}
  const base = {name: error.name, message: error.message, stack: error.stack}
  if (!(error instanceof DsiemError)) return base
  return {...base, code: error.code, category: error.category, hint: error.hint, exitCode: error.exitCode}
}

export function deserializeError(data: SerializedError): Error {
  const error =
    data.code !== undefined && data.category !== undefined
      ? new DsiemError(data.message, {
          code: data.code,
          category: data.category,
          ...(data.hint === undefined ? {} : {hint: data.hint}),
          ...(data.exitCode === undefined ? {} : {exitCode: data.exitCode}),
        })
      : new Error(data.message)
  error.name = data.name
  if (data.stack !== undefined) error.stack = data.stack
  return error
}
