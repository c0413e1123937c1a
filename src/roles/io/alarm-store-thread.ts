// The server's alarm store, written from a worker thread (alarm-store-worker.ts) that owns the SQLite
// connection. On the event loop a commit, and above all the WAL checkpoint SQLite runs inside some
// commit with its fsyncs, stalled every request and event behind it: 10–20 ms per commit on this
// project's test VM, and up to 0.5 s when the disk was busy, which was the whole p99 of event → alarm
// latency. Here upserts are queued on the loop (write-behind, as the synchronous store does), handed
// over in batches every flush interval or batch size, and committed by the thread one transaction per
// batch; the loop only pays for copying the batch into the message.
//
// The file is opened once on the calling thread first, so a foreign, corrupt or too-new file fails
// start-up with its usual one-line error before any thread exists. Nothing is dropped silently:
// upserts beyond the queue limit (writes stalled or failing) and upserts after the thread died are
// counted as lost and reported through onError, as the synchronous store does.

import type {Worker} from 'node:worker_threads'
import {EnvironmentError, type Alarm} from '../../engine/index.js'
import type {AlarmWriter} from '../alarm-store.js'
import {
  writeBehindSettings,
  type AlarmStoreOptions,
  type WriteBehindSettings,
} from '../alarm-store-options.js'
import type {Logger} from './log.js'
import {siblingModule, startModuleWorker} from './module-worker.js'
import {openAlarmStore, type AlarmStoreStats} from './state.js'

/** What the writer thread is started with. */
export interface WriterData {
  readonly file: string
  readonly options: Pick<AlarmStoreOptions, 'flushIntervalMs' | 'batchSize' | 'maxQueued' | 'busyTimeoutMs'>
}

export type ToWriter = {kind: 'upsert'; seq: number; alarms: readonly Alarm[]} | {kind: 'close'}

export type FromWriter =
  | {kind: 'written'; seq: number; stats: AlarmStoreStats; error: string | undefined}
  | {kind: 'error'; message: string; code: string}
  | {kind: 'closed'; stats: AlarmStoreStats; error: string | undefined}

const NO_STATS: AlarmStoreStats = {queued: 0, transactions: 0, inserted: 0, updated: 0, dropped: 0, lost: 0}

export type AlarmStoreThreadOptions = Omit<AlarmStoreOptions, 'readonly' | 'mustExist'>

export class AlarmStoreThread implements AlarmWriter {
  readonly file: string
  private readonly worker: Worker
  private readonly settings: WriteBehindSettings
  private queue: Alarm[] = []
  private timer: NodeJS.Timeout | undefined
  private seq = 0
  /** Sizes of the batches handed over and not yet acknowledged, oldest first. */
  private readonly batches: {seq: number; size: number}[] = []
  private inFlight = 0
  private readonly waiters: {seq: number; resolve: () => void}[] = []
  private writerStats: AlarmStoreStats = NO_STATS
  private lostHere = 0
  /** Set once the thread died or close() began: upserts are lost from then on. */
  private stopped: string | undefined
  private dead = false
  private closed: Promise<void> | undefined
  private readonly exited: Promise<void>

  /** Opens (creating or migrating) `file` here, then starts the writer thread on it. */
  static open(file: string, options: AlarmStoreThreadOptions = {}): AlarmStoreThread {
    openAlarmStore(file, options).close()
    return new AlarmStoreThread(file, options)
  }

  private constructor(file: string, options: AlarmStoreThreadOptions) {
    this.file = file
    this.settings = writeBehindSettings(options)
    const {flushIntervalMs, batchSize, maxQueued} = this.settings
    // Plain data only: the thread reports errors by message, and this side calls onError.
    const data: WriterData = {
      file,
      options: {
        flushIntervalMs,
        batchSize,
        maxQueued,
        ...(options.busyTimeoutMs === undefined ? {} : {busyTimeoutMs: options.busyTimeoutMs}),
      },
    }
    this.worker = startModuleWorker(siblingModule(import.meta.url, 'alarm-store-worker'), {workerData: data})
    this.worker.on('message', (message: FromWriter) => this.onMessage(message))
    this.worker.on('error', (error) => this.die(`writer thread failed: ${error.message}`))
    // Only the exit during close() is expected.
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        if (this.closed === undefined) this.die(`writer thread exited (code ${code})`)
        resolve()
      }),
    )
  }

  upsert(alarm: Alarm): void {
    if (this.stopped !== undefined) return this.lose(1, this.stopped)
    if (this.queue.length + this.inFlight >= this.settings.maxQueued) {
      return this.lose(1, `write queue full (${this.settings.maxQueued})`)
    }
    this.queue.push(alarm)
    if (this.queue.length >= this.settings.batchSize) this.handOver()
    else this.timer ??= setTimeout(() => this.handOver(), this.settings.flushIntervalMs)
  }

  /** Hands over what is queued; resolves once the thread has written it (or reported why not). */
  flush(): Promise<void> {
    this.handOver()
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({seq: this.seq, resolve}))
  }

  /** Writes what is queued, closes the database and ends the thread. */
  close(): Promise<void> {
    this.closed ??= this.closeNow()
    return this.closed
  }

  /** Counts of the writer thread's store, plus what is queued or was lost on this side. */
  stats(): AlarmStoreStats {
    return {
      ...this.writerStats,
      queued: this.queue.length + this.inFlight + this.writerStats.queued,
      lost: this.writerStats.lost + this.lostHere,
    }
  }

  private async closeNow(): Promise<void> {
    this.handOver()
    if (this.stopped !== undefined) {
      await this.worker.terminate()
      return
    }
    const closing = new Promise<FromWriter & {kind: 'closed'}>((resolve) => {
      const onClosed = (message: FromWriter): void => {
        if (message.kind !== 'closed') return
        this.worker.off('message', onClosed)
        resolve(message)
      }
      this.worker.on('message', onClosed)
    })
    this.post({kind: 'close'})
    this.stopped = `alarm store ${this.file} is closed`
    const outcome = await Promise.race([closing, this.exited.then(() => undefined)])
    await this.exited
    if (outcome === undefined) return
    this.writerStats = outcome.stats
    if (outcome.error !== undefined) {
      throw new EnvironmentError(`alarm store ${this.file}: ${outcome.error}`, 'DSIEM_E_ALARM_STORE')
    }
  }

  private handOver(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.queue.length === 0) return
    const alarms = this.queue
    this.queue = []
    if (this.stopped !== undefined) return this.lose(alarms.length, this.stopped)
    const seq = ++this.seq
    this.batches.push({seq, size: alarms.length})
    this.inFlight += alarms.length
    this.post({kind: 'upsert', seq, alarms})
  }

  private post(message: ToWriter): void {
    this.worker.postMessage(message)
  }

  private onMessage(message: FromWriter): void {
    switch (message.kind) {
      case 'written':
        this.writerStats = message.stats
        while (this.batches.length > 0 && this.batches[0]!.seq <= message.seq) {
          this.inFlight -= this.batches.shift()!.size
        }
        // A failed write stays queued in the thread, which retries it with a growing delay.
        if (message.error !== undefined) {
          this.settings.onError(
            new EnvironmentError(`alarm store ${this.file}: ${message.error}`, 'DSIEM_E_ALARM_STORE'),
          )
        }
        this.release(message.seq)
        return
      case 'error':
        this.settings.onError(new EnvironmentError(message.message, message.code))
        return
      case 'closed':
        return // close() listens for it
    }
  }

  private release(seq: number): void {
    while (this.waiters.length > 0 && this.waiters[0]!.seq <= seq) this.waiters.shift()!.resolve()
  }

  /** The thread is gone: what it held is lost, and so is everything after. */
  private die(reason: string): void {
    if (this.dead) return
    this.dead = true
    this.stopped ??= `alarm store ${this.file}: ${reason}`
    if (this.inFlight > 0) this.lose(this.inFlight, this.stopped)
    this.inFlight = 0
    this.batches.length = 0
    this.release(Infinity)
  }

  private lose(count: number, reason: string): void {
    const before = this.lostHere
    this.lostHere += count
    // Reported on the first loss and then once per queue-limit's worth, not once per alarm.
    if (
      before === 0 ||
      Math.floor(before / this.settings.maxQueued) !== Math.floor(this.lostHere / this.settings.maxQueued)
    ) {
      this.settings.onError(
        new EnvironmentError(
          `${reason.startsWith('alarm store') ? reason : `alarm store ${this.file}: ${reason}`}; ${this.lostHere} alarm update(s) lost so far`,
          'DSIEM_E_ALARM_STORE',
        ),
      )
    }
  }
}

export function openAlarmStoreThread(file: string, options: AlarmStoreThreadOptions = {}): AlarmStoreThread {
  return AlarmStoreThread.open(file, options)
}

/** How a server's backend opens its alarm store: on a writer thread, errors logged as one line each. */
export function alarmStoreThreadOpener(log: Logger): (file: string) => AlarmStoreThread {
  return (file) =>
    openAlarmStoreThread(file, {onError: (error) => log.error(`alarm store: ${error.message}`)})
}
