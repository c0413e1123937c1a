// What backlogs share with the engine that owns them: the asset table, alarm table, clock, effect sink
// and the tunables upstream exposes as serve flags.

import type {AlarmTable} from './alarm.js'
import type {AssetTable} from './asset.js'
import type {Backlog} from './backlog.js'
import type {Clock} from './clock.js'
import type {EffectSink} from './effects.js'
import type {IdGenerator} from './ids.js'

export interface EngineContext {
  /** Not readonly: a reload swaps the table, and live backlogs read it from here from then on. */
  assets: AssetTable
  readonly alarms: AlarmTable
  readonly clock: Clock
  readonly emit: EffectSink
  readonly newId: IdGenerator
  /** `--maxDelay` in seconds; 0 disables the overload probe. */
  readonly maxDelaySeconds: number
  /** `--minAlarmLifetime` converted to seconds. */
  readonly minAlarmLifetimeSeconds: number
  /** Emit debug-level log effects (off on hot paths unless asked for). */
  readonly debug: boolean
  /** Marks a backlog deleted and releases what it holds (event ids, alarm). */
  deleteBacklog(backlog: Backlog): void
}
