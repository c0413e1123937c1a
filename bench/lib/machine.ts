// Facts about the machine and runtime a figure was measured on, plus a forced GC (so heap figures
// are what is retained, not what the collector has not reached yet) without needing --expose-gc.

import os from 'node:os'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

export interface MachineInfo {
  cpus: number
  cpuModel: string
  totalMemoryMiB: number
  platform: string
  arch: string
  node: string
  v8: string
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
  }
}

let gcFunction: (() => void) | undefined

/** A full collection; returns heap used afterwards (bytes). */
export function collectGarbage(): number {
  if (gcFunction === undefined) {
    setFlagsFromString('--expose-gc')
    gcFunction = runInNewContext('gc') as () => void
  }
  gcFunction()
  gcFunction()
  return process.memoryUsage().heapUsed
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
