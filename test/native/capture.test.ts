// The real addon on a real veth pair: frames injected on one end must come out of the ring on the other,
// byte for byte, through fanout, filters, a full ring and a vanishing interface. Needs root (CAP_NET_RAW
// and CAP_NET_ADMIN for `ip link add`); skipped with a notice otherwise.

import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {after, before, describe, it, type TestContext} from 'node:test'
import {
  CaptureError,
  frameAt,
  injectFrames,
  loadCaptureBinding,
  openCapture,
  type CaptureBlock,
  type CaptureOptions,
  type LiveCapture,
} from '../../src/roles/io/capture.js'
import {REPO_ROOT} from '../helpers/paths.js'
import {createVethPair, ip, liveSkipReason, type VethPair} from '../helpers/veth.js'

const SRC_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
const DST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]
const MARKER = 0x4453514d // "DSQM": tells our frames from whatever else the kernel sends on the link

interface FrameSpec {
  seq: number
  srcPort: number
  dstPort: number
  payloadLen?: number
  vlanTci?: number
}

/** Ethernet + IPv4 + UDP by hand; the payload starts with MARKER and the sequence number. */
function udpFrame({seq, srcPort, dstPort, payloadLen = 18, vlanTci}: FrameSpec): Buffer {
  const tag = vlanTci === undefined ? 0 : 4
  const frame = Buffer.alloc(14 + tag + 20 + 8 + Math.max(payloadLen, 8))
  frame.set(DST_MAC, 0)
  frame.set(SRC_MAC, 6)
  if (vlanTci !== undefined) {
    frame.writeUInt16BE(0x8100, 12)
    frame.writeUInt16BE(vlanTci, 14)
  }
  frame.writeUInt16BE(0x0800, 12 + tag)
  const ip = 14 + tag
  frame[ip] = 0x45
  frame.writeUInt16BE(frame.length - ip, ip + 2)
  frame.writeUInt16BE(seq & 0xffff, ip + 4)
  frame[ip + 8] = 64
  frame[ip + 9] = 17
  frame.set([10, 99, 0, 1], ip + 12)
  frame.set([10, 99, 0, 2], ip + 16)
  const udp = ip + 20
  frame.writeUInt16BE(srcPort, udp)
  frame.writeUInt16BE(dstPort, udp + 2)
  frame.writeUInt16BE(frame.length - udp, udp + 4)
  frame.writeUInt32BE(MARKER, udp + 8)
  frame.writeUInt32BE(seq, udp + 12)
  for (let i = udp + 16; i < frame.length; i++) frame[i] = (seq + i) & 0xff
  return frame
}

interface Seen {
  seq: number
  dstPort: number
  bytes: Buffer
  wireLen: number
  ts: number
  vlanTci: number | undefined
}

/** Our frames in a captured one (untagged: the kernel strips 802.1Q tags into the metadata). */
function parseOurs(data: Uint8Array): {seq: number; dstPort: number} | undefined {
  if (data.length < 50) return undefined
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (view.getUint16(12) !== 0x0800 || data[23] !== 17 || view.getUint32(42) !== MARKER) return undefined
  return {seq: view.getUint32(46), dstPort: view.getUint16(36)}
}

/** Collects our frames (copied: block views die on release) and releases each block right away. */
function collector(into: Seen[], blockSizes: number[]): (block: CaptureBlock) => void {
  return (block) => {
    blockSizes.push(block.count)
    for (let i = 0; i < block.count; i++) {
      const frame = frameAt(block, i)
      const ours = parseOurs(frame.data)
      if (ours === undefined) continue
      into.push({
        ...ours,
        bytes: Buffer.from(frame.data),
        wireLen: frame.wireLen,
        ts: frame.ts,
        vlanTci: frame.vlanTci,
      })
    }
    block.release()
  }
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const openCaptures: LiveCapture[] = []
let liveSkip: string | false = false

/** A fresh veth pair for one test, deleted when the test ends; `a` sends, `b` captures. */
function vethPair(t: TestContext): VethPair {
  const pair = createVethPair('dsq')
  t.after(() => {
    // Close first: a capture still running when its interface disappears reports ENETDOWN.
    for (const capture of openCaptures.splice(0)) capture.close()
    pair.remove()
  })
  return pair
}

const SMALL_RING: Partial<CaptureOptions> = {bufferSize: 64 * 65536, blockSize: 65536, blockTimeoutMs: 5}

describe('live capture on a veth pair', () => {
  const open = (iface: string, options: Partial<CaptureOptions>): LiveCapture => {
    const capture = openCapture(iface, options)
    openCaptures.push(capture)
    return capture
  }

  before(() => {
    liveSkip = liveSkipReason()
    if (liveSkip !== false) {
      console.log(`# skipped: ${liveSkip}`)
      return
    }
    loadCaptureBinding() // a missing build fails here, loudly, rather than as a skip
  })

  after(() => {
    for (const capture of openCaptures.splice(0)) capture.close()
  })

  it('delivers every injected frame once, byte for byte, many per block', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const capture = open(b, SMALL_RING)
    const seen: Seen[] = []
    const blockSizes: number[] = []
    capture.start(collector(seen, blockSizes))
    const frames = Array.from({length: 300}, (_, seq) =>
      udpFrame({seq, srcPort: 40000, dstPort: 5000, payloadLen: 18 + ((seq * 37) % 1400)}),
    )
    const startedAt = Date.now() / 1000
    assert.equal(injectFrames(a, frames), 300)
    await waitFor('300 frames', () => seen.length >= 300)
    await sleep(50) // anything duplicated would show up now
    const endedAt = Date.now() / 1000

    assert.equal(seen.length, 300, 'no frame twice')
    const bySeq = new Map(seen.map((frame) => [frame.seq, frame]))
    assert.equal(bySeq.size, 300, 'every frame once')
    for (const [seq, sent] of frames.entries()) {
      const got = bySeq.get(seq)
      assert.ok(got !== undefined, `frame ${seq} arrived`)
      assert.ok(got.bytes.equals(sent), `frame ${seq} has the bytes that were sent`)
      assert.equal(got.wireLen, sent.length, `frame ${seq} wire length`)
      assert.equal(got.vlanTci, undefined, `frame ${seq} carries no tag`)
      assert.ok(
        got.ts >= startedAt - 1 && got.ts <= endedAt + 1,
        `frame ${seq} time ${got.ts} within [${startedAt}, ${endedAt}]`,
      )
    }
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i]!.ts >= seen[i - 1]!.ts, `timestamps do not go back at ${i}`)
    }
    assert.ok(Math.max(...blockSizes) > 1, `a burst shares blocks: ${blockSizes.join(',')}`)
    const stats = capture.stats()
    assert.ok(stats.packets >= 300, `kernel counted ${stats.packets}`)
    assert.equal(stats.drops, 0)
    assert.ok(stats.received >= 300, `received ${stats.received}`)
  })

  it('cuts packets to the snap length and reports stripped VLAN tags', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const capture = open(b, {...SMALL_RING, snaplen: 64})
    const seen: Seen[] = []
    capture.start(collector(seen, []))
    const long = udpFrame({seq: 1, srcPort: 1, dstPort: 2, payloadLen: 500})
    const tci = (5 << 13) | 100 // priority 5, VLAN 100
    const tagged = udpFrame({seq: 2, srcPort: 1, dstPort: 2, payloadLen: 20, vlanTci: tci})
    injectFrames(a, [long, tagged])
    await waitFor('2 frames', () => seen.length >= 2)
    const [cut, untagged] = [seen.find((f) => f.seq === 1), seen.find((f) => f.seq === 2)]
    assert.ok(cut !== undefined && untagged !== undefined, 'both arrived')
    assert.equal(cut.bytes.length, 64, 'captured bytes end at the snap length')
    assert.equal(cut.wireLen, long.length)
    assert.ok(cut.bytes.equals(long.subarray(0, 64)), 'the first 64 bytes are intact')
    assert.equal(untagged.vlanTci, tci)
    const withoutTag = Buffer.concat([tagged.subarray(0, 12), tagged.subarray(16)])
    assert.ok(untagged.bytes.equals(withoutTag), 'the tag is gone from the bytes, kept in the metadata')
    assert.equal(untagged.wireLen, withoutTag.length)
  })

  it('spreads flows over a fanout group: each packet once, each flow on one socket', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const fanout = {...SMALL_RING, fanoutId: 1000 + (process.pid % 30000), fanoutMode: 'hash' as const}
    const seen: Seen[][] = [[], []]
    for (const [socket, into] of seen.entries()) {
      open(b, fanout).start(collector(into, []))
      assert.ok(socket < 2, 'two sockets')
    }
    const flows = 200
    const frames: Buffer[] = []
    for (let flow = 0; flow < flows; flow++) {
      for (let packet = 0; packet < 5; packet++) {
        frames.push(
          udpFrame({seq: flow * 5 + packet, srcPort: 10000 + flow, dstPort: 20000 + ((flow * 7) % 500)}),
        )
      }
    }
    assert.equal(injectFrames(a, frames), 1000)
    await waitFor('1000 frames over both sockets', () => seen[0]!.length + seen[1]!.length >= 1000)
    await sleep(50)

    const socketOfSeq = new Map<number, number>()
    for (const [socket, list] of seen.entries()) {
      for (const frame of list) {
        assert.ok(!socketOfSeq.has(frame.seq), `packet ${frame.seq} seen once in the union`)
        socketOfSeq.set(frame.seq, socket)
      }
    }
    assert.equal(socketOfSeq.size, 1000, 'every packet seen')
    for (let flow = 0; flow < flows; flow++) {
      const sockets = new Set([0, 1, 2, 3, 4].map((packet) => socketOfSeq.get(flow * 5 + packet)))
      assert.equal(sockets.size, 1, `flow ${flow} stays on one socket`)
    }
    assert.ok(
      seen[0]!.length > 0 && seen[1]!.length > 0,
      `both sockets got flows: ${seen[0]!.length}/${seen[1]!.length}`,
    )
  })

  it('refuses one fanout id on two interfaces with the explanation', (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const fanoutId = 1000 + ((process.pid + 1) % 30000)
    open(a, {...SMALL_RING, fanoutId})
    assert.throws(
      () => open(b, {...SMALL_RING, fanoutId}),
      (error: unknown) => {
        assert.ok(error instanceof CaptureError, `CaptureError, got ${String(error)}`)
        assert.equal(error.errnoName, 'EINVAL')
        assert.equal(error.step, 'fanout')
        assert.match(error.message, /two interfaces cannot share a fanout id/)
        return true
      },
    )
  })

  it('drops in the kernel when the consumer holds the ring, and recovers after release', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    // 4 blocks of one page, room for about 80 small packets.
    const capture = open(b, {bufferSize: 4 * 4096, blockSize: 4096, blockTimeoutMs: 1, snaplen: 256})
    const held: CaptureBlock[] = []
    let releasing = false
    const seen: Seen[] = []
    const collect = collector(seen, [])
    capture.start((block) => (releasing ? collect(block) : held.push(block)))
    const frames = Array.from({length: 3000}, (_, seq) => udpFrame({seq, srcPort: 1, dstPort: 2}))
    assert.equal(injectFrames(a, frames), 3000)
    await sleep(100)
    const full = capture.stats()
    assert.ok(full.drops > 0, `the kernel dropped (${JSON.stringify(full)})`)
    assert.ok(full.packets >= 3000, `the kernel counted every packet, dropped ones too (${full.packets})`)
    assert.ok(full.received > 0 && full.received <= full.packets - full.drops, `received ${full.received}`)
    assert.ok(held.length >= 1 && held.length <= 4, `the consumer holds ${held.length} of 4 blocks`)

    const stale = held[0]!
    releasing = true
    for (const block of held) block.release()
    assert.equal(stale.data.length, 0, 'a released block reads as empty')
    assert.equal(stale.offsets.length, stale.count, 'the table stays (it is a copy)')

    injectFrames(a, [udpFrame({seq: 5000, srcPort: 1, dstPort: 2})])
    await waitFor('a frame after recovery', () => seen.some((frame) => frame.seq === 5000))
    const later = capture.stats()
    assert.ok(later.packets >= full.packets + 1, 'counters are totals since open')
    assert.ok(later.drops >= full.drops, 'drops never go back')
  })

  it('keeps handing over blocks while the consumer holds an earlier one', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const capture = open(b, SMALL_RING)
    const held: CaptureBlock[] = []
    const seen: Seen[] = []
    const collect = collector(seen, [])
    capture.start((block) => {
      if (held.length === 0) held.push(block)
      else collect(block)
    })
    injectFrames(a, [udpFrame({seq: 1, srcPort: 1, dstPort: 2})])
    await waitFor('the first block', () => held.length === 1)
    await sleep(30)
    injectFrames(a, [udpFrame({seq: 2, srcPort: 1, dstPort: 2})])
    await waitFor('the second frame while the first block is held', () =>
      seen.some((frame) => frame.seq === 2),
    )
    assert.equal(held[0]!.data.length, 65536, 'the held block is still readable')
    held[0]!.release()
  })

  it('stops cleanly when closed from inside the block handler', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const capture = open(b, SMALL_RING)
    const blocks: CaptureBlock[] = []
    capture.start((block) => {
      blocks.push(block)
      capture.close()
    })
    injectFrames(a, [udpFrame({seq: 1, srcPort: 1, dstPort: 2})])
    await waitFor('the first block', () => blocks.length === 1)
    injectFrames(a, [udpFrame({seq: 2, srcPort: 1, dstPort: 2})])
    await sleep(50)
    assert.equal(blocks.length, 1, 'nothing is delivered after close')
    assert.equal(blocks[0]!.data.length, 0, 'the block held across close reads as empty')
    blocks[0]!.release() // harmless after close
    assert.ok(capture.stats().packets >= 1, 'totals survive close')
  })

  it('passes only what the BPF filter accepts', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const capture = open(b, {...SMALL_RING, bpf: 'udp port 9999'})
    const seen: Seen[] = []
    let others = 0
    const collect = collector(seen, [])
    capture.start((block) => {
      for (let i = 0; i < block.count; i++) if (parseOurs(frameAt(block, i).data) === undefined) others++
      collect(block)
    })
    const frames = Array.from({length: 100}, (_, seq) =>
      udpFrame({seq, srcPort: 33000 + seq, dstPort: seq % 2 === 0 ? 9999 : 8888}),
    )
    injectFrames(a, frames)
    await waitFor('50 frames to port 9999', () => seen.length >= 50)
    await sleep(50)
    assert.equal(seen.length, 50)
    assert.ok(
      seen.every((frame) => frame.dstPort === 9999),
      'only port 9999',
    )
    assert.equal(new Set(seen.map((frame) => frame.seq)).size, 50)
    assert.equal(others, 0, 'nothing else passed the filter')
  })

  it('reports the interface going away to onError', async (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const {a, b} = vethPair(t)
    const capture = open(b, SMALL_RING)
    const errors: CaptureError[] = []
    capture.start(
      (block) => block.release(),
      (error) => errors.push(error),
    )
    ip('link', 'del', a)
    await waitFor('the error', () => errors.length > 0)
    assert.equal(errors[0]?.message, `interface ${b} went down while capturing`)
    assert.equal(errors[0]?.errnoName, 'ENETDOWN')
    capture.close()
    capture.close()
  })

  it('names a missing interface', (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    assert.throws(
      () => open('dsqnosuch0', SMALL_RING),
      (error: unknown) => {
        assert.ok(error instanceof CaptureError, `CaptureError, got ${String(error)}`)
        assert.equal(error.message, 'no such interface dsqnosuch0')
        assert.equal(error.errnoName, 'ENODEV')
        return true
      },
    )
  })

  it('says CAP_NET_RAW when run as an unprivileged user', (t) => {
    if (liveSkip !== false) return t.skip(liveSkip)
    const script = [
      "const m = await import('./src/roles/io/capture.ts')",
      "for (const run of [() => m.openCapture('lo'), () => m.injectFrames('lo', [new Uint8Array(60)])]) {",
      '  try { run(); console.log("no error") } catch (e) {',
      '    console.log(`${e instanceof m.CaptureNotPermittedError}|${e.errnoName}|${e.message}`) }',
      '}',
    ].join('\n')
    const child = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ],
      {cwd: REPO_ROOT, encoding: 'utf8', env: {...process.env, TSX_TSCONFIG_PATH: 'test/tsconfig.json'}},
    )
    if (child.error !== undefined || (child.status !== 0 && /setpriv/.test(child.stderr))) {
      return t.skip(`setpriv does not work here: ${child.error?.message ?? child.stderr}`)
    }
    assert.equal(child.status, 0, child.stderr)
    assert.deepEqual(child.stdout.trim().split('\n'), [
      'true|EPERM|capturing on lo needs CAP_NET_RAW or root',
      'true|EPERM|sending frames on lo needs CAP_NET_RAW or root',
    ])
  })
})

describe('addon build', () => {
  it('was built by npm (native/build/Release/dsiem_capture.node)', (t) => {
    if (process.platform !== 'linux') return t.skip('the addon builds only on Linux')
    const binding = loadCaptureBinding()
    assert.equal(typeof binding.Capture, 'function')
    assert.equal(typeof binding.inject, 'function')
    const pageSize = Number(execFileSync('getconf', ['PAGESIZE'], {encoding: 'utf8'}).trim())
    assert.equal(binding.ringLayout.pageSize, pageSize)
    assert.equal(binding.ringLayout.blockHeaderBytes, 48)
  })
})
