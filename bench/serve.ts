// `npm run bench:serve`: the whole server, end to end, on one generated event file (goals G2, G3 and
// G5 of the performance notes). For 100 and 1000 directives it starts `dsiem serve --role standalone`
// (built dist) as a child process with a fresh data dir, drives it from a load generator in another
// child process (so the generator shares the 2 cores, as in production), and measures:
//
// - single-event POST /events, closed loop on 50 keep-alive connections: the most it takes in;
// - bulk POST /events/bulk, 1000-line NDJSON batches on 4 connections: sustained events/s;
// - the sustained single-event rate (goal G2) as the performance notes define it (§7.1, rate-steps.ts):
//   open-loop steps at 0.6, 0.7, … 1.0 × the closed-loop rate, until one falls behind;
// - event → alarm latency p50/p99/p999, open loop at half the sustained rate;
// - first of all, the same-run baseline for the single-event rates: bare node:http parsing each event
//   and answering 200 (http-floor-server.ts), closed loop and sustained rate, so that ours can be
//   stated as a share of what any Node server gets on this machine at that time;
// closed-loop and latency runs are repeated (three times) and their medians count, as the
// performance notes prescribe;
// - the server's peak RSS (VmHWM) and CPU time per event, and the other load on the machine.
//
// Every run starts with a warm-up (JIT, connections, heap growth; 3 s, bulk 1 s, open loop 10 s) that
// is sent and checked but not timed. A closed-loop or bulk rate counts only when every event was
// answered 200 and the backend then worked off its queue; it is computed over the timed part plus that
// drain.
// After each run the alarm-event lines and alarm lines (per stage, risk class, final class,
// directive) must equal what the engine benchmark's model expects from the events sent; any
// difference fails the benchmark (exit 1). Optionally the same for frontend + backend over a real
// nats-server (DSIEM_BENCH_CLUSTER, on when nats-server is installed), and for an upstream Go dsiem
// binary (DSIEM_PEER_BIN), with ratios ours/upstream.
//
// Knobs (environment): DSIEM_BENCH_QUICK=1 (short runs), DSIEM_BENCH_EVENTS, DSIEM_BENCH_SECONDS
// (timed part of the single-event runs), DSIEM_BENCH_LATENCY_SECONDS (60, after 10 s of warm-up),
// DSIEM_BENCH_CONNECTIONS (50), DSIEM_BENCH_CLUSTER (0/1), DSIEM_BENCH_SIZES (100,1000),
// DSIEM_BENCH_SKIP_BUILD=1,
// DSIEM_BENCH_CPU_PROFILE=<dir> (node --cpu-prof for our server processes),
// DSIEM_BENCH_SERVER_NODE_FLAGS (e.g. "--trace-gc"), DSIEM_BENCH_PIN_SERVER=<cpu> (our server
// processes under `taskset -c <cpu>`; start the bench itself under taskset on the other CPU),
// DSIEM_BENCH_REPEATS (3: closed-loop single-event and latency runs each; medians count),
// DSIEM_BENCH_STEP_SECONDS (30: each open-loop step, after 10 s of warm-up),
// DSIEM_BENCH_OPEN_RATE=<events/s> (only the latency runs, at that rate), DSIEM_BENCH_KEEP=1 (keep
// the run directories: server logs, outputs), DSIEM_PEER_BIN, DSIEM_PEER_START_EPS (per size,
// default "2000,500").
//
// The peer's sustained single-event rate is searched as the performance notes (§7.1) prescribe:
// maxEPS = offered rate (upstream skips directive work when maxEPS exceeds what it can process), the
// rate raised ×1.5 per step from DSIEM_PEER_START_EPS while a step passes (every event answered 200,
// ≥ 97% of the offered rate accepted, outputs complete); the last passing step is its figure. Upstream
// has no bulk endpoint, so bulk has no ratio.

import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {findNatsServer} from '../src/roles/io/nats-server.js'
import {directiveSpecs, type DirectiveSpec} from './lib/directive-set.js'
import {EVENT_KIND} from './lib/event-stream.js'
import {machineInfo} from './lib/machine.js'
import {Prng} from './lib/prng.js'
import {searchSustainedRate, stepVerdict, type StepVerdict} from './lib/rate-steps.js'
import type {LoadConfig, LoadResult} from './lib/serve-load.js'
import {OutputWatcher} from './lib/serve-output.js'
import {machineCpuSeconds, monotonicMs, round, sentIndices, settleDisk, sleep} from './lib/serve-proc.js'
import {
  startCluster,
  startHttpFloor,
  startPeer,
  startStandalone,
  type ProcessFigures,
  type RunningSystem,
  type SystemKind,
} from './lib/serve-server.js'
import {diffFileOutcomes, expectedFileOutcome, writeConfigDir, writeWorkload} from './lib/serve-workload.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SEED = 20261121
const ACTIVE_DIRECTIVES = 10
const MATCHING_SHARE = 0.3

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`)
  return value
}

function envList(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return [...fallback]
  return raw.split(',').map((part) => {
    const value = Number(part.trim())
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: not a positive number: ${part}`)
    return value
  })
}

const QUICK = process.env['DSIEM_BENCH_QUICK'] === '1'
const SIZES = envList('DSIEM_BENCH_SIZES', [100, 1000])
/**
 * Enough for a 40 s step at up to ~35k events/s and a 70 s latency run at up to ~20k (a shorter stream
 * shortens a run, with a warning). Every event id is unique, and the bench keeps the stream in memory.
 */
const EVENTS = Math.round(envNumber('DSIEM_BENCH_EVENTS', QUICK ? 150_000 : 1_400_000))
const RUN_SECONDS = envNumber('DSIEM_BENCH_SECONDS', QUICK ? 4 : 12)
/**
 * The latency runs take the performance notes' step (§7.1: 60 s plus 10 s warm-up): a p99 over
 * ~15,000 alarm lines, where one of this VM's stolen-time episodes cannot decide it alone.
 */
const LATENCY_SECONDS = envNumber('DSIEM_BENCH_LATENCY_SECONDS', QUICK ? 4 : 60)
/**
 * Each open-loop step of the sustained-rate search. The notes' steps are 60 s; 30 s already tells a
 * rate that is kept up with from one that is not (a 3% shortfall reaches the 1 s lag bound), and keeps
 * the event file, whose every id must be unique, at a size the bench holds in memory.
 */
const STEP_SECONDS = envNumber('DSIEM_BENCH_STEP_SECONDS', QUICK ? 4 : 30)
/** Load before the measured part of a run (the server's JIT, first-use costs, heap growth). */
const WARMUP_SECONDS = QUICK ? 1.5 : 3
/** The latency run warms up longer: its first seconds after start-up hold the worst stalls. */
const OPEN_WARMUP_SECONDS = QUICK ? 2 : 10
/** Bulk warms up in far fewer requests, and must not spend the event file on it. */
const BULK_WARMUP_SECONDS = QUICK ? 0.5 : 1
const CONNECTIONS = Math.round(envNumber('DSIEM_BENCH_CONNECTIONS', 50))
const BULK_CONNECTIONS = 4
const BULK_LINES = 1000
const DRAIN_TIMEOUT_MS = 180_000
/** After the backend has processed everything, its output files must stay unchanged this long. */
const OUTPUT_QUIET_MS = 300
const PEER_BIN = process.env['DSIEM_PEER_BIN'] ?? ''
const PEER_START_EPS = envList('DSIEM_PEER_START_EPS', [2000, 500])
const PEER_STEP_SECONDS = QUICK ? 3 : 6
const PEER_MAX_STEPS = 8
/**
 * Single-event and latency runs per system and size; the goals and ratios use the median (the
 * performance notes' rule), since this VM's speed drifts by ±25% between runs.
 */
const REPEATS = Math.round(envNumber('DSIEM_BENCH_REPEATS', QUICK ? 1 : 3))
/** Only the latency runs, at this offered rate (for working on the tail; no throughput figures). */
const OPEN_RATE = process.env['DSIEM_BENCH_OPEN_RATE'] ? envNumber('DSIEM_BENCH_OPEN_RATE', 1) : undefined
const KEEP = process.env['DSIEM_BENCH_KEEP'] === '1'
const CPU_PROFILE_DIR = process.env['DSIEM_BENCH_CPU_PROFILE']
const SERVER_NODE_FLAGS = (process.env['DSIEM_BENCH_SERVER_NODE_FLAGS'] ?? '')
  .split(' ')
  .filter((f) => f !== '')

const GOALS = {
  single: {100: 20_000, 1000: 10_000} as Record<number, number>,
  bulk: {100: 60_000, 1000: 40_000} as Record<number, number>,
  p99Ms: 25,
}

const fmt = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : String(value)

// ---------------------------------------------------------------------------------------------
// Build check: the server runs from dist/, which must not be older than src/.

function newestMtime(dir: string, filter: (name: string) => boolean): number {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, filter))
    else if (filter(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs)
  }
  return newest
}

function ensureBuilt(): void {
  if (process.env['DSIEM_BENCH_SKIP_BUILD'] === '1') return
  const src = newestMtime(path.join(REPO, 'src'), (name) => /\.tsx?$/.test(name))
  let dist = 0
  try {
    dist = statSync(path.join(REPO, 'dist', 'commands', 'index.js')).mtimeMs
  } catch {
    dist = 0
  }
  if (dist >= src) return
  process.stdout.write('dist/ is older than src/: npm run build\n')
  const result = spawnSync('npm', ['run', 'build'], {cwd: REPO, stdio: 'inherit'})
  if (result.status !== 0) {
    throw new Error('bench: npm run build failed (set DSIEM_BENCH_SKIP_BUILD=1 to run the existing dist/)')
  }
}

// ---------------------------------------------------------------------------------------------
// One run: start a system, drive it, drain it, check its outputs.

type Mode = LoadConfig['mode']

interface RunResult {
  system: SystemKind
  directives: number
  mode: Mode
  connections: number
  /** Offered rate (open loop) or undefined. */
  offeredRate: number | undefined
  /** The peer's --maxEPS (= --minEPS) for this run. */
  peerMaxEps: number | undefined
  eventsSent: number
  eventsAccepted: number
  /** A closed-loop run that sent the whole event file before its time was up. */
  fileExhausted: boolean
  byStatus: Record<string, number>
  runSeconds: number
  /** From the last answer until the backend had processed every accepted event. */
  drainSeconds: number
  /** Accepted events / run seconds. */
  acceptedPerSecond: number
  /** Accepted events / (run + drain) seconds: the sustained end-to-end rate. */
  eventsPerSecond: number
  processes: (ProcessFigures & {cpuMicrosPerEvent: number})[]
  /** From the server's start to the end of the drain. */
  wallSeconds: number
  generatorCpuSeconds: number
  /**
   * Share of the machine's CPU (all cores) used during the run by processes other than the system
   * under test, the generator and this bench: other load on the box, which depresses every figure.
   */
  otherLoadPercent: number
  /** CPU time of this process (mostly the output watcher) during the run. */
  benchCpuSeconds: number
  /** CPU time the hypervisor took from this VM during the run (steal), % of all cores. */
  stolenPercent: number
  scheduleLagMs: LoadResult['scheduleLagMs']
  responseMs: LoadResult['responseMs']
  latency: ReturnType<OutputWatcher['latencies']> | undefined
  /** Open loop, ours: the highest lag the backend reported (/health) after the warm-up. */
  backendLagMaxSeconds: number | undefined
  /** A step of the sustained-rate search: whether it kept up (its failure is a result, not an error). */
  step: StepVerdict | undefined
  outputs: {alarmEventLines: number; alarmLines: number; malformedLines: number}
  complete: boolean
  problems: string[]
}

interface Context {
  tmp: string
  stream: ReturnType<typeof writeWorkload>
  hashes: Uint32Array
  specs: DirectiveSpec[]
  configDirs: Map<number, string>
}

async function runLoad(config: LoadConfig, logFile: string): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'bench', 'lib', 'serve-load.ts'), JSON.stringify(config)],
    {
      cwd: REPO,
      env: {...process.env, TSX_TSCONFIG_PATH: path.join(REPO, 'test', 'tsconfig.json')},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  writeFileSync(logFile, stdout + stderr)
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (code !== 0 || line === undefined) {
    throw new Error(`bench: load generator failed (exit ${code}): ${stderr.slice(-2000)}`)
  }
  return JSON.parse(line.slice('RESULT '.length)) as LoadResult
}

async function startSystem(kind: SystemKind, ctx: Context, size: number, runDir: string, peerMaxEps: number) {
  const configDir = ctx.configDirs.get(size)!
  switch (kind) {
    case 'standalone':
      return startStandalone({
        repo: REPO,
        configDir,
        runDir,
        cpuProfileDir: CPU_PROFILE_DIR,
        nodeFlags: SERVER_NODE_FLAGS,
      })
    case 'cluster':
      return startCluster({
        repo: REPO,
        configDir,
        runDir,
        cpuProfileDir: CPU_PROFILE_DIR,
        nodeFlags: SERVER_NODE_FLAGS,
      })
    case 'peer':
      return startPeer({bin: PEER_BIN, configDir, runDir, maxEps: peerMaxEps})
    case 'http-floor':
      return startHttpFloor({repo: REPO, runDir})
  }
}

async function runCase(
  ctx: Context,
  kind: SystemKind,
  size: number,
  mode: Mode,
  options: {rate?: number; peerMaxEps?: number; seconds?: number; repeat?: number; step?: boolean} = {},
): Promise<RunResult> {
  const label =
    `${kind}-${size}-${mode}${options.peerMaxEps === undefined ? '' : `-${Math.round(options.peerMaxEps)}`}` +
    (options.step ? `-step-${Math.round(options.rate ?? 0)}` : '') +
    (options.repeat ? `-r${options.repeat + 1}` : '')
  const runSeconds =
    options.seconds ?? (options.step ? STEP_SECONDS : mode === 'open' ? LATENCY_SECONDS : RUN_SECONDS)
  const runDir = path.join(ctx.tmp, 'runs', label)
  mkdirSync(runDir, {recursive: true})
  const total = ctx.hashes.length
  const rate = options.rate ?? 0
  const maxEvents =
    mode === 'open' ? Math.min(total, Math.round(rate * (OPEN_WARMUP_SECONDS + runSeconds))) : total
  const connections = mode === 'bulk' ? BULK_CONNECTIONS : CONNECTIONS
  const system: RunningSystem = await startSystem(kind, ctx, size, runDir, options.peerMaxEps ?? rate)
  const problems: string[] = []
  let load: LoadResult
  let watcher: OutputWatcher | undefined
  let drainSeconds = Number.NaN
  let before: ProcessFigures[] = []
  let after: ProcessFigures[] = []
  let indices: number[] = []
  let machineBefore = machineCpuSeconds()
  let machineAfter = machineBefore
  let benchCpuBefore = process.cpuUsage()
  let benchCpu = process.cpuUsage(benchCpuBefore)
  let wallSeconds = 1
  let backendLagMaxSeconds: number | undefined
  try {
    watcher = new OutputWatcher(system.logsDir)
    const startedAt = monotonicMs()
    before = system.processFigures()
    machineBefore = machineCpuSeconds()
    benchCpuBefore = process.cpuUsage()
    const sendTimesFile = path.join(runDir, 'send-times.f64')
    const lagSampler = mode === 'open' ? sampleBackendLag(system) : undefined
    load = await runLoad(
      {
        url: system.url,
        eventsFile: ctx.stream.eventsFile,
        lanesFile: ctx.stream.lanesFile,
        mode,
        connections,
        batchLines: BULK_LINES,
        warmupMs:
          (mode === 'bulk' ? BULK_WARMUP_SECONDS : mode === 'open' ? OPEN_WARMUP_SECONDS : WARMUP_SECONDS) *
          1000,
        durationMs: runSeconds * 1000,
        maxEvents,
        rate,
        sendTimesFile,
        singlePath: '/events',
      },
      path.join(runDir, 'load.log'),
    )
    backendLagMaxSeconds = lagSampler?.stop(load.warmupEndMs)
    const w = watcher
    // Standalone: every event reaches the backend. Clustered on routed subjects, only those carrying
    // a SID of a loaded directive do (every non-noise event of the stream; the rest nobody wants).
    indices = sentIndices(ctx.hashes, Math.min(total, maxEvents), load.laneSent)
    const mustProcess =
      kind === 'cluster'
        ? indices.filter((i) => ctx.stream.stream.kinds[i] !== EVENT_KIND.noise).length
        : load.accepted
    await system.waitDrained(
      mustProcess,
      () => monotonicMs() - Math.max(w.lastArrivalMs, startedAt),
      DRAIN_TIMEOUT_MS,
    )
    // The peer has no processed count: its drain ends with its last output line, not the quiet wait.
    const drainedAt = kind === 'peer' ? w.lastArrivalMs : monotonicMs()
    drainSeconds = Math.max(0, (drainedAt - load.endMs) / 1000)
    // The last lines are written a moment after the last event is processed.
    while (monotonicMs() - Math.max(w.lastArrivalMs, startedAt) < OUTPUT_QUIET_MS) await sleep(50)
    after = system.processFigures()
    machineAfter = machineCpuSeconds()
    benchCpu = process.cpuUsage(benchCpuBefore)
    wallSeconds = (monotonicMs() - startedAt) / 1000
  } finally {
    watcher?.close()
    await system.stop()
  }

  if (load.transportErrors > 0) problems.push(`${load.transportErrors} transport errors (${load.firstError})`)
  if (load.accepted !== load.sent) {
    problems.push(`${load.sent - load.accepted} of ${load.sent} events not answered 200 (${load.firstError})`)
  }
  const report = watcher.report()
  if (report.malformedLines > 0) problems.push(`${report.malformedLines} malformed output lines`)
  if (system.correlates) {
    const expected = expectedFileOutcome(ctx.stream.stream, ctx.specs.slice(0, size), indices)
    const diffs = diffFileOutcomes(expected, report.outcome)
    for (const diff of diffs.slice(0, 20)) problems.push(`completeness: ${diff}`)
  }

  let latency: RunResult['latency']
  if (mode === 'open' && system.correlates) {
    const bytes = readFileSync(path.join(runDir, 'send-times.f64'))
    const sendTimes = new Float64Array(new Uint8Array(bytes).buffer)
    latency = watcher.latencies(sendTimes, ctx.stream.indexOfEventId, load.warmupEndMs)
    if (latency.unmatched > 0) problems.push(`${latency.unmatched} output lines name events never sent`)
  }

  // A run leaves up to a few hundred MiB of output behind; deleted before the kernel writes it back
  // (and the rest flushed), the next run does not share the disk and the CPUs with that writeback.
  if (!KEEP) rmSync(runDir, {recursive: true, force: true})
  settleDisk()

  const accepted = load.accepted
  const step = options.step
    ? stepVerdict({
        offeredRate: rate,
        eventsAccepted: accepted,
        elapsedSeconds: load.elapsedSeconds,
        answerP99Ms: load.responseMs?.p99 ?? Number.NaN,
        backendLagMaxSeconds,
        drainSeconds,
        complete: problems.length === 0,
      })
    : undefined
  // Rates over the measured part (after the warm-up); CPU and memory over the whole run.
  const measuredAccepted = load.accepted - load.warmupAccepted
  const measuredSeconds = (load.endMs - load.warmupEndMs) / 1000
  const processes = after.map((figures, i) => {
    const cpu = figures.cpuSeconds - (before[i]?.cpuSeconds ?? 0)
    return {
      ...figures,
      cpuSeconds: round(cpu, 2),
      runQueueWaitSeconds: round(figures.runQueueWaitSeconds - (before[i]?.runQueueWaitSeconds ?? 0), 3),
      cpuMicrosPerEvent: round((cpu * 1e6) / Math.max(1, accepted), 1),
    }
  })
  const benchCpuSeconds = (benchCpu.user + benchCpu.system) / 1e6
  /** A share of all the machine's CPU time during the run, in %. */
  const machineShare = (seconds: number): number =>
    round((100 * seconds) / (wallSeconds * os.cpus().length), 1)
  return {
    system: kind,
    directives: size,
    mode,
    connections,
    offeredRate: mode === 'open' ? round(rate) : undefined,
    peerMaxEps: options.peerMaxEps === undefined ? undefined : Math.round(options.peerMaxEps),
    eventsSent: load.sent,
    eventsAccepted: accepted,
    fileExhausted: load.sent >= total,
    byStatus: load.byStatus,
    runSeconds: round(measuredSeconds, 3),
    drainSeconds: round(drainSeconds, 3),
    acceptedPerSecond: round(measuredAccepted / measuredSeconds),
    eventsPerSecond: round(measuredAccepted / (measuredSeconds + drainSeconds)),
    processes,
    wallSeconds: round(wallSeconds, 2),
    generatorCpuSeconds: round(load.cpuSeconds, 2),
    benchCpuSeconds: round(benchCpuSeconds, 2),
    otherLoadPercent: machineShare(
      Math.max(
        0,
        machineAfter.busy -
          machineBefore.busy -
          processes.reduce((sum, p) => sum + p.cpuSeconds, 0) -
          load.processCpuSeconds -
          benchCpuSeconds,
      ),
    ),
    stolenPercent: machineShare(machineAfter.stolen - machineBefore.stolen),
    scheduleLagMs: load.scheduleLagMs,
    responseMs: load.responseMs,
    latency,
    backendLagMaxSeconds: backendLagMaxSeconds === undefined ? undefined : round(backendLagMaxSeconds, 3),
    step,
    outputs: {
      alarmEventLines: report.alarmEventLines,
      alarmLines: report.alarmLines,
      malformedLines: report.malformedLines,
    },
    complete: problems.length === 0,
    problems,
  }
}

/**
 * Samples the backend's lag every 500 ms (systems without a lag metric answer undefined at once) until
 * stopped; the highest sample from `fromMs` on counts. Stopping does not wait for the loop's sleep,
 * which would otherwise count as drain time.
 */
function sampleBackendLag(system: RunningSystem): {stop(fromMs: number): number | undefined} {
  const samples: {atMs: number; lagSeconds: number}[] = []
  let stopped = false
  void (async () => {
    while (!stopped) {
      const atMs = monotonicMs()
      // A /health answer that does not come within the request's timeout is skipped here: requests
      // waiting that long show up as HTTP answer time.
      const lagSeconds = await system.backendLagSeconds().catch(() => Number.NaN)
      if (lagSeconds === undefined) return
      if (!stopped && !Number.isNaN(lagSeconds)) samples.push({atMs, lagSeconds})
      await sleep(500)
    }
  })()
  return {
    stop(fromMs) {
      stopped = true
      const counted = samples.filter((s) => s.atMs >= fromMs).map((s) => s.lagSeconds)
      return counted.length === 0 ? undefined : Math.max(...counted)
    },
  }
}

/**
 * The run with the median figure among repeats; marked incomplete when any repeat was, so a failed
 * repeat is never hidden behind a good median.
 */
const eventsPerSecond = (r: RunResult): number => r.eventsPerSecond
const p99 = (r: RunResult): number => r.latency?.alarm.p99Ms ?? Number.NaN

function medianRun(runs: readonly RunResult[], figure: (r: RunResult) => number): RunResult | undefined {
  const sorted = [...runs].sort((a, b) => figure(a) - figure(b))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  if (median === undefined) return undefined
  return runs.every((r) => r.complete) ? median : {...median, complete: false}
}

function describeRun(r: RunResult): string {
  const mem = r.processes.map((p) => `${p.name} ${p.peakRssMiB} MiB`).join(', ')
  const cpu = r.processes.map((p) => `${p.name} ${p.cpuMicrosPerEvent} µs`).join(', ')
  let line =
    `  ${r.system.padEnd(10)} ${String(r.directives).padStart(4)} ${r.mode.padEnd(6)} ` +
    `${fmt(r.eventsPerSecond).padStart(8)} ev/s (accepted ${fmt(r.acceptedPerSecond)}/s over ${r.runSeconds} s, ` +
    `drain ${r.drainSeconds} s, ${fmt(r.eventsAccepted)} events${r.fileExhausted ? ', whole file' : ''})  peak RSS ${mem}  CPU/event ${cpu}`
  if (r.mode === 'open') {
    const a = r.latency?.alarm
    line +=
      `\n${' '.repeat(24)}at ${fmt(r.offeredRate ?? 0)} ev/s offered: ` +
      (a === undefined
        ? ''
        : `event→alarm p50 ${a.p50Ms} ms, p99 ${a.p99Ms} ms, p999 ${a.p999Ms} ms, max ${a.maxMs} ms (${fmt(a.samples)} alarm lines); `) +
      `HTTP answer p50 ${round(r.responseMs?.p50 ?? 0, 2)} ms, p99 ${round(r.responseMs?.p99 ?? 0, 2)} ms; send lag p99 ${round(r.scheduleLagMs?.p99 ?? 0, 2)} ms` +
      (r.backendLagMaxSeconds === undefined ? '' : `; backend lag max ${r.backendLagMaxSeconds} s`) +
      `\n${' '.repeat(24)}waiting for a CPU (main thread, share of the run): ` +
      r.processes
        .map((p) => `${p.name} ${round((100 * p.runQueueWaitSeconds) / r.wallSeconds, 1)}%`)
        .join(', ') +
      `; CPU, share of one core: ` +
      [
        ...r.processes.map((p) => `${p.name} ${round((100 * p.cpuSeconds) / r.wallSeconds)}%`),
        `generator ${round((100 * r.generatorCpuSeconds) / r.wallSeconds)}%`,
        `output watcher ${round((100 * r.benchCpuSeconds) / r.wallSeconds)}%`,
      ].join(', ')
  }
  if (r.step !== undefined) {
    line += r.step.passed
      ? `\n${' '.repeat(24)}step kept up with ${fmt(r.offeredRate ?? 0)} ev/s`
      : `\n${' '.repeat(24)}step fell behind ${fmt(r.offeredRate ?? 0)} ev/s: ${r.step.reasons.join('; ')}`
  }
  if (r.mode === 'open' && r.fileExhausted) {
    line += `\n${' '.repeat(24)}warning: the event file ran out, the run was shorter than asked (raise DSIEM_BENCH_EVENTS)`
  }
  if (r.stolenPercent >= 0.5) {
    line += `\n${' '.repeat(24)}note: the hypervisor took ${r.stolenPercent}% of this VM's CPU time during this run (steal)`
  }
  if (r.otherLoadPercent >= 5) {
    line += `\n${' '.repeat(24)}warning: other processes used ${r.otherLoadPercent}% of the machine's CPU during this run`
  }
  line += !r.complete
    ? `\n${' '.repeat(24)}FAILED: ${r.problems.slice(0, 6).join('; ')}`
    : r.system === 'http-floor'
      ? `\n${' '.repeat(24)}complete: every event answered 200 (no outputs: the floor correlates nothing)`
      : `\n${' '.repeat(24)}complete: ${fmt(r.outputs.alarmEventLines)} alarm-event lines, ${fmt(r.outputs.alarmLines)} alarm lines as expected`
  return line
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const benchStart = performance.now()
  const loadAverageStart = os.loadavg()
  ensureBuilt()
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dsiem-bench-serve-'))
  const results: RunResult[] = []
  /** The peer's last passing step per size (its sustained single-event rate). */
  const peerBest = new Map<number, RunResult | undefined>()
  /** Our sustained single-event rate per size: the highest open-loop step that kept up. */
  const sustained = new Map<number, number | undefined>()
  /** The same-run baseline's single-event rates (bare node:http, http-floor-server.ts). */
  let floor: {closedLoop: number; sustained: number | undefined} | undefined
  try {
    const specs = directiveSpecs(Math.max(...SIZES, 100), SEED)
    // The engine benchmark's choice: ten directives of the 100-set carry the matching events.
    const active = new Prng(SEED + 1)
      .sample(specs.slice(0, 100), ACTIVE_DIRECTIVES)
      .sort((a, b) => a.id - b.id)
    const genStart = performance.now()
    const stream = writeWorkload({
      dir: tmp,
      events: EVENTS,
      seed: SEED + 2,
      active,
      matchingShare: MATCHING_SHARE,
      eventsPerSecond: 10_000,
    })
    const hashes = new Uint32Array(new Uint8Array(readFileSync(stream.lanesFile)).buffer)
    settleDisk()
    const configDirs = new Map<number, string>()
    for (const size of SIZES) {
      const dir = path.join(tmp, `config-${size}`)
      writeConfigDir(dir, specs.slice(0, size))
      configDirs.set(size, dir)
    }
    const ctx: Context = {tmp, stream, hashes, specs, configDirs}
    const generateSeconds = (performance.now() - genStart) / 1000
    process.stdout.write(
      `bench:serve — ${fmt(EVENTS)} events (${round(stream.eventsFileBytes / 2 ** 20, 1)} MiB NDJSON) generated in ` +
        `${round(generateSeconds, 1)} s; ${RUN_SECONDS} s runs (latency ${LATENCY_SECONDS} s after ${OPEN_WARMUP_SECONDS} s warm-up); ${CONNECTIONS} connections single-event, ` +
        `${BULK_CONNECTIONS} × ${BULK_LINES}-line bulk${QUICK ? ' (quick)' : ''}\n`,
    )
    const log = (r: RunResult): void => {
      results.push(r)
      process.stdout.write(describeRun(r) + '\n')
    }
    /** REPEATS runs of one case, each logged; the caller takes their median. */
    const repeated = async (
      kind: SystemKind,
      size: number,
      mode: Mode,
      options: {rate?: number; peerMaxEps?: number} = {},
    ): Promise<RunResult[]> => {
      const runs: RunResult[] = []
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        const run = await runCase(ctx, kind, size, mode, {...options, repeat})
        log(run)
        runs.push(run)
      }
      return runs
    }

    let cluster = process.env['DSIEM_BENCH_CLUSTER'] !== '0'
    if (cluster) {
      try {
        findNatsServer()
      } catch {
        cluster = false
        process.stdout.write('no nats-server: the frontend + backend variant is skipped\n')
      }
    }

    /** The sustained rate of a system, searched from the median of its closed-loop runs. */
    const searchSustained = async (kind: SystemKind, size: number, closedLoop: RunResult) =>
      searchSustainedRate(closedLoop.eventsPerSecond, async (offered) => {
        // The floor's top steps (~50k/s) would outrun the event file: they are shortened to fit it.
        const seconds = Math.max(
          1,
          Math.min(STEP_SECONDS, Math.floor(hashes.length / offered - OPEN_WARMUP_SECONDS)),
        )
        const step = await runCase(ctx, kind, size, 'open', {rate: offered, step: true, seconds})
        log(step)
        return step.step!
      })

    if (OPEN_RATE === undefined) {
      const closedLoop = medianRun(await repeated('http-floor', 0, 'single'), eventsPerSecond)!
      floor = {
        closedLoop: closedLoop.eventsPerSecond,
        sustained: await searchSustained('http-floor', 0, closedLoop),
      }
    }
    for (const size of SIZES) {
      if (OPEN_RATE !== undefined) {
        await repeated('standalone', size, 'open', {rate: OPEN_RATE})
        continue
      }
      const closedLoop = medianRun(await repeated('standalone', size, 'single'), eventsPerSecond)!
      log(await runCase(ctx, 'standalone', size, 'bulk'))
      const rate = await searchSustained('standalone', size, closedLoop)
      sustained.set(size, rate)
      if (rate === undefined) {
        process.stdout.write(`  no open-loop step kept up at ${size} directives: no latency runs\n`)
        continue
      }
      await repeated('standalone', size, 'open', {rate: rate / 2})
    }
    if (cluster && OPEN_RATE === undefined) {
      for (const size of SIZES) {
        log(await runCase(ctx, 'cluster', size, 'single'))
        log(await runCase(ctx, 'cluster', size, 'bulk'))
      }
    }
    if (PEER_BIN !== '') {
      for (const [k, size] of SIZES.entries()) {
        let offered = PEER_START_EPS[Math.min(k, PEER_START_EPS.length - 1)]!
        let best: RunResult | undefined
        for (let step = 0; step < PEER_MAX_STEPS; step++) {
          const run = await runCase(ctx, 'peer', size, 'single', {
            peerMaxEps: offered,
            seconds: PEER_STEP_SECONDS,
          })
          const passed = run.complete && run.acceptedPerSecond >= 0.97 * offered
          if (!passed && run.complete)
            run.problems.push(`accepted ${run.acceptedPerSecond}/s of ${offered}/s offered`)
          log(run)
          if (!passed) break
          best = run
          offered = Math.round(offered * 1.5)
        }
        peerBest.set(size, best)
        if (best !== undefined) {
          const rate = best.eventsPerSecond / 2
          await repeated('peer', size, 'open', {rate, peerMaxEps: rate})
        }
      }
    } else {
      process.stdout.write('no peer: set DSIEM_PEER_BIN to an upstream Go dsiem binary to compare\n')
    }
  } finally {
    if (KEEP) process.stdout.write(`run files kept in ${tmp}\n`)
    else rmSync(tmp, {recursive: true, force: true})
  }

  const find = (system: SystemKind, size: number, mode: Mode): RunResult | undefined =>
    results.find((r) => r.system === system && r.directives === size && r.mode === mode)
  /** The median of the repeated runs of a case (steps of the sustained-rate search left out). */
  const medianOf = (system: SystemKind, size: number, mode: Mode, figure: (r: RunResult) => number) =>
    medianRun(
      results.filter(
        (r) => r.system === system && r.directives === size && r.mode === mode && r.step === undefined,
      ),
      figure,
    )
  const goals: {goal: string; target: string; value: number; pass: boolean}[] = []
  for (const size of SIZES) {
    const closedLoop = medianOf('standalone', size, 'single', eventsPerSecond)
    const bulk = find('standalone', size, 'bulk')
    const open = medianOf('standalone', size, 'open', p99)
    if (GOALS.single[size] !== undefined && closedLoop !== undefined) {
      const rate = sustained.get(size) ?? 0
      const steps = results.filter(
        (r) => r.system === 'standalone' && r.directives === size && r.step !== undefined,
      )
      goals.push({
        goal:
          `G2 sustained single-event events/s at ${size} directives (highest open-loop step that kept up; ` +
          `closed loop ${fmt(closedLoop.eventsPerSecond)}, median of ${REPEATS} runs)`,
        target: `>= ${fmt(GOALS.single[size])}`,
        value: rate,
        pass: closedLoop.complete && steps.every((r) => r.complete) && rate >= GOALS.single[size],
      })
    }
    if (GOALS.bulk[size] !== undefined && bulk !== undefined) {
      goals.push({
        goal: `G3 bulk events/s at ${size} directives`,
        target: `>= ${fmt(GOALS.bulk[size])}`,
        value: bulk.eventsPerSecond,
        pass: bulk.complete && bulk.eventsPerSecond >= GOALS.bulk[size],
      })
    }
    if (open?.latency !== undefined) {
      goals.push({
        goal: `G5 event→alarm p99 at half the sustained rate, ${size} directives (median of ${REPEATS} runs)`,
        target: `<= ${GOALS.p99Ms} ms`,
        value: open.latency.alarm.p99Ms,
        pass: open.complete && open.latency.alarm.p99Ms <= GOALS.p99Ms,
      })
    }
  }

  /** Ours against the same-run node:http floor (what is left of the bare server's single-event rate). */
  const floorRatios: {figure: string; directives: number; ours: number; floor: number; ratio: number}[] = []
  for (const size of SIZES) {
    const closedLoop = medianOf('standalone', size, 'single', eventsPerSecond)?.eventsPerSecond
    const rate = sustained.get(size)
    for (const [figure, ours, base] of [
      ['closed-loop single-event events/s', closedLoop, floor?.closedLoop],
      ['sustained single-event events/s', rate, floor?.sustained],
    ] as const) {
      if (ours === undefined || base === undefined) continue
      floorRatios.push({figure, directives: size, ours, floor: base, ratio: round(ours / base, 2)})
    }
  }

  const ratios: {figure: string; directives: number; ours: number; upstream: number; ratio: number}[] = []
  for (const size of SIZES) {
    const peerSingle = peerBest.get(size)
    const oursSingle = sustained.get(size)
    if (peerSingle !== undefined && oursSingle !== undefined) {
      ratios.push({
        figure: 'sustained single-event events/s',
        directives: size,
        ours: oursSingle,
        upstream: peerSingle.eventsPerSecond,
        ratio: round(oursSingle / peerSingle.eventsPerSecond, 2),
      })
    }
    const peerOpen = medianOf('peer', size, 'open', p99)
    const oursOpen = medianOf('standalone', size, 'open', p99)
    if (peerOpen?.latency !== undefined && oursOpen?.latency !== undefined) {
      for (const key of ['p50Ms', 'p99Ms'] as const) {
        ratios.push({
          figure: `event→alarm ${key.slice(0, 3)} ms (each at half its own rate)`,
          directives: size,
          ours: oursOpen.latency.alarm[key],
          upstream: peerOpen.latency.alarm[key],
          ratio: round(oursOpen.latency.alarm[key] / peerOpen.latency.alarm[key], 2),
        })
      }
    }
  }

  // The peer's runs inform; only ours decide the exit status (a failing step ends the peer's search).
  const complete = results.every((r) => r.complete || r.system === 'peer')
  const report = {
    benchmark: 'serve',
    date: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: {
      start: loadAverageStart.map((v) => round(v, 2)),
      end: os.loadavg().map((v) => round(v, 2)),
    },
    config: {
      seed: SEED,
      events: EVENTS,
      quick: QUICK,
      runSeconds: RUN_SECONDS,
      latencyRun: {seconds: LATENCY_SECONDS, warmupSeconds: OPEN_WARMUP_SECONDS},
      sustainedRate: {
        method:
          'open-loop steps at 0.6, 0.7, ... 1.0 x the closed-loop rate (down from 0.6 when it fails); a step ' +
          'keeps up when >= 99% of the offered rate was accepted, HTTP answer p99 < 1 s, the backend lag ' +
          'sampled from /health every 0.5 s < 1 s, the drain < 1 s and the outputs complete',
        stepSeconds: STEP_SECONDS,
        warmupSeconds: OPEN_WARMUP_SECONDS,
        perSize: Object.fromEntries([...sustained].map(([size, rate]) => [size, rate ?? null])),
      },
      floor: {
        server: 'bench/lib/http-floor-server.ts: node:http, JSON.parse of each body, empty 200 answer',
        closedLoop: floor?.closedLoop ?? null,
        sustained: floor?.sustained ?? null,
      },
      connections: CONNECTIONS,
      bulk: {connections: BULK_CONNECTIONS, linesPerRequest: BULK_LINES},
      activeDirectives: ACTIVE_DIRECTIVES,
      matchingShare: MATCHING_SHARE,
      server:
        'node bin/run.js serve --role standalone --address 127.0.0.1 --maxEPS 100000000 --minEPS 0 --maxDelay 0',
      peer:
        PEER_BIN === ''
          ? null
          : {
              bin: PEER_BIN,
              startEpsPerSize: PEER_START_EPS,
              stepSeconds: PEER_STEP_SECONDS,
              method: 'maxEPS = minEPS = offered rate, raised x1.5 per passing step',
              sustained: Object.fromEntries(
                [...peerBest].map(([size, r]) => [size, r?.eventsPerSecond ?? null]),
              ),
            },
      rate: 'eventsPerSecond = accepted / (run + drain), end to end; acceptedPerSecond = accepted / run',
      latency:
        'monotonic clock shared by all processes; send time taken by the generator when it issues the request; ' +
        'arrival = when the bench read the line (inotify + 2 ms poll)',
    },
    totalSeconds: round((performance.now() - benchStart) / 1000, 1),
    results,
    goals,
    floorRatios,
    ratios,
    verification: {
      ok: complete,
      failures: results
        .filter((r) => !r.complete && r.system !== 'peer')
        .map((r) => `${r.system}-${r.directives}-${r.mode}: ${r.problems.join('; ')}`),
      peerFailures: results
        .filter((r) => !r.complete && r.system === 'peer')
        .map((r) => `${r.directives}-${r.mode}@${r.peerMaxEps}: ${r.problems.join('; ')}`),
    },
  }
  const outDir = path.join(REPO, 'bench', 'results')
  mkdirSync(outDir, {recursive: true})
  const outFile = path.join(outDir, 'serve.json')
  writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n')

  const lines = [
    '',
    `${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}; load average ${report.loadAverage.start[0]} → ${report.loadAverage.end[0]}`,
    ...goals.map(
      (g) => `${g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.value.toLocaleString('en-US')} (${g.target})`,
    ),
    ...(floor === undefined
      ? []
      : [
          `node:http floor (JSON.parse, empty 200), same run: closed loop ${fmt(floor.closedLoop)} ev/s, sustained ${floor.sustained === undefined ? 'none' : fmt(floor.sustained)} ev/s`,
        ]),
    ...floorRatios.map(
      (r) =>
        `ours/floor ${r.figure} at ${r.directives}: ${r.ours.toLocaleString('en-US')} / ${r.floor.toLocaleString('en-US')} = ${r.ratio}`,
    ),
    ...[...peerBest].map(([size, best]) =>
      best === undefined
        ? `upstream at ${size} directives: failed already at the first step (${fmt(PEER_START_EPS[SIZES.indexOf(size)] ?? PEER_START_EPS.at(-1)!)} ev/s); no ratio`
        : `upstream at ${size} directives sustains ${fmt(best.eventsPerSecond)} ev/s single-event (maxEPS ${fmt(best.peerMaxEps ?? 0)}; the next step failed)`,
    ),
    ...ratios.map(
      (r) =>
        `ours/upstream ${r.figure} at ${r.directives}: ${r.ours.toLocaleString('en-US')} / ${r.upstream.toLocaleString('en-US')} = ${r.ratio}`,
    ),
    complete
      ? `verified: all ${results.filter((r) => r.system !== 'peer' && r.system !== 'http-floor').length} runs of ours wrote exactly the expected alarm-event and alarm lines`
      : `VERIFICATION FAILED:\n  ${report.verification.failures.join('\n  ')}`,
    `${report.totalSeconds} s in all; written to ${path.relative(process.cwd(), outFile)}`,
  ]
  process.stdout.write(lines.join('\n') + '\n')
  if (!complete) process.exitCode = 1
}

await main()
