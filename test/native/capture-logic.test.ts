// The JS side of capture against a fake addon: option checking, error mapping, how blocks, frames and
// releases are built from the native table. Needs no compiler, no root and no interface.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {DsiemError, EnvironmentError, InputError} from '../../src/engine/index.js'
import type {
  CaptureBinding,
  NativeBlockHandler,
  NativeCapture,
  NativeFailure,
  NativeRingOptions,
  NativeStats,
} from '../../src/roles/io/capture-binding.js'
import {
  CaptureAddonError,
  CaptureError,
  CaptureNotPermittedError,
  CaptureOptionError,
  CaptureUnsupportedError,
  TP_STATUS,
  checksumTrusted,
  frameAt,
  injectFrames,
  loadCaptureBinding,
  openCapture,
  type CaptureBlock,
  type ChecksumMode,
} from '../../src/roles/io/capture.js'

const EPERM = 1
const ENODEV = 19
const EACCES = 13
const EINVAL = 22
const ENETDOWN = 100

/** A scripted addon: records what JS asked for and lets the test play the kernel. */
class FakeNative implements NativeCapture {
  static instances: FakeNative[] = []
  static openResult: NativeFailure | undefined = undefined
  opened: {ifname: string; options: NativeRingOptions} | undefined
  onBlock: NativeBlockHandler | undefined
  onError: ((failure: NativeFailure) => void) | undefined
  released: number[] = []
  closed = 0
  kernelStats: NativeStats = {packets: 0, drops: 0, freezes: 0}

  constructor() {
    FakeNative.instances.push(this)
  }

  open(ifname: string, options: NativeRingOptions): NativeFailure | undefined {
    this.opened = {ifname, options}
    return FakeNative.openResult
  }

  start(onBlock: NativeBlockHandler, onError: (failure: NativeFailure) => void): NativeFailure | undefined {
    this.onBlock = onBlock
    this.onError = onError
    return undefined
  }

  release(index: number): boolean {
    this.released.push(index)
    return true
  }

  stats(): NativeStats {
    return this.kernelStats
  }

  close(): void {
    this.closed++
  }
}

interface FakeBinding extends CaptureBinding {
  injected: {ifname: string; frames: Uint8Array[]; repeat: number}[]
  injectResult: number | (NativeFailure & {sent: number})
}

function fakeBinding(openResult?: NativeFailure): FakeBinding {
  FakeNative.instances = []
  FakeNative.openResult = openResult
  const binding: FakeBinding = {
    Capture: FakeNative,
    ringLayout: {pageSize: 4096, blockHeaderBytes: 48, frameHeaderBytes: 96},
    injected: [],
    injectResult: 0,
    inject(ifname, frames, repeat) {
      binding.injected.push({ifname, frames, repeat})
      return binding.injectResult
    },
  }
  return binding
}

function lastNative(): FakeNative {
  const native = FakeNative.instances.at(-1)
  assert.ok(native !== undefined, 'openCapture created a native capture')
  return native
}

interface FakePacket {
  bytes: number[]
  wireLen?: number
  sec: number
  nsec: number
  tci?: number
  status?: number
}

/** Lays packets out in a block the way the addon describes it: bytes at offsets, one column per field. */
function fakeBlock(
  packets: FakePacket[],
  stride = packets.length,
): {buffer: ArrayBuffer; table: Uint32Array} {
  const buffer = new ArrayBuffer(4096)
  const bytes = new Uint8Array(buffer)
  const table = new Uint32Array(stride * 7)
  let offset = 130
  packets.forEach((packet, i) => {
    bytes.set(packet.bytes, offset)
    table[i] = offset
    table[stride + i] = packet.bytes.length
    table[2 * stride + i] = packet.wireLen ?? packet.bytes.length
    table[3 * stride + i] = packet.sec
    table[4 * stride + i] = packet.nsec
    table[5 * stride + i] = packet.tci === undefined ? 0xffffffff : packet.tci
    table[6 * stride + i] = packet.status ?? TP_STATUS.USER
    offset += 128
  })
  return {buffer, table}
}

function captureError(run: () => unknown): CaptureError {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof CaptureError, `expected a CaptureError, got ${String(error)}`)
    return error
  }
  assert.fail('expected an error')
}

describe('openCapture option handling', () => {
  it('passes the defaults to the ring in kernel terms', () => {
    const binding = fakeBinding()
    const capture = openCapture('eth0', {}, binding)
    const opened = lastNative().opened
    assert.equal(opened?.ifname, 'eth0')
    assert.deepEqual(opened?.options, {
      blockSize: 262144,
      blockCount: 512, // 128 MiB (Zeek's buffer_size) in libpcap-sized 256 KiB blocks
      frameSize: 9312, // 96 bytes of headers + snaplen 9216, 16-byte aligned
      blockTimeoutMs: 10,
      promiscuous: true,
      fanoutMode: 'hash',
      fanoutDefrag: false,
      // No filter given: a single `ret #snaplen` lets the kernel cut packets to the snap length.
      filter: [{code: 0x06, jt: 0, jf: 0, k: 9216}],
    })
    assert.equal(capture.options.checksumMode, 'on')
    assert.equal(capture.options.fanoutId, undefined)
  })

  it('passes fanout settings and clamps a compiled program to the snap length', () => {
    const binding = fakeBinding()
    openCapture(
      'eth0',
      {
        bufferSize: 1 << 20,
        blockSize: 1 << 16,
        fanoutId: 23,
        fanoutMode: 'lb',
        fanoutDefrag: true,
        promiscuous: false,
        snaplen: 128,
        bpf: [
          {code: 0x28, jt: 0, jf: 0, k: 12},
          {code: 0x15, jt: 0, jf: 1, k: 0x800},
          {code: 0x06, jt: 0, jf: 0, k: 262144},
          {code: 0x06, jt: 0, jf: 0, k: 0},
        ],
      },
      binding,
    )
    const options = lastNative().opened?.options
    assert.equal(options?.blockCount, 16)
    assert.equal(options?.frameSize, 224)
    assert.equal(options?.fanoutId, 23)
    assert.equal(options?.fanoutMode, 'lb')
    assert.equal(options?.fanoutDefrag, true)
    assert.equal(options?.promiscuous, false)
    assert.deepEqual(
      options?.filter?.map((instruction) => instruction.k),
      [12, 0x800, 128, 0],
    )
  })

  const badOptions: {name: string; options: Record<string, unknown>; field: string; says: RegExp}[] = [
    {
      name: 'block size not a power of two',
      options: {blockSize: 12288},
      field: 'blockSize',
      says: /power of two/,
    },
    {name: 'block size below a page', options: {blockSize: 1024}, field: 'blockSize', says: /from 4096/},
    {
      name: 'block too small for the snap length',
      options: {blockSize: 8192, bufferSize: 1 << 20},
      field: 'blockSize',
      says: /too small for snaplen 9216/,
    },
    {
      name: 'buffer smaller than a block',
      options: {bufferSize: 1000},
      field: 'bufferSize',
      says: /one block/,
    },
    {name: 'fanout id beyond 16 bits', options: {fanoutId: 70000}, field: 'fanoutId', says: /0 to 65535/},
    {
      name: 'unknown fanout mode',
      options: {fanoutMode: 'rr'},
      field: 'fanoutMode',
      says: /hash, cpu, qm, lb/,
    },
    {name: 'snap length zero', options: {snaplen: 0}, field: 'snaplen', says: /from 14 to 262144/},
    {name: 'checksum mode', options: {checksumMode: 'maybe'}, field: 'checksumMode', says: /on, off, kernel/},
    {name: 'promiscuous as text', options: {promiscuous: 'yes'}, field: 'promiscuous', says: /true or false/},
    {
      name: 'negative timeout',
      options: {blockTimeoutMs: -1},
      field: 'blockTimeoutMs',
      says: /from 0 to 60000/,
    },
    {
      name: 'program with a bad field',
      options: {bpf: [{code: 6, jt: 0, jf: 0, k: -1}]},
      field: 'bpf',
      says: /instruction 0 field k/,
    },
    {name: 'blank expression', options: {bpf: '  '}, field: 'bpf', says: /filter expression/},
    {
      name: 'misspelt option',
      options: {buffer_size: 1},
      field: 'buffer_size',
      says: /unknown capture option/,
    },
  ]
  for (const {name, options, field, says} of badOptions) {
    it(`rejects ${name} with one error naming ${field}`, () => {
      const binding = fakeBinding()
      assert.throws(
        () => openCapture('eth0', options, binding),
        (error: unknown) => {
          assert.ok(error instanceof CaptureOptionError, `CaptureOptionError, got ${String(error)}`)
          assert.ok(error instanceof InputError, 'a user error')
          assert.equal(error.problems.length, 1, `one problem: ${error.message}`)
          assert.ok(error.message.includes(field), `names ${field}: ${error.message}`)
          assert.match(error.message, says)
          return true
        },
      )
      assert.equal(FakeNative.instances.length, 0, 'nothing reaches the addon')
    })
  }

  it('reports every bad field at once', () => {
    assert.throws(
      () => openCapture('eth0', {snaplen: -5, fanoutMode: 'x' as 'hash'}, fakeBinding()),
      (error: unknown) => {
        assert.ok(error instanceof CaptureOptionError, 'CaptureOptionError')
        assert.deepEqual(
          error.problems.map((problem) => problem.split(' ')[2]),
          ['fanoutMode', 'snaplen'],
        )
        return true
      },
    )
  })

  for (const iface of ['', 'a/b', 'eth0:1', 'x'.repeat(16), 'has space']) {
    it(`rejects the interface name ${JSON.stringify(iface)}`, () => {
      assert.throws(() => openCapture(iface, {}, fakeBinding()), InputError)
    })
  }
})

describe('native failures become typed errors', () => {
  it('EPERM on socket() says CAP_NET_RAW', () => {
    const error = captureError(() =>
      openCapture('eth0', {}, fakeBinding({errno: EPERM, syscall: 'socket', step: 'socket'})),
    )
    assert.ok(error instanceof CaptureNotPermittedError, 'CaptureNotPermittedError')
    assert.ok(error instanceof EnvironmentError, 'an environment error')
    assert.equal(error.message, 'capturing on eth0 needs CAP_NET_RAW or root')
    assert.equal(error.errno, EPERM)
    assert.equal(error.errnoName, 'EPERM')
    assert.equal(error.syscall, 'socket')
    assert.equal(error.code, 'DSIEM_E_CAPTURE_NOT_PERMITTED')
    assert.equal(error.category, 'environment')
    assert.equal(lastNative().closed, 1, 'the half-open capture is closed')
  })

  it('EACCES says the same', () => {
    const error = captureError(() =>
      openCapture('eth1', {}, fakeBinding({errno: EACCES, syscall: 'bind', step: 'bind'})),
    )
    assert.equal(error.message, 'capturing on eth1 needs CAP_NET_RAW or root')
  })

  it('ENODEV names the interface', () => {
    const failure = {errno: ENODEV, syscall: 'if_nametoindex', step: 'interface'}
    const error = captureError(() => openCapture('eth9', {}, fakeBinding(failure)))
    assert.equal(error.message, 'no such interface eth9')
    assert.equal(error.iface, 'eth9')
    assert.equal(error.step, 'interface')
  })

  it('EINVAL when joining a fanout group explains that ids cannot be shared', () => {
    const failure = {errno: EINVAL, syscall: 'setsockopt', step: 'fanout'}
    const error = captureError(() => openCapture('eth1', {fanoutId: 42}, fakeBinding(failure)))
    assert.match(error.message, /fanout group 42 on eth1/)
    assert.match(error.message, /two interfaces cannot share a fanout id/)
  })

  it('anything else names the step, the call and the errno', () => {
    const failure = {errno: 12, syscall: 'mmap', step: 'mmap'}
    const error = captureError(() => openCapture('eth0', {}, fakeBinding(failure)))
    assert.equal(error.message, 'capture on eth0 failed at step mmap: mmap() ENOMEM: not enough memory')
    assert.equal(error.code, 'DSIEM_E_CAPTURE')
  })

  it('a socket error while running goes to onError', () => {
    const capture = openCapture('eth0', {}, fakeBinding())
    const errors: CaptureError[] = []
    capture.start(
      () => assert.fail('no blocks expected'),
      (error) => errors.push(error),
    )
    lastNative().onError?.({errno: ENETDOWN, syscall: 'poll', step: 'poll'})
    assert.equal(errors.length, 1)
    assert.equal(errors[0]?.message, 'interface eth0 went down while capturing')
    assert.equal(errors[0]?.errnoName, 'ENETDOWN')
  })

  it('on non-Linux platforms loading says capture is unsupported', () => {
    assert.throws(
      () => loadCaptureBinding('darwin'),
      (error: unknown) => {
        assert.ok(error instanceof CaptureUnsupportedError, 'CaptureUnsupportedError')
        assert.equal(error.message, 'packet capture is not supported on darwin')
        return true
      },
    )
  })

  it('a missing addon file says how to build it', () => {
    assert.throws(
      () => loadCaptureBinding('linux', '/nonexistent/dsiem_capture.node'),
      (error: unknown) => {
        assert.ok(error instanceof CaptureAddonError, 'CaptureAddonError')
        assert.match(error.message, /is not built \(\/nonexistent\/dsiem_capture\.node\)/)
        assert.match(error.message, /npm install/)
        assert.match(error.message, /npm run build:native/)
        return true
      },
    )
  })
})

describe('blocks and frames', () => {
  function startFake(checksumMode: ChecksumMode = 'on'): {blocks: CaptureBlock[]; native: FakeNative} {
    const capture = openCapture('eth0', {checksumMode}, fakeBinding())
    const blocks: CaptureBlock[] = []
    capture.start((block) => blocks.push(block))
    return {blocks, native: lastNative()}
  }

  it('exposes each packet as a view into the block with its metadata', () => {
    const {blocks, native} = startFake()
    const packets: FakePacket[] = [
      {
        bytes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        wireLen: 1514,
        sec: 1700000000,
        nsec: 250000000,
      },
      {bytes: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4], sec: 1700000001, nsec: 1000, tci: 0xa064},
      {bytes: Array.from({length: 60}, (_, i) => i), sec: 1700000002, nsec: 999999999, tci: 0},
    ]
    // A stride larger than the count: the addon may describe fewer packets than it made room for.
    const {buffer, table} = fakeBlock(packets, 5)
    native.onBlock?.(3, buffer, packets.length, table)
    assert.equal(blocks.length, 1)
    const block = blocks[0]!
    assert.equal(block.index, 3)
    assert.equal(block.count, 3)
    assert.equal(block.data.buffer, buffer, 'the block is a view, not a copy')
    assert.deepEqual([...block.offsets], [130, 258, 386])
    assert.deepEqual([...block.vlanTci], [-1, 0xa064, 0])

    const first = frameAt(block, 0)
    assert.deepEqual([...first.data], packets[0]!.bytes)
    assert.equal(first.data.buffer, buffer, 'the frame is a view, not a copy')
    assert.equal(first.data.byteOffset, 130)
    assert.equal(first.wireLen, 1514)
    assert.equal(first.linkType, 1)
    assert.equal(first.ts, 1700000000.25)
    assert.ok(!('vlanTci' in first), 'no tag: no vlanTci')

    const second = frameAt(block, 1)
    assert.equal(second.vlanTci, 0xa064)
    assert.equal(second.wireLen, 14)
    assert.ok(Math.abs(second.ts - 1700000001.000001) < 1e-6, `ts ${second.ts}`)
    assert.equal(frameAt(block, 2).vlanTci, 0, 'a priority tag (tci 0) is still a tag')
    assert.equal(frameAt(block, 2).data.length, 60)

    assert.throws(() => frameAt(block, 3), RangeError)
    assert.throws(() => frameAt(block, -1), RangeError)
  })

  it('release hands the block back once', () => {
    const {blocks, native} = startFake()
    const {buffer, table} = fakeBlock([{bytes: [1, 2, 3], sec: 1, nsec: 0}])
    native.onBlock?.(7, buffer, 1, table)
    blocks[0]?.release()
    blocks[0]?.release()
    assert.deepEqual(native.released, [7])
  })

  it('a throwing consumer still releases the block', () => {
    const capture = openCapture('eth0', {}, fakeBinding())
    const native = lastNative()
    capture.start(() => {
      throw new Error('consumer bug')
    })
    const {buffer, table} = fakeBlock([{bytes: [1], sec: 1, nsec: 0}])
    assert.throws(() => native.onBlock?.(2, buffer, 1, table), /consumer bug/)
    assert.deepEqual(native.released, [2])
  })

  it('stats add the packets handed to JS to the kernel counters', () => {
    const capture = openCapture('eth0', {}, fakeBinding())
    const native = lastNative()
    capture.start((block) => block.release())
    const {buffer, table} = fakeBlock([
      {bytes: [1], sec: 1, nsec: 0},
      {bytes: [2], sec: 1, nsec: 0},
    ])
    native.onBlock?.(0, buffer, 2, table)
    native.kernelStats = {packets: 10, drops: 4, freezes: 1}
    assert.deepEqual(capture.stats(), {packets: 10, drops: 4, freezes: 1, received: 2})
  })

  it('close is idempotent and a capture starts only once', () => {
    const capture = openCapture('eth0', {}, fakeBinding())
    const native = lastNative()
    capture.start(() => {})
    assert.throws(
      () => capture.start(() => {}),
      (error: unknown) => error instanceof DsiemError && error.category === 'bug',
    )
    capture.close()
    capture.close()
    assert.equal(native.closed, 1)
  })

  const csumCases: {mode: ChecksumMode; status: number; trusted: boolean}[] = [
    {mode: 'on', status: TP_STATUS.CSUM_VALID, trusted: false},
    {mode: 'off', status: 0, trusted: true},
    {mode: 'kernel', status: TP_STATUS.USER, trusted: false},
    {mode: 'kernel', status: TP_STATUS.USER | TP_STATUS.CSUM_VALID, trusted: true},
    {mode: 'kernel', status: TP_STATUS.USER | TP_STATUS.CSUMNOTREADY, trusted: true},
    {mode: 'kernel', status: TP_STATUS.VLAN_VALID | TP_STATUS.LOSING, trusted: false},
  ]
  for (const {mode, status, trusted} of csumCases) {
    it(`checksum mode ${mode} with status 0x${status.toString(16)} → trusted ${trusted}`, () => {
      const {blocks, native} = startFake(mode)
      const {buffer, table} = fakeBlock([{bytes: [1], sec: 1, nsec: 0, status}])
      native.onBlock?.(0, buffer, 1, table)
      assert.equal(checksumTrusted(blocks[0]!, 0), trusted)
    })
  }
})

describe('injectFrames', () => {
  it('hands the batch and the repeat count to the addon and returns what it sent', () => {
    const binding = fakeBinding()
    binding.injectResult = 6
    const frames = [new Uint8Array(60), Buffer.alloc(64)]
    assert.equal(injectFrames('veth0', frames, 3, binding), 6)
    assert.equal(binding.injected.length, 1)
    assert.equal(binding.injected[0]?.repeat, 3)
    assert.equal(binding.injected[0]?.frames[1], frames[1])
  })

  it('maps EPERM to the capability message', () => {
    const binding = fakeBinding()
    binding.injectResult = {errno: EPERM, syscall: 'socket', step: 'socket', sent: 0}
    const error = captureError(() => injectFrames('veth0', [new Uint8Array(60)], 1, binding))
    assert.equal(error.message, 'sending frames on veth0 needs CAP_NET_RAW or root')
  })

  it('rejects frames shorter than an Ethernet header and bad repeat counts', () => {
    const binding = fakeBinding()
    assert.throws(() => injectFrames('veth0', [new Uint8Array(10)], 1, binding), /frame 0 must be/)
    assert.throws(() => injectFrames('veth0', [new Uint8Array(60)], -1, binding), /repeat must be/)
    assert.equal(injectFrames('veth0', [], 5, binding), 0)
    assert.equal(binding.injected.length, 0, 'nothing reached the addon')
  })
})
