// Upstream's two output files, DATA_DIR/logs/siem_alarms.json and siem_alarm_events.json: one JSON
// line per alarm upsert and per alarm event, appended. The directory is 0700 and the files 0600 (both
// forced with chmod, since mkdir/open modes are filtered by the umask and an existing path keeps its
// own mode). Lines are buffered and written once per batch: the first line after a write schedules
// the next one (setImmediate), so a batch of events costs one write per file, not one per line. The
// alarm-event file, ten times busier and not what anyone waits for, gathers its lines for 10 ms
// instead: every write wakes a thread-pool thread, and on two cores those wake-ups took the CPU from
// the threads that turn events into alarms.
// Writes go through line-appender.ts: asynchronous, on libuv's thread pool, never on the event loop
// (an fsync of the alarm store puts the file's last page under writeback, and a synchronous append
// then stalled every request behind it). Lines arriving while a write is out join the next batch.
//
// Like upstream, each file has a bounded queue (1000 alarm lines, 10000 alarm-event lines). Upstream
// fails the write with WARN "failed to update Elasticsearch!" when its queue is full; here a line is
// lost only when the disk truly cannot keep up: the backend asks `needsWait()` after every batch and
// holds the next one on `drained()` while a file is more than half full, so the queue limit is only
// reached when writes stall or fail. Every lost line is counted and logged.

import {chmodSync, closeSync, fchmodSync, mkdirSync, openSync} from 'node:fs'
import path from 'node:path'
import {serializeAlarm, serializeAlarmEvent, type Alarm} from '../../engine/index.js'
import {LineAppender, type LineAppenderStats, type LossReason} from './line-appender.js'

export const ALARMS_FILE = 'siem_alarms.json'
export const ALARM_EVENTS_FILE = 'siem_alarm_events.json'
/** Upstream's queue lengths. */
export const ALARM_QUEUE_LINES = 1000
export const ALARM_EVENT_QUEUE_LINES = 10000
/** How long the alarm-event file gathers lines before a write (the alarm file writes per batch). */
export const ALARM_EVENT_GATHER_MS = 10
/** Upstream's warning when an output line cannot be queued. */
export const OUTPUT_LOST_MESSAGE = 'failed to update Elasticsearch!'

export type OutputFile = 'alarms' | 'alarm_events'
export type {LossReason}

export interface AlarmFilesOptions {
  alarmQueueLines?: number
  alarmEventQueueLines?: number
  /** Milliseconds the alarm-event file gathers lines before writing (default ALARM_EVENT_GATHER_MS). */
  alarmEventGatherMs?: number
  /** Lines could not be written (counted; the caller logs and exports them). */
  onLost?: (file: OutputFile, reason: LossReason, count: number, error?: Error) => void
}

export interface OutputFileStats extends LineAppenderStats {
  readonly path: string
}

/** DATA_DIR/logs, created 0700 (and tightened to 0700 if it exists). */
export function ensureLogsDir(dataDir: string): string {
  const dir = path.join(dataDir, 'logs')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  chmodSync(dir, 0o700)
  return dir
}

/** One output file: opened 0600 for appending, written through a LineAppender. */
class LineFile {
  readonly path: string
  private readonly appender: LineAppender

  constructor(
    file: OutputFile,
    filePath: string,
    limit: number,
    gatherMs: number,
    onLost: AlarmFilesOptions['onLost'],
  ) {
    this.path = filePath
    const fd = openSync(filePath, 'a', 0o600)
    try {
      fchmodSync(fd, 0o600)
    } catch (error) {
      closeSync(fd)
      throw error
    }
    this.appender = new LineAppender(fd, {
      capacity: limit,
      gatherMs,
      ...(onLost === undefined ? {} : {onLost: (reason, count, error) => onLost(file, reason, count, error)}),
    })
  }

  add(line: string): void {
    this.appender.add(line + '\n')
  }

  get congested(): boolean {
    return this.appender.congested
  }

  drained(): Promise<void> {
    return this.appender.drained()
  }

  stats(): OutputFileStats {
    return {path: this.path, ...this.appender.stats()}
  }

  close(): Promise<void> {
    return this.appender.close()
  }
}

/** The two output files of one backend. */
export class AlarmFiles {
  readonly dir: string
  private readonly alarms: LineFile
  private readonly events: LineFile

  private constructor(dir: string, alarms: LineFile, events: LineFile) {
    this.dir = dir
    this.alarms = alarms
    this.events = events
  }

  /** Creates DATA_DIR/logs and opens both files for appending (throws on failure). */
  static open(dataDir: string, options: AlarmFilesOptions = {}): AlarmFiles {
    const dir = ensureLogsDir(dataDir)
    const alarms = new LineFile(
      'alarms',
      path.join(dir, ALARMS_FILE),
      options.alarmQueueLines ?? ALARM_QUEUE_LINES,
      0,
      options.onLost,
    )
    let events: LineFile
    try {
      events = new LineFile(
        'alarm_events',
        path.join(dir, ALARM_EVENTS_FILE),
        options.alarmEventQueueLines ?? ALARM_EVENT_QUEUE_LINES,
        options.alarmEventGatherMs ?? ALARM_EVENT_GATHER_MS,
        options.onLost,
      )
    } catch (error) {
      void alarms.close()
      throw error
    }
    return new AlarmFiles(dir, alarms, events)
  }

  writeAlarm(alarm: Alarm): void {
    this.alarms.add(serializeAlarm(alarm))
  }

  writeAlarmEvent(alarmId: string, stage: number, eventId: string): void {
    this.events.add(serializeAlarmEvent(alarmId, stage, eventId))
  }

  /** A file's queue is more than half full: hold new work until `drained()`. */
  needsWait(): boolean {
    return this.alarms.congested || this.events.congested
  }

  /** Resolves once every line added so far is on disk (or counted as lost). */
  async drained(): Promise<void> {
    await Promise.all([this.alarms.drained(), this.events.drained()])
  }

  stats(): {alarms: OutputFileStats; alarmEvents: OutputFileStats} {
    return {alarms: this.alarms.stats(), alarmEvents: this.events.stats()}
  }

  /** Writes what is pending, then closes both files. */
  async close(): Promise<void> {
    await Promise.all([this.alarms.close(), this.events.close()])
  }
}
