// Host plumbing for `bench:capture`: the veth pair the traffic crosses, CPU pinning, and CPU time
// per process precise enough for nanoseconds per packet (scheduler run time, not 10 ms clock ticks).

import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import {cpuSecondsOf} from './serve-proc.js'

export interface VethPair {
  /** The end the sender writes to. */
  send: string
  /** The end the consumers capture on. */
  capture: string
}

function ip(...args: string[]): {ok: boolean; error: string} {
  const result = spawnSync('ip', args, {encoding: 'utf8'})
  return {ok: result.status === 0, error: (result.stderr ?? result.error?.message ?? '').trim()}
}

/**
 * Creates a veth pair named after our pid, up, without IPv6 (no router solicitations or MLD reports
 * mixed into the traffic) and without addresses (the stack drops our frames early, as not for us).
 */
export function createVethPair(): VethPair {
  const base = `dsqb${process.pid % 100000}`
  const pair = {send: `${base}s`, capture: `${base}c`}
  const added = ip('link', 'add', pair.send, 'type', 'veth', 'peer', 'name', pair.capture)
  if (!added.ok) throw new Error(`ip link add ${pair.send} type veth: ${added.error || 'failed'}`)
  try {
    for (const name of [pair.send, pair.capture]) {
      const knob = `/proc/sys/net/ipv6/conf/${name}/disable_ipv6`
      if (existsSync(knob)) writeFileSync(knob, '1')
      const up = ip('link', 'set', name, 'up')
      if (!up.ok) throw new Error(`ip link set ${name} up: ${up.error}`)
    }
  } catch (error) {
    deleteVethPair(pair)
    throw error
  }
  return pair
}

/** Deleting one end deletes both; harmless when the pair is already gone. */
export function deleteVethPair(pair: VethPair): void {
  spawnSync('ip', ['link', 'del', pair.send], {stdio: 'ignore'})
}

export interface InterfaceCounters {
  rxPackets: number
  rxDropped: number
}

export function interfaceCounters(iface: string): InterfaceCounters {
  const read = (name: string): number => {
    try {
      return Number(readFileSync(`/sys/class/net/${iface}/statistics/${name}`, 'utf8').trim())
    } catch {
      return Number.NaN
    }
  }
  return {rxPackets: read('rx_packets'), rxDropped: read('rx_dropped')}
}

/** Whether children can be pinned: taskset present and at least two CPUs to split them over. */
export function pinningAvailable(): boolean {
  if (os.cpus().length < 2) return false
  return spawnSync('taskset', ['-c', '0', 'true'], {stdio: 'ignore'}).status === 0
}

/** `command args` run on `cpu` (through taskset, which execs it: the child's pid is the command's). */
export function pinned(
  cpu: number | undefined,
  command: string,
  args: readonly string[],
): [string, string[]] {
  return cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]]
}

/**
 * CPU nanoseconds a process (all its threads) has run so far: the sum of the first field of every
 * thread's schedstat (user and system time, nanosecond resolution). Falls back to utime + stime
 * (clock ticks) where schedstat is missing. NaN once the process is gone.
 */
export function cpuNanosOf(pid: number): number {
  let threads: string[]
  try {
    threads = readdirSync(`/proc/${pid}/task`)
  } catch {
    return Number.NaN
  }
  let total = 0
  for (const tid of threads) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0])
    } catch {
      // A thread that ended between the listing and the read: its time is gone with it.
      if (!existsSync(`/proc/${pid}/task/${tid}`)) continue
      return cpuSecondsOf(pid) * 1e9
    }
  }
  return total
}
