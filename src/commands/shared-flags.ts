// Flags shared by several commands, each with its DSIEM_* environment twin.

import {Flags} from '@oclif/core'
import {DIRECTIVE_FILE_GLOB} from '../engine/index.js'

const CONFIG_DIR_FLAG = {
  description: "Directory holding directives_*.json and assets_*.json (upstream's configs/).",
  env: 'DSIEM_CONFIG_DIR',
  default: 'configs',
} as const

export const configDirFlag = Flags.string({...CONFIG_DIR_FLAG, char: 'c'})

/** For `serve`, where upstream's -c already means --cacheDuration. */
export const configDirLongFlag = Flags.string(CONFIG_DIR_FLAG)

export const dataDirFlag = Flags.string({
  description:
    'Data directory of dsiem serve: outputs in DATA_DIR/logs/, the alarm store in DATA_DIR/dsiem.db.',
  env: 'DSIEM_DATA_DIR',
  default: '.',
})

export const filePatternFlag = Flags.string({
  char: 'f',
  description: 'Glob of directive files inside the config directory.',
  env: 'DSIEM_FILE_PATTERN',
  default: DIRECTIVE_FILE_GLOB,
})

export const allowSingleStageFlag = Flags.boolean({
  description: 'Accept directives with a single rule (rejected by upstream Dsiem).',
  env: 'DSIEM_ALLOW_SINGLE_STAGE',
  default: false,
})

/**
 * A comma-separated list flag. Upstream splits its env form on whitespace (so values with spaces
 * cannot be given through the environment); dsiem splits both forms on commas.
 */
export function listFlag(options: {
  description: string
  env: string
  default: readonly string[]
  char?: 's' | 't'
}) {
  const list = Flags.custom<string[]>({
    parse: async (input: string) => {
      const values = input
        .split(',')
        .map((value) => value.trim())
        .filter((value) => value !== '')
      if (values.length === 0)
        throw new Error(`expected a comma-separated list, got ${JSON.stringify(input)}`)
      return values
    },
  })
  return list({
    description: options.description,
    env: options.env,
    ...(options.char === undefined ? {} : {char: options.char}),
    default: [...options.default],
  })
}
