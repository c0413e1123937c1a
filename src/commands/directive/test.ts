import {Flags} from '@oclif/core'
import {InputError, parseRfc3339Seconds} from '../../engine/index.js'
import {DsiemCommand} from '../base-command.js'
import {alarmRows, renderAlarmTable} from '../render/alarm-table.js'
import {caseReportJson, renderCaseReport} from '../render/case-report.js'
import {generateReportJson, renderGenerateReport} from '../render/generate-report.js'
import {allowSingleStageFlag, configDirFlag, filePatternFlag} from '../shared-flags.js'
import {runCasesTest, writeJunitReport} from './test-cases.js'
import {replayToJson, runEventsTest} from './test-events.js'
import {runGenerateTest} from './test-generate.js'

const CASES = 'CASES'
const GENERATE = 'GENERATE'

export default class DirectiveTest extends DsiemCommand {
  static override summary =
    'Run directives over events in-process: show alarms, check test cases, or generate events.'
  static override description = [
    'Three modes, one per run:',
    '  --events FILE  replays an NDJSON events file through the same engine the backend runs and prints every alarm (final state). Event timestamps drive the clock unless --now fixes it.',
    '  --cases FILE   runs a test-case file (JSON or YAML: events plus the alarms they must raise); prints a diff for every mismatch, exits 1 if any case fails, and can write a JUnit report.',
    "  --generate     builds events from the directives (upstream dtester's generator) and checks in-process that each directive reaches its last stage, or POSTs them to a running frontend with --target.",
  ].join('\n')
  static override examples = [
    '<%= config.bin %> directive test --config-dir directives --events directives/demo-events.ndjson',
    '<%= config.bin %> directive test -c configs -e events.ndjson --now 2026-01-01T00:00:00Z --json',
    '<%= config.bin %> directive test --cases test/directive-cases.yaml --junit reports/directives.xml',
    '<%= config.bin %> directive test --generate -c configs --homenet 192.168.0.1 --seed 42',
    '<%= config.bin %> directive test --generate -c configs --target http://127.0.0.1:8080 --rps 200',
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
      description:
        "Fix the wall clock (RFC 3339) instead of following event timestamps; with --generate, also the first stage's event time.",
      env: 'DSIEM_NOW',
    }),
    'min-alarm-lifetime': Flags.integer({
      char: 'l',
      description: "Minutes added to every backlog's lifetime (upstream --minAlarmLifetime).",
      env: 'DSIEM_MINALARMLIFETIME',
      default: 0,
      min: 0,
    }),
    cases: Flags.string({
      description: 'Test-case file (JSON or YAML) with events and the alarms they must produce.',
      env: 'DSIEM_CASES',
      helpGroup: CASES,
    }),
    junit: Flags.string({
      description: 'With --cases: also write a JUnit XML report to this file.',
      env: 'DSIEM_JUNIT',
      helpGroup: CASES,
    }),
    generate: Flags.boolean({
      description:
        'Generate events from the directives and check that every directive reaches its last stage.',
      env: 'DSIEM_GENERATE',
      helpGroup: GENERATE,
    }),
    target: Flags.string({
      description:
        'With --generate: POST the events to this running frontend (e.g. http://127.0.0.1:8080) instead.',
      env: 'DSIEM_TARGET',
      helpGroup: GENERATE,
    }),
    homenet: Flags.string({
      char: 'i',
      description: 'Address used where a rule says HOME_NET; must be inside an asset.',
      env: 'DSIEM_HOMENET',
      default: '192.168.0.1',
      helpGroup: GENERATE,
    }),
    max: Flags.integer({
      char: 'n',
      description: 'Maximum number of events generated per rule.',
      env: 'DSIEM_MAX',
      default: 1000,
      min: 1,
      helpGroup: GENERATE,
    }),
    seed: Flags.integer({
      description: 'Random seed (0-4294967295) to reproduce a generated run; printed when not given.',
      env: 'DSIEM_SEED',
      min: 0,
      max: 4294967295,
      helpGroup: GENERATE,
    }),
    rps: Flags.integer({
      char: 'r',
      description: 'With --target: events per second.',
      env: 'DSIEM_RPS',
      default: 500,
      min: 1,
      helpGroup: GENERATE,
    }),
    concurrency: Flags.integer({
      description: 'With --target: requests in flight at most.',
      env: 'DSIEM_CONCURRENCY',
      default: 50,
      min: 1,
      helpGroup: GENERATE,
    }),
    'retry-delay': Flags.integer({
      description: 'With --target: milliseconds before retrying an event the frontend did not accept.',
      env: 'DSIEM_RETRY_DELAY',
      default: 3000,
      min: 0,
      helpGroup: GENERATE,
    }),
    'max-tries': Flags.integer({
      description: 'With --target: tries per event before it counts as rejected.',
      env: 'DSIEM_MAX_TRIES',
      default: 5,
      min: 1,
      helpGroup: GENERATE,
    }),
    'write-events': Flags.string({
      description: 'With --generate: also write the generated events to this NDJSON file.',
      env: 'DSIEM_WRITE_EVENTS',
      helpGroup: GENERATE,
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DirectiveTest)
    this.jsonOutput = flags.json
    const modes = [
      flags.events === undefined ? undefined : '--events',
      flags.cases === undefined ? undefined : '--cases',
      flags.generate ? '--generate' : undefined,
    ].filter((mode) => mode !== undefined)
    if (modes.length === 0) {
      throw new InputError('one of --events, --cases or --generate is required', 'DSIEM_E_USAGE')
    }
    if (modes.length > 1)
      throw new InputError(`${modes.join(' and ')} cannot be used together`, 'DSIEM_E_USAGE')
    if (flags.junit !== undefined && flags.cases === undefined) {
      throw new InputError('--junit needs --cases', 'DSIEM_E_USAGE')
    }
    if (flags.target !== undefined && !flags.generate) {
      throw new InputError('--target needs --generate', 'DSIEM_E_USAGE')
    }
    let now: number | undefined
    if (flags.now !== undefined) {
      now = parseRfc3339Seconds(flags.now)
      if (Number.isNaN(now))
        throw new InputError(`--now: ${JSON.stringify(flags.now)} is not an RFC 3339 time`, 'DSIEM_E_USAGE')
    }
    const common = {
      configDir: flags['config-dir'],
      filePattern: flags['file-pattern'],
      allowSingleStage: flags['allow-single-stage'],
      ...(now === undefined ? {} : {now}),
    }

    if (flags.cases !== undefined) {
      const outcome = runCasesTest({
        ...common,
        casesFile: flags.cases,
        minAlarmLifetimeMinutes: flags['min-alarm-lifetime'],
      })
      if (flags.junit !== undefined) writeJunitReport(flags.junit, outcome)
      if (flags.json) this.printJson(caseReportJson(outcome))
      else this.log(renderCaseReport(outcome))
      if (outcome.failed > 0) this.exit(1)
      return
    }

    if (flags.generate) {
      const outcome = await runGenerateTest({
        ...common,
        homeNet: flags.homenet,
        maxPerRule: flags.max,
        rps: flags.rps,
        concurrency: flags.concurrency,
        retryDelayMs: flags['retry-delay'],
        maxTries: flags['max-tries'],
        ...(flags.seed === undefined ? {} : {seed: flags.seed}),
        ...(flags.target === undefined ? {} : {target: flags.target}),
        ...(flags['write-events'] === undefined ? {} : {writeEvents: flags['write-events']}),
      })
      if (flags.json) this.printJson(generateReportJson(outcome))
      else this.log(renderGenerateReport(outcome))
      if (!outcome.passed) this.exit(1)
      return
    }

    const eventsFile = flags.events!
    const outcome = runEventsTest({
      ...common,
      eventsFile,
      minAlarmLifetimeMinutes: flags['min-alarm-lifetime'],
    })
    for (const error of outcome.lineErrors) {
      process.stderr.write(`dsiem: warning: ${eventsFile}:${error.line}: ${error.message}\n`)
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
