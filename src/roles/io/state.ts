// The only importer of better-sqlite3: the local alarm store that stands in for upstream's Elasticsearch
// index. Upserts apply the rule of upstream's Logstash painless script (alarm-store-upsert.ts), and
// are written behind in batched transactions, because per-upsert autocommits cap throughput at a
// fraction of what batches reach (performance.md §5). WAL lets `dsiem alarms …` read and edit the
// database while a server holds it open. What needs no database (schema text, row mapping, query
// building, line editing, options) lives in ../alarm-store-*.ts.

import {closeSync, existsSync, mkdirSync, openSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {
  DsiemError,
  EnvironmentError,
  InputError,
  messageOf,
  serializeAlarm,
  type Alarm,
} from '../../engine/index.js'
import type {AlarmQuery, AlarmStore, StoredAlarm} from '../alarm-store.js'
import {replaceTopLevelString} from '../alarm-store-line.js'
import {
  BUSY_TIMEOUT_MS,
  writeBehindSettings,
  type AlarmStoreOptions,
  type WriteBehindSettings,
} from '../alarm-store-options.js'
import {listQuery} from '../alarm-store-query.js'
import {rowParams, toStored, type AlarmRow, type StoredField} from '../alarm-store-rows.js'
import {ALARM_STORE_SCHEMA_VERSION, MIGRATIONS} from '../alarm-store-schema.js'
import {isOutdatedUpdate, mergeUpdate} from '../alarm-store-upsert.js'

export type {AlarmStoreOptions} from '../alarm-store-options.js'
export {ALARM_STORE_SCHEMA_VERSION} from '../alarm-store-schema.js'

export const ALARM_STORE_FILE = 'dsiem.db'

/** Where the alarm store lives inside a data directory (one rule for `serve` and `dsiem alarms`). */
export function alarmStorePath(dataDir: string): string {
  return path.join(dataDir, ALARM_STORE_FILE)
}

export interface AlarmStoreStats {
  /** Upserts waiting for the next write. */
  readonly queued: number
  /** Committed write-behind transactions. */
  readonly transactions: number
  readonly inserted: number
  readonly updated: number
  /** Upserts rejected by the rule (lower risk, or equal risk and older update_time). */
  readonly dropped: number
  /** Upserts discarded because the queue was full while writes were failing. */
  readonly lost: number
}

export interface SqliteAlarmStore extends AlarmStore {
  readonly file: string
  readonly readonly: boolean
  stats(): AlarmStoreStats
}

const MAX_RETRY_DELAY_MS = 30_000

/** SQLite and file-system failures are the environment's; our own errors pass through unchanged. */
function storeError(file: string, action: string, error: unknown): Error {
  if (error instanceof DsiemError) return error
  return new EnvironmentError(
    `alarm store ${file}: ${action} failed: ${messageOf(error)}`,
    'DSIEM_E_ALARM_STORE',
    {
      cause: error,
    },
  )
}

class SqliteStore implements SqliteAlarmStore {
  readonly file: string
  readonly readonly: boolean
  private readonly db: Database.Database
  private readonly settings: WriteBehindSettings
  private queue: Alarm[] = []
  private timer: NodeJS.Timeout | undefined
  private retryDelayMs = 0
  private closed = false
  private closing = false
  private counts = {transactions: 0, inserted: 0, updated: 0, dropped: 0, lost: 0}
  private readonly writeBatch:
    ((batch: readonly Alarm[]) => {inserted: number; updated: number; dropped: number}) | undefined
  private readonly setField: ((field: StoredField, alarmId: string, value: string) => AlarmRow) | undefined

  constructor(file: string, db: Database.Database, options: AlarmStoreOptions) {
    this.file = file
    this.db = db
    this.readonly = options.readonly === true
    this.settings = writeBehindSettings(options)
    if (this.readonly) return

    const select = db.prepare<[string], AlarmRow>('SELECT * FROM alarms WHERE alarm_id = ?')
    const insert = db.prepare(
      `INSERT INTO alarms (alarm_id, directive_id, title, status, tag, risk, risk_class, created_time,
         update_time, src_ips, dst_ips, json)
       VALUES (@alarm_id, @directive_id, @title, @status, @tag, @risk, @risk_class, @created_time,
         @update_time, @src_ips, @dst_ips, @json)`,
    )
    // status and tag are deliberately absent: they belong to the analyst once the alarm exists.
    const update = db.prepare(
      `UPDATE alarms SET directive_id = @directive_id, title = @title, risk = @risk, risk_class = @risk_class,
         created_time = @created_time, update_time = @update_time, src_ips = @src_ips, dst_ips = @dst_ips,
         json = @json
       WHERE alarm_id = @alarm_id`,
    )
    const updateField = {
      status: db.prepare('UPDATE alarms SET status = ?, json = ? WHERE alarm_id = ?'),
      tag: db.prepare('UPDATE alarms SET tag = ?, json = ? WHERE alarm_id = ?'),
    }

    // IMMEDIATE: each transaction reads a row and then writes it; a deferred one could fail with
    // SQLITE_BUSY on the upgrade when a `dsiem alarms set-*` process wrote in between.
    const writeBatch = db.transaction((batch: readonly Alarm[]) => {
      let inserted = 0
      let updated = 0
      let dropped = 0
      for (const alarm of batch) {
        const row = select.get(alarm.alarmId)
        if (row === undefined) {
          insert.run(rowParams(alarm, serializeAlarm(alarm)))
          inserted++
          continue
        }
        if (isOutdatedUpdate(alarm, row)) {
          dropped++
          continue
        }
        const merged = mergeUpdate(alarm, row)
        update.run(rowParams(merged, serializeAlarm(merged)))
        updated++
      }
      return {inserted, updated, dropped}
    })
    this.writeBatch = (batch) => writeBatch.immediate(batch)

    const setField = db.transaction((field: StoredField, alarmId: string, value: string): AlarmRow => {
      const row = select.get(alarmId)
      if (row === undefined) throw new InputError(`no alarm ${alarmId}`, 'DSIEM_E_NO_ALARM')
      const json = replaceTopLevelString(row.json, field, value)
      updateField[field].run(value, json, alarmId)
      return {...row, [field]: value, json}
    })
    this.setField = (field, alarmId, value) => setField.immediate(field, alarmId, value)
  }

  upsert(alarm: Alarm): void {
    this.writable('upsert')
    if (this.queue.length >= this.settings.maxQueued) {
      if (this.counts.lost++ === 0 || this.counts.lost % this.settings.maxQueued === 0) {
        this.settings.onError(
          new EnvironmentError(
            `alarm store ${this.file}: write queue full (${this.settings.maxQueued}); ${this.counts.lost} alarm update(s) lost so far`,
            'DSIEM_E_ALARM_STORE',
          ),
        )
      }
      return
    }
    this.queue.push(alarm)
    if (this.queue.length >= this.settings.batchSize && this.retryDelayMs === 0) this.backgroundFlush()
    else this.schedule()
  }

  flush(): void {
    this.writable('flush')
    this.cancelTimer()
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    let result
    try {
      result = this.writeBatch!(batch)
    } catch (error) {
      // Nothing of the batch was committed: keep it, ahead of whatever arrived since, and retry
      // later with a growing delay so a locked database or a full disk is not hammered (and
      // reported) every few milliseconds.
      this.queue = batch.concat(this.queue)
      this.retryDelayMs = Math.min(
        Math.max(this.retryDelayMs * 2, this.settings.flushIntervalMs),
        MAX_RETRY_DELAY_MS,
      )
      if (!this.closing) this.schedule()
      throw storeError(this.file, 'write', error)
    }
    this.retryDelayMs = 0
    this.counts.transactions++
    this.counts.inserted += result.inserted
    this.counts.updated += result.updated
    this.counts.dropped += result.dropped
  }

  list(query: AlarmQuery = {}): StoredAlarm[] {
    this.open('list')
    this.flushForRead()
    const {sql, params} = listQuery(query)
    try {
      return this.db
        .prepare<(string | number)[], AlarmRow>(sql)
        .all(...params)
        .map(toStored)
    } catch (error) {
      throw storeError(this.file, 'read', error)
    }
  }

  get(alarmId: string): StoredAlarm | undefined {
    this.open('get')
    this.flushForRead()
    try {
      const row = this.db.prepare<[string], AlarmRow>('SELECT * FROM alarms WHERE alarm_id = ?').get(alarmId)
      return row === undefined ? undefined : toStored(row)
    } catch (error) {
      throw storeError(this.file, 'read', error)
    }
  }

  setStatus(alarmId: string, status: string, allowed: readonly string[]): StoredAlarm {
    return this.set('status', alarmId, status, allowed)
  }

  setTag(alarmId: string, tag: string, allowed: readonly string[]): StoredAlarm {
    return this.set('tag', alarmId, tag, allowed)
  }

  stats(): AlarmStoreStats {
    return {queued: this.queue.length, ...this.counts}
  }

  close(): void {
    if (this.closed) return
    this.closing = true
    try {
      if (!this.readonly) this.flush()
    } finally {
      this.cancelTimer()
      this.closed = true
      this.db.close()
    }
  }

  private set(field: StoredField, alarmId: string, value: string, allowed: readonly string[]): StoredAlarm {
    this.writable(`set ${field}`)
    if (!allowed.includes(value)) {
      const flag = field === 'status' ? '--status / DSIEM_STATUS' : '--tags / DSIEM_TAGS'
      throw new InputError(
        `invalid ${field} ${JSON.stringify(value)}: allowed values are ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
        field === 'status' ? 'DSIEM_E_ALARM_STATUS' : 'DSIEM_E_ALARM_TAG',
        {hint: `the allowed values come from ${flag}`},
      )
    }
    // The alarm may still be waiting in the queue.
    this.flush()
    try {
      return toStored(this.setField!(field, alarmId, value))
    } catch (error) {
      throw storeError(this.file, `set ${field}`, error)
    }
  }

  /**
   * Reads of the writing store include what is queued. A failing write is reported, not thrown: the
   * caller still gets the committed data, and the retry schedule stays as it was.
   */
  private flushForRead(): void {
    if (!this.readonly && this.queue.length > 0 && this.retryDelayMs === 0) this.backgroundFlush()
  }

  private backgroundFlush(): void {
    try {
      this.flush()
    } catch (error) {
      // No caller to throw to; flush() has already scheduled the retry.
      this.settings.onError(
        error instanceof EnvironmentError
          ? error
          : new EnvironmentError(messageOf(error), 'DSIEM_E_ALARM_STORE'),
      )
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return
    // Not unref'd: a process that queued alarms and then ends without close() still gets them written.
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.backgroundFlush()
    }, this.retryDelayMs || this.settings.flushIntervalMs)
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private open(operation: string): void {
    if (this.closed) throw new Error(`alarm store ${this.file}: ${operation} after close`)
  }

  private writable(operation: string): void {
    this.open(operation)
    if (this.readonly) throw new Error(`alarm store ${this.file}: ${operation} on a read-only store`)
  }
}

function migrate(db: Database.Database, file: string, readonly: boolean): void {
  const version = db.pragma('user_version', {simple: true}) as number
  if (version > ALARM_STORE_SCHEMA_VERSION) {
    throw new EnvironmentError(
      `alarm store ${file} has schema version ${version}, newer than this dsiem understands (${ALARM_STORE_SCHEMA_VERSION})`,
      'DSIEM_E_ALARM_STORE_VERSION',
      {hint: 'upgrade dsiem, or point --data-dir elsewhere'},
    )
  }
  if (version === ALARM_STORE_SCHEMA_VERSION) return
  const tables = db
    .prepare<[], {n: number}>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")
    .get()
  if (version === 0 && (tables?.n ?? 0) > 0) {
    throw new EnvironmentError(
      `${file} is an SQLite database but not a dsiem alarm store`,
      'DSIEM_E_ALARM_STORE',
    )
  }
  if (readonly) {
    throw new EnvironmentError(
      version === 0
        ? `alarm store ${file} is empty`
        : `alarm store ${file} has schema version ${version}; this dsiem needs ${ALARM_STORE_SCHEMA_VERSION}`,
      'DSIEM_E_ALARM_STORE_VERSION',
      {hint: 'start dsiem serve on it once to create or upgrade it'},
    )
  }
  db.transaction(() => {
    for (const step of MIGRATIONS.slice(version)) db.exec(step)
    db.pragma(`user_version = ${ALARM_STORE_SCHEMA_VERSION}`)
  }).immediate()
}

/**
 * Opens (creating it if allowed) the alarm store at `file`. Read-only opens are for commands: they
 * never create or migrate, and work while a server process holds the database (WAL).
 */
export function openAlarmStore(file: string, options: AlarmStoreOptions = {}): SqliteAlarmStore {
  const readonly = options.readonly === true
  if ((readonly || options.mustExist === true) && !existsSync(file)) {
    throw new EnvironmentError(
      `no alarm store at ${file}; start dsiem serve with --data-dir ${path.dirname(file)} first`,
      'DSIEM_E_NO_ALARM_STORE',
    )
  }
  let db: Database.Database | undefined
  try {
    if (!readonly) {
      // Alarms are sensitive: owner-only, like upstream's logs/ (0700) and its output files (0600).
      mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
      closeSync(openSync(file, 'a', 0o600))
    }
    db = new Database(file, {
      readonly,
      fileMustExist: true,
      timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
    })
    if (!readonly) {
      db.pragma('journal_mode = WAL')
      // With WAL, NORMAL loses at most the last commits on power loss, never consistency; FULL costs
      // an fsync per transaction.
      db.pragma('synchronous = NORMAL')
    }
    migrate(db, file, readonly)
    return new SqliteStore(file, db, options)
  } catch (error) {
    db?.close()
    if (error instanceof DsiemError) throw error
    throw new EnvironmentError(
      `cannot open alarm store ${file}: ${messageOf(error)}`,
      'DSIEM_E_ALARM_STORE',
      {
        cause: error,
      },
    )
  }
}
