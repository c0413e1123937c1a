// Reads a system's two output files while it runs: siem_alarm_events.json (alarm_id, stage, event_id)
// and siem_alarms.json (one line per alarm upsert). The alarm lines' arrival times are what the
// latency goal measures: that file is tailed on inotify (fs.watch on the file) plus a 5 ms poll as a
// safety net, and every line gets the monotonic time at which it was read, so the granularity of an
// arrival time is the watcher's wake-up (well under a millisecond on an idle core) or at worst the poll
// period, plus the bench process's own scheduling delay. The alarm-event lines are ten times as many
// and only needed for their content: that file is read every 50 ms, so that the watcher does not
// wake up for each of its writes on the two cores it shares with the system it measures.
//
// From the lines it derives the outcome (counts per stage, per risk class, per directive) and the
// latencies: for an alarm line with f finished rules, the event that caused it is the last alarm event
// of stage f of that alarm (a stage takes exactly its occurrence count of events, then the next stage
// starts), so latency = arrival of the alarm line − send time of that event.

import {closeSync, existsSync, openSync, readFileSync, readSync, watch, type FSWatcher} from 'node:fs'
import path from 'node:path'
import type {RiskClass} from '../../src/engine/index.js'
import {monotonicMs} from './serve-proc.js'
import {directiveIdOfSid, type FileOutcome} from './serve-workload.js'

const CHUNK_BYTES = 1 << 20
/** The safety-net poll of the alarms file; inotify normally wakes the watcher first. */
const POLL_MS = 5
/** The alarm-events file is read every this many polls. */
const ALARM_EVENTS_EVERY = 10

/**
 * Tails one file while the system runs, recording only when each line arrived: a read counts the
 * newlines in a reused buffer and notes the time once per line, so the watcher allocates nothing per
 * line and its own garbage collection cannot delay a reading. The lines themselves are read back from
 * the file and parsed after the run (`finish`).
 */
class LineTail {
  private fd: number | undefined
  private offset = 0
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  readonly file: string
  private times = new Float64Array(1 << 16)
  /** Complete lines seen so far. */
  private lines = 0

  constructor(file: string) {
    this.file = file
  }

  /** Reads what was appended since the last call; returns whether anything was. */
  poll(): boolean {
    if (this.fd === undefined) {
      if (!existsSync(this.file)) return false
      this.fd = openSync(this.file, 'r')
    }
    let any = false
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, CHUNK_BYTES, this.offset)
      if (n === 0) return any
      const at = monotonicMs()
      any = true
      this.offset += n
      for (let nl = this.buffer.indexOf(10, 0); nl !== -1 && nl < n; nl = this.buffer.indexOf(10, nl + 1)) {
        if (this.lines === this.times.length) {
          const grown = new Float64Array(this.times.length * 2)
          grown.set(this.times)
          this.times = grown
        }
        this.times[this.lines++] = at
      }
    }
  }

  /** Hands every complete line read so far to `onLine` with its arrival time. */
  finish(onLine: (line: string, atMs: number) => void): void {
    if (this.fd === undefined) return
    const text = readFileSync(this.file, 'utf8')
    let start = 0
    for (let k = 0; k < this.lines; k++) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      if (nl > start) onLine(text.slice(start, nl), this.times[k]!)
      start = nl + 1
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

interface AlarmEventLine {
  readonly alarmId: string
  readonly stage: number
  readonly eventId: string
  readonly atMs: number
}

interface AlarmLine {
  readonly alarmId: string
  readonly riskClass: RiskClass
  readonly finishedStages: number
  readonly directiveId: number
  readonly atMs: number
}

export interface LatencyFigures {
  readonly samples: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly maxMs: number
}

export interface OutputReport {
  readonly outcome: FileOutcome
  readonly alarmEventLines: number
  readonly alarmLines: number
  /** Lines that were not JSON or lacked fields. */
  readonly malformedLines: number
  readonly lastArrivalMs: number
}

/**
 * inotify on the file itself, so that writes to its sibling do not wake the watcher; on its directory
 * while the file does not exist yet (an upstream binary creates it with the first alarm).
 */
function watchFile(file: string, onChange: () => void): FSWatcher | undefined {
  try {
    return watch(file, onChange)
  } catch {
    try {
      const name = path.basename(file)
      return watch(path.dirname(file), (_event, changed) => {
        if (changed === name) onChange()
      })
    } catch {
      return undefined // no directory either: the poll still finds the file
    }
  }
}

export class OutputWatcher {
  private readonly tails: LineTail[]
  private readonly alarmEventsTail: LineTail
  private readonly alarmsTail: LineTail
  private readonly watcher: FSWatcher | undefined
  private readonly timer: NodeJS.Timeout
  readonly alarmEvents: AlarmEventLine[] = []
  readonly alarms: AlarmLine[] = []
  malformed = 0
  lastArrivalMs = 0

  constructor(logsDir: string) {
    this.alarmEventsTail = new LineTail(path.join(logsDir, 'siem_alarm_events.json'))
    this.alarmsTail = new LineTail(path.join(logsDir, 'siem_alarms.json'))
    this.tails = [this.alarmEventsTail, this.alarmsTail]
    this.watcher = watchFile(this.alarmsTail.file, () => this.pollTail(this.alarmsTail))
    let ticks = 0
    this.timer = setInterval(() => {
      this.pollTail(this.alarmsTail)
      if (++ticks % ALARM_EVENTS_EVERY === 0) this.pollTail(this.alarmEventsTail)
    }, POLL_MS)
  }

  private pollTail(tail: LineTail): void {
    if (tail.poll()) this.lastArrivalMs = monotonicMs()
  }

  poll(): void {
    for (const tail of this.tails) this.pollTail(tail)
  }

  /** Stops watching and parses every line read (the outcome and latencies need this first). */
  close(): void {
    clearInterval(this.timer)
    this.watcher?.close()
    this.poll()
    this.alarmEventsTail.finish((line, at) => this.onAlarmEvent(line, at))
    this.alarmsTail.finish((line, at) => this.onAlarm(line, at))
    for (const tail of this.tails) tail.close()
  }

  private onAlarmEvent(line: string, atMs: number): void {
    try {
      const parsed = JSON.parse(line) as {alarm_id?: unknown; stage?: unknown; event_id?: unknown}
      if (
        typeof parsed.alarm_id !== 'string' ||
        typeof parsed.stage !== 'number' ||
        typeof parsed.event_id !== 'string'
      ) {
        this.malformed++
        return
      }
      this.alarmEvents.push({alarmId: parsed.alarm_id, stage: parsed.stage, eventId: parsed.event_id, atMs})
    } catch {
      this.malformed++
    }
  }

  private onAlarm(line: string, atMs: number): void {
    try {
      const parsed = JSON.parse(line) as {
        alarm_id?: unknown
        risk_class?: unknown
        rules?: {status?: unknown; plugin_sid?: unknown}[]
      }
      const rules = Array.isArray(parsed.rules) ? parsed.rules : []
      const sids = rules[0]?.plugin_sid
      const sid = Array.isArray(sids) && typeof sids[0] === 'number' ? sids[0] : Number.NaN
      if (typeof parsed.alarm_id !== 'string' || typeof parsed.risk_class !== 'string' || Number.isNaN(sid)) {
        this.malformed++
        return
      }
      this.alarms.push({
        alarmId: parsed.alarm_id,
        riskClass: parsed.risk_class as RiskClass,
        finishedStages: rules.filter((r) => r.status === 'finished').length,
        directiveId: directiveIdOfSid(sid),
        atMs,
      })
    } catch {
      this.malformed++
    }
  }

  report(): OutputReport {
    const alarmEventsByStage = [0, 0, 0]
    const backlogs = new Set<string>()
    for (const line of this.alarmEvents) {
      alarmEventsByStage[line.stage - 1] = (alarmEventsByStage[line.stage - 1] ?? 0) + 1
      backlogs.add(line.alarmId)
    }
    const alarmLinesByClass: Record<RiskClass, number> = {Low: 0, Medium: 0, High: 0}
    const finalClass = new Map<string, RiskClass>()
    const alarmLinesByDirective: Record<string, number> = {}
    for (const line of this.alarms) {
      alarmLinesByClass[line.riskClass] = (alarmLinesByClass[line.riskClass] ?? 0) + 1
      finalClass.set(line.alarmId, line.riskClass)
      alarmLinesByDirective[line.directiveId] = (alarmLinesByDirective[line.directiveId] ?? 0) + 1
    }
    const alarmsByFinalClass: Record<RiskClass, number> = {Low: 0, Medium: 0, High: 0}
    for (const riskClass of finalClass.values()) alarmsByFinalClass[riskClass]++
    return {
      outcome: {
        alarmEventsByStage,
        backlogs: backlogs.size,
        alarmLinesByClass,
        alarmsByFinalClass,
        alarmLinesByDirective,
      },
      alarmEventLines: this.alarmEvents.length,
      alarmLines: this.alarms.length,
      malformedLines: this.malformed,
      lastArrivalMs: this.lastArrivalMs,
    }
  }

  /**
   * Event → alarm latencies from the send times of the events (ms on the monotonic clock, NaN = not
   * sent) and the position of each event id.
   */
  latencies(
    sendTimes: Float64Array,
    indexOfEventId: ReadonlyMap<string, number>,
    /** Events sent before this (the warm-up) are left out. */
    fromMs: number,
  ): {
    alarm: LatencyFigures
    unmatched: number
    /** Event → alarm latency per second of the run (by send time): where stalls happened. */
    bySecond: {second: number; samples: number; p50Ms: number; maxMs: number}[]
  } {
    let firstSend = Infinity
    for (const t of sendTimes) if (t >= fromMs && t < firstSend) firstSend = t
    let unmatched = 0
    const sendTimeOf = (eventId: string): number => {
      const index = indexOfEventId.get(eventId)
      return index === undefined ? Number.NaN : (sendTimes[index] ?? Number.NaN)
    }
    const lastOfStage = new Map<string, string>()
    for (const line of this.alarmEvents) {
      lastOfStage.set(`${line.alarmId} ${line.stage}`, line.eventId)
      if (Number.isNaN(sendTimeOf(line.eventId))) unmatched++
    }
    const alarm: number[] = []
    const perSecond: number[][] = []
    for (const line of this.alarms) {
      const cause = lastOfStage.get(`${line.alarmId} ${line.finishedStages}`)
      const sent = cause === undefined ? Number.NaN : sendTimeOf(cause)
      if (Number.isNaN(sent)) unmatched++
      else if (sent >= fromMs) {
        alarm.push(line.atMs - sent)
        ;(perSecond[Math.floor((sent - firstSend) / 1000)] ??= []).push(line.atMs - sent)
      }
    }
    const bySecond = [...perSecond.entries()].map(([second, values = []]) => {
      const f = summarize(values)
      return {second, samples: f.samples, p50Ms: f.p50Ms, maxMs: f.maxMs}
    })
    return {alarm: summarize(alarm), unmatched, bySecond}
  }
}

export function summarize(values: number[]): LatencyFigures {
  const sorted = Float64Array.from(values).sort()
  const at = (p: number): number =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
  const r = (v: number): number => Number(v.toFixed(2))
  return {
    samples: sorted.length,
    p50Ms: r(at(0.5)),
    p99Ms: r(at(0.99)),
    p999Ms: r(at(0.999)),
    maxMs: r(sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!),
  }
}
