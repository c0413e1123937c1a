// A worker's log directory, laid out as Zeek leaves it: conn.log, dns.log, http.log, ssl.log,
// weird.log, capture_loss.log, stats.log, each one JSON object per line. Lines are buffered per file
// and written in large appends (a packet burst produces thousands of records), flushed when a buffer
// passes 256 KiB, on `flush()` (the worker calls it every second) and on close. Files are opened only
// when their first record arrives, as Zeek does, so an empty stream leaves no empty file behind.

import {closeSync, mkdirSync, openSync} from 'node:fs'
import path from 'node:path'
import {EnvironmentError} from '../../engine/errors.js'
import {writeAllSync} from './write-all.js'

const FLUSH_BYTES = 256 * 1024

interface OpenLog {
  fd: number
  pending: string[]
  pendingBytes: number
  lines: number
}

export class ZeekLogDirectory {
  readonly dir: string
  private readonly logs = new Map<string, OpenLog>()
  private closed = false

  constructor(dir: string) {
    this.dir = dir
    try {
      mkdirSync(dir, {recursive: true, mode: 0o750})
    } catch (error) {
      throw new EnvironmentError(
        `--log-dir: cannot create ${dir}: ${(error as Error).message}`,
        'DSIEM_E_LOG_DIR',
        {cause: error},
      )
    }
  }

  /** Appends one line (without newline) to `<stream>.log`. */
  write(stream: string, line: string): void {
    this.append(`${stream}.log`, line)
  }

  /** Appends one line (without newline) to a file of the directory. */
  append(fileName: string, line: string): void {
    if (this.closed) return
    let log = this.logs.get(fileName)
    if (log === undefined) {
      const file = path.join(this.dir, fileName)
      let fd: number
      try {
        fd = openSync(file, 'a', 0o640)
      } catch (error) {
        throw new EnvironmentError(`cannot open ${file}: ${(error as Error).message}`, 'DSIEM_E_LOG_DIR', {
          cause: error,
        })
      }
      log = {fd, pending: [], pendingBytes: 0, lines: 0}
      this.logs.set(fileName, log)
    }
    log.pending.push(line)
    log.pendingBytes += line.length + 1
    log.lines++
    if (log.pendingBytes >= FLUSH_BYTES) this.flushLog(log)
  }

  flush(): void {
    for (const log of this.logs.values()) this.flushLog(log)
  }

  /** Lines written per file since the directory was opened. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const [fileName, log] of this.logs) counts[fileName] = log.lines
    return counts
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    for (const log of this.logs.values()) closeSync(log.fd)
    this.logs.clear()
  }

  private flushLog(log: OpenLog): void {
    if (log.pending.length === 0) return
    const text = log.pending.join('\n') + '\n'
    log.pending = []
    log.pendingBytes = 0
    writeAllSync(log.fd, Buffer.from(text, 'utf8'))
  }
}
