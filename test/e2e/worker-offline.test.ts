// Offline mode as a user runs it: `dsiem serve --role worker --pcap FILE --log-dir DIR` reads the file,
// writes the logs, prints a summary (or --json) and exits 0; a truncated file is processed up to the cut
// with a warning; a file that is not a capture or does not exist is one clear line and a non-zero exit.

import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {Cleanup} from '../helpers/e2e.js'
import {runCliAsync} from '../helpers/run-cli.js'
import {scenarioPcap} from '../helpers/sensor-scenario.js'

describe('dsiem serve --role worker --pcap', () => {
  const cleanup = new Cleanup()
  after(() => cleanup.run())

  it('writes the logs and a JSON summary for a gzip-compressed capture', async () => {
    const dir = cleanup.dir('dsiem-offline-')
    const file = path.join(dir, 'scenario.pcap.gz')
    writeFileSync(file, gzipSync(scenarioPcap()))
    const logDir = path.join(dir, 'logs')
    const result = await runCliAsync([
      'serve',
      '--role',
      'worker',
      '--pcap',
      file,
      '--log-dir',
      logDir,
      '--json',
    ])
    assert.equal(result.status, 0, result.stderr)
    const summary = JSON.parse(result.stdout) as {
      frames: number
      records: Record<string, number>
      events: number
    }
    assert.equal(summary.frames, 49)
    assert.deepEqual(
      {conn: summary.records['conn'], dns: summary.records['dns'], http: summary.records['http']},
      {conn: 14, dns: 4, http: 1},
    )
    const conn = readFileSync(path.join(logDir, 'conn.log'), 'utf8').trim().split('\n')
    assert.equal(conn.length, 14)
    assert.equal(
      summary.events,
      readFileSync(path.join(logDir, 'dsiem_events.ndjson'), 'utf8').trim().split('\n').length,
    )
  })

  it('processes a truncated file up to the cut and says where it was cut', async () => {
    const dir = cleanup.dir('dsiem-offline-')
    const whole = scenarioPcap()
    const file = path.join(dir, 'cut.pcap')
    writeFileSync(file, whole.subarray(0, whole.length - 30))
    const result = await runCliAsync([
      'serve',
      '--role',
      'worker',
      '--pcap',
      file,
      '--log-dir',
      path.join(dir, 'logs'),
    ])
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /^.*cut\.pcap: 48 packets, /m)
    assert.match(
      result.stdout,
      /warning: the file is truncated at byte \d+; everything before it was processed/,
    )
  })

  it('refuses a file that is not a capture, and a missing file, with one line each', async () => {
    const dir = cleanup.dir('dsiem-offline-')
    const text = path.join(dir, 'notes.txt')
    writeFileSync(text, 'hello, this is not a pcap\n')
    const notPcap = await runCliAsync([
      'serve',
      '--role',
      'worker',
      '--pcap',
      text,
      '--log-dir',
      path.join(dir, 'l1'),
    ])
    assert.equal(notPcap.status, 2)
    assert.match(
      notPcap.stderr,
      /^dsiem: error: --pcap .*notes\.txt: not a pcap or pcapng file \(magic 0x[0-9a-f]+\)\n$/,
    )
    const missing = await runCliAsync(['serve', '--role', 'worker', '--pcap', path.join(dir, 'nope.pcap')])
    assert.equal(missing.status, 2)
    assert.match(missing.stderr, /^dsiem: error: --pcap: cannot read .*nope\.pcap: ENOENT[^\n]*\n$/)
  })
})
