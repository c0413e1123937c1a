// Starting and stopping the systems `bench:serve` measures, each as real processes on 127.0.0.1:
//
// - ours, standalone: `node bin/run.js serve --role standalone` (frontend + backend, in-memory bus);
// - ours, clustered:  a frontend and a backend process over a real nats-server (routed subjects);
// - the floor:        bare node:http that parses each event and answers 200 (http-floor-server.ts),
//                     the same-run baseline of the single-event rates;
// - the peer:         an upstream Go dsiem binary (DSIEM_PEER_BIN) in standalone mode, run from a
//                     directory of its own laid out as it expects: <dir>/dsiem, <dir>/configs/ (the same
//                     files ours reads), outputs in <dir>/logs/.
//
// No EPS limiter for ours (--minEPS 0 turns it off; --maxEPS stays high because the backend needs it
// ≥ 1) and no overload probe (--maxDelay 0). The peer gets --maxEPS = the rate it is offered, because
// upstream gives each directive 0.9 / maxEPS seconds per event and silently skips the directives that
// miss it (performance notes §1.1): a high maxEPS would measure a dsiem that skips work.

import type {ChildProcess} from 'node:child_process'
import {copyFileSync, cpSync, mkdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {request} from 'undici'
import {startNatsServer, type RunningNatsServer} from '../../src/roles/io/nats-server.js'
import {
  cpuSecondsOf,
  runQueueWaitSecondsOf,
  freePort,
  hasExited,
  memoryOf,
  sleep,
  spawnLogged,
  stopProcess,
  waitFor,
  type MemoryFigures,
} from './serve-proc.js'
import {BENCH_NODE} from './serve-workload.js'

export type SystemKind = 'standalone' | 'cluster' | 'peer' | 'http-floor'

export interface ProcessFigures extends MemoryFigures {
  readonly name: string
  readonly cpuSeconds: number
  /** The main thread's time runnable but waiting for a CPU, so far. */
  readonly runQueueWaitSeconds: number
}

export interface RunningSystem {
  readonly kind: SystemKind
  readonly url: string
  readonly logsDir: string
  readonly logFile: string
  /** Writes alarms (the floor does not: its runs have no outputs to check and no latency). */
  readonly correlates: boolean
  /**
   * Resolves once the backend processed `mustProcess` events with nothing queued (ours: /health), or
   * once the outputs stayed unchanged for a while (the peer, which has no such figures).
   */
  waitDrained(mustProcess: number, outputsQuietForMs: () => number, timeoutMs: number): Promise<void>
  /** The backend's lag metric now, in seconds (ours: /health; undefined for the peer, which has none). */
  backendLagSeconds(): Promise<number | undefined>
  /** CPU seconds so far and memory, per process. */
  processFigures(): ProcessFigures[]
  stop(): Promise<void>
}

interface Health {
  roles?: {role?: string; detail?: Record<string, unknown>}[]
}

async function getJson(url: string): Promise<unknown> {
  const response = await request(url, {method: 'GET', headersTimeout: 2000, bodyTimeout: 2000})
  const text = await response.body.text()
  return JSON.parse(text) as unknown
}

/** What /proc says about one process of a system so far. */
function figuresOf(name: string, pid: number): ProcessFigures {
  return {
    name,
    cpuSeconds: cpuSecondsOf(pid),
    runQueueWaitSeconds: runQueueWaitSecondsOf(pid),
    ...(memoryOf(pid) ?? {rssMiB: 0, peakRssMiB: 0}),
  }
}

function detailOf(health: Health, role: string): Record<string, unknown> {
  return health.roles?.find((r) => r.role === role)?.detail ?? {}
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN)

async function waitHealthy(
  url: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    `${url}/health`,
    async () => {
      if (hasExited(child)) throw new Error(`bench: server exited during start-up; see ${logFile}`)
      try {
        const response = await request(`${url}/health`, {method: 'GET', headersTimeout: 1000})
        await response.body.dump()
        return response.statusCode === 200 ? true : undefined
      } catch {
        return undefined
      }
    },
    timeoutMs,
    100,
  )
}

/** Waits for the server to answer /health; stops it when it does not. */
async function waitHealthyOrStop(url: string, child: ChildProcess, logFile: string): Promise<void> {
  try {
    await waitHealthy(url, child, logFile)
  } catch (error) {
    await stopProcess(child)
    throw error
  }
}

/** Fails when a process of the system died during the run (a crash must not pass as a slow drain). */
function assertAlive(children: readonly {name: string; child: ChildProcess}[], logFile: string): void {
  for (const {name, child} of children) {
    if (hasExited(child)) throw new Error(`bench: ${name} exited (code ${child.exitCode}); see ${logFile}`)
  }
}

export interface OursOptions {
  readonly repo: string
  readonly configDir: string
  /** Per-run directory: data dir(s), logs. */
  readonly runDir: string
  readonly cpuProfileDir?: string | undefined
  /** Extra node flags for our server processes (e.g. --trace-gc). */
  readonly nodeFlags?: readonly string[] | undefined
}

function serveArgs(options: OursOptions, extra: readonly string[]): string[] {
  const node = [
    ...(options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]),
    ...(options.nodeFlags ?? []),
  ]
  return [
    ...node,
    path.join(options.repo, 'bin', 'run.js'),
    'serve',
    '--address',
    '127.0.0.1',
    '--maxEPS',
    '100000000',
    '--minEPS',
    '0',
    '--maxDelay',
    '0',
    ...extra,
  ]
}

/** The lag the backend behind `url` reports on /health. */
function backendLag(url: string): () => Promise<number | undefined> {
  return async () => {
    const lag = num(detailOf((await getJson(`${url}/health`)) as Health, 'backend')['lagSeconds'])
    return Number.isNaN(lag) ? undefined : lag
  }
}

/** Waits until the backend behind `url` has processed `mustProcess` events and its queue is empty. */
function backendDrained(
  url: string,
  children: readonly {name: string; child: ChildProcess}[],
  logFile: string,
): (mustProcess: number, outputsQuietForMs: () => number, timeoutMs: number) => Promise<void> {
  return (mustProcess, _quiet, timeoutMs) =>
    waitFor(
      'the backend to process every event sent its way',
      async () => {
        assertAlive(children, logFile)
        const health = (await getJson(`${url}/health`)) as Health
        const backend = detailOf(health, 'backend')
        return num(backend['processed']) >= mustProcess && num(backend['queueDepth']) === 0 ? true : undefined
      },
      timeoutMs,
      20,
    ).then(() => undefined)
}

export async function startStandalone(options: OursOptions): Promise<RunningSystem> {
  const dataDir = path.join(options.runDir, 'data')
  mkdirSync(dataDir, {recursive: true})
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const logFile = path.join(options.runDir, 'server.log')
  const child = spawnLogged(
    process.execPath,
    serveArgs(options, [
      '--role',
      'standalone',
      '--port',
      String(port),
      '--config-dir',
      options.configDir,
      '--data-dir',
      dataDir,
    ]),
    {cwd: options.repo, logFile},
  )
  const children = [{name: 'dsiem standalone', child}]
  await waitHealthyOrStop(url, child, logFile)
  return {
    kind: 'standalone',
    url,
    correlates: true,
    logsDir: path.join(dataDir, 'logs'),
    logFile,
    waitDrained: backendDrained(url, children, logFile),
    backendLagSeconds: backendLag(url),
    processFigures: () => [figuresOf('dsiem', child.pid!)],
    stop: () => stopProcess(child),
  }
}

export async function startCluster(options: OursOptions): Promise<RunningSystem> {
  const nats: RunningNatsServer = await startNatsServer()
  const feData = path.join(options.runDir, 'frontend-data')
  const beData = path.join(options.runDir, 'backend-data')
  const beConfig = path.join(options.runDir, 'backend-config')
  for (const dir of [feData, beData, beConfig]) mkdirSync(dir, {recursive: true})
  const fePort = await freePort()
  const bePort = await freePort()
  const url = `http://127.0.0.1:${fePort}`
  const beUrl = `http://127.0.0.1:${bePort}`
  const logFile = path.join(options.runDir, 'server.log')
  const common = ['--nats-url', nats.url, '--bus', 'routed']
  const frontend = spawnLogged(
    process.execPath,
    serveArgs(options, [
      '--role',
      'frontend',
      '--node',
      'bench-frontend',
      '--port',
      String(fePort),
      '--config-dir',
      options.configDir,
      '--data-dir',
      feData,
      ...common,
    ]),
    {cwd: options.repo, logFile},
  )
  const children: {name: string; child: ChildProcess}[] = [{name: 'dsiem frontend', child: frontend}]
  const stopAll = async (): Promise<void> => {
    for (const {child} of [...children].reverse()) await stopProcess(child)
    await nats.stop()
  }
  try {
    // The frontend answers /health 503 until a backend announces itself: wait for the port only.
    await waitFor(
      'the frontend to listen',
      async () => {
        assertAlive(children, logFile)
        try {
          const response = await request(`${url}/health`, {method: 'GET', headersTimeout: 1000})
          await response.body.dump()
          return true
        } catch {
          return undefined
        }
      },
      30_000,
      100,
    )
    const backend = spawnLogged(
      process.execPath,
      serveArgs(options, [
        '--role',
        'backend',
        '--node',
        BENCH_NODE,
        '--frontend',
        url,
        '--port',
        String(bePort),
        '--config-dir',
        beConfig,
        '--data-dir',
        beData,
        ...common,
      ]),
      {cwd: options.repo, logFile},
    )
    children.push({name: 'dsiem backend', child: backend})
    await waitHealthy(beUrl, backend, logFile)
    await waitHealthy(url, frontend, logFile)
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    kind: 'cluster',
    url,
    correlates: true,
    logsDir: path.join(beData, 'logs'),
    logFile,
    waitDrained: backendDrained(beUrl, children, logFile),
    backendLagSeconds: backendLag(beUrl),
    processFigures: () => [
      ...children.map(({name, child}) => figuresOf(name.replace('dsiem ', ''), child.pid!)),
      figuresOf('nats-server', nats.pid),
    ],
    stop: stopAll,
  }
}

export interface PeerOptions {
  readonly bin: string
  readonly configDir: string
  readonly runDir: string
  readonly maxEps: number
}

/** How long the peer's outputs must stay unchanged before its run counts as drained. */
const PEER_QUIET_MS = 3000

export async function startPeer(options: PeerOptions): Promise<RunningSystem> {
  // Upstream reads <dir of the executable>/configs and writes <dir>/logs: a copy of the binary (not a
  // symlink, which Go resolves to the original's directory) in a directory of its own.
  const root = path.join(options.runDir, 'peer')
  rmSync(root, {recursive: true, force: true})
  mkdirSync(root, {recursive: true})
  const bin = path.join(root, 'dsiem')
  copyFileSync(options.bin, bin)
  cpSync(options.configDir, path.join(root, 'configs'), {recursive: true})
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const logFile = path.join(options.runDir, 'peer.log')
  const maxEps = String(Math.max(1, Math.round(options.maxEps)))
  const child = spawnLogged(
    bin,
    [
      'serve',
      '--mode',
      'standalone',
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--maxEPS',
      maxEps,
      '--minEPS',
      maxEps,
      '--maxDelay',
      '0',
    ],
    {cwd: root, logFile},
  )
  const children = [{name: 'upstream dsiem', child}]
  try {
    // Upstream has no /health; its config listing answers once the HTTP server is up.
    await waitFor(
      'the peer to listen',
      async () => {
        assertAlive(children, logFile)
        try {
          const response = await request(`${url}/config/`, {method: 'GET', headersTimeout: 1000})
          await response.body.dump()
          return true
        } catch {
          return undefined
        }
      },
      30_000,
      100,
    )
    await sleep(500)
  } catch (error) {
    await stopProcess(child)
    throw error
  }
  return {
    kind: 'peer',
    url,
    correlates: true,
    logsDir: path.join(root, 'logs'),
    logFile,
    waitDrained: (_mustProcess, quietForMs, timeoutMs) =>
      waitFor(
        "the peer's outputs to settle",
        () => {
          assertAlive(children, logFile)
          return quietForMs() >= PEER_QUIET_MS ? true : undefined
        },
        timeoutMs,
        100,
      ).then(() => undefined),
    backendLagSeconds: async () => undefined,
    processFigures: () => [figuresOf('dsiem (Go)', child.pid!)],
    stop: () => stopProcess(child),
  }
}

/** The floor: bare node:http, one JSON.parse per event, nothing else (http-floor-server.ts). */
export async function startHttpFloor(options: {repo: string; runDir: string}): Promise<RunningSystem> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const logFile = path.join(options.runDir, 'http-floor.log')
  const logsDir = path.join(options.runDir, 'logs')
  mkdirSync(logsDir, {recursive: true})
  const child = spawnLogged(
    process.execPath,
    ['--import', 'tsx', path.join(options.repo, 'bench', 'lib', 'http-floor-server.ts'), String(port)],
    {
      cwd: options.repo,
      env: {...process.env, TSX_TSCONFIG_PATH: path.join(options.repo, 'test', 'tsconfig.json')},
      logFile,
    },
  )
  await waitHealthyOrStop(url, child, logFile)
  return {
    kind: 'http-floor',
    url,
    correlates: false,
    logsDir,
    logFile,
    // Nothing is queued behind an answer: every event was parsed before it was answered.
    waitDrained: async () => assertAlive([{name: 'http floor', child}], logFile),
    backendLagSeconds: async () => undefined,
    processFigures: () => [figuresOf('node:http', child.pid!)],
    stop: () => stopProcess(child),
  }
}
