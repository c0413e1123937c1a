// Process plumbing for `bench:serve`: a clock every process shares, free ports, child processes with
// their output in a log file, and what /proc says about a process (resident memory, CPU time).

import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {createWriteStream, readFileSync} from 'node:fs'
import {createServer} from 'node:net'

/** Monotonic milliseconds (CLOCK_MONOTONIC: the same clock in every process of the machine). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts a child with stdout and stderr appended to `logFile`. The output goes through a pipe that
 * this process copies to the file with asynchronous writes, as a log collector (journald, a container
 * runtime) would: with the file as its stdout, the server's log lines would be synchronous writes to
 * a disk busy writing back the previous run's outputs, and those stalls would be measured as its
 * latency.
 */
export function spawnLogged(
  command: string,
  args: readonly string[],
  options: {cwd: string; env?: NodeJS.ProcessEnv; logFile: string},
): ChildProcess {
  const log = createWriteStream(options.logFile, {flags: 'a'})
  const pin = process.env['DSIEM_BENCH_PIN_SERVER']
  if (pin !== undefined) {
    args = ['-c', pin, command, ...args]
    command = 'taskset'
  }
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let open = 2
  const done = (): void => {
    if (--open === 0) log.end()
  }
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => log.write(chunk))
    stream.once('close', done)
  }
  return child
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (hasExited(child)) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL')
  }, graceMs)
  await gone
  clearTimeout(timer)
}

export interface MemoryFigures {
  /** Resident set now, MiB. */
  rssMiB: number
  /** Peak resident set (VmHWM), MiB. */
  peakRssMiB: number
}

/** VmRSS and VmHWM from /proc/<pid>/status (Linux). */
export function memoryOf(pid: number): MemoryFigures | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
  return {rssMiB: round(kib('VmRSS') / 1024, 1), peakRssMiB: round(kib('VmHWM') / 1024, 1)}
}

let clockTicks: number | undefined

/** User + system CPU seconds of a process so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  if (clockTicks === undefined) {
    const answer = spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'})
    clockTicks = Number(answer.stdout.trim()) || 100
  }
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) in parentheses; utime and stime are 14, 15.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / clockTicks
  } catch {
    return Number.NaN
  }
}

/**
 * Seconds the process's main thread (the event loop) spent runnable but waiting for a CPU, from
 * /proc/<pid>/schedstat: on a shared two-core box this is where much of a latency tail comes from.
 */
export function runQueueWaitSecondsOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9
  } catch {
    return Number.NaN
  }
}

/** The machine's CPU time so far, all cores (first line of /proc/stat), in seconds. */
export interface MachineCpuSeconds {
  /** Everything but idle and iowait (user nice system irq softirq steal). */
  readonly busy: number
  /** Time the hypervisor ran something else while this VM's CPUs wanted to run. */
  readonly stolen: number
}

export function machineCpuSeconds(): MachineCpuSeconds {
  if (clockTicks === undefined) cpuSecondsOf(process.pid)
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    // user nice system idle iowait irq softirq steal guest...: guest time is already in user.
    const busy = fields.reduce((sum, v, i) => (i === 3 || i === 4 || i > 7 ? sum : sum + v), 0)
    return {busy: busy / clockTicks!, stolen: (fields[7] ?? Number.NaN) / clockTicks!}
  } catch {
    return {busy: Number.NaN, stolen: Number.NaN}
  }
}

/** Writes back every dirty page now (sync(1)), so that no run pays for the previous one's files. */
export function settleDisk(): void {
  spawnSync('sync', {stdio: 'ignore'})
}

export function round(value: number, digits = 0): number {
  return Number(value.toFixed(digits))
}

/** Event indices a run sent: each lane's first laneSent[lane] events, ascending. */
export function sentIndices(hashes: Uint32Array, total: number, laneSent: readonly number[]): number[] {
  const lanes = laneSent.length
  const left = laneSent.slice()
  const out: number[] = []
  for (let i = 0; i < total; i++) {
    const lane = hashes[i]! % lanes
    if (left[lane]! > 0) {
      left[lane]!--
      out.push(i)
    }
  }
  return out
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws at timeout. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = monotonicMs() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (monotonicMs() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await sleep(intervalMs)
  }
}
