import {Args} from '@oclif/core'
import {DEFAULT_ALARM_TAGS} from '../../engine/index.js'
import {DsiemCommand} from '../base-command.js'
import {listFlag} from '../shared-flags.js'
import {alarmIdArg, dataDirFlag, editAnalystField} from './common.js'

export default class AlarmsSetTag extends DsiemCommand {
  static override summary = "Set an alarm's tag (the analyst's field; later alarm updates keep it)."
  static override description =
    'TAG must be one of the --tags list, the same list dsiem serve takes (its first value is the tag of new alarms). Works while the server runs.'
  static override examples = [
    '<%= config.bin %> alarms set-tag 88bVUMBSp "False Positive" --data-dir /var/lib/dsiem',
    '<%= config.bin %> alarms set-tag 88bVUMBSp Benign --tags "Identified Threat,Benign" --json',
  ]
  static override args = {
    id: alarmIdArg,
    tag: Args.string({description: 'The new tag.', required: true}),
  }
  static override flags = {
    'data-dir': dataDirFlag,
    tags: listFlag({
      description: 'Allowed tag values, comma-separated.',
      env: 'DSIEM_TAGS',
      default: DEFAULT_ALARM_TAGS,
      char: 't',
    }),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AlarmsSetTag)
    this.jsonOutput = flags.json
    const {alarm, text} = editAnalystField(flags['data-dir'], 'tag', (store) =>
      store.setTag(args.id, args.tag, flags.tags),
    )
    if (flags.json) this.printRawJson(alarm.json)
    else this.log(text)
  }
}
