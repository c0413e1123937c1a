// Where a process's log lines go when stdout is a pipe or a file (a service manager, a log shipper,
// `cluster up`'s supervisor, a redirect). Node writes to those synchronously, on the event loop: a
// reader that falls behind (a full pipe) stalled the HTTP thread and every request behind it, and a
// reader that stopped reading stopped the service. Here lines gather for up to 20 ms and go out
// through a LineAppender (one write at a time on the thread pool, in order). When the reader stalls,
// lines wait in a bounded buffer; past it they are dropped and counted, and a WARN line says how many
// once the output moves again. What is still buffered when the process exits is written synchronously
// then, so a last error line is not lost.

import {LineAppender} from './line-appender.js'

/** Characters of lines that may wait for a slow reader before new lines are dropped. */
export const DEFAULT_MAX_BUFFERED_CHARS = 16 * 1024 * 1024
/** How long the exit flush keeps retrying an output that stays full. */
const EXIT_FLUSH_MS = 2000
/** How long lines gather before a write. */
const GATHER_MS = 20

export interface LogOutputOptions {
  maxBufferedChars?: number
  /** Formats the line that reports dropped lines (the logger's JSON shape). */
  droppedLine?: (dropped: number) => string
}

export interface LogOutput {
  write(line: string): void
  /** Resolves once every line accepted so far has been written (or failed to be). */
  drained(): Promise<void>
  /** Writes what is buffered, synchronously (at exit). */
  flushSync(): void
  /** Lines dropped: refused by a full buffer or lost with a failed write. */
  readonly dropped: number
}

function defaultDroppedLine(dropped: number): string {
  const msg = `${dropped} log lines dropped: the log output fell behind`
  return JSON.stringify({level: 'WARN', ts: new Date().toISOString(), msg}) + '\n'
}

export function createLogOutput(fd: number, options: LogOutputOptions = {}): LogOutput {
  const droppedLine = options.droppedLine ?? defaultDroppedLine
  /** Lines refused since the last report; a failed write cannot be reported on the output it failed on. */
  let refusedSinceReport = 0
  const appender = new LineAppender(fd, {
    capacity: options.maxBufferedChars ?? DEFAULT_MAX_BUFFERED_CHARS,
    weigh: (line) => line.length,
    gatherMs: GATHER_MS,
    onLost: (reason, count) => {
      if (reason === 'queue_full') refusedSinceReport += count
    },
    headLine: () => {
      if (refusedSinceReport === 0) return undefined
      const line = droppedLine(refusedSinceReport)
      refusedSinceReport = 0
      return line
    },
  })
  return {
    write: (line) => appender.add(line),
    drained: () => appender.drained(),
    flushSync: () => appender.flushSync(EXIT_FLUSH_MS),
    get dropped() {
      return appender.stats().lost
    },
  }
}

let stdoutOutput: LogOutput | undefined

/**
 * The write function for log lines on stdout: synchronous on a terminal (someone is watching, and
 * the lines are few), else the process's one asynchronous LogOutput on fd 1, flushed at exit.
 */
export function stdoutLineWriter(): (line: string) => void {
  if (process.stdout.isTTY) return (line) => process.stdout.write(line)
  if (stdoutOutput === undefined) {
    const output = createLogOutput(1)
    stdoutOutput = output
    process.on('exit', () => output.flushSync())
  }
  const output = stdoutOutput
  return (line) => output.write(line)
}
