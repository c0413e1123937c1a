// Structured logs as JSON lines, shaped like upstream's zap output ({"level":"INFO","ts":...,"msg":...})
// so existing log shippers keep working. Written to stdout by default (log-output.ts: asynchronously
// unless it is a terminal), or wherever `write` says (stderr when a TUI owns stdout).

import {stdoutLineWriter} from './log-output.js'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Readonly<Record<string, unknown>>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger
  readonly level: LogLevel
}

export interface LoggerOptions {
  level?: LogLevel
  fields?: LogFields
  write?: (line: string) => void
  now?: () => Date
}

const RANK: Readonly<Record<LogLevel, number>> = {debug: 0, info: 1, warn: 2, error: 3}

/** Receives one log record at or above the logger's level, with the logger's fields merged in. */
export type LogRecordSink = (level: LogLevel, message: string, fields: LogFields) => void

/**
 * A logger that hands records to `sink` instead of writing them: the backend thread's logger, whose
 * records the main thread writes (so one process has one log stream, and injected loggers see them).
 */
export function createRecordLogger(level: LogLevel, sink: LogRecordSink, fields: LogFields = {}): Logger {
  const emit = (at: LogLevel, message: string, extra?: LogFields): void => {
    if (RANK[at] < RANK[level]) return
    sink(at, message, extra === undefined ? fields : {...fields, ...extra})
  }
  return {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (more) => createRecordLogger(level, sink, {...fields, ...more}),
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? stdoutLineWriter()
  const now = options.now ?? (() => new Date())
  const sink: LogRecordSink = (at, message, fields) => {
    // Fields come last, so a record logged elsewhere (the backend thread's) keeps its own `ts`.
    const record = {level: at.toUpperCase(), ts: now().toISOString(), msg: message, ...fields}
    write(toJsonLine(record))
  }
  return createRecordLogger(options.level ?? 'info', sink, options.fields ?? {})
}

/** One JSON line; the replacer (slow: it runs for every key) only for records that carry a bigint. */
function toJsonLine(record: object): string {
  try {
    return JSON.stringify(record) + '\n'
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
    return JSON.stringify(record, bigintSafe) + '\n'
  }
}

/** JSON.stringify replacer: bigints (event times in ns) as decimal strings. */
export function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({write: () => {}})
