// Every error dsiem raises on purpose carries a code and a category, so the CLI can print one clean
// line (user/config/environment) or a stack (bug) and pick the exit code without string matching.

export const ERROR_CATEGORIES = ['user', 'config', 'environment', 'bug'] as const
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number]

export interface DsiemErrorOptions {
  code: string
  category: ErrorCategory
  /** What the user can do about it, printed after the message. */
  hint?: string
  /** Overrides the category's exit code where upstream Dsiem fixed one (e.g. `validate` exits 1). */
  exitCode?: number
  cause?: unknown
}

export class DsiemError extends Error {
  readonly code: string
  readonly category: ErrorCategory
  readonly hint: string | undefined
  readonly exitCode: number | undefined

  constructor(message: string, options: DsiemErrorOptions) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'DsiemError'
    this.code = options.code
    this.category = options.category
    this.hint = options.hint
    this.exitCode = options.exitCode
  }
}

/** A config file (directive, asset, intel, vuln) that cannot be used. */
export class ConfigError extends DsiemError {
  constructor(message: string, code = 'DSIEM_E_CONFIG', options: Partial<DsiemErrorOptions> = {}) {
    super(message, {...options, code, category: 'config'})
    this.name = 'ConfigError'
  }
}

/** Bad input the user handed us directly: an events file, a flag value, a test-case file. */
export class InputError extends DsiemError {
  constructor(message: string, code = 'DSIEM_E_INPUT', options: Partial<DsiemErrorOptions> = {}) {
    super(message, {...options, code, category: 'user'})
    this.name = 'InputError'
  }
}

/** Something outside dsiem is missing or unreachable (a directory, a server, a permission). */
export class EnvironmentError extends DsiemError {
  constructor(message: string, code = 'DSIEM_E_ENVIRONMENT', options: Partial<DsiemErrorOptions> = {}) {
    super(message, {...options, code, category: 'environment'})
    this.name = 'EnvironmentError'
  }
}

export const EXIT_CODE_BY_CATEGORY: Readonly<Record<ErrorCategory, number>> = {
  user: 2,
  config: 3,
  environment: 4,
  bug: 70,
}

export function exitCodeFor(error: DsiemError): number {
  return error.exitCode ?? EXIT_CODE_BY_CATEGORY[error.category]
}

/** The message of anything thrown (an Error's message, anything else as text). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
