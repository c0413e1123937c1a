// The backend's output files (siem_alarms.json, siem_alarm_events.json): modes 0700/0600 forced even
// under a permissive umask or on an existing directory, lines appended in order with one write per
// batch (alarm events: per gathering window) and never on the event loop, bounded queues whose overflow
// is counted with upstream's warning text, and close() flushing everything pending.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {
  chmodSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {
  ALARM_EVENTS_FILE,
  ALARMS_FILE,
  AlarmFiles,
  OUTPUT_LOST_MESSAGE,
  type LossReason,
  type OutputFile,
} from '../../src/roles/io/alarm-files.js'
import {pingFloodAlarm} from '../helpers/alarm-builders.js'
import {readLines, tempDir} from './backend-rig.js'

const mode = (file: string): number => statSync(file).mode & 0o777

function withUmask<T>(mask: number, run: () => T): T {
  const previous = process.umask(mask)
  try {
    return run()
  } finally {
    process.umask(previous)
  }
}

describe('AlarmFiles', () => {
  it('creates logs/ 0700 and both files 0600 under a permissive umask', async () => {
    const dataDir = tempDir('dsiem-out-')
    const files = withUmask(0, () => AlarmFiles.open(dataDir))
    const logs = path.join(dataDir, 'logs')
    assert.equal(mode(logs), 0o700)
    assert.equal(mode(path.join(logs, ALARMS_FILE)), 0o600)
    assert.equal(mode(path.join(logs, ALARM_EVENTS_FILE)), 0o600)
    await files.close()
  })

  it('tightens an existing logs/ directory and existing files', async () => {
    const dataDir = tempDir('dsiem-out-')
    const logs = path.join(dataDir, 'logs')
    mkdirSync(logs)
    chmodSync(logs, 0o755)
    writeFileSync(path.join(logs, ALARMS_FILE), '{"old":1}\n')
    chmodSync(path.join(logs, ALARMS_FILE), 0o644)
    const files = AlarmFiles.open(dataDir)
    assert.equal(mode(logs), 0o700)
    assert.equal(mode(path.join(logs, ALARMS_FILE)), 0o600)
    files.writeAlarmEvent('a1', 1, 'e1')
    await files.close()
    assert.deepEqual(
      readLines(path.join(logs, ALARMS_FILE)),
      ['{"old":1}'],
      'existing lines are kept (append)',
    )
  })

  it('appends alarm-event lines in order, many lines per write', async () => {
    const dataDir = tempDir('dsiem-out-')
    const files = AlarmFiles.open(dataDir)
    for (let i = 0; i < 3000; i++) files.writeAlarmEvent(`a${i % 7}`, (i % 3) + 1, `e${i}`)
    assert.equal(files.stats().alarmEvents.pending, 3000, 'nothing is written synchronously')
    await files.drained()
    assert.equal(files.stats().alarmEvents.written, 3000)
    assert.equal(files.stats().alarmEvents.writes, 1, 'one write for the whole batch')
    const lines = readLines(path.join(dataDir, 'logs', ALARM_EVENTS_FILE))
    assert.equal(lines.length, 3000)
    assert.equal(lines[0], '{"alarm_id":"a0","stage":1,"event_id":"e0"}')
    assert.equal(lines[2999], '{"alarm_id":"a3","stage":3,"event_id":"e2999"}')
    await files.close()
  })

  it('gathers alarm-event lines over several loop turns; alarm lines are written at the end of each turn', async () => {
    const dataDir = tempDir('dsiem-out-')
    const files = AlarmFiles.open(dataDir, {alarmEventGatherMs: 200})
    const alarmsBefore = files.stats().alarms.writes
    for (let turn = 0; turn < 3; turn++) {
      files.writeAlarmEvent('a1', 1, `e${turn}`)
      files.writeAlarm(pingFloodAlarm({alarmId: `alarm-${turn}`}))
      await new Promise((resolve) => setImmediate(resolve))
      await new Promise((resolve) => setImmediate(resolve))
    }
    assert.equal(files.stats().alarms.writes - alarmsBefore, 3, 'one alarm-file write per turn')
    assert.equal(files.stats().alarmEvents.writes, 0, 'the alarm-event lines are still gathering')
    await files.drained()
    assert.equal(files.stats().alarmEvents.writes, 1, 'all three in one write')
    assert.deepEqual(readLines(path.join(dataDir, 'logs', ALARM_EVENTS_FILE)), [
      '{"alarm_id":"a1","stage":1,"event_id":"e0"}',
      '{"alarm_id":"a1","stage":1,"event_id":"e1"}',
      '{"alarm_id":"a1","stage":1,"event_id":"e2"}',
    ])
    await files.close()
  })

  it(
    'never blocks the event loop on a stalled output: a pipe nobody reads fills, the loop keeps turning',
    {timeout: 20_000},
    async () => {
      const dataDir = tempDir('dsiem-out-')
      const logs = path.join(dataDir, 'logs')
      mkdirSync(logs)
      const fifo = path.join(logs, ALARM_EVENTS_FILE)
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo works')
      // A reader must exist before the writer can open the pipe; it reads nothing until told.
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
      const files = AlarmFiles.open(dataDir)
      const count = 4000 // ~180 KB: far more than the 64 KiB a pipe holds
      for (let i = 0; i < count; i++) files.writeAlarmEvent('stalled-alarm', 1, `event-${i}`)
      let turns = 0
      const started = performance.now()
      while (performance.now() - started < 200) {
        await new Promise((resolve) => setTimeout(resolve, 5))
        turns++
      }
      assert.ok(turns >= 10, `the loop kept turning while the write was stuck (${turns} turns in 200 ms)`)
      assert.ok(files.stats().alarmEvents.pending > 0, 'the write is still out')

      const chunks: Buffer[] = []
      const buffer = Buffer.alloc(1 << 16)
      let drained = false
      void files.drained().then(() => (drained = true))
      while (!drained) {
        try {
          const n = readSync(reader, buffer, 0, buffer.length, null)
          if (n > 0) chunks.push(Buffer.from(buffer.subarray(0, n)))
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
        }
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      for (;;) {
        try {
          const n = readSync(reader, buffer, 0, buffer.length, null)
          if (n <= 0) break
          chunks.push(Buffer.from(buffer.subarray(0, n)))
        } catch {
          break
        }
      }
      await files.close()
      closeSync(reader)
      const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n')
      assert.equal(lines.length, count, 'every line arrives once the reader drains the pipe')
      assert.equal(lines.at(-1), `{"alarm_id":"stalled-alarm","stage":1,"event_id":"event-${count - 1}"}`)
    },
  )

  it('counts lines beyond the queue length as lost, and asks the producer to wait past half', async () => {
    const dataDir = tempDir('dsiem-out-')
    const lost: [OutputFile, LossReason, number][] = []
    const files = AlarmFiles.open(dataDir, {
      alarmEventQueueLines: 4,
      onLost: (file, reason, count) => lost.push([file, reason, count]),
    })
    files.writeAlarmEvent('a', 1, 'e1')
    files.writeAlarmEvent('a', 1, 'e2')
    assert.equal(files.needsWait(), false, 'half full is fine')
    files.writeAlarmEvent('a', 1, 'e3')
    assert.equal(files.needsWait(), true, 'more than half full: wait')
    files.writeAlarmEvent('a', 1, 'e4')
    files.writeAlarmEvent('a', 1, 'e5')
    assert.deepEqual(lost, [['alarm_events', 'queue_full', 1]])
    assert.equal(files.stats().alarmEvents.lost, 1)
    await files.drained()
    assert.equal(files.needsWait(), false)
    files.writeAlarmEvent('a', 1, 'e6')
    await files.close()
    assert.deepEqual(
      readLines(path.join(dataDir, 'logs', ALARM_EVENTS_FILE)).map(
        (l) => (JSON.parse(l) as {event_id: string}).event_id,
      ),
      ['e1', 'e2', 'e3', 'e4', 'e6'],
    )
    assert.equal(OUTPUT_LOST_MESSAGE, 'failed to update Elasticsearch!')
  })

  it('fails to open with a clear error when the data dir is not writable', () => {
    const dataDir = tempDir('dsiem-out-')
    writeFileSync(path.join(dataDir, 'logs'), 'not a directory')
    assert.throws(() => AlarmFiles.open(dataDir), /logs/)
  })
})
