// Flags shared by several commands, each with its DSIEM_* environment twin.

import {Flags} from '@oclif/core'
import {DIRECTIVE_FILE_GLOB} from '../engine/index.js'

export const configDirFlag = Flags.string({
  char: 'c',
  description: "Directory holding directives_*.json and assets_*.json (upstream's configs/).",
  env: 'DSIEM_CONFIG_DIR',
  default: 'configs',
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
