// The one place that knows the set of roles and their order. startServe builds the shared pieces
// (logger, metrics, bus, HTTP routes), starts roles in order (logger → manager → proxy → backend →
// frontend → worker), then opens the HTTP server; stop goes the other way: stop taking requests,
// stop roles in reverse, close the bus.

import {hostname} from 'node:os'
import {EnvironmentError, systemClock, type Clock} from '../engine/index.js'
import {createBackendRole, isRunningBackend, type ReloadResult} from './backend.js'
import {createThreadedBackendRole} from './backend/threaded.js'
import {MemoryBus, type EventBus} from './bus.js'
import type {RoleContext} from './context.js'
import {frontendRole} from './frontend.js'
import {registerConfigRoutes} from './http/config-routes.js'
import {registerHealthAndMetrics} from './http/health.js'
import {HttpRouter} from './http/router.js'
import {startHttpServer} from './http/server.js'
import {connectNatsBus} from './io/bus.js'
import {createLogger, type Logger, type LogLevel} from './io/log.js'
import {createMetrics} from './io/metrics.js'
import {removePidFile, writeEffectiveConfig, writePidFile} from './io/process-files.js'
import {alarmStoreThreadOpener} from './io/alarm-store-thread.js'
import type {ServeConfig} from './serve-config.js'
import type {RoleModule, RoleName, RoleStatus, RunningRole} from './types.js'
import {createWorkerRole} from './worker/live-worker.js'

export interface ServeOptions {
  logLevel?: LogLevel
  /** Upstream flags accepted for compatibility that have no effect here (warned about once). */
  ignoredFlags?: readonly string[]
  log?: Logger
  /** Injected time (tests); standalone's backend then runs on the HTTP thread: a clock cannot cross threads. */
  clock?: Clock
  /** Role modules by name (tests inject variants); defaults to the built-in ones. */
  modules?: Partial<Record<RoleName, RoleModule>>
}

export interface RunningServe {
  readonly port: number
  readonly bus: EventBus
  readonly roles: readonly RunningRole[]
  status(): Promise<RoleStatus[]>
  /** Reloads every backend's directives and assets (SIGHUP). */
  reload(): Promise<ReloadResult[]>
  stop(): Promise<void>
}

function defaultModules(log: Logger, backendThread: boolean): Partial<Record<RoleName, RoleModule>> {
  return {
    backend: backendThread
      ? createThreadedBackendRole()
      : createBackendRole({openAlarmStore: alarmStoreThreadOpener(log)}),
    frontend: frontendRole,
    worker: createWorkerRole(),
  }
}

export async function startServe(config: ServeConfig, options: ServeOptions = {}): Promise<RunningServe> {
  const node = config.node !== '' ? config.node : hostname()
  const log = options.log ?? createLogger({level: options.logLevel ?? 'info', fields: {node}})
  for (const flag of options.ignoredFlags ?? []) {
    log.warn(`--${flag} is an upstream Go option with no effect in dsiem; ignoring it`)
  }
  // Injected modules replace the built-in ones by name; the others keep theirs.
  // Standalone's backend runs on a thread of its own (backend/threaded.ts), except with an injected
  // clock, which cannot cross threads.
  const backendThread = config.standalone && options.clock === undefined
  const modules = {...defaultModules(log, backendThread), ...options.modules}
  const metrics = createMetrics(node)
  // Claimed before anything opens the alarm files or the store, so a second server is refused first.
  writePidFile(config.dataDir)
  let bus: EventBus
  try {
    bus = config.standalone
      ? new MemoryBus()
      : await connectNatsBus({url: config.natsUrl, mode: config.busMode, name: `dsiem-${node}`, log, metrics})
  } catch (error) {
    removePidFile(config.dataDir)
    throw error
  }
  const router = new HttpRouter()
  registerConfigRoutes(router, {configDir: config.configDir, writeable: config.writeableConfig, log})
  const ctx: RoleContext = {config, log, clock: options.clock ?? systemClock, bus, metrics, http: router}

  const roles: RunningRole[] = []
  const statuses = (): Promise<RoleStatus[]> => Promise.all(roles.map((role) => role.status()))
  const stopRoles = async (): Promise<void> => {
    for (const role of [...roles].reverse()) {
      try {
        await role.stop()
      } catch (error) {
        log.error(`stopping ${role.name} failed: ${(error as Error).message}`)
      }
    }
  }
  try {
    for (const name of config.roles) {
      const module = modules[name]
      if (module === undefined) throw new Error(`role ${name} has no module in this build`)
      roles.push(await module.start(ctx))
    }
  } catch (error) {
    await stopRoles()
    await bus.close()
    removePidFile(config.dataDir)
    throw error
  }
  registerHealthAndMetrics(router, {node, statuses, bus, metrics})
  let server
  try {
    server = await startHttpServer(router, {address: config.address, port: config.port, log, metrics})
  } catch (error) {
    await stopRoles()
    await bus.close()
    removePidFile(config.dataDir)
    throw listenError(config, error)
  }

  const mode = config.standalone ? 'standalone' : config.roles.join(',')
  const written = writeEffectiveConfig(config, mode)
  if (written.error !== undefined) log.warn(`cannot write ${written.file}: ${written.error}`)
  log.info(`dsiem serve started: roles ${mode}, listening on ${config.address}:${server.port}`, {
    bus: bus.mode,
    pid: process.pid,
  })

  let stopped: Promise<void> | undefined
  return {
    port: server.port,
    bus,
    roles,
    status: statuses,
    reload: async () => {
      const results: ReloadResult[] = []
      for (const role of roles) {
        if (isRunningBackend(role)) results.push(await role.reload())
      }
      return results
    },
    stop: () =>
      (stopped ??= (async () => {
        log.info('dsiem serve stopping')
        await server.close()
        await stopRoles()
        await bus.close()
        removePidFile(config.dataDir)
        log.info('dsiem serve stopped')
      })()),
  }
}

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied',
}

/** A failed listen as one line naming the address, instead of Node's error (which reads like a bug). */
function listenError(config: ServeConfig, error: unknown): unknown {
  const code = (error as {code?: unknown}).code
  if (typeof code !== 'string' || !(error instanceof Error)) return error
  const where = config.address.includes(':')
    ? `[${config.address}]:${config.port}`
    : `${config.address}:${config.port}`
  return new EnvironmentError(
    `cannot listen on ${where}: ${LISTEN_REASONS[code] ?? error.message}`,
    'DSIEM_E_LISTEN',
    {
      cause: error,
      hint: 'pick another --port (DSIEM_PORT) or --address, or stop what is using it',
    },
  )
}

/**
 * Runs until SIGINT/SIGTERM; SIGHUP reloads directives and assets. The handlers are in place before
 * start-up begins: a stop asked for while starting stops the server once it is up instead of killing
 * the process half-way (a supervisor may signal as soon as it sees the first log line).
 */
export async function runServe(config: ServeConfig, options: ServeOptions = {}): Promise<void> {
  let serve: RunningServe | undefined
  let stopAsked = false
  let stopped!: () => void
  const done = new Promise<void>((resolve) => (stopped = resolve))
  const onStop = (): void => {
    process.off('SIGHUP', onReload)
    stopAsked = true
    if (serve !== undefined) void serve.stop().then(stopped, stopped)
  }
  const onReload = (): void => {
    if (serve !== undefined) void serve.reload()
  }
  process.once('SIGINT', onStop)
  process.once('SIGTERM', onStop)
  process.on('SIGHUP', onReload)
  try {
    serve = await startServe(config, options)
  } catch (error) {
    process.off('SIGINT', onStop)
    process.off('SIGTERM', onStop)
    process.off('SIGHUP', onReload)
    throw error
  }
  if (stopAsked) void serve.stop().then(stopped, stopped)
  await done
}
