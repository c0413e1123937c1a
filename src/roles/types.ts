// What a role is: a name, and start(ctx) returning something that reports status and stops. Roles are
// processes' jobs (Zeek's nodes/*.zeek); `index.ts` is the only place that knows the set and order.

import type {RoleContext} from './context.js'

/** Every role name `--role` accepts, in start order (stop is the reverse). */
export const ROLE_NAMES = ['logger', 'manager', 'proxy', 'backend', 'frontend', 'worker'] as const
export type RoleName = (typeof ROLE_NAMES)[number]

export interface RoleStatus {
  readonly role: RoleName
  /** false turns GET /health into 503. */
  readonly healthy: boolean
  /** Role-specific figures for /health and `dsiem status` (queue depth, lag, counters...). */
  readonly detail: Readonly<Record<string, unknown>>
}

export interface RunningRole {
  readonly name: RoleName
  /** A role living on another thread (the standalone backend) answers asynchronously. */
  status(): RoleStatus | Promise<RoleStatus>
  /** Stops taking work, finishes or hands back what was accepted, releases resources. */
  stop(): Promise<void>
}

export interface RoleModule {
  readonly name: RoleName
  start(ctx: RoleContext): Promise<RunningRole>
}
