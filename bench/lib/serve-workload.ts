// The files `bench:serve` feeds to every system under test: a config directory in upstream's file
// format (directives_bench_<N>.json, assets_bench.json; no intel or vuln files, so no outbound
// lookups) and one NDJSON event file with wall-clock timestamps and unique event ids, generated once
// per run by the engine benchmark's stream generator. Beside the event file, a lane file assigns each
// event to a connection by its source address, so every event of one (directive, source) pair travels
// on one connection in file order: the engine sees each pair's events in the order generated, and the
// alarms expected from the stream (the engine benchmark's expected-outcome logic) hold for whatever
// subset of events a time-limited run managed to send.

import {closeSync, mkdirSync, openSync, writeFileSync, writeSync} from 'node:fs'
import path from 'node:path'
import {serializeEvent, type RiskClass} from '../../src/engine/index.js'
import {BENCH_ASSETS} from './bench-assets.js'
import {BENCH_SID_BASE, directiveFileText, type DirectiveSpec} from './directive-set.js'
import {generateStream, type EventStream} from './event-stream.js'
import {expectedOutcome} from './expected.js'

/** Node name of the clustered backend; its directive files are directives_<node>_*.json. */
export const BENCH_NODE = 'bench'

export function assetFileText(): string {
  const assets = BENCH_ASSETS.map((a) => ({
    name: a.name,
    cidr: a.cidr,
    value: a.value,
    ...(a.whitelisted ? {whitelisted: true} : {}),
  }))
  return JSON.stringify({assets}, null, 1)
}

/** Writes a config directory holding one directive file with `specs` and the benchmark's assets. */
export function writeConfigDir(dir: string, specs: readonly DirectiveSpec[]): void {
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, `directives_${BENCH_NODE}_${specs.length}.json`), directiveFileText(specs))
  writeFileSync(path.join(dir, 'assets_bench.json'), assetFileText())
}

export interface Workload {
  readonly stream: EventStream
  /** NDJSON, one event per line, in stream order. */
  readonly eventsFile: string
  /** Uint32 per event: a hash of its source address (lane = hash % connections). */
  readonly lanesFile: string
  readonly eventsFileBytes: number
  /** Event id → position in the stream (for latency: alarm-event lines name event ids). */
  readonly indexOfEventId: ReadonlyMap<string, number>
}

/** FNV-1a, enough to spread source addresses over connections. */
export function laneHash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export interface WorkloadOptions {
  readonly dir: string
  readonly events: number
  readonly seed: number
  readonly active: readonly DirectiveSpec[]
  readonly matchingShare: number
  /** Event-time rate of the timestamps (they start a little before now and never reach expiry). */
  readonly eventsPerSecond: number
}

export function writeWorkload(options: WorkloadOptions): Workload {
  mkdirSync(options.dir, {recursive: true})
  const stream = generateStream({
    events: options.events,
    seed: options.seed,
    active: options.active,
    matchingShare: options.matchingShare,
    eventsPerSecond: options.eventsPerSecond,
    // A minute before now: recent enough for every stage timeout (≥ 1 h), in order from the start.
    startSeconds: Math.floor(Date.now() / 1000) - 60,
  })
  const eventsFile = path.join(options.dir, 'events.ndjson')
  const lanesFile = path.join(options.dir, 'events.lanes')
  const lanes = new Uint32Array(stream.events.length)
  const indexOfEventId = new Map<string, number>()
  const fd = openSync(eventsFile, 'w')
  let bytes = 0
  try {
    let chunk = ''
    for (let i = 0; i < stream.events.length; i++) {
      const event = stream.events[i]!
      if (indexOfEventId.has(event.eventId)) throw new Error(`bench: duplicate event id ${event.eventId}`)
      indexOfEventId.set(event.eventId, i)
      lanes[i] = laneHash(event.srcIp)
      chunk += serializeEvent(event) + '\n'
      if (chunk.length > 1 << 20) {
        bytes += writeSync(fd, chunk)
        chunk = ''
      }
    }
    bytes += writeSync(fd, chunk)
  } finally {
    closeSync(fd)
  }
  writeFileSync(lanesFile, new Uint8Array(lanes.buffer))
  return {stream, eventsFile, lanesFile, eventsFileBytes: bytes, indexOfEventId}
}

/** What the output files must hold after a run, in the shape serve-output.ts reads from them. */
export interface FileOutcome {
  /** siem_alarm_events.json lines by stage (array position 1, 2, 3). */
  alarmEventsByStage: number[]
  /** Distinct alarm (backlog) ids among the alarm-event lines. */
  backlogs: number
  /** siem_alarms.json lines by risk class. */
  alarmLinesByClass: Record<RiskClass, number>
  /** Alarms by the class of their last line. */
  alarmsByFinalClass: Record<RiskClass, number>
  /** siem_alarms.json lines per directive id (directives with none left out). */
  alarmLinesByDirective: Record<string, number>
}

/** A stream holding only the events at `indices` (ascending), for the expected outcome of a run. */
export function subStream(stream: EventStream, indices: readonly number[]): EventStream {
  const n = indices.length
  const seconds = new Float64Array(n)
  const kinds = new Uint8Array(n)
  const directiveIds = new Int32Array(n)
  const events = new Array<EventStream['events'][number]>(n)
  for (let k = 0; k < n; k++) {
    const i = indices[k]!
    events[k] = stream.events[i]!
    seconds[k] = stream.seconds[i]!
    kinds[k] = stream.kinds[i]!
    directiveIds[k] = stream.directiveIds[i]!
  }
  return {events, seconds, kinds, directiveIds, options: stream.options}
}

/** The outcome expected once the events at `indices` went through, per the engine benchmark's model. */
export function expectedFileOutcome(
  stream: EventStream,
  specs: readonly DirectiveSpec[],
  indices: readonly number[],
): FileOutcome {
  const {outcome} = expectedOutcome(subStream(stream, indices), specs)
  const alarmLinesByDirective: Record<string, number> = {}
  for (const [id, tally] of Object.entries(outcome.perDirective ?? {})) {
    if (tally.alarmLines > 0) alarmLinesByDirective[id] = tally.alarmLines
  }
  return {
    alarmEventsByStage: [...outcome.alarmEventsByStage],
    backlogs: outcome.backlogsCreated,
    alarmLinesByClass: {...outcome.alarmLinesByClass},
    alarmsByFinalClass: {...outcome.alarmsByFinalClass},
    alarmLinesByDirective,
  }
}

/** Directive id of an alarm line, from its first rule's SID (each benchmark directive has its own). */
export function directiveIdOfSid(sid: number): number {
  return sid - BENCH_SID_BASE
}

/** Every field that differs, as "field: expected X, got Y". */
export function diffFileOutcomes(expected: FileOutcome, actual: FileOutcome): string[] {
  const diffs: string[] = []
  const walk = (a: unknown, b: unknown, where: string): void => {
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)])
      for (const key of keys) {
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${where}.${key}`)
      }
      return
    }
    if (a !== b) diffs.push(`${where.slice(1)}: expected ${String(a)}, got ${String(b)}`)
  }
  walk(expected, actual, '')
  return diffs
}
