import {Flags} from '@oclif/core'
import {InputError, RISK_CLASSES, parseRfc3339Seconds} from '../../engine/index.js'
import type {AlarmQuery} from '../../roles/alarm-store.js'
import {alarmStorePath, openAlarmStore} from '../../roles/io/state.js'
import {DsiemCommand} from '../base-command.js'
import {dataDirFlag, renderStoredAlarmTable, storedAlarmSummary} from './common.js'

export default class AlarmsList extends DsiemCommand {
  static override summary = 'List stored alarms, newest first.'
  static override description =
    "Reads the alarm store of a dsiem serve data directory (read-only, so it works while the server runs). Filters combine with AND. The filters' environment twins are DSIEM_ALARMS_*, so they never pick up serve's DSIEM_STATUS / DSIEM_TAGS lists."
  static override examples = [
    '<%= config.bin %> alarms list --data-dir /var/lib/dsiem',
    '<%= config.bin %> alarms list --status Open --risk-class High --since 2026-01-01T00:00:00Z',
    '<%= config.bin %> alarms list --directive 1001 --limit 10 --json',
  ]
  static override flags = {
    'data-dir': dataDirFlag,
    status: Flags.string({description: 'Only alarms with this status.', env: 'DSIEM_ALARMS_STATUS'}),
    tag: Flags.string({description: 'Only alarms with this tag.', env: 'DSIEM_ALARMS_TAG'}),
    'risk-class': Flags.string({
      description: 'Only alarms of this risk class.',
      env: 'DSIEM_ALARMS_RISK_CLASS',
      options: [...RISK_CLASSES],
    }),
    directive: Flags.integer({
      description: 'Only alarms of this directive id.',
      env: 'DSIEM_ALARMS_DIRECTIVE',
    }),
    since: Flags.string({
      description: 'Only alarms updated at or after this time (RFC 3339).',
      env: 'DSIEM_ALARMS_SINCE',
    }),
    limit: Flags.integer({
      description: 'At most this many alarms.',
      env: 'DSIEM_ALARMS_LIMIT',
      default: 50,
      min: 1,
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AlarmsList)
    this.jsonOutput = flags.json
    const query: AlarmQuery = {limit: flags.limit}
    if (flags.status !== undefined) query.status = flags.status
    if (flags.tag !== undefined) query.tag = flags.tag
    if (flags['risk-class'] !== undefined) query.riskClass = flags['risk-class']
    if (flags.directive !== undefined) query.directiveId = flags.directive
    if (flags.since !== undefined) {
      const since = parseRfc3339Seconds(flags.since)
      if (Number.isNaN(since))
        throw new InputError(
          `--since: ${JSON.stringify(flags.since)} is not an RFC 3339 time`,
          'DSIEM_E_USAGE',
        )
      query.since = since
    }
    const store = openAlarmStore(alarmStorePath(flags['data-dir']), {readonly: true})
    let alarms
    try {
      alarms = store.list(query)
    } finally {
      store.close()
    }
    if (flags.json) this.printJson(alarms.map(storedAlarmSummary))
    else this.log(renderStoredAlarmTable(alarms))
  }
}
