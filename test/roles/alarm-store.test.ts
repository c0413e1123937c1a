// The SQLite alarm store on real files: upstream's Elasticsearch upsert rule (risk, then update_time;
// status and tag belong to the analyst; optional arrays kept when an update omits them), write-behind
// batching and its timer, close() flushing, a read-only reader beside an open writer, status/tag
// editing, and the errors for missing, corrupt, foreign and unwritable files.

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import Database from 'better-sqlite3'
import {EnvironmentError, InputError, serializeAlarm, type Alarm} from '../../src/engine/index.js'
import {replaceTopLevelString} from '../../src/roles/alarm-store-line.js'
import {
  ALARM_STORE_SCHEMA_VERSION,
  alarmStorePath,
  openAlarmStore,
  type AlarmStoreOptions,
  type SqliteAlarmStore,
} from '../../src/roles/io/state.js'
import {ALARM_T0 as T0, pingFloodAlarm} from '../helpers/alarm-builders.js'
import {rule} from '../helpers/directive-builders.js'

const STATUSES = ['Open', 'In-Progress', 'Closed']
const TAGS = ['Identified Threat', 'False Positive', 'Valid Threat', 'Security Incident']

const tmpRoot = mkdtempSync(path.join(tmpdir(), 'dsiem-store-'))
after(() => rmSync(tmpRoot, {recursive: true, force: true}))
let dirCount = 0
const freshFile = () => alarmStorePath(path.join(tmpRoot, `d${++dirCount}`))

const stores: SqliteAlarmStore[] = []
after(() => {
  for (const store of stores) store.close()
})
function open(file: string, options: AlarmStoreOptions = {}): SqliteAlarmStore {
  const store = openAlarmStore(file, options)
  stores.push(store)
  return store
}

function alarm(fields: Partial<Alarm> = {}): Alarm {
  return pingFloodAlarm({
    rules: [
      rule({
        name: 'ICMP Ping',
        startTime: T0,
        endTime: T0,
        rcvdTime: 1_795_263_372_882_677_522n,
        status: 'finished',
      }),
      rule({name: 'ICMP Ping', stage: 2, occurrence: 3, startTime: T0}),
    ],
    ...fields,
  })
}

/** Stores `first`, then upserts `second`, and returns what was kept. */
function upsertPair(first: Alarm, second: Alarm) {
  const store = open(freshFile())
  store.upsert(first)
  store.flush()
  store.upsert(second)
  store.flush()
  return {store, stored: store.get(first.alarmId)}
}

describe('alarm store: the upsert rule', () => {
  it('inserts a new alarm with its own status and tag, the line exactly as serialized', () => {
    const store = open(freshFile())
    const first = alarm({status: 'In-Progress', tag: 'Valid Threat'})
    store.upsert(first)
    const stored = store.get('a1')
    assert.ok(stored, 'the alarm is stored')
    assert.equal(stored.json, serializeAlarm(first))
    assert.deepEqual(
      [stored.status, stored.tag, stored.risk, stored.riskClass, stored.directiveId, stored.title],
      ['In-Progress', 'Valid Threat', 3, 'Medium', 1001, 'Ping Flood from 192.168.0.1'],
    )
    assert.deepEqual([stored.createdTime, stored.updateTime], [T0, T0])
    assert.deepEqual([stored.srcIps, stored.dstIps], [['192.168.0.1'], ['8.8.8.8']])
    assert.match(stored.json, /"rcvd_time":1795263372882677522/)
  })

  const cases: {name: string; second: Partial<Alarm>; accepted: boolean}[] = [
    {
      name: 'higher risk replaces (even with an older update_time)',
      second: {risk: 7, riskClass: 'High', updateTime: T0 - 10},
      accepted: true,
    },
    {
      name: 'lower risk is dropped (even with a newer update_time)',
      second: {risk: 2, riskClass: 'Low', updateTime: T0 + 60},
      accepted: false,
    },
    {
      name: 'equal risk and a newer update_time replaces',
      second: {updateTime: T0 + 5, dstIps: ['8.8.8.8', '8.8.4.4']},
      accepted: true,
    },
    {
      name: 'equal risk and the same update_time replaces (only older is dropped)',
      second: {srcIps: ['192.168.0.2']},
      accepted: true,
    },
    {
      name: 'equal risk and an older update_time is dropped',
      second: {updateTime: T0 - 1, title: 'older'},
      accepted: false,
    },
  ]
  for (const {name, second, accepted} of cases) {
    it(name, () => {
      const first = alarm({updateTime: T0})
      const next = alarm({...second})
      const {store, stored} = upsertPair(first, next)
      assert.ok(stored, 'the alarm is stored')
      assert.equal(stored.json, serializeAlarm(accepted ? next : first))
      assert.deepEqual(store.stats(), {
        queued: 0,
        transactions: 2,
        inserted: 1,
        updated: accepted ? 1 : 0,
        dropped: accepted ? 0 : 1,
        lost: 0,
      })
    })
  }

  it('keeps the stored status and tag across accepted updates, in the columns and in the line', () => {
    const store = open(freshFile())
    store.upsert(alarm())
    store.setStatus('a1', 'Closed', STATUSES)
    store.setTag('a1', 'False Positive', TAGS)
    const next = alarm({risk: 6, updateTime: T0 + 30, srcIps: ['192.168.0.1', '192.168.0.9']})
    store.upsert(next)
    const stored = store.get('a1')
    assert.ok(stored, 'the alarm is stored')
    assert.deepEqual(
      [stored.status, stored.tag, stored.risk, stored.updateTime],
      ['Closed', 'False Positive', 6, T0 + 30],
    )
    assert.equal(stored.json, serializeAlarm({...next, status: 'Closed', tag: 'False Positive'}))
    assert.deepEqual(stored.srcIps, ['192.168.0.1', '192.168.0.9'])
  })

  it('keeps intel_hits, vulnerabilities and custom_data when an update omits them, replaces them when present', () => {
    const intel = [{provider: 'Wise', term: '8.8.8.8', result: 'bad <host> & "friends"'}]
    const vulns = [{provider: 'Nesd', term: '8.8.8.8:80', result: 'CVE-1'}]
    const custom = [{label: 'user', content: 'alice'}]
    const first = alarm({intelHits: intel, vulnerabilities: vulns, customData: custom})
    const bare = alarm({updateTime: T0 + 1})
    const kept = upsertPair(first, bare).stored
    assert.ok(kept, 'the alarm is stored')
    assert.equal(
      kept.json,
      serializeAlarm({...bare, intelHits: intel, vulnerabilities: vulns, customData: custom}),
    )

    const newer = {
      intelHits: [{provider: 'Wise', term: '8.8.4.4', result: 'worse'}],
      vulnerabilities: [{provider: 'Nesd', term: '8.8.4.4:22', result: 'CVE-2'}],
      customData: [{label: 'user', content: 'bob'}],
    }
    const full = alarm({updateTime: T0 + 1, ...newer})
    const replaced = upsertPair(first, full).stored
    assert.ok(replaced, 'the alarm is stored')
    assert.equal(replaced.json, serializeAlarm(full))
  })

  it('applies several queued upserts of one alarm in order within one batch', () => {
    const store = open(freshFile(), {flushIntervalMs: 3_600_000})
    store.upsert(alarm({risk: 3}))
    store.upsert(alarm({risk: 5, updateTime: T0 + 10}))
    store.upsert(alarm({risk: 4, updateTime: T0 + 20}))
    store.upsert(alarm({risk: 5, updateTime: T0 + 30, title: 'last'}))
    store.flush()
    assert.equal(store.get('a1')?.title, 'last')
    assert.deepEqual(store.stats(), {
      queued: 0,
      transactions: 1,
      inserted: 1,
      updated: 2,
      dropped: 1,
      lost: 0,
    })
  })
})

describe('alarm store: write-behind batching', () => {
  it('writes many upserts in one transaction', () => {
    const store = open(freshFile(), {flushIntervalMs: 3_600_000, batchSize: 1000})
    for (let i = 0; i < 500; i++) store.upsert(alarm({alarmId: `id${i}`, updateTime: T0 + i}))
    assert.equal(store.stats().queued, 500)
    store.flush()
    assert.deepEqual(store.stats(), {
      queued: 0,
      transactions: 1,
      inserted: 500,
      updated: 0,
      dropped: 0,
      lost: 0,
    })
    assert.equal(store.list().length, 500)
  })

  it('holds upserts back until the batch size is reached, visible to a reader only then', () => {
    const file = freshFile()
    const writer = open(file, {flushIntervalMs: 3_600_000, batchSize: 10})
    const reader = open(file, {readonly: true})
    for (let i = 0; i < 9; i++) writer.upsert(alarm({alarmId: `id${i}`}))
    assert.equal(reader.list().length, 0)
    writer.upsert(alarm({alarmId: 'id9'}))
    assert.equal(reader.list().length, 10)
    for (let i = 10; i < 35; i++) writer.upsert(alarm({alarmId: `id${i}`}))
    assert.deepEqual([writer.stats().transactions, writer.stats().queued], [3, 5])
    assert.equal(reader.list().length, 30)
  })

  it('writes queued upserts when the flush interval passes', async () => {
    const file = freshFile()
    const writer = open(file, {flushIntervalMs: 40})
    const reader = open(file, {readonly: true})
    const started = Date.now()
    writer.upsert(alarm())
    assert.equal(reader.get('a1'), undefined)
    while (reader.get('a1') === undefined && Date.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    assert.ok(reader.get('a1'), 'the timer wrote the alarm')
    assert.ok(
      Date.now() - started >= 35,
      `written after the interval, not before (${Date.now() - started} ms)`,
    )
    assert.equal(writer.stats().transactions, 1)
  })

  it('close() writes what is queued and stops the timer', () => {
    const file = freshFile()
    const writer = openAlarmStore(file, {flushIntervalMs: 3_600_000})
    writer.upsert(alarm({alarmId: 'queued'}))
    writer.close()
    writer.close()
    const reader = open(file, {readonly: true})
    assert.equal(reader.get('queued')?.alarmId, 'queued')
    assert.throws(() => writer.upsert(alarm()), /after close/)
  })

  it('keeps a batch that could not be written, reports it, retries, and bounds the queue', async () => {
    const file = freshFile()
    const errors: EnvironmentError[] = []
    const writer = open(file, {
      flushIntervalMs: 20,
      busyTimeoutMs: 10,
      maxQueued: 3,
      onError: (e) => errors.push(e),
    })
    writer.upsert(alarm({alarmId: 'seed'}))
    writer.flush()
    // Another process holding the write lock, as a long `dsiem alarms set-*` transaction would.
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE')
    try {
      writer.upsert(alarm({alarmId: 'x1'}))
      writer.upsert(alarm({alarmId: 'x2'}))
      assert.throws(
        () => writer.flush(),
        (error: unknown) => error instanceof EnvironmentError && error.message.includes(file),
      )
      assert.equal(writer.stats().queued, 2, 'the failed batch is kept')
      writer.upsert(alarm({alarmId: 'x3'}))
      writer.upsert(alarm({alarmId: 'x4'}))
      assert.deepEqual([writer.stats().queued, writer.stats().lost], [3, 1])
      const deadline = Date.now() + 5_000
      while (errors.length < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10))
      assert.ok(
        errors.some((e) => /write queue full \(3\)/.test(e.message)),
        `the full queue is reported: ${errors.map((e) => e.message).join(' | ')}`,
      )
      assert.ok(
        errors.some((e) => /write failed: database is locked/.test(e.message)),
        `the timer's failed write is reported: ${errors.map((e) => e.message).join(' | ')}`,
      )
      assert.deepEqual(
        writer.list().map((a) => a.alarmId),
        ['seed'],
        'reads still answer with what is committed',
      )
    } finally {
      other.exec('COMMIT')
      other.close()
    }
    const deadline = Date.now() + 5_000
    while (writer.stats().queued > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10))
    assert.deepEqual(
      writer
        .list()
        .map((a) => a.alarmId)
        .sort(),
      ['seed', 'x1', 'x2', 'x3'],
    )
  })

  it('reads of the writing store include what is still queued', () => {
    const store = open(freshFile(), {flushIntervalMs: 3_600_000})
    store.upsert(alarm())
    assert.equal(store.list().length, 1)
  })
})

describe('alarm store: reading', () => {
  const file = freshFile()
  const setup = () => {
    const store = open(file)
    store.upsert(alarm({alarmId: 'old', updateTime: T0, risk: 1, riskClass: 'Low', directiveId: 1}))
    store.upsert(alarm({alarmId: 'mid', updateTime: T0 + 100, risk: 5, riskClass: 'Medium', directiveId: 2}))
    store.upsert(alarm({alarmId: 'new', updateTime: T0 + 200, risk: 8, riskClass: 'High', directiveId: 2}))
    store.flush()
    store.setStatus('mid', 'Closed', STATUSES)
    store.setTag('new', 'Security Incident', TAGS)
    return open(file, {readonly: true})
  }

  it('lists newest first and filters by status, tag, risk class, directive, since and limit', () => {
    const reader = setup()
    const ids = (query = {}) => reader.list(query).map((a) => a.alarmId)
    assert.deepEqual(ids(), ['new', 'mid', 'old'])
    assert.deepEqual(ids({status: 'Closed'}), ['mid'])
    assert.deepEqual(ids({status: 'Open'}), ['new', 'old'])
    assert.deepEqual(ids({tag: 'Security Incident'}), ['new'])
    assert.deepEqual(ids({riskClass: 'Low'}), ['old'])
    assert.deepEqual(ids({directiveId: 2}), ['new', 'mid'])
    assert.deepEqual(ids({since: T0 + 100}), ['new', 'mid'])
    assert.deepEqual(ids({limit: 2}), ['new', 'mid'])
    assert.deepEqual(ids({directiveId: 2, status: 'Open'}), ['new'])
    assert.equal(reader.get('missing'), undefined)
  })

  it('refuses writes on a read-only store', () => {
    const reader = open(file, {readonly: true})
    assert.throws(() => reader.upsert(alarm()), /read-only/)
    assert.throws(() => reader.setStatus('old', 'Closed', STATUSES), /read-only/)
  })
})

describe('alarm store: setting status and tag', () => {
  it('updates the column and the line, and returns the new row', () => {
    const store = open(freshFile())
    const first = alarm({title: 'has "status":"Open" inside'})
    store.upsert(first)
    const row = store.setStatus('a1', 'In-Progress', STATUSES)
    assert.equal(row.status, 'In-Progress')
    assert.equal(row.json, serializeAlarm({...first, status: 'In-Progress'}))
    const tagged = store.setTag('a1', 'Valid Threat', TAGS)
    assert.deepEqual([tagged.status, tagged.tag], ['In-Progress', 'Valid Threat'])
    assert.equal(tagged.json, serializeAlarm({...first, status: 'In-Progress', tag: 'Valid Threat'}))
    assert.deepEqual(store.get('a1'), tagged)
  })

  it('rejects a value outside the allowed list, naming the allowed values', () => {
    const store = open(freshFile())
    store.upsert(alarm())
    assert.throws(
      () => store.setStatus('a1', 'Done', STATUSES),
      (error: unknown) =>
        error instanceof InputError &&
        error.code === 'DSIEM_E_ALARM_STATUS' &&
        error.message.includes('"Open", "In-Progress", "Closed"'),
    )
    assert.throws(
      () => store.setTag('a1', 'Benign', TAGS),
      (error: unknown) => error instanceof InputError && error.message.includes('"False Positive"'),
    )
    assert.equal(store.setTag('a1', 'Benign', ['Benign']).tag, 'Benign')
    assert.equal(store.get('a1')?.status, 'Open')
  })

  it('rejects an unknown alarm id', () => {
    const store = open(freshFile())
    assert.throws(
      () => store.setStatus('nope', 'Closed', STATUSES),
      (error: unknown) => error instanceof InputError && error.message === 'no alarm nope',
    )
    assert.throws(() => store.setTag('nope', 'Valid Threat', TAGS), /^InputError: no alarm nope$/)
  })

  it('edits only the top-level field of a line, leaving nested statuses and big numbers alone', () => {
    const line = serializeAlarm(alarm({title: 'x "status":"Open" y'}))
    const edited = replaceTopLevelString(line, 'status', 'Closed <now>')
    assert.equal(edited, serializeAlarm(alarm({title: 'x "status":"Open" y', status: 'Closed <now>'})))
    assert.match(edited, /"status":"finished"/)
    assert.match(edited, /"rcvd_time":1795263372882677522/)
    assert.throws(() => replaceTopLevelString('{"a":1}', 'status', 'x'), /no status field/)
  })
})

describe('alarm store: files', () => {
  it('creates the data directory (0700) and the database file (0600), in WAL mode', async () => {
    const {statSync} = await import('node:fs')
    const file = alarmStorePath(path.join(tmpRoot, 'nested', 'deeper'))
    open(file)
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const raw = new Database(file, {readonly: true})
    try {
      assert.equal(raw.pragma('journal_mode', {simple: true}), 'wal')
      assert.equal(raw.pragma('user_version', {simple: true}), ALARM_STORE_SCHEMA_VERSION)
    } finally {
      raw.close()
    }
  })

  it('keeps data across reopen (the migration runs once)', () => {
    const file = freshFile()
    const first = openAlarmStore(file)
    first.upsert(alarm())
    first.close()
    const second = open(file)
    assert.equal(second.get('a1')?.alarmId, 'a1')
  })

  const environmentError = (pattern: RegExp) => (error: unknown) =>
    error instanceof EnvironmentError && pattern.test(error.message)

  it('a missing store: read-only and mustExist opens say how to create it', () => {
    const dir = path.join(tmpRoot, 'empty')
    const file = alarmStorePath(dir)
    const expected = `no alarm store at ${file}; start dsiem serve with --data-dir ${dir} first`
    assert.throws(
      () => openAlarmStore(file, {readonly: true}),
      environmentError(new RegExp(`^${escape(expected)}$`)),
    )
    assert.throws(() => openAlarmStore(file, {mustExist: true}), environmentError(/^no alarm store at /))
  })

  it('a corrupt file is an environment error naming the path', () => {
    const file = freshFile()
    open(file).close()
    writeFileSync(file, 'this is not an SQLite database, just some text long enough to be read'.repeat(20))
    assert.throws(
      () => openAlarmStore(file),
      environmentError(new RegExp(`^cannot open alarm store ${escape(file)}: `)),
    )
    assert.throws(() => openAlarmStore(file, {readonly: true}), environmentError(new RegExp(escape(file))))
  })

  it('a path below a regular file is an environment error naming the path', () => {
    const blocker = path.join(tmpRoot, 'blocker')
    writeFileSync(blocker, 'x')
    const file = alarmStorePath(path.join(blocker, 'data'))
    assert.throws(
      () => openAlarmStore(file),
      environmentError(new RegExp(`^cannot open alarm store ${escape(file)}: `)),
    )
  })

  it('refuses an SQLite database that is not an alarm store, and one from a newer dsiem', () => {
    const foreign = path.join(tmpRoot, 'foreign.db')
    const db = new Database(foreign)
    db.exec('CREATE TABLE other (x)')
    db.close()
    assert.throws(() => openAlarmStore(foreign), environmentError(/not a dsiem alarm store/))

    const newer = freshFile()
    open(newer).close()
    const raw = new Database(newer)
    raw.pragma(`user_version = ${ALARM_STORE_SCHEMA_VERSION + 1}`)
    raw.close()
    assert.throws(() => openAlarmStore(newer), environmentError(/newer than this dsiem understands/))
    assert.throws(
      () => openAlarmStore(newer, {readonly: true}),
      environmentError(/newer than this dsiem understands/),
    )
  })

  it('rejects nonsensical batching options', () => {
    assert.throws(() => openAlarmStore(freshFile(), {batchSize: 0}), /batchSize must be a positive integer/)
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
