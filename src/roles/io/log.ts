// Structured logs as JSON lines, shaped like upstream's zap output ({"level":"INFO","ts":...,"msg":...})
// so existing log shippers keep working. Written synchronously to the given stream (stdout by
// default; stderr when a TUI owns stdout).

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

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  const write = options.write ?? ((line: string) => process.stdout.write(line))
  const now = options.now ?? (() => new Date())
  const base = options.fields ?? {}
  const emit = (at: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[at] < RANK[level]) return
    const record = {level: at.toUpperCase(), ts: now().toISOString(), msg: message, ...base, ...fields}
    write(JSON.stringify(record, bigintSafe) + '\n')
  }
  return {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({...options, level, write, now, fields: {...base, ...fields}}),
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({write: () => {}})
