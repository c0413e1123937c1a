import {Args} from '@oclif/core'
import {DEFAULT_ALARM_STATUSES} from '../../engine/index.js'
import {DsiemCommand} from '../base-command.js'
import {listFlag} from '../shared-flags.js'
import {alarmIdArg, dataDirFlag, editAnalystField} from './common.js'

export default class AlarmsSetStatus extends DsiemCommand {
  static override summary = "Set an alarm's status (the analyst's field; later alarm updates keep it)."
  static override description =
    'STATUS must be one of the --status list, the same list dsiem serve takes (its first value is the status of new alarms). Works while the server runs.'
  static override examples = [
    '<%= config.bin %> alarms set-status 88bVUMBSp In-Progress --data-dir /var/lib/dsiem',
    '<%= config.bin %> alarms set-status 88bVUMBSp Escalated --status Open,Escalated,Closed --json',
  ]
  static override args = {
    id: alarmIdArg,
    status: Args.string({description: 'The new status.', required: true}),
  }
  static override flags = {
    'data-dir': dataDirFlag,
    status: listFlag({
      description: 'Allowed status values, comma-separated.',
      env: 'DSIEM_STATUS',
      default: DEFAULT_ALARM_STATUSES,
      char: 's',
    }),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AlarmsSetStatus)
    this.jsonOutput = flags.json
    const {alarm, text} = editAnalystField(flags['data-dir'], 'status', (store) =>
      store.setStatus(args.id, args.status, flags.status),
    )
    if (flags.json) this.printRawJson(alarm.json)
    else this.log(text)
  }
}
