// Shared set-up for the backend role tests: a ServeConfig for a temp config and data dir, a RoleContext
// over a MemoryBus with a capturing logger, ping events, an in-memory AlarmStore that records
// upserts, and file readers.

import {mkdtempSync, readFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {
  emptyEvent,
  formatRfc3339,
  systemClock,
  type Alarm,
  type Clock,
  type NormalizedEvent,
} from '../../src/engine/index.js'
import type {AlarmStore, StoredAlarm} from '../../src/roles/alarm-store.js'
import type {SignalTimers} from '../../src/roles/backend/overload-signal.js'
import {MemoryBus, type EventBus} from '../../src/roles/bus.js'
import type {RoleContext} from '../../src/roles/context.js'
import {HttpRouter} from '../../src/roles/http/router.js'
import {createLogger} from '../../src/roles/io/log.js'
import {createMetrics} from '../../src/roles/io/metrics.js'
import {SERVE_DEFAULTS, type ServeConfig} from '../../src/roles/serve-config.js'

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

/** A standalone ServeConfig from the flag defaults (unvalidated: e2e.ts's serveConfig checks it too). */
export function serveConfig(
  fields: Partial<ServeConfig> & {configDir: string; dataDir: string},
): ServeConfig {
  return {
    ...SERVE_DEFAULTS,
    status: [...SERVE_DEFAULTS.status],
    tags: [...SERVE_DEFAULTS.tags],
    roles: ['backend', 'frontend'],
    standalone: true,
    node: '',
    busMode: 'routed',
    frontend: '',
    intelPrivateIp: false,
    writeableConfig: false,
    websocket: false,
    allowSingleStage: false,
    ...fields,
  }
}

export interface Rig {
  ctx: RoleContext
  bus: MemoryBus
  logs: string[]
  overloads: boolean[]
}

export function rig(config: ServeConfig, options: {bus?: EventBus; clock?: Clock} = {}): Rig {
  const bus = new MemoryBus()
  const logs: string[] = []
  const overloads: boolean[] = []
  const used = options.bus ?? bus
  used.subscribeOverload((value) => overloads.push(value))
  const ctx: RoleContext = {
    config,
    log: createLogger({level: 'debug', write: (line) => logs.push(line)}),
    clock: options.clock ?? systemClock,
    bus: used,
    metrics: createMetrics('test', {processMetrics: false}),
    http: new HttpRouter(),
  }
  return {ctx, bus, logs, overloads}
}

/** A Ping Flood event from the Firewall (192.168.0.1) to 8.8.8.8, stamped 300 s ago, received now. */
export function ping(eventId: string, fields: Partial<NormalizedEvent> = {}): NormalizedEvent {
  const now = Date.now()
  return {
    ...emptyEvent(),
    eventId,
    sensor: 's',
    pluginId: 1001,
    pluginSid: 2100384,
    srcIp: '192.168.0.1',
    dstIp: '8.8.8.8',
    timestamp: formatRfc3339(Math.floor(now / 1000) - 300),
    rcvdTime: BigInt(now) * 1_000_000n,
    ...fields,
  }
}

export function readLines(file: string): string[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
}

export function alarmFiles(dataDir: string): {alarms: string; events: string} {
  return {
    alarms: path.join(dataDir, 'logs', 'siem_alarms.json'),
    events: path.join(dataDir, 'logs', 'siem_alarm_events.json'),
  }
}

/** An AlarmStore that keeps what it is given (the contract's write side; reads answer from memory). */
export class RecordingStore implements AlarmStore {
  readonly upserts: Alarm[] = []
  flushes = 0
  closed = false

  upsert(alarm: Alarm): void {
    this.upserts.push(alarm)
  }

  flush(): void {
    this.flushes++
  }

  list(): StoredAlarm[] {
    return []
  }

  get(): StoredAlarm | undefined {
    return undefined
  }

  setStatus(): StoredAlarm {
    throw new Error('not used')
  }

  setTag(): StoredAlarm {
    throw new Error('not used')
  }

  close(): void {
    this.closed = true
  }
}

/** Log lines whose msg contains `text`. */
export function logged(logs: readonly string[], text: string): string[] {
  return logs.filter((line) => (JSON.parse(line) as {msg: string}).msg.includes(text))
}

/** Timers driven by hand: `advance(ms)` fires what is due. */
export class FakeTimers implements SignalTimers {
  private time = 0
  private next = 1
  private readonly due = new Map<number, {at: number; callback: () => void}>()

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++
    this.due.set(id, {at: this.time + ms, callback})
    return id
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number)
  }

  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      let first: [number, {at: number; callback: () => void}] | undefined
      for (const entry of this.due) if (first === undefined || entry[1].at < first[1].at) first = entry
      if (first === undefined || first[1].at > end) break
      this.due.delete(first[0])
      this.time = first[1].at
      first[1].callback()
    }
    this.time = end
  }

  get pending(): number {
    return this.due.size
  }
}
