// The owner of the native AF_PACKET addon (native/): the only module that loads it. A capture is a
// TPACKET_V3 ring on one interface, optionally in a fanout group, polled on Node's own event loop.
//
//   const capture = openCapture('eth0', {fanoutId: 7, bpf: 'not port 22'})
//   capture.start((block) => {
//     for (let i = 0; i < block.count; i++) sensor.frame(frameAt(block, i))  // views, no copies
//     block.release()                                                       // back to the kernel
//   })
//   capture.stats()  // {packets, drops, freezes, received}
//   capture.close()
//
// JS is called once per retired block, never per packet. A block returns to the kernel only on
// release(), so a consumer that falls behind fills the ring and the kernel counts drops, as with Zeek.

import {DsiemError, InputError} from '../../engine/index.js'
import {LINKTYPE} from '../../sensor/types.js'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'
import {acceptAll, clampReturns, compileFilter, type BpfInstruction} from './bpf.js'
import {makeCaptureBlock, type CaptureBlock} from './capture-block.js'
import {isNativeFailure, type CaptureBinding, type NativeCapture} from './capture-binding.js'
import {
  CaptureAddonError,
  CaptureUnsupportedError,
  captureErrorFrom,
  type CaptureError,
} from './capture-errors.js'
import {checkInterfaceName, resolveCaptureOptions, type CaptureOptions} from './capture-options.js'

export {checksumTrusted, frameAt, type CaptureBlock} from './capture-block.js'
export {TP_STATUS, type CaptureBinding} from './capture-binding.js'
export {
  CaptureAddonError,
  CaptureError,
  CaptureNotPermittedError,
  CaptureUnsupportedError,
} from './capture-errors.js'
export {
  CaptureOptionError,
  DEFAULT_CAPTURE_OPTIONS,
  type CaptureOptions,
  type ChecksumMode,
} from './capture-options.js'
export type {FanoutMode} from './capture-binding.js'

/** src/roles/io and dist/roles/io sit at the same depth, so one relative path serves tsx and the build. */
export const CAPTURE_ADDON_URL = new URL('../../../native/build/Release/dsiem_capture.node', import.meta.url)

const requireAddon = createRequire(import.meta.url)
const loadedBindings = new Map<string, CaptureBinding>()

/** The real addon; a typed error on non-Linux platforms and when it was never built. */
export function loadCaptureBinding(
  platform: NodeJS.Platform = process.platform,
  file: string = fileURLToPath(CAPTURE_ADDON_URL),
): CaptureBinding {
  if (platform !== 'linux') throw new CaptureUnsupportedError(platform)
  const cached = loadedBindings.get(file)
  if (cached !== undefined) return cached
  let binding: CaptureBinding
  try {
    binding = requireAddon(file) as CaptureBinding
  } catch (error) {
    throw new CaptureAddonError(file, error, (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND')
  }
  loadedBindings.set(file, binding)
  return binding
}

export interface CaptureStats {
  /** Packets that reached the socket after the filter, dropped ones included (the kernel's tp_packets). */
  packets: number
  /** Packets the kernel dropped because the ring was full. */
  drops: number
  /** Times the kernel froze the ring because user space still held the next block. */
  freezes: number
  /** Packets handed to the consumer. */
  received: number
}

export type BlockHandler = (block: CaptureBlock) => void

export interface LiveCapture {
  readonly iface: string
  readonly options: Readonly<CaptureOptions>
  /**
   * Starts polling; `onBlock` runs once per retired block, in ring order. If it throws, the block is
   * released and the exception becomes the process's uncaught exception. A socket error (the interface
   * went down) stops the capture and goes to `onError`, or is thrown as uncaught when there is none.
   */
  start(onBlock: BlockHandler, onError?: (error: CaptureError) => void): void
  /** Totals since open (still available after close). */
  stats(): CaptureStats
  /** Stops polling and frees the ring; blocks still held become empty. Idempotent. */
  close(): void
}

class CaptureStateError extends DsiemError {
  constructor(message: string) {
    super(message, {code: 'DSIEM_E_CAPTURE_STATE', category: 'bug'})
    this.name = 'CaptureStateError'
  }
}

class OpenCapture implements LiveCapture {
  readonly iface: string
  readonly options: Readonly<CaptureOptions>
  readonly #native: NativeCapture
  #state: 'open' | 'started' | 'closed' = 'open'
  #received = 0

  constructor(native: NativeCapture, iface: string, options: CaptureOptions) {
    this.#native = native
    this.iface = iface
    this.options = Object.freeze(options)
  }

  start(onBlock: BlockHandler, onError?: (error: CaptureError) => void): void {
    if (this.#state !== 'open')
      throw new CaptureStateError(`capture on ${this.iface} is already ${this.#state}`)
    const native = this.#native
    const checksumMode = this.options.checksumMode
    const failure = native.start(
      (index, buffer, count, table) => {
        this.#received += count
        const block = makeCaptureBlock(index, buffer, count, table, checksumMode, () => native.release(index))
        try {
          onBlock(block)
        } catch (error) {
          block.release()
          throw error
        }
      },
      (nativeFailure) => {
        const error = captureErrorFrom(nativeFailure, this.iface)
        if (onError === undefined) throw error
        onError(error)
      },
    )
    if (failure !== undefined) throw captureErrorFrom(failure, this.iface)
    this.#state = 'started'
  }

  stats(): CaptureStats {
    const totals = this.#native.stats()
    if (isNativeFailure(totals)) throw captureErrorFrom(totals, this.iface)
    return {packets: totals.packets, drops: totals.drops, freezes: totals.freezes, received: this.#received}
  }

  close(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#native.close()
  }
}

function filterProgram(options: CaptureOptions): BpfInstruction[] {
  // Even without a filter a one-instruction program is attached: its return value is the snap length,
  // which makes the kernel cut packets before they are copied into the ring.
  if (options.bpf === undefined) return acceptAll(options.snaplen)
  if (typeof options.bpf === 'string') {
    return compileFilter(options.bpf, LINKTYPE.ETHERNET, {snaplen: options.snaplen})
  }
  return clampReturns(options.bpf, options.snaplen)
}

/**
 * Opens a capture on `iface`: validates the options (CaptureOptionError), compiles a filter expression,
 * then creates the ring (CaptureError: CaptureNotPermittedError without CAP_NET_RAW, `no such interface`,
 * fanout clashes). Nothing is delivered before start().
 */
export function openCapture(
  iface: string,
  options: Partial<CaptureOptions> = {},
  binding: CaptureBinding = loadCaptureBinding(),
): LiveCapture {
  checkInterfaceName(iface)
  const resolved = resolveCaptureOptions(options, binding.ringLayout)
  const filter = filterProgram(resolved.options)
  const native = new binding.Capture()
  const failure = native.open(iface, {...resolved.ring, filter})
  if (failure !== undefined) {
    native.close()
    throw captureErrorFrom(failure, iface, {fanoutId: resolved.options.fanoutId})
  }
  return new OpenCapture(native, iface, resolved.options)
}

const MIN_FRAME_BYTES = 14
const MAX_FRAME_BYTES = 65535
const MAX_REPEAT = 0xffffffff

/**
 * Sends every frame (complete Ethernet frames) out of `iface`, `repeat` times over, synchronously; returns
 * how many were sent. Our own traffic source for the capture tests and benchmark; needs CAP_NET_RAW.
 */
export function injectFrames(
  iface: string,
  frames: readonly Uint8Array[],
  repeat = 1,
  binding: CaptureBinding = loadCaptureBinding(),
): number {
  checkInterfaceName(iface)
  if (!Number.isInteger(repeat) || repeat < 0 || repeat > MAX_REPEAT) {
    throw new InputError(`repeat must be an integer from 0 to ${MAX_REPEAT}, got ${repeat}`, 'DSIEM_E_INJECT')
  }
  frames.forEach((frame, index) => {
    if (!(frame instanceof Uint8Array) || frame.length < MIN_FRAME_BYTES || frame.length > MAX_FRAME_BYTES) {
      throw new InputError(
        `frame ${index} must be a Uint8Array of ${MIN_FRAME_BYTES} to ${MAX_FRAME_BYTES} bytes`,
        'DSIEM_E_INJECT',
      )
    }
  })
  if (frames.length === 0 || repeat === 0) return 0
  const result = binding.inject(iface, [...frames], repeat)
  if (isNativeFailure(result)) throw captureErrorFrom(result, iface, {operation: 'inject'})
  return result
}
