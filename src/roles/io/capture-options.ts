// Capture options, named after Zeek's AF_Packet settings (buffer_size, block_size, block_timeout,
// fanout_id, fanout_mode, enable_defrag, checksum_validation_mode), checked and defaulted here so the
// addon only ever sees valid numbers. Every bad field gets its own sentence naming it.

import {InputError} from '../../engine/index.js'
import {BPF_MAX_SNAPLEN, describeProgramProblem, type BpfInstruction} from './bpf.js'
import {FANOUT_MODES, type FanoutMode, type NativeRingOptions, type RingLayout} from './capture-binding.js'

export const CHECKSUM_MODES = ['on', 'off', 'kernel'] as const
/** Zeek's checksum_validation_mode: verify (`on`), trust every packet (`off`), or trust what the kernel vouched for. */
export type ChecksumMode = (typeof CHECKSUM_MODES)[number]

export interface CaptureOptions {
  /** Ring size in bytes; it holds `floor(bufferSize / blockSize)` blocks. */
  bufferSize: number
  /** Bytes per ring block: a power of two and a multiple of the page size. */
  blockSize: number
  /** A partly filled block is handed over after this many ms (0: the kernel picks). */
  blockTimeoutMs: number
  /** Fanout group (0..65535) shared by every worker on the interface; undefined: no fanout. */
  fanoutId: number | undefined
  fanoutMode: FanoutMode
  /** Let the kernel reassemble IP fragments before picking a socket, so fragments follow their flow. */
  fanoutDefrag: boolean
  promiscuous: boolean
  /** Bytes kept of each packet. */
  snaplen: number
  checksumMode: ChecksumMode
  /** A pcap-filter expression (compiled with tcpdump) or an already compiled classic BPF program. */
  bpf: string | readonly BpfInstruction[] | undefined
}

export const DEFAULT_CAPTURE_OPTIONS: Readonly<CaptureOptions> = Object.freeze({
  bufferSize: 128 * 1024 * 1024,
  // libpcap's choice rather than Zeek's 32 KiB: every block costs a wakeup and a crossing into JS
  // (~30 µs, bench:capture), so larger blocks halve the capture cost per packet at high rates; the
  // block timeout still hands over partly filled blocks after 10 ms when traffic is light.
  blockSize: 256 * 1024,
  blockTimeoutMs: 10,
  fanoutId: undefined,
  fanoutMode: 'hash',
  fanoutDefrag: false,
  promiscuous: true,
  snaplen: 9216,
  checksumMode: 'on',
  bpf: undefined,
})

const OPTION_NAMES = Object.keys(DEFAULT_CAPTURE_OPTIONS) as (keyof CaptureOptions)[]

const TPACKET_ALIGNMENT = 16
const MAX_BLOCK_TIMEOUT_MS = 60_000
const MIN_SNAPLEN = 14
const UINT32_MAX = 0xffffffff

/** Every bad capture option at once, one line each. */
export class CaptureOptionError extends InputError {
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(problems.join('; '), 'DSIEM_E_CAPTURE_OPTION')
    this.name = 'CaptureOptionError'
    this.problems = problems
  }
}

export interface ResolvedCaptureOptions {
  options: CaptureOptions
  /** The ring in kernel terms; `filter` is filled in by the caller (it may need tcpdump). */
  ring: Omit<NativeRingOptions, 'filter'>
}

function isPowerOfTwo(value: number): boolean {
  return value > 0 && value <= 2 ** 31 && (value & (value - 1)) === 0
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** The frame size the kernel needs to hold one `snaplen` packet with its headers. */
export function frameSizeFor(snaplen: number, layout: RingLayout): number {
  const bytes = layout.frameHeaderBytes + snaplen
  return Math.ceil(bytes / TPACKET_ALIGNMENT) * TPACKET_ALIGNMENT
}

/** Applies defaults and checks every field; throws one CaptureOptionError listing all bad fields. */
export function resolveCaptureOptions(input: unknown, layout: RingLayout): ResolvedCaptureOptions {
  const problems: string[] = []
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new CaptureOptionError([`capture options must be an object, got ${describe(input)}`])
  }
  const given = (input ?? {}) as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(OPTION_NAMES as string[]).includes(key)) {
      problems.push(`unknown capture option ${key} (known: ${OPTION_NAMES.join(', ')})`)
    }
  }
  const pick = <K extends keyof CaptureOptions>(key: K): unknown =>
    given[key] === undefined ? DEFAULT_CAPTURE_OPTIONS[key] : given[key]
  const bad = (key: keyof CaptureOptions, rule: string): void => {
    problems.push(`capture option ${key} ${rule}, got ${describe(given[key])}`)
  }
  const integer = (
    key: keyof CaptureOptions,
    min: number,
    max: number,
    rule?: string,
  ): number | undefined => {
    const value = pick(key)
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
    bad(key, rule ?? `must be an integer from ${min} to ${max}`)
    return undefined
  }
  const oneOf = <T extends string>(key: keyof CaptureOptions, allowed: readonly T[]): T | undefined => {
    const value = pick(key)
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
    bad(key, `must be one of ${allowed.join(', ')}`)
    return undefined
  }
  const flag = (key: keyof CaptureOptions): boolean | undefined => {
    const value = pick(key)
    if (typeof value === 'boolean') return value
    bad(key, 'must be true or false')
    return undefined
  }

  let blockSize = integer('blockSize', layout.pageSize, 2 ** 31)
  if (blockSize !== undefined && (!isPowerOfTwo(blockSize) || blockSize % layout.pageSize !== 0)) {
    bad('blockSize', `must be a power of two and a multiple of the page size (${layout.pageSize})`)
    blockSize = undefined
  }
  const bufferSize = integer('bufferSize', 1, Number.MAX_SAFE_INTEGER, 'must be a positive integer (bytes)')
  const blockTimeoutMs = integer('blockTimeoutMs', 0, MAX_BLOCK_TIMEOUT_MS)
  const fanoutId = given['fanoutId'] === undefined ? undefined : integer('fanoutId', 0, 0xffff)
  const fanoutMode = oneOf('fanoutMode', FANOUT_MODES)
  const fanoutDefrag = flag('fanoutDefrag')
  const promiscuous = flag('promiscuous')
  const snaplen = integer('snaplen', MIN_SNAPLEN, BPF_MAX_SNAPLEN)
  const checksumMode = oneOf('checksumMode', CHECKSUM_MODES)
  const bpf = pick('bpf')
  if (bpf !== undefined) {
    if (typeof bpf === 'string') {
      if (bpf.trim() === '') bad('bpf', 'must be a filter expression or a compiled program')
    } else {
      const problem = describeProgramProblem(bpf)
      if (problem !== undefined) problems.push(`capture option bpf ${problem}`)
    }
  }

  let blockCount = 0
  let frameSize = 0
  if (blockSize !== undefined && snaplen !== undefined) {
    frameSize = frameSizeFor(snaplen, layout)
    if (layout.blockHeaderBytes + frameSize > blockSize) {
      bad(
        'blockSize',
        `is too small for snaplen ${snaplen}: a block must hold one whole packet ` +
          `(${layout.blockHeaderBytes + frameSize} bytes); raise blockSize or lower snaplen`,
      )
    }
  }
  if (blockSize !== undefined && bufferSize !== undefined) {
    blockCount = Math.floor(bufferSize / blockSize)
    if (blockCount < 1) bad('bufferSize', `must hold at least one block of ${blockSize} bytes`)
    else if (blockCount > UINT32_MAX || (blockSize / Math.max(frameSize, 1)) * blockCount > UINT32_MAX) {
      bad('bufferSize', 'holds more blocks or frames than the kernel can count')
    }
  }
  if (problems.length > 0) throw new CaptureOptionError(problems)

  const options: CaptureOptions = {
    bufferSize: bufferSize as number,
    blockSize: blockSize as number,
    blockTimeoutMs: blockTimeoutMs as number,
    fanoutId,
    fanoutMode: fanoutMode as FanoutMode,
    fanoutDefrag: fanoutDefrag as boolean,
    promiscuous: promiscuous as boolean,
    snaplen: snaplen as number,
    checksumMode: checksumMode as ChecksumMode,
    bpf: bpf as CaptureOptions['bpf'],
  }
  const ring: ResolvedCaptureOptions['ring'] = {
    blockSize: options.blockSize,
    blockCount,
    frameSize,
    blockTimeoutMs: options.blockTimeoutMs,
    promiscuous: options.promiscuous,
    fanoutMode: options.fanoutMode,
    fanoutDefrag: options.fanoutDefrag,
  }
  if (fanoutId !== undefined) ring.fanoutId = fanoutId
  return {options, ring}
}

/** Linux interface names: 1 to 15 bytes, no slash, colon or white space, not `.` or `..`. */
export function checkInterfaceName(iface: unknown): string {
  if (
    typeof iface !== 'string' ||
    iface === '' ||
    iface === '.' ||
    iface === '..' ||
    Buffer.byteLength(iface) > 15 ||
    /[/:\s\0]/.test(iface)
  ) {
    throw new InputError(`invalid interface name ${describe(iface)}`, 'DSIEM_E_CAPTURE_INTERFACE', {
      hint: 'interface names have 1 to 15 characters and no slash, colon or space',
    })
  }
  return iface
}
