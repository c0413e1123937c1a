// The only importer of the `yaml` package: reads a test-case file (JSON or YAML, chosen by extension,
// else by whether the text starts with `{`), turns syntax errors into one line with file:line:column,
// and can tell which line a field path sits on so validation errors point into the file. Also writes
// report files (JUnit XML) with the same one-line error style.

import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {LineCounter, parseDocument} from 'yaml'
import {EnvironmentError, InputError, parseJson} from '../../engine/index.js'
import {readInputFile} from './config-dir.js'

export type CaseFileFormat = 'json' | 'yaml'

export interface ParsedCaseFile {
  readonly file: string
  readonly format: CaseFileFormat
  readonly value: unknown
  /** 1-based line of the value at `fieldPath` (or of its nearest existing parent), if known. */
  lineOf(fieldPath: readonly (string | number)[]): number | undefined
}

export function detectFormat(file: string, text: string): CaseFileFormat {
  const ext = path.extname(file).toLowerCase()
  if (ext === '.json') return 'json'
  if (ext === '.yaml' || ext === '.yml') return 'yaml'
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml'
}

function position(text: string, offset: number): {line: number; column: number} {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return {line, column: offset - before.lastIndexOf('\n')}
}

function parseJsonText(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    // JSON.parse's messages rarely say where; the engine's JSON reader reports an offset.
    let where = ''
    let message = (error as Error).message
    try {
      parseJson(text)
    } catch (located) {
      const offset = (located as {offset?: unknown}).offset
      if (typeof offset === 'number') {
        const {line, column} = position(text, offset)
        where = `:${line}:${column}`
        message = (located as Error).message
      }
    }
    throw new InputError(`${file}${where}: not valid JSON: ${message}`, 'DSIEM_E_CASE_FILE', {cause: error})
  }
}

export function readCaseFile(file: string): ParsedCaseFile {
  const text = readInputFile(file, 'case file')
  const format = detectFormat(file, text)
  const lineCounter = new LineCounter()
  // JSON is YAML too; the YAML document is what maps a field path back to its line for both formats.
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: format === 'yaml'})
  let value: unknown
  if (format === 'json') {
    value = parseJsonText(file, text)
  } else {
    const error = doc.errors[0]
    if (error !== undefined) {
      const {line, col} = lineCounter.linePos(error.pos[0])
      throw new InputError(`${file}:${line}:${col}: not valid YAML: ${error.message}`, 'DSIEM_E_CASE_FILE', {
        cause: error,
      })
    }
    value = doc.toJS({maxAliasCount: 1000}) as unknown
  }
  return {
    file,
    format,
    value,
    lineOf(fieldPath) {
      if (doc.errors.length > 0) return undefined
      for (let length = fieldPath.length; length >= 0; length--) {
        const node = doc.getIn(fieldPath.slice(0, length), true) as
          {range?: readonly number[] | null} | undefined
        const start = node?.range?.[0]
        if (typeof start === 'number') return lineCounter.linePos(start).line
      }
      return undefined
    },
  }
}

/** Writes a report file (creating its directory), as an EnvironmentError naming it on failure. */
export function writeOutputFile(file: string, text: string, what: string): void {
  try {
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, text)
  } catch (error) {
    throw new EnvironmentError(
      `cannot write ${what} ${file}: ${(error as Error).message}`,
      'DSIEM_E_OUTPUT_WRITE',
      {
        cause: error,
      },
    )
  }
}
