// `dsiem directive test --events`: load a config dir, parse an NDJSON events file, replay it through
// the engine with a deterministic clock. Broken lines are reported and skipped, like a frontend that
// answers 500/418 for them while accepting the rest.

import {
  parseEventLines,
  replayEvents,
  serializeAlarm,
  serializeAlarmEvent,
  type EventLineError,
  type ReplayResult,
} from '../../engine/index.js'
import {loadCorrelationConfig, readInputFile} from '../../roles/io/config-dir.js'

export interface EventsTestRequest {
  configDir: string
  filePattern: string
  eventsFile: string
  now?: number
  allowSingleStage: boolean
  minAlarmLifetimeMinutes: number
}

export interface EventsTestOutcome {
  replay: ReplayResult
  eventCount: number
  lineErrors: EventLineError[]
}

export function runEventsTest(request: EventsTestRequest): EventsTestOutcome {
  const {directives, assets} = loadCorrelationConfig(request)
  const parsed = parseEventLines(readInputFile(request.eventsFile, 'events file'))
  const replay = replayEvents(parsed.events, {
    directives,
    assets,
    minAlarmLifetimeMinutes: request.minAlarmLifetimeMinutes,
    ...(request.now === undefined ? {} : {now: request.now}),
  })
  return {replay, eventCount: parsed.events.length, lineErrors: parsed.errors}
}

/** `{"alarms":[...],"alarm_events":[...]}` with every alarm in upstream's exact line format. */
export function replayToJson(replay: ReplayResult): string {
  const alarms = replay.alarms.map(serializeAlarm).join(',')
  const events = replay.alarmEvents.map((e) => serializeAlarmEvent(e.alarmId, e.stage, e.eventId)).join(',')
  return `{"alarms":[${alarms}],"alarm_events":[${events}]}`
}
