// End-to-end plumbing for test/e2e/: `dsiem serve` in-process (startServe with a temp config and data
// dir) or as the user runs it (a child process of the built CLI), events over HTTP, the outputs read
// back, and cleanup that runs even when a test fails.

import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {formatRfc3339} from '../../src/engine/index.js'
import {isRunningBackend, type RunningBackend} from '../../src/roles/backend.js'
import type {RunningFrontend} from '../../src/roles/frontend.js'
import {startServe, type RunningServe, type ServeOptions} from '../../src/roles/index.js'
import {startNatsServer, type RunningNatsServer} from '../../src/roles/io/nats-server.js'
import {validateServeConfig, type ServeConfig} from '../../src/roles/serve-config.js'
import {serveConfig as rigServeConfig} from '../roles/backend-rig.js'
import {LAN_ASSETS, PING_FLOOD_DIRECTIVE, writeConfigDir} from './config-fixtures.js'
import {LogCapture, send, type WireResponse} from './frontend-harness.js'
import {freePort} from './nats.js'
import {REPO_ROOT} from './paths.js'

export {waitFor} from './nats.js'
export {freePort, LogCapture, send}

/** Temp directories and stoppers registered by a suite, undone by `cleanup()` in its `after` hook. */
export class Cleanup {
  private readonly tasks: (() => unknown)[] = []

  dir(prefix: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), prefix))
    this.tasks.push(() => rmSync(dir, {recursive: true, force: true}))
    return dir
  }

  add(task: () => unknown): void {
    this.tasks.push(task)
  }

  /** Runs every task, newest first; failures are collected and thrown together at the end. */
  async run(): Promise<void> {
    const errors: unknown[] = []
    for (const task of this.tasks.splice(0).reverse()) {
      try {
        await task()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed')
  }
}

/** A nats-server for one test or suite, stopped by `cleanup`. */
export async function natsServer(cleanup: Cleanup): Promise<RunningNatsServer> {
  const nats = await startNatsServer()
  cleanup.add(() => nats.stop())
  return nats
}

/** A frontend's config dir (a fresh `prefix` temp dir): Ping Flood for dsiem-backend-0, LAN_ASSETS. */
export function frontendConfigDir(cleanup: Cleanup, prefix: string): string {
  return writeConfigDir({
    dir: cleanup.dir(prefix),
    directives: [PING_FLOOD_DIRECTIVE],
    directivesFile: 'directives_dsiem-backend-0_ping.json',
    assets: LAN_ASSETS,
  })
}

/** A ServeConfig as `dsiem serve` builds it from its flag defaults, checked by the same validation. */
export function serveConfig(
  fields: Partial<ServeConfig> & {configDir: string; dataDir: string},
): ServeConfig {
  return validateServeConfig(rigServeConfig({address: '127.0.0.1', ...fields}))
}

export interface Served {
  readonly serve: RunningServe
  readonly base: string
  readonly logs: LogCapture
  readonly config: ServeConfig
  backend(): RunningBackend
  /** The backend's status detail (asked from its thread in standalone). */
  backendDetail(): Promise<Readonly<Record<string, unknown>>>
  frontend(): RunningFrontend
}

/** startServe on a free port with captured logs; stopped by `cleanup`. */
export async function serve(
  cleanup: Cleanup,
  config: ServeConfig,
  options: Omit<ServeOptions, 'log'> = {},
): Promise<Served> {
  const logs = new LogCapture()
  // Port 0 is refused by validateServeConfig (as by the CLI) but startServe binds a free one with it.
  const running = await startServe({...config, port: 0}, {...options, log: logs.logger})
  cleanup.add(() => running.stop())
  return {
    serve: running,
    base: `http://127.0.0.1:${running.port}`,
    logs,
    config,
    backend: () => {
      const role = running.roles.find(isRunningBackend)
      if (role === undefined) throw new Error('no backend role in this serve')
      return role
    },
    backendDetail: async () => {
      const role = running.roles.find(isRunningBackend)
      if (role === undefined) throw new Error('no backend role in this serve')
      return (await role.status()).detail
    },
    frontend: () => {
      const role = running.roles.find((r) => r.name === 'frontend')
      if (role === undefined) throw new Error('no frontend role in this serve')
      return role as RunningFrontend
    },
  }
}

/** POST one event (an object, sent as JSON, or raw text). */
export function postEvent(base: string, event: unknown): Promise<WireResponse> {
  const body = typeof event === 'string' ? event : JSON.stringify(event)
  return send(base, 'POST', '/events', body, {'content-type': 'application/json'})
}

/** Posts events one after the other, failing on the first answer that is not 200. */
export async function postAll(base: string, events: readonly unknown[]): Promise<void> {
  for (const event of events) {
    const response = await postEvent(base, event)
    if (response.status !== 200) {
      throw new Error(`POST /events answered ${response.status} ${JSON.stringify(response.body)}`)
    }
  }
}

export interface EventFields {
  pluginId?: number
  pluginSid?: number
  srcIp?: string
  dstIp?: string
  product?: string
  category?: string
  /** Seconds added to the base time, which is 300 s ago so no stage expires during a test. */
  offset?: number
}

/** A normalized event body as Logstash posts it; by default a Ping Flood ping from the Firewall. */
export function eventBody(eventId: string, fields: EventFields = {}): Record<string, unknown> {
  const base = Math.floor(Date.now() / 1000) - 300
  const body: Record<string, unknown> = {
    event_id: eventId,
    timestamp: formatRfc3339(base + (fields.offset ?? 0)),
    sensor: 'sensor1',
    plugin_id: fields.pluginId ?? 1001,
    plugin_sid: fields.pluginSid ?? 2100384,
    src_ip: fields.srcIp ?? '192.168.0.1',
    dst_ip: fields.dstIp ?? '8.8.8.8',
    protocol: 'ICMP',
  }
  if (fields.product !== undefined) body['product'] = fields.product
  if (fields.category !== undefined) body['category'] = fields.category
  return body
}

export interface AlarmEventLine {
  alarm_id: string
  stage: number
  event_id: string
}

/** An alarm without what differs between runs of the same event stream: its id and the times. */
export function alarmContent(alarm: Record<string, unknown>): Record<string, unknown> {
  const {alarm_id: _id, created_time: _c, update_time: _u, rules, ...rest} = alarm
  return {
    ...rest,
    rules: (rules as Record<string, unknown>[]).map((rule) => {
      const {start_time: _s, end_time: _e, rcvd_time: _r, ...kept} = rule
      return kept
    }),
  }
}

/** Alarm-event lines as `[event_id, stage]` grouped per alarm (ids dropped), in a stable order. */
export function alarmEventGroups(lines: readonly string[]): string[] {
  const groups = new Map<string, string[]>()
  for (const line of lines) {
    const {alarm_id, stage, event_id} = JSON.parse(line) as AlarmEventLine
    const group = groups.get(alarm_id) ?? []
    group.push(`${event_id}@${stage}`)
    groups.set(alarm_id, group)
  }
  return [...groups.values()].map((group) => group.join(' ')).sort()
}

// ---------------------------------------------------------------------------------------------------
// The CLI as a user runs it

export interface LogLine {
  level: string
  msg: string
  [key: string]: unknown
}

export interface ServeChild {
  readonly child: ChildProcess
  readonly pid: number
  /** stdout as JSON log lines (non-JSON lines are kept as {level: 'RAW', msg}). */
  readonly lines: LogLine[]
  stderr(): string
  /** Resolves with the first log line (seen so far or later) that satisfies `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited(): Promise<number | string>
  /** SIGCONT then `signal` (SIGTERM), SIGKILL after 5 s; resolves with the exit code. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

/** Starts `dsiem <args>` (the built CLI) in a child process; registered with `cleanup`. */
export function spawnCli(
  cleanup: Cleanup,
  args: readonly string[],
  env: Record<string, string> = {},
): ServeChild {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/run.js'), ...args], {
    cwd: REPO_ROOT,
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: LogLine[] = []
  const waiters = new Set<() => void>()
  let partial = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    for (const part of parts) {
      if (part === '') continue
      try {
        lines.push(JSON.parse(part) as LogLine)
      } catch {
        lines.push({level: 'RAW', msg: part})
      }
    }
    for (const wake of waiters) wake()
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => (stderr += chunk))
  let exitValue: number | string | undefined
  const exitedPromise = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => {
      exitValue = code ?? signal ?? -1
      for (const wake of waiters) wake()
      resolve(exitValue)
    }),
  )
  let stopping: Promise<number | string> | undefined
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> =>
    (stopping ??= (async () => {
      if (exitValue === undefined) {
        child.kill('SIGCONT')
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exitedPromise
        clearTimeout(timer)
      }
      return exitedPromise
    })())
  cleanup.add(() => stop())
  const describe = (): string =>
    `; stdout:\n${lines
      .slice(-15)
      .map((l) => JSON.stringify(l))
      .join('\n')}\nstderr:\n${stderr.slice(-2000)}`
  return {
    child,
    pid: child.pid!,
    lines,
    stderr: () => stderr,
    exited: () => exitedPromise,
    stop,
    waitForLog: (predicate, what, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = lines.find(predicate)
          if (found !== undefined) {
            done()
            resolve(found)
            return true
          }
          if (exitValue !== undefined) {
            done()
            reject(new Error(`dsiem exited (${exitValue}) before logging ${what}${describe()}`))
            return true
          }
          return false
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe()}`))
        }, timeoutMs)
        const wake = (): void => void check()
        const done = (): void => {
          clearTimeout(timer)
          waiters.delete(wake)
        }
        waiters.add(wake)
        check()
      }),
  }
}

/** Waits for the "dsiem serve started" line of a child. */
export function started(child: ServeChild, timeoutMs = 15_000): Promise<LogLine> {
  return child.waitForLog((l) => l.msg.startsWith('dsiem serve started'), 'dsiem serve started', timeoutMs)
}

/** `dsiem serve` arguments: loopback `port`, the config and data dirs, then `extra` flags. */
export function serveArgs(port: number, configDir: string, dataDir: string, ...extra: string[]): string[] {
  return [
    'serve',
    '--address',
    '127.0.0.1',
    '--port',
    String(port),
    '--config-dir',
    configDir,
    '--data-dir',
    dataDir,
    ...extra,
  ]
}

/** `dsiem serve --role standalone` on a free loopback port over `configDir` and `dataDir`, once started. */
export async function spawnStandalone(
  cleanup: Cleanup,
  configDir: string,
  dataDir: string,
): Promise<{server: ServeChild; base: string}> {
  const port = await freePort()
  const server = spawnCli(cleanup, serveArgs(port, configDir, dataDir, '--role', 'standalone'))
  await started(server)
  return {server, base: `http://127.0.0.1:${port}`}
}

/** Polls `GET <base><path>` until it answers `status`. */
export async function waitForStatusCode(
  base: string,
  urlPath: string,
  status: number,
  timeoutMs = 10_000,
): Promise<WireResponse> {
  const deadline = Date.now() + timeoutMs
  let last: WireResponse | string = 'no answer yet'
  for (;;) {
    try {
      last = await send(base, 'GET', urlPath)
      if (last.status === status) return last
    } catch (error) {
      last = (error as Error).message
    }
    if (Date.now() > deadline) {
      throw new Error(
        `GET ${urlPath} did not answer ${status} within ${timeoutMs} ms (last: ${
          typeof last === 'string' ? last : `${last.status} ${last.body.slice(0, 300)}`
        })`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
