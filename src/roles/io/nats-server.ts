// Finds and runs a real nats-server process: the test suites start one per suite, and `dsiem cluster up`
// starts one when the layout says `embedded`. Modelled on nats.js's own test launcher: a config with a
// random loopback port (`-1`) and `ports_file_dir`, wait for the ports file, probe the TCP port, and
// fail fast with the server's own words when it exits early.

import {EnvironmentError} from '../../engine/index.js'
import {spawn, type ChildProcess} from 'node:child_process'
import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import {connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Logger} from './log.js'

export const NATS_SERVER_INSTRUCTION =
  'nats-server not found: install it (apt-get install nats-server) or set DSIEM_NATS_SERVER'

/** Where distribution packages (Debian's nats-server) and manual installs put the binary. */
export const NATS_SERVER_FALLBACK_PATHS: readonly string[] = [
  '/usr/sbin/nats-server',
  '/usr/local/bin/nats-server',
]

export interface FindNatsServerOptions {
  env?: NodeJS.ProcessEnv
  /** Checked after PATH (tests replace them to simulate a machine without nats-server). */
  fallbackPaths?: readonly string[]
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The nats-server binary: `DSIEM_NATS_SERVER`, then PATH, then the usual install locations. */
export function findNatsServer(options: FindNatsServerOptions = {}): string {
  const env = options.env ?? process.env
  const explicit = env['DSIEM_NATS_SERVER']
  if (explicit !== undefined && explicit !== '') {
    // An explicit choice that does not work is an error, not a reason to pick some other binary.
    if (isExecutableFile(explicit)) return explicit
    throw new EnvironmentError(
      `DSIEM_NATS_SERVER=${explicit} is not an executable file`,
      'DSIEM_E_NATS_SERVER',
      {
        hint: 'point DSIEM_NATS_SERVER at the nats-server binary, or unset it',
      },
    )
  }
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue
    const candidate = path.join(dir, 'nats-server')
    if (isExecutableFile(candidate)) return candidate
  }
  for (const candidate of options.fallbackPaths ?? NATS_SERVER_FALLBACK_PATHS) {
    if (isExecutableFile(candidate)) return candidate
  }
  throw new EnvironmentError(NATS_SERVER_INSTRUCTION, 'DSIEM_E_NATS_SERVER_MISSING')
}

export interface NatsServerOptions {
  /** Fixed client port; default: a random free port chosen by the server itself (`-1`). */
  port?: number
  /** Listen address; default 127.0.0.1 (a cluster spanning hosts passes 0.0.0.0). */
  host?: string
  /** JetStream store directory (implies jetstream); default: inside the server's own temp dir. */
  storeDir?: string
  jetstream?: boolean
  /** The server's log lines go here at debug level. */
  log?: Logger
  /** Binary to run; default findNatsServer(). */
  binary?: string
  /** How long to wait for the server to accept connections; default 10 s. */
  startTimeoutMs?: number
}

export interface RunningNatsServer {
  /** `nats://<host>:<port>` as clients should dial it. */
  readonly url: string
  readonly port: number
  readonly pid: number
  /** SIGTERM, SIGKILL after 5 s, then removes the server's temp dir; idempotent. */
  stop(): Promise<void>
}

const STDERR_TAIL_CHARS = 4000

function quote(value: string): string {
  // nats-server's config format takes JSON-style double-quoted strings.
  return JSON.stringify(value)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function probeTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({host, port})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<RunningNatsServer> {
  const binary = options.binary ?? findNatsServer()
  const host = options.host ?? '127.0.0.1'
  const workDir = mkdtempSync(path.join(tmpdir(), 'dsiem-nats-'))
  const jetstream = options.jetstream === true || options.storeDir !== undefined
  const lines = [
    `listen: ${quote(`${host}:${options.port ?? -1}`)}`,
    `ports_file_dir: ${quote(workDir)}`,
    // No HTTP monitoring port: it would be one more port to collide on.
  ]
  if (jetstream) {
    lines.push(`jetstream: {store_dir: ${quote(options.storeDir ?? path.join(workDir, 'jetstream'))}}`)
  }
  const configFile = path.join(workDir, 'nats-server.conf')
  writeFileSync(configFile, lines.join('\n') + '\n')

  const child = spawn(binary, ['-c', configFile], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderrTail = ''
  let partialLine = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS)
    if (options.log === undefined) return
    const parts = (partialLine + chunk).split('\n')
    partialLine = parts.pop() ?? ''
    for (const line of parts) if (line !== '') options.log.debug('nats-server', {line})
  })
  let spawnError: Error | undefined
  child.once('error', (error) => {
    spawnError = error
  })
  const exitedPromise = new Promise<void>((resolve) => child.once('close', () => resolve()))

  const cleanup = (): void => rmSync(workDir, {recursive: true, force: true})
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!exited(child) && spawnError === undefined) {
        child.kill('SIGTERM')
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exitedPromise
        clearTimeout(killTimer)
      }
      cleanup()
    })())

  const failure = (what: string): EnvironmentError => {
    const tail = stderrTail.trim()
    return new EnvironmentError(
      `nats-server (${binary}) ${what}${tail === '' ? '' : `: ${tail.split('\n').slice(-5).join(' | ')}`}`,
      'DSIEM_E_NATS_SERVER_START',
    )
  }

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000)
  // nats-server names the file `<argv0 basename>_<pid>.ports`; any .ports file in our private dir is
  // ours, which also covers a wrapper script whose pid differs from the server's.
  const portsFile = (): string | undefined => {
    const name = readdirSync(workDir).find((f) => f.endsWith('.ports'))
    return name === undefined ? undefined : path.join(workDir, name)
  }
  let port: number | undefined
  try {
    for (;;) {
      if (spawnError !== undefined) throw failure(`could not be started (${spawnError.message})`)
      if (exited(child)) {
        await exitedPromise // the last stderr bytes arrive before 'close'
        throw failure(`exited (code ${child.exitCode ?? child.signalCode}) before accepting connections`)
      }
      if (Date.now() > deadline) throw failure('did not accept connections in time')
      if (port === undefined) port = readPort(portsFile())
      if (port !== undefined && (await probeTcp(host === '0.0.0.0' ? '127.0.0.1' : host, port))) break
      await sleep(20)
    }
  } catch (error) {
    await stop()
    throw error
  }
  const dialHost = host === '0.0.0.0' ? '127.0.0.1' : host
  return {url: `nats://${dialHost}:${port}`, port, pid: child.pid!, stop}
}

/** The client port from nats-server's ports file (`{"nats":["nats://127.0.0.1:4222"], ...}`). */
function readPort(file: string | undefined): number | undefined {
  if (file === undefined) return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined // not written yet
  }
  try {
    const parsed = JSON.parse(text) as {nats?: unknown}
    const first = Array.isArray(parsed.nats) ? parsed.nats[0] : undefined
    if (typeof first !== 'string') return undefined
    const port = Number(new URL(first).port)
    return Number.isInteger(port) && port > 0 ? port : undefined
  } catch {
    return undefined // partially written
  }
}
