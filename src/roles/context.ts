// What every role gets when it starts: its config, a logger, the clock, the bus, metrics and the HTTP
// routes of the process's one server. Every seam is injectable, so tests can hand in their own.

import type {Clock} from '../engine/index.js'
import type {EventBus} from './bus.js'
import type {HttpRoutes} from './http/router.js'
import type {Logger} from './io/log.js'
import type {Metrics} from './io/metrics.js'
import type {ServeConfig} from './serve-config.js'

export interface RoleContext {
  readonly config: ServeConfig
  readonly log: Logger
  readonly clock: Clock
  readonly bus: EventBus
  readonly metrics: Metrics
  readonly http: HttpRoutes
}
