import {alarmStorePath, openAlarmStore} from '../../roles/io/state.js'
import {InputError} from '../../engine/index.js'
import {DsiemCommand} from '../base-command.js'
import {alarmIdArg, dataDirFlag, renderStoredAlarm} from './common.js'

export default class AlarmsShow extends DsiemCommand {
  static override summary = 'Show one stored alarm and its last accepted alarm line.'
  static override description =
    'With --json, prints the stored alarm line itself (upstream siem_alarms.json format, carrying the current status and tag).'
  static override examples = [
    '<%= config.bin %> alarms show 88bVUMBSp --data-dir /var/lib/dsiem',
    '<%= config.bin %> alarms show 88bVUMBSp --json',
  ]
  static override args = {id: alarmIdArg}
  static override flags = {'data-dir': dataDirFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AlarmsShow)
    this.jsonOutput = flags.json
    const store = openAlarmStore(alarmStorePath(flags['data-dir']), {readonly: true})
    let alarm
    try {
      alarm = store.get(args.id)
    } finally {
      store.close()
    }
    if (alarm === undefined) throw new InputError(`no alarm ${args.id}`, 'DSIEM_E_NO_ALARM')
    if (flags.json) this.printRawJson(alarm.json)
    else this.log(renderStoredAlarm(alarm))
  }
}
