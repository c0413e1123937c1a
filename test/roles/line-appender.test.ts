// The appender under the alarm files and the log output: failed writes and refused lines are reported
// with their counts, the bound counts the batch being written, and the owner's head line goes in
// front of the next batch without being counted as a producer's line.

import assert from 'node:assert/strict'
import {mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {LineAppender, type LossReason} from '../../src/roles/io/line-appender.js'

describe('line appender', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dsiem-appender-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('counts the lines of a failed write as lost, with the error, and still drains', async () => {
    const file = path.join(dir, 'read-only')
    writeFileSync(file, '')
    const lost: [LossReason, number, string | undefined][] = []
    // A descriptor opened for reading: every write fails with EBADF.
    const appender = new LineAppender(openSync(file, 'r'), {
      capacity: 100,
      gatherMs: 0,
      onLost: (reason, count, error) => lost.push([reason, count, (error as NodeJS.ErrnoException)?.code]),
    })
    appender.add('a\n')
    appender.add('b\n')
    await appender.drained()
    assert.deepEqual(lost, [['write_error', 2, 'EBADF']], 'one failed batch of two lines')
    assert.deepEqual(appender.stats(), {written: 0, pending: 0, lost: 2, writes: 1})
    await appender.close()
    appender.add('late\n')
    assert.equal(lost.at(-1)?.[0], 'write_error', 'a line after close is lost, not written')
    assert.equal(appender.stats().lost, 3)
  })

  it('bounds what waits by weight, and writes the head line in front of the next batch', async () => {
    const file = path.join(dir, 'out')
    let refusedSinceReport = 0
    const appender = new LineAppender(openSync(file, 'a'), {
      capacity: 10,
      weigh: (line) => line.length,
      gatherMs: 0,
      onLost: (reason, count) => {
        if (reason === 'queue_full') refusedSinceReport += count
      },
      headLine: () => {
        if (refusedSinceReport === 0) return undefined
        const line = `# refused ${refusedSinceReport}\n`
        refusedSinceReport = 0
        return line
      },
    })
    appender.add('1234\n')
    appender.add('5678\n')
    appender.add('x\n') // 12 characters of 10
    assert.equal(appender.congested, true, 'full past half')
    await appender.drained()
    appender.add('y\n')
    await appender.drained()
    assert.equal(readFileSync(file, 'utf8'), '# refused 1\n1234\n5678\ny\n', 'report first; x refused')
    assert.deepEqual(appender.stats(), {written: 3, pending: 0, lost: 1, writes: 2}, 'the report is no line')
    await appender.close()
  })
})
