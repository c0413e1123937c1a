// Where a worker's sensor output goes: every record as a Zeek JSON line into the log directory and,
// in a cluster, onto the bus for central logging; every event to the correlation backends. Live and
// offline runs share this, so a record is formatted once and reaches each destination identically.

import type {NormalizedEvent} from '../../engine/event.js'
import {formatZeekJson} from '../../sensor/logs/zeek-json.js'
import type {SensorOutput} from '../../sensor/sensor.js'
import type {LogPath} from '../../sensor/types.js'
import type {ZeekLogDirectory} from '../io/zeek-log-files.js'

export interface WorkerDestinations {
  logs?: ZeekLogDirectory | undefined
  /** A formatted log line for the bus (cluster mode). */
  logLine?: ((path: LogPath, line: string) => void) | undefined
  event?: ((event: NormalizedEvent) => void) | undefined
}

export function sensorOutputTo(destinations: WorkerDestinations): SensorOutput {
  const {logs, logLine, event} = destinations
  return {
    log(path, record) {
      const line = formatZeekJson(path, record)
      logs?.write(path, line)
      logLine?.(path, line)
    },
    ...(event === undefined ? {} : {event}),
  }
}
