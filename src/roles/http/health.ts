// GET /health for load balancers and `dsiem status` (200 only when every role is healthy and the bus
// is connected, 503 otherwise, with the per-role detail either way) and GET /metrics for Prometheus.

import type {EventBus} from '../bus.js'
import type {Metrics} from '../io/metrics.js'
import type {RoleStatus} from '../types.js'
import type {HttpRoutes} from './router.js'
import {sendJson} from './server.js'

export interface HealthOptions {
  node: string
  statuses: () => Promise<readonly RoleStatus[]>
  bus: EventBus
  metrics: Metrics
}

export interface HealthReport {
  readonly node: string
  readonly roles: readonly RoleStatus[]
  readonly bus: {
    readonly connected: boolean
    readonly server: string
    readonly mode: string
    readonly lastError?: string
  }
  readonly healthy: boolean
}

export async function healthReport(options: HealthOptions): Promise<HealthReport> {
  const roles = await options.statuses()
  const busStatus = options.bus.status()
  const bus = {
    connected: busStatus.connected,
    server: busStatus.server,
    mode: options.bus.mode,
    ...(busStatus.lastError === undefined ? {} : {lastError: busStatus.lastError}),
  }
  const healthy = busStatus.connected && roles.every((role) => role.healthy)
  return {node: options.node, roles, bus, healthy}
}

export function registerHealthAndMetrics(routes: HttpRoutes, options: HealthOptions): void {
  routes.exact('GET', '/health', async ({res}) => {
    const report = await healthReport(options)
    sendJson(res, report.healthy ? 200 : 503, JSON.stringify(report, bigintAsString))
  })

  routes.exact('GET', '/metrics', async ({res}) => {
    const text = await options.metrics.render()
    res.writeHead(200, {
      'content-type': options.metrics.contentType,
      'content-length': Buffer.byteLength(text),
    })
    res.end(text)
  })

  // A HEAD probe is what some load balancers send; answer it without rendering anything.
  routes.exact('HEAD', '/health', async ({res}) => {
    res.writeHead((await healthReport(options)).healthy ? 200 : 503)
    res.end()
  })
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
