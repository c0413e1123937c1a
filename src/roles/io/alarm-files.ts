// Upstream's two output files, DATA_DIR/logs/siem_alarms.json and siem_alarm_events.json: one JSON
// line per alarm upsert and per alarm event, appended. The directory is 0700 and the files 0600 (both
// forced with chmod, since mkdir/open modes are filtered by the umask and an existing path keeps its
// own mode). Lines are buffered and written once per batch: the first line after a write schedules
// the next one (setImmediate), so a batch of events costs one write per file, not one per line. The
// alarm-event file, ten times busier and not what anyone waits for, gathers its lines for 10 ms
// instead: every write wakes a thread-pool thread, and on two cores those wake-ups took the CPU from
// the threads that turn events into alarms.
// Writes are always asynchronous (libuv's thread pool), never on the event loop: appending a line is
// microseconds until the file's last page is under writeback or the journal is committing (an fsync
// of the alarm store does both), and then a synchronous append stalled every request behind it for
// 50–150 ms on this project's test VM. Lines arriving while a write is out join the next batch.
//
// Like upstream, each file has a bounded queue (1000 alarm lines, 10000 alarm-event lines). Upstream
// fails the write with WARN "failed to update Elasticsearch!" when its queue is full; here a line is
// lost only when the disk truly cannot keep up: the backend asks `needsWait()` after every batch and
// holds the next one on `drained()` while a file is more than half full, so the queue limit is only
// reached when writes stall or fail. Every lost line is counted and logged.

import {chmodSync, closeSync, fchmodSync, mkdirSync, openSync, write} from 'node:fs'
import path from 'node:path'
import {serializeAlarm, serializeAlarmEvent, type Alarm} from '../../engine/index.js'

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
export type LossReason = 'queue_full' | 'write_error'

export interface AlarmFilesOptions {
  alarmQueueLines?: number
  alarmEventQueueLines?: number
  /** Milliseconds the alarm-event file gathers lines before writing (default ALARM_EVENT_GATHER_MS). */
  alarmEventGatherMs?: number
  /** Lines could not be written (counted; the caller logs and exports them). */
  onLost?: (file: OutputFile, reason: LossReason, count: number, error?: Error) => void
}

export interface OutputFileStats {
  readonly path: string
  /** Lines written to disk. */
  readonly written: number
  /** Lines queued or being written. */
  readonly pending: number
  readonly lost: number
  /** Write batches started (a batch may take more than one write(2) if the kernel writes short). */
  readonly writes: number
}

/** DATA_DIR/logs, created 0700 (and tightened to 0700 if it exists). */
export function ensureLogsDir(dataDir: string): string {
  const dir = path.join(dataDir, 'logs')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  chmodSync(dir, 0o700)
  return dir
}

class LineFile {
  readonly file: OutputFile
  readonly path: string
  private readonly fd: number
  private readonly limit: number
  /** 0: write at the end of the batch (setImmediate); else gather lines this long first. */
  private readonly gatherMs: number
  private readonly onLost: AlarmFilesOptions['onLost']
  private lines: string[] = []
  /** Lines handed to the current write. */
  private writing = 0
  private scheduled = false
  private closed = false
  private written = 0
  private lost = 0
  private writes = 0
  private waiters: (() => void)[] = []

  constructor(
    file: OutputFile,
    filePath: string,
    limit: number,
    gatherMs: number,
    onLost: AlarmFilesOptions['onLost'],
  ) {
    this.file = file
    this.path = filePath
    this.limit = limit
    this.gatherMs = gatherMs
    this.onLost = onLost
    this.fd = openSync(filePath, 'a', 0o600)
    try {
      fchmodSync(this.fd, 0o600)
    } catch (error) {
      closeSync(this.fd)
      throw error
    }
  }

  get pending(): number {
    return this.lines.length + this.writing
  }

  add(line: string): void {
    if (this.closed) {
      this.lost++
      this.onLost?.(this.file, 'write_error', 1, new Error(`${this.path} is closed`))
      return
    }
    if (this.pending >= this.limit) {
      this.lost++
      this.onLost?.(this.file, 'queue_full', 1)
      return
    }
    this.lines.push(line)
    if (!this.scheduled && this.writing === 0) {
      this.scheduled = true
      if (this.gatherMs > 0) setTimeout(this.writeNext, this.gatherMs)
      else setImmediate(this.writeNext)
    }
  }

  /** More than half of the queue is in use: the producer should wait for `drained()`. */
  get congested(): boolean {
    return this.pending * 2 > this.limit
  }

  /** Resolves once nothing is queued or being written. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  stats(): OutputFileStats {
    return {
      path: this.path,
      written: this.written,
      pending: this.pending,
      lost: this.lost,
      writes: this.writes,
    }
  }

  async close(): Promise<void> {
    await this.drained()
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  private readonly writeNext = (): void => {
    this.scheduled = false
    if (this.writing > 0 || this.lines.length === 0) return this.settle()
    const batch = this.lines
    this.lines = []
    this.writing = batch.length
    this.writes++
    this.writeFrom(Buffer.from(batch.join('\n') + '\n', 'utf8'), 0)
  }

  private writeFrom(buffer: Buffer, offset: number): void {
    write(this.fd, buffer, offset, buffer.length - offset, null, (error, bytes) => {
      if (error !== null) {
        const count = this.writing
        this.lost += count
        this.writing = 0
        this.onLost?.(this.file, 'write_error', count, error)
        return this.writeNext()
      }
      if (offset + bytes < buffer.length) return this.writeFrom(buffer, offset + bytes)
      this.written += this.writing
      this.writing = 0
      this.writeNext()
    })
  }

  private settle(): void {
    if (this.pending !== 0) return
    for (const resolve of this.waiters.splice(0)) resolve()
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
