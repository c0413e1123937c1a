// The server's alarm store on its writer thread, against real SQLite files: upserts committed by the
// thread with upstream's rule, flush() resolving only once the rows are readable, the event loop kept
// running while another process holds the write lock (the stall this thread exists to remove), failed
// writes reported and retried, losses counted, open errors raised on the caller's thread.

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import Database from 'better-sqlite3'
import {EnvironmentError, serializeAlarm, type Alarm} from '../../src/engine/index.js'
import {AlarmStoreThread, openAlarmStoreThread} from '../../src/roles/io/alarm-store-thread.js'
import {alarmStorePath, openAlarmStore} from '../../src/roles/io/state.js'
import {ALARM_T0 as T0, pingFloodAlarm} from '../helpers/alarm-builders.js'

const tmpRoot = mkdtempSync(path.join(tmpdir(), 'dsiem-store-thread-'))
after(() => rmSync(tmpRoot, {recursive: true, force: true}))
let dirCount = 0
const freshFile = () => alarmStorePath(path.join(tmpRoot, `d${++dirCount}`))

const threads: AlarmStoreThread[] = []
after(async () => {
  for (const thread of threads) await thread.close().catch(() => undefined)
})
function open(file: string, options: Parameters<typeof openAlarmStoreThread>[1] = {}): AlarmStoreThread {
  const thread = openAlarmStoreThread(file, options)
  threads.push(thread)
  return thread
}

const alarm = (fields: Partial<Alarm> = {}): Alarm => pingFloodAlarm({updateTime: T0, ...fields})

/** What a separate reader sees in the file, by alarm id. */
function committed(file: string): Map<string, string> {
  const reader = openAlarmStore(file, {readonly: true})
  try {
    return new Map(reader.list().map((a) => [a.alarmId, a.json]))
  } finally {
    reader.close()
  }
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('alarm store thread', () => {
  it('commits upserts with the upsert rule; flush() resolves once they are readable', async () => {
    const file = freshFile()
    const thread = open(file, {flushIntervalMs: 60_000})
    const first = alarm({alarmId: 'a1'})
    const higher = alarm({alarmId: 'a1', risk: 7, riskClass: 'High', updateTime: T0 + 5})
    const lower = alarm({alarmId: 'a1', risk: 2, riskClass: 'Low', updateTime: T0 + 9})
    thread.upsert(first)
    thread.upsert(alarm({alarmId: 'a2'}))
    assert.equal(committed(file).size, 0, 'nothing is written before the flush interval or a flush()')
    await thread.flush()
    assert.deepEqual([...committed(file).keys()].sort(), ['a1', 'a2'])
    thread.upsert(higher)
    thread.upsert(lower)
    await thread.flush()
    assert.equal(committed(file).get('a1'), serializeAlarm(higher), 'higher risk replaced, lower dropped')
    assert.deepEqual(thread.stats(), {
      queued: 0,
      transactions: 2,
      inserted: 2,
      updated: 1,
      dropped: 1,
      lost: 0,
    })
  })

  it('writes on its own after the flush interval, and close() writes what is left', async () => {
    const file = freshFile()
    const thread = open(file, {flushIntervalMs: 20})
    thread.upsert(alarm({alarmId: 'timed'}))
    const deadline = Date.now() + 5_000
    while (!committed(file).has('timed') && Date.now() < deadline) await tick(10)
    assert.ok(committed(file).has('timed'), 'the interval hands the batch over')

    const closing = open(freshFile(), {flushIntervalMs: 60_000})
    closing.upsert(alarm({alarmId: 'last'}))
    await closing.close()
    assert.ok(committed(closing.file).has('last'), 'close() commits the queue before ending the thread')
  })

  it('keeps the event loop running while another process holds the write lock, then commits', async () => {
    const file = freshFile()
    const errors: EnvironmentError[] = []
    const thread = open(file, {busyTimeoutMs: 1_500, onError: (e) => errors.push(e)})
    thread.upsert(alarm({alarmId: 'seed'}))
    await thread.flush()
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE')
    let flushed = false
    thread.upsert(alarm({alarmId: 'blocked'}))
    const flushing = thread.flush().then(() => (flushed = true))
    // The thread waits up to busyTimeoutMs for the lock; the loop must keep turning meanwhile.
    const started = performance.now()
    let turns = 0
    while (performance.now() - started < 300) {
      await tick(5)
      turns++
    }
    assert.ok(turns >= 20, `the event loop kept running (${turns} timer turns in 300 ms)`)
    assert.equal(flushed, false, 'the flush waits for the commit')
    other.exec('COMMIT')
    other.close()
    await flushing
    assert.ok(committed(file).has('blocked'), 'committed once the lock is released')
    assert.deepEqual(errors, [], 'a lock released within the busy timeout is no error')
  })

  it('reports a failed write with the file name, keeps the batch and retries it', async () => {
    const file = freshFile()
    const errors: EnvironmentError[] = []
    const thread = open(file, {busyTimeoutMs: 10, flushIntervalMs: 20, onError: (e) => errors.push(e)})
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE')
    try {
      thread.upsert(alarm({alarmId: 'x1'}))
      await thread.flush()
      assert.ok(
        errors.some((e) => e.message.includes(file) && /database is locked/.test(e.message)),
        `the failure is reported: ${errors.map((e) => e.message).join(' | ')}`,
      )
      assert.equal(thread.stats().queued, 1, 'the failed batch is kept in the thread')
    } finally {
      other.exec('COMMIT')
      other.close()
    }
    const deadline = Date.now() + 5_000
    while (!committed(file).has('x1') && Date.now() < deadline) await tick(10)
    assert.ok(committed(file).has('x1'), 'the retry commits it')
  })

  it('counts upserts beyond the queue limit and after close as lost, and says so', async () => {
    const file = freshFile()
    const errors: EnvironmentError[] = []
    const thread = open(file, {flushIntervalMs: 60_000, maxQueued: 2, onError: (e) => errors.push(e)})
    thread.upsert(alarm({alarmId: 'q1'}))
    thread.upsert(alarm({alarmId: 'q2'}))
    thread.upsert(alarm({alarmId: 'q3'}))
    assert.equal(thread.stats().lost, 1)
    assert.match(errors[0]?.message ?? '', /write queue full \(2\); 1 alarm update\(s\) lost so far/)
    await thread.close()
    thread.upsert(alarm({alarmId: 'late'}))
    assert.equal(thread.stats().lost, 2)
    assert.deepEqual([...committed(file).keys()].sort(), ['q1', 'q2'])
  })

  it('fails on the calling thread with the usual one-line error for a file that is not a store', () => {
    const foreign = path.join(tmpRoot, 'foreign.db')
    const db = new Database(foreign)
    db.exec('CREATE TABLE other (x)')
    db.close()
    assert.throws(
      () => openAlarmStoreThread(foreign),
      (error: unknown) =>
        error instanceof EnvironmentError &&
        /not a dsiem alarm store/.test(error.message) &&
        !error.message.includes('\n'),
    )
  })
})
