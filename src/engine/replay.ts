// Running the engine over a finite list of events with a deterministic clock: the core of
// `dsiem directive test`, of test-case files and of the generator's self-check. Event timestamps drive
// the wall clock (it never goes backwards) unless a fixed `now` is given; expiry ticks run whenever the
// clock passes another 10 seconds, and once at the end.

import type {Alarm, RiskBounds} from './alarm.js'
import type {AssetTable} from './asset.js'
import {ManualClock} from './clock.js'
import type {Directive} from './directive.js'
import type {EngineEffect} from './effects.js'
import {CorrelationEngine, type EngineStats} from './engine.js'
import {
  isValidEvent,
  parseEvent,
  parseRfc3339Seconds,
  EventDecodeError,
  type NormalizedEvent,
} from './event.js'
import {sequentialIds, type IdGenerator} from './ids.js'

/** Upstream's backlog ticker period. */
export const EXPIRY_TICK_SECONDS = 10

export interface AlarmEventLine {
  readonly alarmId: string
  readonly stage: number
  readonly eventId: string
}

export interface ReplayOptions {
  directives: readonly Directive[]
  assets: AssetTable
  /** Fixed wall clock (Unix seconds); otherwise event timestamps drive it. */
  now?: number
  newId?: IdGenerator
  riskBounds?: RiskBounds
  minAlarmLifetimeMinutes?: number
  defaultStatus?: string
  defaultTag?: string
}

export interface ReplayResult {
  /** Final state of every alarm that was written, in order of first appearance. */
  alarms: Alarm[]
  alarmEvents: AlarmEventLine[]
  /** Every alarm line in write order (an alarm id can appear many times). */
  alarmLines: Alarm[]
  logs: Extract<EngineEffect, {kind: 'log'}>[]
  stats: EngineStats
}

export function replayEvents(events: Iterable<NormalizedEvent>, options: ReplayOptions): ReplayResult {
  const finalAlarms = new Map<string, Alarm>()
  const result: ReplayResult = {alarms: [], alarmEvents: [], alarmLines: [], logs: [], stats: undefined!}
  const clock = new ManualClock(options.now ?? 0)
  const engine = new CorrelationEngine({
    directives: options.directives,
    assets: options.assets,
    clock,
    newId: options.newId ?? sequentialIds(),
    ...(options.riskBounds === undefined ? {} : {riskBounds: options.riskBounds}),
    ...(options.defaultStatus === undefined ? {} : {defaultStatus: options.defaultStatus}),
    ...(options.defaultTag === undefined ? {} : {defaultTag: options.defaultTag}),
    minAlarmLifetimeMinutes: options.minAlarmLifetimeMinutes ?? 0,
    emit: (effect) => {
      switch (effect.kind) {
        case 'alarm-event':
          result.alarmEvents.push({alarmId: effect.alarmId, stage: effect.stage, eventId: effect.eventId})
          break
        case 'alarm':
          finalAlarms.set(effect.alarm.alarmId, effect.alarm)
          result.alarmLines.push(effect.alarm)
          break
        case 'log':
          result.logs.push(effect)
          break
      }
    },
  })

  const drivenByEvents = options.now === undefined
  let lastTick = Number.NaN
  for (const event of events) {
    if (drivenByEvents) {
      const eventTime = parseRfc3339Seconds(event.timestamp)
      if (!Number.isNaN(eventTime) && eventTime > clock.nowSeconds()) clock.set(eventTime)
      if (Number.isNaN(lastTick)) lastTick = clock.nowSeconds()
      if (clock.nowSeconds() - lastTick >= EXPIRY_TICK_SECONDS) {
        engine.tick()
        lastTick = clock.nowSeconds()
      }
    }
    engine.process(event)
  }
  engine.tick()
  result.alarms = [...finalAlarms.values()]
  result.stats = engine.stats()
  return result
}

export interface EventLineError {
  readonly line: number
  readonly message: string
}

export interface ParsedEventLines {
  events: NormalizedEvent[]
  errors: EventLineError[]
}

/**
 * Parses NDJSON events. A line that is not an event upstream would accept (HTTP 500 or 418) is
 * reported with its line number and skipped; the other lines are still used.
 */
export function parseEventLines(text: string): ParsedEventLines {
  const parsed: ParsedEventLines = {events: [], errors: []}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    try {
      const event = parseEvent(line)
      if (!isValidEvent(event)) {
        parsed.errors.push({line: i + 1, message: `not a valid event: ${describeInvalid(event)}`})
        continue
      }
      parsed.events.push(event)
    } catch (error) {
      if (!(error instanceof EventDecodeError)) throw error
      const column = error.offset === undefined ? '' : ` (column ${error.offset + 1})`
      parsed.errors.push({line: i + 1, message: `cannot parse event: ${error.message}${column}`})
    }
  }
  return parsed
}

/** Which of upstream's Valid() conditions an event fails. */
export function describeInvalid(event: NormalizedEvent): string {
  const missing = (['eventId', 'timestamp', 'sensor', 'srcIp', 'dstIp'] as const)
    .filter((field) => event[field] === '')
    .map(
      (field) =>
        ({eventId: 'event_id', timestamp: 'timestamp', sensor: 'sensor', srcIp: 'src_ip', dstIp: 'dst_ip'})[
          field
        ],
    )
  if (missing.length > 0) return `missing ${missing.join(', ')}`
  return 'plugin_id/plugin_sid missing, so product and category are required'
}
