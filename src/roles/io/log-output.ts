// Where a process's log lines go when stdout is a pipe or a file (a service manager, a log shipper,
// `cluster up`'s supervisor, a redirect). Node writes to those synchronously, on the event loop: a
// reader that falls behind (a full pipe) or a file under writeback stalled the HTTP thread and every
// request behind it, and a reader that stopped reading stopped the service. Here lines gathered for up
// to 20 ms go out in one write on libuv's thread pool, one write at a time, in order (gathered, so the
// pool thread's wake-ups stay few on two cores). When the reader stalls, lines wait in a bounded
// buffer; past it they are dropped and counted, and a WARN line says how many once the output moves
// again. What is still buffered when the process exits is written synchronously then, so a last error
// line is not lost.

import {write, writeSync} from 'node:fs'

/** Characters of lines that may wait for a slow reader before new lines are dropped. */
export const DEFAULT_MAX_BUFFERED_CHARS = 16 * 1024 * 1024
/** How long the exit flush keeps retrying an output that stays full. */
const EXIT_FLUSH_MS = 2000
/** How long to wait before retrying a non-blocking output that was full. */
const RETRY_MS = 10
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
  readonly dropped: number
}

export function createLogOutput(fd: number, options: LogOutputOptions = {}): LogOutput {
  const maxChars = options.maxBufferedChars ?? DEFAULT_MAX_BUFFERED_CHARS
  const droppedLine =
    options.droppedLine ??
    ((n: number) =>
      JSON.stringify({
        level: 'WARN',
        ts: new Date().toISOString(),
        msg: `${n} log lines dropped: the log output fell behind`,
      }) + '\n')
  let pending: string[] = []
  let pendingChars = 0
  let scheduled = false
  /** The batch being written: its bytes and how far the writes got. */
  let inFlight: Buffer | undefined
  let inFlightOffset = 0
  let droppedSinceReport = 0
  let droppedTotal = 0
  let waiters: (() => void)[] = []

  /** Puts the report of lines dropped since the last one in front of what waits. */
  const reportDropped = (): void => {
    if (droppedSinceReport === 0) return
    pending.unshift(droppedLine(droppedSinceReport))
    droppedSinceReport = 0
  }

  const settleWaiters = (): void => {
    if (inFlight !== undefined || pending.length > 0) return
    const done = waiters
    waiters = []
    for (const resolve of done) resolve()
  }

  const writeMore = (): void => {
    const batch = inFlight!
    write(fd, batch, inFlightOffset, batch.length - inFlightOffset, null, (error, written) => {
      if (error !== null) {
        if (error.code === 'EAGAIN') {
          setTimeout(writeMore, RETRY_MS)
          return
        }
        // The output is gone (EPIPE, a closed fd): nothing can be told about it there; count the batch.
        droppedTotal += countLines(batch, inFlightOffset)
        inFlight = undefined
        next()
        return
      }
      inFlightOffset += written
      if (inFlightOffset < batch.length) return writeMore()
      inFlight = undefined
      next()
    })
  }

  const next = (): void => {
    scheduled = false
    if (inFlight !== undefined) return
    reportDropped()
    if (pending.length === 0) return settleWaiters()
    inFlight = Buffer.from(pending.join(''), 'utf8')
    inFlightOffset = 0
    pending = []
    pendingChars = 0
    writeMore()
  }

  const flushSync = (): void => {
    reportDropped()
    // A batch still in flight is the thread pool's: writing it here too could print it twice.
    const text = pending.join('')
    pending = []
    pendingChars = 0
    if (text === '') return
    const bytes = Buffer.from(text, 'utf8')
    let offset = 0
    const deadline = Date.now() + EXIT_FLUSH_MS
    while (offset < bytes.length) {
      try {
        offset += writeSync(fd, bytes, offset, bytes.length - offset)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) return
      }
    }
  }

  return {
    write(line: string): void {
      if (pendingChars + line.length > maxChars) {
        droppedSinceReport++
        droppedTotal++
        return
      }
      pending.push(line)
      pendingChars += line.length
      if (scheduled || inFlight !== undefined) return
      scheduled = true
      setTimeout(next, GATHER_MS)
    },
    drained(): Promise<void> {
      if (inFlight === undefined && pending.length === 0) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
    flushSync,
    get dropped() {
      return droppedTotal
    },
  }
}

function countLines(bytes: Buffer, from: number): number {
  let n = 0
  for (let at = bytes.indexOf(10, from); at !== -1; at = bytes.indexOf(10, at + 1)) n++
  return n
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
