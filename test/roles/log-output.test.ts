// The asynchronous log output: lines keep their order, a stalled reader blocks nothing (lines past the
// buffer are dropped, counted and reported), and lines still buffered at exit are written. The stall
// and exit cases run in a child process whose stdout is a pipe, against the built module in dist/.

import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {createLogOutput} from '../../src/roles/io/log-output.js'
import {createLogger} from '../../src/roles/io/log.js'
import {REPO_ROOT} from '../helpers/paths.js'

const BUILT = pathToFileURL(path.join(REPO_ROOT, 'dist/roles/io/log-output.js')).href

interface ChildRun {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs an ES module script; stdout is read only after the child's first stderr line (if `stall`). */
function runScript(script: string, stall: boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script])
    let stdout = ''
    let stderr = ''
    if (stall) child.stdout.pause()
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('\n')) child.stdout.resume()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({status, stdout, stderr})
    })
  })
}

describe('log output', () => {
  it('writes lines from many loop turns in order and says when they are all out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsiem-log-output-'))
    try {
      const file = path.join(dir, 'log')
      const fd = openSync(file, 'a')
      const output = createLogOutput(fd)
      const expected: string[] = []
      for (let turn = 0; turn < 50; turn++) {
        for (let i = 0; i < 20; i++) {
          const line = `line ${turn * 20 + i}\n`
          expected.push(line)
          output.write(line)
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      await output.drained()
      assert.equal(readFileSync(file, 'utf8'), expected.join(''), 'every line, once, in order')
      output.write('buffered at exit\n')
      output.flushSync()
      assert.ok(readFileSync(file, 'utf8').endsWith('buffered at exit\n'), 'flushSync writes what waits')
      assert.equal(output.dropped, 0, 'nothing dropped with a reader that keeps up')
      closeSync(fd)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('keeps the event loop free when the reader stalls, and reports the lines it had to drop', async () => {
    const script = `
      import {createLogOutput} from '${BUILT}'
      const out = createLogOutput(1, {maxBufferedChars: 256 * 1024})
      const filler = 'x'.repeat(1000)
      let worstDelayMs = 0
      for (let turn = 0; turn < 20; turn++) {
        for (let i = 0; i < 100; i++) out.write(String(turn * 100 + i) + ' ' + filler + '\\n')
        const before = performance.now()
        await new Promise((resolve) => setTimeout(resolve, 5))
        worstDelayMs = Math.max(worstDelayMs, performance.now() - before - 5)
      }
      process.stderr.write(JSON.stringify({worstDelayMs, dropped: out.dropped}) + '\\n')
      await out.drained()
    `
    const run = await runScript(script, true)
    assert.equal(run.status, 0, `child failed: ${run.stderr}`)
    const report = JSON.parse(run.stderr.split('\n')[0]!) as {worstDelayMs: number; dropped: number}
    // With synchronous writes the child would block on the full pipe until the parent reads, which it
    // does only after this report: the test would time out instead.
    assert.ok(report.worstDelayMs < 1000, `event loop stalled ${report.worstDelayMs} ms`)
    assert.ok(report.dropped > 0, 'a 256 KiB buffer cannot hold 2 MB for a stalled reader')
    const lines = run.stdout.split('\n').filter((line) => line !== '')
    const numbered = lines.filter((line) => /^\d+ x/.test(line)).map((line) => Number(line.split(' ')[0]))
    const reports = lines.filter((line) => line.includes('log lines dropped'))
    assert.ok(reports.length > 0, 'the drop is reported in the output once it moves again')
    const reported = reports
      .map((line) => Number(/(\d+) log lines dropped/.exec(line)![1]))
      .reduce((a, b) => a + b, 0)
    assert.equal(reported, report.dropped, 'the reports add up to the dropped count')
    assert.equal(numbered.length + report.dropped, 2000, 'every line is either written or counted')
    for (let i = 1; i < numbered.length; i++) {
      assert.ok(numbered[i]! > numbered[i - 1]!, `line ${numbered[i]} after ${numbered[i - 1]}: order kept`)
    }
  })

  it('writes the lines still buffered when the process exits', async () => {
    const script = `
      import {stdoutLineWriter} from '${BUILT}'
      const write = stdoutLineWriter()
      write('first\\n')
      write('last words\\n')
      process.exit(3)
    `
    const run = await runScript(script, false)
    assert.equal(run.status, 3, `child failed: ${run.stderr}`)
    assert.equal(run.stdout, 'first\nlast words\n', 'both lines reach stdout despite process.exit')
  })

  it('still renders bigint fields as strings', () => {
    const lines: string[] = []
    const log = createLogger({write: (line) => lines.push(line), now: () => new Date(0)})
    log.info('with a bigint', {rcvd: 1700000000000000000n, nested: {n: 5n}})
    log.info('plain', {n: 1})
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as unknown),
      [
        {
          level: 'INFO',
          ts: '1970-01-01T00:00:00.000Z',
          msg: 'with a bigint',
          rcvd: '1700000000000000000',
          nested: {n: '5'},
        },
        {level: 'INFO', ts: '1970-01-01T00:00:00.000Z', msg: 'plain', n: 1},
      ],
    )
  })
})
