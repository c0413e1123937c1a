// The only code that reads a Dsiem config directory from disk: it lists the files matching a glob
// (Go filepath.Glob semantics on one directory level, lexicographic order, as upstream), reads them,
// and hands the engine their text. Missing or unreadable paths become one-line EnvironmentErrors.

import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {
  ASSET_FILE_GLOB,
  AssetTable,
  DIRECTIVE_FILE_GLOB,
  EnvironmentError,
  loadDirectiveSet,
  requireDirectives,
  type Directive,
  type ConfigFile,
  type DirectiveSet,
  type DirectiveValidationOptions,
} from '../../engine/index.js'

/** `*` any run of characters but '/', `?` one character, `[...]` a class; everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  let source = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end < 0) {
        source += '\\['
        continue
      }
      let cls = pattern.slice(i + 1, end)
      if (cls.startsWith('^')) cls = '!' + cls.slice(1)
      source += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replace(/\\/g, '\\\\') + ']'
      i = end
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(source + '$')
}

export function requireDirectory(dir: string, what: string): void {
  let stats
  try {
    stats = statSync(dir)
  } catch (error) {
    throw new EnvironmentError(`${what} ${dir} does not exist`, 'DSIEM_E_CONFIG_DIR', {
      cause: error,
      hint: 'pass --config-dir (or DSIEM_CONFIG_DIR) pointing at a directory with directives_*.json and assets_*.json',
    })
  }
  if (!stats.isDirectory()) {
    throw new EnvironmentError(`${what} ${dir} is not a directory`, 'DSIEM_E_CONFIG_DIR')
  }
}

/** Paths in `dir` whose names match `pattern` (which may contain a sub-directory part), sorted. */
export function globFiles(dir: string, pattern: string): string[] {
  const subdir = path.dirname(pattern)
  const base = path.basename(pattern)
  const searchDir = path.join(dir, subdir)
  let names: string[]
  try {
    names = readdirSync(searchDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new EnvironmentError(
      `cannot read ${searchDir}: ${(error as Error).message}`,
      'DSIEM_E_CONFIG_DIR',
      {
        cause: error,
      },
    )
  }
  const matcher = globToRegExp(base)
  return names
    .filter((name) => matcher.test(name))
    .sort()
    .map((name) => path.join(searchDir, name))
}

export function readConfigFiles(paths: readonly string[]): ConfigFile[] {
  return paths.map((file) => {
    try {
      return {name: file, text: readFileSync(file, 'utf8')}
    } catch (error) {
      throw new EnvironmentError(`cannot read ${file}: ${(error as Error).message}`, 'DSIEM_E_CONFIG_READ', {
        cause: error,
      })
    }
  })
}

export interface DirectiveLoadRequest extends DirectiveValidationOptions {
  configDir: string
  filePattern?: string
  includeDisabled?: boolean
}

export function loadDirectivesFromDir(request: DirectiveLoadRequest): DirectiveSet {
  requireDirectory(request.configDir, 'config directory')
  const files = readConfigFiles(globFiles(request.configDir, request.filePattern ?? DIRECTIVE_FILE_GLOB))
  return loadDirectiveSet(files, request)
}

export interface CorrelationConfig {
  directives: Directive[]
  assets: AssetTable
}

/** Directives (at least one valid, else ConfigError) and assets: what every engine run needs. */
export function loadCorrelationConfig(
  request: DirectiveLoadRequest & {filePattern: string},
): CorrelationConfig {
  const set = loadDirectivesFromDir(request)
  const directives = requireDirectives(set, path.join(request.configDir, request.filePattern))
  return {directives, assets: loadAssetsFromDir(request.configDir)}
}

export function loadAssetsFromDir(configDir: string): AssetTable {
  requireDirectory(configDir, 'config directory')
  const files = readConfigFiles(globFiles(configDir, ASSET_FILE_GLOB))
  return AssetTable.fromFiles(files, path.join(configDir, ASSET_FILE_GLOB))
}

/** Reads a user-supplied input file (events, test cases). */
export function readInputFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'does not exist' : (error as Error).message
    throw new EnvironmentError(`${what} ${file} ${reason}`, 'DSIEM_E_INPUT_READ', {cause: error})
  }
}
