// The shape of the native capture addon (native/src/addon.cc), so the JS side can be written and tested
// against a fake. Only capture.ts loads the real one.

import type {BpfInstruction} from './bpf.js'

/** What the addon returns instead of throwing: the failing setup step, its system call and errno. */
export interface NativeFailure {
  errno: number
  syscall: string
  /**
   * `arguments`, `socket`, `interface`, `version`, `filter`, `ring`, `mmap`, `bind`, `promiscuous`,
   * `fanout`, `poll`, `stats` or `send`.
   */
  step: string
}

export const FANOUT_MODES = ['hash', 'cpu', 'qm', 'lb'] as const
export type FanoutMode = (typeof FANOUT_MODES)[number]

/** Ring parameters in the kernel's terms, already validated (capture-options.ts). */
export interface NativeRingOptions {
  blockSize: number
  blockCount: number
  frameSize: number
  blockTimeoutMs: number
  promiscuous: boolean
  /** Absent: the socket joins no fanout group. */
  fanoutId?: number
  fanoutMode: FanoutMode
  fanoutDefrag: boolean
  filter?: BpfInstruction[]
}

export interface NativeStats {
  packets: number
  drops: number
  freezes: number
}

/**
 * Called once per retired block: `block` is a view over the ring memory (detached by release() and
 * close()), `table` holds PACKET_COLUMN_COUNT columns of `table.length / PACKET_COLUMN_COUNT` entries, of
 * which the first `count` are filled.
 */
export type NativeBlockHandler = (
  index: number,
  block: ArrayBuffer,
  count: number,
  table: Uint32Array,
) => void

export interface NativeCapture {
  open(ifname: string, options: NativeRingOptions): NativeFailure | undefined
  start(onBlock: NativeBlockHandler, onError: (failure: NativeFailure) => void): NativeFailure | undefined
  /** Hands block `index` back to the kernel; false when it was not handed out. */
  release(index: number): boolean
  /** Totals since open; still answers after close. */
  stats(): NativeStats | NativeFailure
  close(): void
}

export interface RingLayout {
  pageSize: number
  /** Bytes of block header before a block's first packet. */
  blockHeaderBytes: number
  /** Bytes the kernel puts in front of each packet's link-layer header, rounded up. */
  frameHeaderBytes: number
}

export interface CaptureBinding {
  Capture: new () => NativeCapture
  inject(ifname: string, frames: Uint8Array[], repeat: number): number | (NativeFailure & {sent: number})
  ringLayout: RingLayout
}

/** Columns of a block's per-packet table, in the order native/src/ring.h writes them. */
export const PACKET_COLUMN = {
  offset: 0,
  capLen: 1,
  wireLen: 2,
  tsSec: 3,
  tsNsec: 4,
  vlanTci: 5,
  status: 6,
} as const
export const PACKET_COLUMN_COUNT = 7

/** tp_status bits of a TPACKET_V3 packet header (linux/if_packet.h). */
export const TP_STATUS = {
  USER: 0x1,
  COPY: 0x2,
  LOSING: 0x4,
  CSUMNOTREADY: 0x8,
  VLAN_VALID: 0x10,
  BLK_TMO: 0x20,
  VLAN_TPID_VALID: 0x40,
  CSUM_VALID: 0x80,
} as const

export function isNativeFailure(value: unknown): value is NativeFailure {
  return typeof value === 'object' && value !== null && typeof (value as {errno?: unknown}).errno === 'number'
}
