// The explicit command registry (oclif "explicit" strategy): no filesystem scan at start-up, and one
// file lists every command.

import DirectiveTest from './directive/test.js'
import DirectiveValidate from './directive/validate.js'
import Version from './version.js'

export const COMMANDS = {
  'directive:test': DirectiveTest,
  'directive:validate': DirectiveValidate,
  version: Version,
}
