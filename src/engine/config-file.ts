// A config file's text handed to the engine by the I/O layer, and the one place that turns JSON syntax
// and type errors into a one-line ConfigError naming the file, line and column.

import {ConfigError} from './errors.js'
import {
  JsonSyntaxError,
  JsonTypeError,
  lineAndColumn,
  offsetOfPath,
  parseJson,
  type JsonValue,
} from './go-json.js'

export interface ConfigFile {
  /** How to name the file in messages (usually its path). */
  readonly name: string
  readonly text: string
}

export function decodeConfigFile<T>(file: ConfigFile, decode: (root: JsonValue) => T): T {
  let parsed
  try {
    parsed = parseJson(file.text, {positions: true})
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      const {line, column} = lineAndColumn(file.text, error.offset)
      throw new ConfigError(`${file.name}:${line}:${column}: ${error.message}`, 'DSIEM_E_CONFIG_JSON', {
        cause: error,
      })
    }
    throw error
  }
  try {
    return decode(parsed.value)
  } catch (error) {
    if (error instanceof JsonTypeError) {
      const offset = offsetOfPath(parsed, error.path) ?? 0
      const {line, column} = lineAndColumn(file.text, offset)
      const where = error.path.length > 0 ? ` (at ${formatPath(error.path)})` : ''
      throw new ConfigError(
        `${file.name}:${line}:${column}: ${error.message}${where}`,
        'DSIEM_E_CONFIG_JSON',
        {cause: error},
      )
    }
    throw error
  }
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('')
}
