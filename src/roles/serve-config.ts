// Everything `dsiem serve` is told (upstream's serve flags plus dsiem's own), validated once at start
// with upstream's start-up rules and messages, so roles receive a config they can trust.

import {ConfigError, validateRiskBounds} from '../engine/index.js'
import {ROLE_NAMES, type RoleName} from './types.js'
import type {WorkerConfig} from './worker/worker-config.js'

export const UPSTREAM_MODES = ['standalone', 'cluster-frontend', 'cluster-backend'] as const
export type UpstreamMode = (typeof UPSTREAM_MODES)[number]

/** `--role` values: the role names plus `standalone` (frontend + backend over the in-memory bus). */
export const ROLE_ARGUMENTS = [...ROLE_NAMES, 'standalone'] as const

/** Roles this build can run; the others arrive with later milestones. */
export const AVAILABLE_ROLES: readonly RoleName[] = ['backend', 'frontend', 'worker']

export const BUS_MODES = ['routed', 'legacy'] as const
export type NatsBusMode = (typeof BUS_MODES)[number]

export interface ServeConfig {
  /** Roles to run, in start order. */
  roles: RoleName[]
  /** true: frontend and backend share the in-memory bus (no NATS), as upstream's standalone. */
  standalone: boolean
  address: string
  port: number
  node: string
  natsUrl: string
  busMode: NatsBusMode
  /** Frontend base URL a backend pulls its config from (upstream --frontend). */
  frontend: string
  configDir: string
  /** Outputs go to DATA_DIR/logs/ (upstream's <root>/logs), state to DATA_DIR/dsiem.db. */
  dataDir: string
  maxEps: number
  minEps: number
  maxQueue: number
  maxDelay: number
  holdDuration: number
  minAlarmLifetime: number
  cacheDuration: number
  medRiskMin: number
  medRiskMax: number
  status: string[]
  tags: string[]
  intelPrivateIp: boolean
  writeableConfig: boolean
  websocket: boolean
  allowSingleStage: boolean
  /** The worker role's packet source, capture options and log directory (set when it runs). */
  worker?: WorkerConfig | undefined
}

export const SERVE_DEFAULTS = {
  address: '0.0.0.0',
  port: 8080,
  natsUrl: 'nats://dsiem-nats:4222',
  maxEps: 1000,
  minEps: 100,
  maxQueue: 25000,
  maxDelay: 180,
  holdDuration: 10,
  minAlarmLifetime: 0,
  cacheDuration: 10,
  medRiskMin: 3,
  medRiskMax: 6,
  status: ['Open', 'In-Progress', 'Closed'],
  tags: ['Identified Threat', 'False Positive', 'Valid Threat', 'Security Incident'],
} as const

/** Roles an upstream `--mode` stands for. */
export function rolesForMode(mode: UpstreamMode): {roles: RoleName[]; standalone: boolean} {
  switch (mode) {
    case 'standalone':
      return {roles: ['backend', 'frontend'], standalone: true}
    case 'cluster-frontend':
      return {roles: ['frontend'], standalone: false}
    case 'cluster-backend':
      return {roles: ['backend'], standalone: false}
  }
}

/** Parses `--role a,b` (already split) into roles in start order. */
export function rolesFromArguments(values: readonly string[]): {roles: RoleName[]; standalone: boolean} {
  let standalone = false
  const wanted = new Set<RoleName>()
  for (const value of values) {
    if (value === 'standalone') {
      standalone = true
      wanted.add('backend')
      wanted.add('frontend')
      continue
    }
    if (!(ROLE_NAMES as readonly string[]).includes(value)) {
      throw new ConfigError(
        `--role: unknown role ${JSON.stringify(value)}; valid roles: ${ROLE_ARGUMENTS.join(', ')}`,
        'DSIEM_E_USAGE',
      )
    }
    wanted.add(value as RoleName)
  }
  if (wanted.size === 0) throw new ConfigError('--role: at least one role is required', 'DSIEM_E_USAGE')
  const unavailable = [...wanted].filter((role) => !AVAILABLE_ROLES.includes(role))
  if (unavailable.length > 0) {
    throw new ConfigError(
      `--role: ${unavailable.join(', ')} not available in this build yet; available: standalone, ${AVAILABLE_ROLES.join(', ')}`,
      'DSIEM_E_ROLE_UNAVAILABLE',
    )
  }
  return {roles: ROLE_NAMES.filter((role) => wanted.has(role)), standalone}
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

/** Upstream's start-up checks, with its wording where it has one. */
export function validateServeConfig(config: ServeConfig): ServeConfig {
  if (!IPV4.test(config.address) && !config.address.includes(':')) {
    throw new ConfigError(`--address: ${config.address} is not a valid IP address`, 'DSIEM_E_SERVE_CONFIG')
  }
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    throw new ConfigError(`--port: ${config.port} is not between 1 and 65535`, 'DSIEM_E_SERVE_CONFIG')
  }
  const clustered = !config.standalone
  if (clustered && config.node === '') {
    throw new ConfigError(
      '--node is required for frontend and backend roles outside standalone',
      'DSIEM_E_SERVE_CONFIG',
    )
  }
  if (clustered && config.natsUrl === '') {
    throw new ConfigError(
      '--msq / --nats-url is required for frontend and backend roles outside standalone',
      'DSIEM_E_SERVE_CONFIG',
    )
  }
  if (config.roles.includes('worker') && config.worker?.iface === undefined) {
    throw new ConfigError(
      '--role worker needs --interface IFACE (or --pcap FILE to read a file)',
      'DSIEM_E_SERVE_CONFIG',
    )
  }
  const backend = config.roles.includes('backend')
  if (backend && clustered && !config.roles.includes('frontend') && config.frontend === '') {
    throw new ConfigError('--frontend is required for a backend outside standalone', 'DSIEM_E_SERVE_CONFIG')
  }
  if (config.minEps > config.maxEps) {
    throw new ConfigError('MinEPS cannot be larger than MaxEPS', 'DSIEM_E_SERVE_CONFIG')
  }
  if (backend && config.maxEps < 1) {
    // Upstream divides by maxEPS in its backend queue and crashes; say why instead.
    throw new ConfigError('--maxEPS must be at least 1 when the backend role runs', 'DSIEM_E_SERVE_CONFIG')
  }
  for (const [flag, value] of [
    ['--maxQueue', config.maxQueue],
    ['--maxDelay', config.maxDelay],
    ['--holdDuration', config.holdDuration],
    ['--minAlarmLifetime', config.minAlarmLifetime],
    ['--cacheDuration', config.cacheDuration],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new ConfigError(`${flag}: ${value} must be a whole number ≥ 0`, 'DSIEM_E_SERVE_CONFIG')
    }
  }
  if (config.status.length === 0)
    throw new ConfigError('--status needs at least one value', 'DSIEM_E_SERVE_CONFIG')
  if (config.tags.length === 0)
    throw new ConfigError('--tags needs at least one value', 'DSIEM_E_SERVE_CONFIG')
  validateRiskBounds({medRiskMin: config.medRiskMin, medRiskMax: config.medRiskMax})
  return config
}
