// A real frontend on 127.0.0.1 (port 0): the HTTP server, the frontend role over a MemoryBus with a
// subscriber collecting what reaches the bus, and optionally the /config and /health routes; plus a
// small HTTP client that shows status, headers and body as they are on the wire.

import {request as httpRequest} from 'node:http'
import {MemoryBus, type EventHandler} from '../../src/roles/bus.js'
import type {RoleContext} from '../../src/roles/context.js'
import {createFrontendRole, type FrontendOptions, type RunningFrontend} from '../../src/roles/frontend.js'
import {registerConfigRoutes} from '../../src/roles/http/config-routes.js'
import {registerHealthAndMetrics} from '../../src/roles/http/health.js'
import {HttpRouter} from '../../src/roles/http/router.js'
import {startHttpServer, type HttpServerOptions, type RunningHttpServer} from '../../src/roles/http/server.js'
import {createLogger, type Logger} from '../../src/roles/io/log.js'
import {createMetrics, type Metrics} from '../../src/roles/io/metrics.js'
import {SERVE_DEFAULTS, type ServeConfig} from '../../src/roles/serve-config.js'
import type {NormalizedEvent} from '../../src/engine/index.js'
import {systemClock} from '../../src/engine/clock.js'

/** The smallest event body the frontend accepts (plugin 1, sid 2, from 10.0.0.1 to 8.8.8.8), as JSON text. */
export const MINIMAL_EVENT = JSON.stringify({
  event_id: 'e',
  timestamp: '2026-01-01T00:00:00Z',
  sensor: 's',
  src_ip: '10.0.0.1',
  dst_ip: '8.8.8.8',
  plugin_id: 1,
  plugin_sid: 2,
})

export function serveConfig(overrides: Partial<ServeConfig> = {}): ServeConfig {
  return {
    roles: ['frontend'],
    standalone: true,
    address: '127.0.0.1',
    port: 0,
    node: 'test-node',
    natsUrl: '',
    busMode: 'routed',
    frontend: '',
    configDir: '',
    dataDir: '',
    maxEps: 0,
    minEps: 0,
    maxQueue: SERVE_DEFAULTS.maxQueue,
    maxDelay: SERVE_DEFAULTS.maxDelay,
    holdDuration: SERVE_DEFAULTS.holdDuration,
    minAlarmLifetime: 0,
    cacheDuration: SERVE_DEFAULTS.cacheDuration,
    medRiskMin: SERVE_DEFAULTS.medRiskMin,
    medRiskMax: SERVE_DEFAULTS.medRiskMax,
    status: [...SERVE_DEFAULTS.status],
    tags: [...SERVE_DEFAULTS.tags],
    intelPrivateIp: false,
    writeableConfig: false,
    websocket: false,
    allowSingleStage: false,
    ...overrides,
  }
}

/** Log lines kept in memory, parsed, for assertions. */
export class LogCapture {
  readonly lines: {level: string; msg: string; [key: string]: unknown}[] = []
  readonly logger: Logger = createLogger({level: 'debug', write: (line) => this.lines.push(JSON.parse(line))})

  messages(level?: string): string[] {
    return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.msg)
  }
}

export interface FrontendHarness {
  readonly base: string
  readonly port: number
  readonly bus: MemoryBus
  /** Events in the order they reached the bus. */
  readonly events: NormalizedEvent[]
  readonly frontend: RunningFrontend
  readonly metrics: Metrics
  readonly logs: LogCapture
  readonly server: RunningHttpServer
  /** What the bus subscriber does with each event (default: collect it). */
  setHandler(handler: EventHandler): void
  close(): Promise<void>
}

export interface HarnessOptions {
  config?: Partial<ServeConfig>
  frontend?: FrontendOptions
  server?: Partial<Omit<HttpServerOptions, 'log' | 'address' | 'port'>>
  /** Also register /config routes on this directory. */
  configDir?: string
  /** Also register /health and /metrics. */
  health?: boolean
}

export async function startFrontendHarness(options: HarnessOptions = {}): Promise<FrontendHarness> {
  const config = serveConfig(options.config)
  const logs = new LogCapture()
  const bus = new MemoryBus()
  const metrics = createMetrics(config.node, {processMetrics: false})
  const router = new HttpRouter()
  const events: NormalizedEvent[] = []
  let handler: EventHandler = (event) => {
    events.push(event)
  }
  bus.subscribeEvents({kind: 'all'}, (event) => handler(event))
  const ctx: RoleContext = {config, log: logs.logger, clock: systemClock, bus, metrics, http: router}
  const frontend = await createFrontendRole(options.frontend).start(ctx)
  if (options.configDir !== undefined) {
    registerConfigRoutes(router, {
      configDir: options.configDir,
      writeable: config.writeableConfig,
      log: logs.logger,
    })
  }
  if (options.health === true) {
    registerHealthAndMetrics(router, {
      node: config.node,
      statuses: async () => [frontend.status()],
      bus,
      metrics,
    })
  }
  const server = await startHttpServer(router, {
    address: '127.0.0.1',
    port: 0,
    log: logs.logger,
    closeGraceMs: 1000,
    metrics,
    ...options.server,
  })
  return {
    base: `http://127.0.0.1:${server.port}`,
    port: server.port,
    bus,
    events,
    frontend,
    metrics,
    logs,
    server,
    setHandler: (h) => {
      handler = (event) => {
        events.push(event)
        return h(event)
      }
    },
    close: async () => {
      await server.close()
      await frontend.stop()
      await bus.close()
    },
  }
}

export interface WireResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One request on a fresh connection (no agent), so tests see exactly what the server sends. */
export function send(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, {method, headers, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}
