import {Flags} from '@oclif/core'
import {ConfigError} from '../engine/index.js'
import {runServe} from '../roles/index.js'
import {
  BUS_MODES,
  ROLE_ARGUMENTS,
  rolesForMode,
  rolesFromArguments,
  SERVE_DEFAULTS,
  UPSTREAM_MODES,
  validateServeConfig,
  type NatsBusMode,
  type ServeConfig,
  type UpstreamMode,
} from '../roles/serve-config.js'
import {runPcapFile} from '../roles/worker/pcap-run.js'
import {DsiemCommand} from './base-command.js'
import {renderPcapSummary, ttyProgressBar} from './render/pcap-progress.js'
import {allowSingleStageFlag, configDirLongFlag, dataDirFlag, listFlag} from './shared-flags.js'
import {workerConfigFromFlags, workerFlags} from './worker-flags.js'

// Upstream's flag names and env twins (DSIEM_<FLAGNAME upper-cased>) are kept verbatim so existing
// deployments (docker env files, systemd units) work unchanged.
const int = (
  description: string,
  env: string,
  value: number,
  char?: 'p' | 'e' | 'i' | 'q' | 'd' | 'n' | 'l' | 'c',
) => Flags.integer({description, env, default: value, ...(char === undefined ? {} : {char})})

export default class Serve extends DsiemCommand {
  static override summary = 'Run dsiem roles: standalone, frontend, backend (upstream serve modes).'
  static override description =
    'Starts the HTTP ingest (frontend), the correlation engine (backend), or both. Standalone runs both over an in-memory bus, as upstream; otherwise roles talk over NATS. Every upstream Dsiem serve flag and DSIEM_* variable works unchanged.'
  static override examples = [
    '<%= config.bin %> serve --role standalone --config-dir directives --data-dir /var/lib/dsiem',
    '<%= config.bin %> serve --role frontend --node fe-1 --nats-url nats://127.0.0.1:4222',
    '<%= config.bin %> serve --role backend --node dsiem-backend-0 --frontend http://fe-1:8080 --nats-url nats://127.0.0.1:4222',
    '<%= config.bin %> serve --mode cluster-backend --node dsiem-backend-0 --frontend http://fe:8080 --msq nats://nats:4222',
    '<%= config.bin %> serve --role worker --interface eth0 --node worker-1 --fanout-id 23 --nats-url nats://127.0.0.1:4222',
    '<%= config.bin %> serve --role worker --pcap traffic.pcap --log-dir ./logs',
  ]
  static override flags = {
    role: Flags.string({
      description: `Roles to run, comma-separated: ${ROLE_ARGUMENTS.join(', ')}. Overrides --mode.`,
      env: 'DSIEM_ROLE',
    }),
    mode: Flags.string({
      char: 'm',
      description:
        'Upstream mode: standalone, cluster-frontend or cluster-backend (used when --role is absent).',
      env: 'DSIEM_MODE',
      default: 'standalone',
    }),
    address: Flags.string({
      char: 'a',
      description: 'IP address to listen on.',
      env: 'DSIEM_ADDRESS',
      default: SERVE_DEFAULTS.address,
    }),
    port: int('TCP port to listen on.', 'DSIEM_PORT', SERVE_DEFAULTS.port, 'p'),
    node: Flags.string({
      description: 'Node name (required outside standalone; a backend loads directives_<node>_*.json).',
      env: 'DSIEM_NODE',
      default: '',
    }),
    'nats-url': Flags.string({description: 'NATS URL (same as --msq).', env: 'DSIEM_NATS_URL'}),
    msq: Flags.string({
      description: 'NATS URL (upstream name).',
      env: 'DSIEM_MSQ',
      default: SERVE_DEFAULTS.natsUrl,
    }),
    bus: Flags.string({
      description:
        'NATS subjects: routed (events go only to backends whose directives can match) or legacy (upstream dsiem_events broadcast).',
      env: 'DSIEM_BUS',
      options: [...BUS_MODES],
      default: 'routed',
    }),
    frontend: Flags.string({
      description: 'Frontend base URL a backend pulls its config from.',
      env: 'DSIEM_FRONTEND',
      default: '',
    }),
    'config-dir': configDirLongFlag,
    'data-dir': dataDirFlag,
    maxEPS: int(
      'Maximum events per second the frontend accepts (0 with minEPS 0: no limit).',
      'DSIEM_MAXEPS',
      SERVE_DEFAULTS.maxEps,
      'e',
    ),
    minEPS: int(
      'Lowest EPS limit when backends report overload.',
      'DSIEM_MINEPS',
      SERVE_DEFAULTS.minEps,
      'i',
    ),
    maxQueue: int(
      'Backend queue size (capacity 2×maxQueue); 0 = unbounded.',
      'DSIEM_MAXQUEUE',
      SERVE_DEFAULTS.maxQueue,
      'q',
    ),
    maxDelay: int(
      'Seconds an event may wait before the backend reports overload; 0 = off.',
      'DSIEM_MAXDELAY',
      SERVE_DEFAULTS.maxDelay,
      'd',
    ),
    holdDuration: int(
      'Seconds an overload state is held before it is reset.',
      'DSIEM_HOLDDURATION',
      SERVE_DEFAULTS.holdDuration,
      'n',
    ),
    minAlarmLifetime: int(
      "Minutes added to every backlog's lifetime.",
      'DSIEM_MINALARMLIFETIME',
      SERVE_DEFAULTS.minAlarmLifetime,
      'l',
    ),
    cacheDuration: int(
      'Minutes intel/vuln lookups are cached.',
      'DSIEM_CACHEDURATION',
      SERVE_DEFAULTS.cacheDuration,
      'c',
    ),
    medRiskMin: int('Lowest risk of the Medium class.', 'DSIEM_MEDRISKMIN', SERVE_DEFAULTS.medRiskMin),
    medRiskMax: int('Highest risk of the Medium class.', 'DSIEM_MEDRISKMAX', SERVE_DEFAULTS.medRiskMax),
    status: listFlag({
      description: 'Alarm status values; the first is given to new alarms.',
      env: 'DSIEM_STATUS',
      default: SERVE_DEFAULTS.status,
      char: 's',
    }),
    tags: listFlag({
      description: 'Alarm tag values; the first is given to new alarms.',
      env: 'DSIEM_TAGS',
      default: SERVE_DEFAULTS.tags,
      char: 't',
    }),
    intelPrivateIP: Flags.boolean({
      description: 'Also look up private addresses in intel sources.',
      env: 'DSIEM_INTELPRIVATEIP',
      default: false,
    }),
    writeableConfig: Flags.boolean({
      description: 'Allow POST and DELETE on /config/.',
      env: 'DSIEM_WRITEABLECONFIG',
      default: false,
    }),
    websocket: Flags.boolean({
      description: 'Serve the /eps/ websocket.',
      env: 'DSIEM_WEBSOCKET',
      default: false,
    }),
    pprof: Flags.boolean({
      description: 'Upstream Go profiling; no effect in dsiem (use node --cpu-prof).',
      env: 'DSIEM_PPROF',
      default: false,
    }),
    apm: Flags.boolean({
      description: 'Upstream Elastic APM tracing; no effect in dsiem.',
      env: 'DSIEM_APM',
      default: false,
    }),
    trace: Flags.boolean({
      description: 'Upstream Go runtime trace; no effect in dsiem.',
      env: 'DSIEM_TRACE',
      default: false,
    }),
    debug: Flags.boolean({description: 'Debug-level logs.', env: 'DSIEM_DEBUG', default: false}),
    'allow-single-stage': allowSingleStageFlag,
    ...workerFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    this.jsonOutput = flags.json
    let roles
    if (flags.role !== undefined) {
      roles = rolesFromArguments(
        flags.role
          .split(',')
          .map((r) => r.trim())
          .filter((r) => r !== ''),
      )
    } else {
      if (!(UPSTREAM_MODES as readonly string[]).includes(flags.mode)) {
        throw new ConfigError(
          `--mode: invalid mode ${JSON.stringify(flags.mode)}; valid modes: ${UPSTREAM_MODES.join(', ')}`,
          'DSIEM_E_USAGE',
        )
      }
      roles = rolesForMode(flags.mode as UpstreamMode)
    }
    const worker = roles.roles.includes('worker')
      ? workerConfigFromFlags(flags, flags['data-dir'])
      : undefined
    if (worker?.pcap !== undefined) {
      if (roles.roles.length > 1) {
        throw new ConfigError(
          '--pcap runs the worker alone; drop the other roles from --role',
          'DSIEM_E_USAGE',
        )
      }
      const progress = ttyProgressBar(process.stderr, worker.pcap)
      const summary = await runPcapFile({
        file: worker.pcap,
        logDir: worker.logDir,
        peer: flags.node !== '' ? flags.node : 'worker',
        verifyChecksums: !worker.ignoreChecksums,
        seed: worker.seed,
        events: worker.events,
        onProgress: (read, total) => progress.update(read, total),
      })
      progress.done()
      if (this.jsonOutput) this.printJson(summary)
      else process.stdout.write(renderPcapSummary(summary) + '\n')
      return
    }
    const config: ServeConfig = validateServeConfig({
      ...roles,
      address: flags.address,
      port: flags.port,
      node: flags.node,
      natsUrl: flags['nats-url'] ?? flags.msq,
      busMode: flags.bus as NatsBusMode,
      frontend: flags.frontend,
      configDir: flags['config-dir'],
      dataDir: flags['data-dir'],
      maxEps: flags.maxEPS,
      minEps: flags.minEPS,
      maxQueue: flags.maxQueue,
      maxDelay: flags.maxDelay,
      holdDuration: flags.holdDuration,
      minAlarmLifetime: flags.minAlarmLifetime,
      cacheDuration: flags.cacheDuration,
      medRiskMin: flags.medRiskMin,
      medRiskMax: flags.medRiskMax,
      status: flags.status,
      tags: flags.tags,
      intelPrivateIp: flags.intelPrivateIP,
      writeableConfig: flags.writeableConfig,
      websocket: flags.websocket,
      allowSingleStage: flags['allow-single-stage'],
      worker,
    })
    const ignored = (['pprof', 'apm', 'trace'] as const).filter((flag) => flags[flag])
    await runServe(config, {logLevel: flags.debug ? 'debug' : 'info', ignoredFlags: ignored})
  }
}
