// How far V8 lets the old generation grow between full collections, for a process that runs a backend.
//
// Backlogs and alarms live for seconds to hours, so much of what the engine allocates outlives the
// young generation and dies in the old one. V8 sets the next full-GC limit from the live size times a
// factor it picks to keep GC near 3% of the time (between 1.1 and 4); on this workload that meant a
// full collection of the backend thread every ~4 s, each stopping it for 5–25 ms on a busy 2-core
// machine. Those stops were most of the event→alarm p99. With V8's own largest factor (4× the live
// size) the bench's backend collects every ~25 s instead, for ~40 MiB more resident memory at its
// ~17 MiB live heap. The flag is process-wide; a node command line that sets it wins.

import v8 from 'node:v8'

export const BACKEND_HEAP_GROWING_PERCENT = 300

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/

/** Whether the process's own node flags leave the growing factor to us. */
export function heapGrowthIsOurs(execArgv: readonly string[] = process.execArgv): boolean {
  return !execArgv.some((arg) => FLAG.test(arg))
}

/** Applies the backend's growing factor unless node was started with one; returns whether it did. */
export function tuneHeapGrowthForBackend(execArgv: readonly string[] = process.execArgv): boolean {
  if (!heapGrowthIsOurs(execArgv)) return false
  v8.setFlagsFromString(`--heap-growing-percent=${BACKEND_HEAP_GROWING_PERCENT}`)
  return true
}
