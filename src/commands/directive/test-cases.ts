// `dsiem directive test --cases`: read a test-case file, load the directives and assets it names (its
// config_dir is relative to the case file), run every case on a fresh engine and collect the results.
// A malformed file becomes one line naming file, line and field.

import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {
  CaseFileError,
  evaluateCase,
  InputError,
  parseEventLines,
  validateCaseFile,
  type CaseFile,
  type CaseResult,
  type NormalizedEvent,
  type TestCase,
} from '../../engine/index.js'
import {readCaseFile, writeOutputFile} from '../../roles/io/case-file.js'
import {loadCorrelationConfig, readInputFile} from '../../roles/io/config-dir.js'
import {renderJunit} from '../render/junit.js'

export interface CasesTestRequest {
  casesFile: string
  /** --config-dir, used when the file has no config_dir. */
  configDir: string
  /** --file-pattern, used when the file has no file_pattern. */
  filePattern: string
  allowSingleStage: boolean
  minAlarmLifetimeMinutes: number
  /** --now, used by cases without a now of their own or of the file. */
  now?: number
}

export interface TimedCaseResult extends CaseResult {
  readonly durationMs: number
}

export interface CasesTestOutcome {
  readonly file: string
  readonly configDir: string
  readonly results: readonly TimedCaseResult[]
  readonly passed: number
  readonly failed: number
  readonly durationMs: number
}

function loadCaseFile(file: string): CaseFile {
  const parsed = readCaseFile(file)
  try {
    return validateCaseFile(parsed.value)
  } catch (error) {
    if (!(error instanceof CaseFileError)) throw error
    const line = parsed.lineOf(error.path)
    throw new InputError(`${file}${line === undefined ? '' : `:${line}`}: ${error.message}`, error.code, {
      cause: error,
    })
  }
}

function caseEvents(testCase: TestCase, index: number, baseDir: string): readonly NormalizedEvent[] {
  if (testCase.events !== undefined) return testCase.events
  const file = path.resolve(baseDir, testCase.eventsFile!)
  const parsed = parseEventLines(readInputFile(file, `events file of cases[${index}]`))
  const error = parsed.errors[0]
  // A test's input must be exactly what the author meant: a broken line fails the run.
  if (error !== undefined) {
    throw new InputError(
      `${file}:${error.line}: ${error.message} (cases[${index}].events_file)`,
      'DSIEM_E_CASE_EVENTS',
    )
  }
  return parsed.events
}

export function runCasesTest(request: CasesTestRequest): CasesTestOutcome {
  const started = performance.now()
  const caseFile = loadCaseFile(request.casesFile)
  const baseDir = path.dirname(path.resolve(request.casesFile))
  const configDir =
    caseFile.configDir === undefined ? request.configDir : path.resolve(baseDir, caseFile.configDir)
  const filePattern = caseFile.filePattern ?? request.filePattern
  const {directives, assets} = loadCorrelationConfig({
    configDir,
    filePattern,
    allowSingleStage: request.allowSingleStage,
  })
  const now = caseFile.now ?? request.now
  // Read every events file first, so a missing one fails the run before any case result is shown.
  const inputs = caseFile.cases.map((testCase, i) => caseEvents(testCase, i, baseDir))
  const results = caseFile.cases.map((testCase, i): TimedCaseResult => {
    const caseStarted = performance.now()
    const result = evaluateCase(testCase, inputs[i]!, {
      directives,
      assets,
      minAlarmLifetimeMinutes: request.minAlarmLifetimeMinutes,
      ...(now === undefined ? {} : {now}),
    })
    return {...result, durationMs: performance.now() - caseStarted}
  })
  const passed = results.filter((r) => r.passed).length
  return {
    file: request.casesFile,
    configDir,
    results,
    passed,
    failed: results.length - passed,
    durationMs: performance.now() - started,
  }
}

/** Writes the JUnit XML report of a run. */
export function writeJunitReport(file: string, outcome: CasesTestOutcome, timestamp = new Date()): void {
  writeOutputFile(file, renderJunit(outcome, timestamp), 'JUnit report')
}
