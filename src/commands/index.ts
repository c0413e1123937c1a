// The explicit command registry (oclif "explicit" strategy): no filesystem scan at start-up, and one
// file lists every command.

import AlarmsList from './alarms/list.js'
import AlarmsSetStatus from './alarms/set-status.js'
import AlarmsSetTag from './alarms/set-tag.js'
import AlarmsShow from './alarms/show.js'
import DirectiveReload from './directive/reload.js'
import DirectiveTest from './directive/test.js'
import DirectiveValidate from './directive/validate.js'
import Serve from './serve.js'
import Version from './version.js'

export const COMMANDS = {
  'alarms:list': AlarmsList,
  'alarms:set-status': AlarmsSetStatus,
  'alarms:set-tag': AlarmsSetTag,
  'alarms:show': AlarmsShow,
  'directive:reload': DirectiveReload,
  'directive:test': DirectiveTest,
  'directive:validate': DirectiveValidate,
  serve: Serve,
  version: Version,
}
