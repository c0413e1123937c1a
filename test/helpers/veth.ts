// veth pairs for live-capture tests: created per test with unique names, IPv6 off (so the kernel's
// router solicitations and MLD reports stay out of the capture), deleted by the caller's cleanup.
// Live tests need root (CAP_NET_ADMIN for the pair, CAP_NET_RAW for the capture); `liveSkipReason`
// says why they cannot run here, or false.

import {spawnSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'

export function ip(...args: string[]): boolean {
  return spawnSync('ip', args, {stdio: 'ignore'}).status === 0
}

let counter = 0

export interface VethPair {
  /** The end frames are injected on. */
  readonly a: string
  /** The end the capture listens on. */
  readonly b: string
  remove(): void
}

export function createVethPair(prefix: string): VethPair {
  const base = `${prefix}${process.pid % 1000}x${counter++}`
  const a = `${base}a`
  const b = `${base}b`
  if (!ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b)) throw new Error(`ip link add ${a} failed`)
  for (const name of [a, b]) {
    const knob = `/proc/sys/net/ipv6/conf/${name}/disable_ipv6`
    if (existsSync(knob)) writeFileSync(knob, '1')
    if (!ip('link', 'set', name, 'up')) throw new Error(`ip link set ${name} up failed`)
  }
  return {a, b, remove: () => void ip('link', 'del', a)}
}

/** Why live capture tests cannot run here, or false when they can. */
export function liveSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'live capture tests need root (CAP_NET_RAW, CAP_NET_ADMIN)'
  try {
    createVethPair('dsp').remove()
  } catch {
    return '`ip link add … type veth` does not work here'
  }
  return false
}
