import {Flags} from '@oclif/core'
import {InputError, parseRfc3339Seconds} from '../../engine/index.js'
import {DsiemCommand} from '../base-command.js'
import {alarmRows, renderAlarmTable} from '../render/alarm-table.js'
import {allowSingleStageFlag, configDirFlag, filePatternFlag} from '../shared-flags.js'
import {replayToJson, runEventsTest} from './test-events.js'

export default class DirectiveTest extends DsiemCommand {
  static override summary = 'Run directives over events in-process and show the alarms they produce.'
  static override description =
    'Replays an NDJSON events file through the same engine the backend runs, with a deterministic clock: event timestamps drive time unless --now fixes the wall clock. Prints every alarm (final state) and the alarm-event lines.'
  static override examples = [
    '<%= config.bin %> directive test --config-dir directives --events directives/demo-events.ndjson',
    '<%= config.bin %> directive test -c configs -e events.ndjson --now 2026-01-01T00:00:00Z --json',
  ]
  static override flags = {
    'config-dir': configDirFlag,
    'file-pattern': filePatternFlag,
    'allow-single-stage': allowSingleStageFlag,
    events: Flags.string({
      char: 'e',
      description: 'NDJSON file of normalized events (one JSON object per line).',
      env: 'DSIEM_EVENTS',
    }),
    now: Flags.string({
      description: 'Fix the wall clock (RFC 3339) instead of following event timestamps.',
      env: 'DSIEM_NOW',
    }),
    'min-alarm-lifetime': Flags.integer({
      char: 'l',
      description: "Minutes added to every backlog's lifetime (upstream --minAlarmLifetime).",
      env: 'DSIEM_MINALARMLIFETIME',
      default: 0,
      min: 0,
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DirectiveTest)
    this.jsonOutput = flags.json
    if (flags.events === undefined) {
      throw new InputError('one of --events or --cases is required', 'DSIEM_E_USAGE')
    }
    let now: number | undefined
    if (flags.now !== undefined) {
      now = parseRfc3339Seconds(flags.now)
      if (Number.isNaN(now))
        throw new InputError(`--now: ${JSON.stringify(flags.now)} is not an RFC 3339 time`, 'DSIEM_E_USAGE')
    }
    const outcome = runEventsTest({
      configDir: flags['config-dir'],
      filePattern: flags['file-pattern'],
      eventsFile: flags.events,
      allowSingleStage: flags['allow-single-stage'],
      minAlarmLifetimeMinutes: flags['min-alarm-lifetime'],
      ...(now === undefined ? {} : {now}),
    })
    for (const error of outcome.lineErrors) {
      process.stderr.write(`dsiem: warning: ${flags.events}:${error.line}: ${error.message}\n`)
    }
    if (flags.json) {
      this.printRawJson(replayToJson(outcome.replay))
      return
    }
    const {replay} = outcome
    this.log(renderAlarmTable(alarmRows(replay.alarms, replay.alarmEvents)))
    this.log(
      `\n${outcome.eventCount} events (${outcome.lineErrors.length} rejected), ${replay.stats.backlogsCreated} backlogs, ${replay.alarms.length} alarms, ${replay.alarmEvents.length} alarm events`,
    )
  }
}
