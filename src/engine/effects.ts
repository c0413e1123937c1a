// What the engine asks the outside world to do. The engine never writes files or talks to the network;
// the backend role performs these effects and `directive test` collects them.

import type {Alarm} from './alarm.js'

export type LogLevel = 'debug' | 'info' | 'warn'

export type EngineEffect =
  /** One siem_alarm_events.json line: an event was appended to a backlog stage (1-based array index). */
  | {readonly kind: 'alarm-event'; readonly alarmId: string; readonly stage: number; readonly eventId: string}
  /** One siem_alarms.json line (only emitted while risk ≠ 0). */
  | {readonly kind: 'alarm'; readonly alarm: Alarm}
  /** Intel/vuln lookups requested for this alarm (stage completion), whatever its risk. */
  | {
      readonly kind: 'lookup'
      readonly alarm: Alarm
      readonly lastSrcPort: number
      readonly lastDstPort: number
    }
  /** The backlog is gone: the engine writes no further lines for this id (lookups already queued may still finish). */
  | {readonly kind: 'alarm-removed'; readonly alarmId: string}
  /** A backlog saw an event older than maxDelay (upstream's overload probe). */
  | {readonly kind: 'overload'}
  | {
      readonly kind: 'log'
      readonly level: LogLevel
      readonly message: string
      readonly directiveId?: number
      readonly backlogId?: string
      readonly eventId?: string
    }

export type EffectSink = (effect: EngineEffect) => void
