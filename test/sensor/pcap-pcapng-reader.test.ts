// pcapng: a hand-written two-section file (independent of our writer), writer round trips for both
// byte orders and several if_tsresol values, 64-bit timestamp splitting against BigInt, and the
// block checks.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {readCaptureBytes} from '../../src/sensor/pcap/capture-file.js'
import {CaptureCorruptError, CaptureFormatError} from '../../src/sensor/pcap/capture-errors.js'
import type {CaptureFrame} from '../../src/sensor/pcap/capture-frame.js'
import {PcapngWriter} from '../../src/sensor/pcap/pcapng-writer.js'
import type {ByteOrder} from '../../src/sensor/pcap/pcap-writer.js'
import {TimestampScale, unitsPerSecond} from '../../src/sensor/pcap/timestamp-scale.js'
import {LINKTYPE} from '../../src/sensor/types.js'

function hex(text: string): Uint8Array {
  const digits = text.replace(/[\s|]/g, '')
  assert.equal(digits.length % 2, 0, 'even number of hex digits')
  return Uint8Array.from(digits.match(/../g)!, (pair) => parseInt(pair, 16))
}

function frameAt(frames: CaptureFrame[], index: number): CaptureFrame {
  const frame = frames[index]
  assert.ok(frame !== undefined, `frame ${index} exists`)
  return frame
}

// Section 1, little-endian: interface 0 Ethernet with if_tsresol 9 (ns), an unknown block,
// interface 1 LINKTYPE_RAW (default µs), an EPB on interface 0 and an obsolete Packet Block on 1.
// Section 2, big-endian: interface 0 Linux SLL with snaplen 4, an EPB (µs) and a Simple Packet Block.
const TWO_SECTIONS = hex(`
  0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
  01000000 20000000 0100 0000 00000000 | 0900 0100 09000000 | 00000000 | 20000000
  cdab0000 10000000 11223344 10000000
  01000000 14000000 6500 0000 00000000 14000000
  06000000 28000000 00000000 fe9c9717 15cd853d 05000000 05000000 | 0102030405 000000 | 28000000
  02000000 24000000 0100 0000 240a0600 a0654418 03000000 0a000000 | aabbcc 00 | 24000000
  0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffffffffffff 0000001c
  00000001 00000014 0071 0000 00000004 00000014
  00000006 00000024 00000000 00060a24 184c06c1 00000004 00000040 | 0a0b0c0d | 00000024
  00000003 00000014 0000000a | aabbccdd | 00000014
`)

describe('pcapng reader: hand-written file', () => {
  const result = readCaptureBytes(TWO_SECTIONS)

  it('reads every packet block of both sections and counts the skipped block', () => {
    assert.equal(result.format, 'pcapng')
    assert.equal(result.truncated, false)
    assert.equal(result.corrupt, undefined)
    assert.equal(result.frames.length, 4)
    assert.equal(result.skippedBlocks, 1)
    assert.equal(result.bytesRead, TWO_SECTIONS.length)
  })

  it('takes link type and nanosecond timestamps from interface 0 of section 1', () => {
    const frame = frameAt(result.frames, 0)
    assert.equal(frame.linkType, LINKTYPE.ETHERNET)
    assert.deepEqual([...frame.data], [1, 2, 3, 4, 5])
    assert.equal(frame.wireLen, 5)
    assert.equal(frame.tsSec, 1700000000)
    assert.equal(frame.tsNsec, 123456789)
    assert.ok(Math.abs(frame.ts - 1700000000 - 0.123456789) < 3e-7, `ts ${frame.ts}`)
  })

  it('reads the obsolete Packet Block on interface 1 (µs, raw IP)', () => {
    const frame = frameAt(result.frames, 1)
    assert.equal(frame.linkType, LINKTYPE.RAW)
    assert.deepEqual([...frame.data], [0xaa, 0xbb, 0xcc])
    assert.equal(frame.wireLen, 10)
    assert.equal(frame.tsSec, 1700000002)
    assert.equal(frame.tsNsec, 500000000)
    assert.equal(frame.ts, 1700000002.5)
  })

  it('switches to big-endian in section 2 and starts its interfaces over', () => {
    const frame = frameAt(result.frames, 2)
    assert.equal(frame.linkType, LINKTYPE.LINUX_SLL)
    assert.deepEqual([...frame.data], [0x0a, 0x0b, 0x0c, 0x0d])
    assert.equal(frame.wireLen, 64)
    assert.equal(frame.tsSec, 1700000003)
    assert.equal(frame.tsNsec, 1000)
    assert.equal(frame.ts, 1700000003.000001)
  })

  it('cuts a Simple Packet Block to the snap length and gives it the previous packet time', () => {
    const frame = frameAt(result.frames, 3)
    assert.equal(frame.linkType, LINKTYPE.LINUX_SLL)
    assert.deepEqual([...frame.data], [0xaa, 0xbb, 0xcc, 0xdd])
    assert.equal(frame.wireLen, 10)
    assert.equal(frame.tsSec, 1700000003)
    assert.equal(frame.tsNsec, 1000)
  })
})

describe('pcapng writer → reader round trips', () => {
  const orders: ByteOrder[] = ['little', 'big']
  const resolutions: {tsresol: number; name: string; exactNsec: boolean}[] = [
    {tsresol: 6, name: 'µs (default)', exactNsec: false},
    {tsresol: 9, name: 'ns', exactNsec: true},
    {tsresol: 3, name: 'ms', exactNsec: false},
    {tsresol: 0x80 | 30, name: '2^-30 s', exactNsec: false},
    {tsresol: 0x80 | 10, name: '2^-10 s', exactNsec: false},
    {tsresol: 12, name: 'ps', exactNsec: true},
  ]
  const times: [number, number][] = [
    [1700000000, 0],
    [1700000000, 123456789],
    [1700000000, 999999999],
    [4102444800, 500000001],
    [0, 1],
  ]
  for (const byteOrder of orders) {
    for (const {tsresol, name, exactNsec} of resolutions) {
      it(`${byteOrder}-endian, ${name}: timestamps to the unit, data and lengths`, () => {
        const units = BigInt(unitsPerSecond(tsresol))
        // 64 bits of picoseconds end in 2554: keep such times in range.
        const usable = times.map(([sec, nsec]): [number, number] =>
          BigInt(sec + 1) * units < 2n ** 64n ? [sec, nsec] : [sec % 100000000, nsec],
        )
        const writer = new PcapngWriter({byteOrder})
        const id = writer.addInterface({linkType: LINKTYPE.IPV4, tsresol, snaplen: 16})
        usable.forEach(([sec, nsec], index) => {
          writer.addExact(
            id,
            sec,
            nsec,
            Uint8Array.from({length: 5 + index * 4}, (_, i) => i + index),
            100 + index,
          )
        })
        const result = readCaptureBytes(writer.toBuffer())
        assert.equal(result.frames.length, usable.length)
        usable.forEach(([sec, nsec], index) => {
          const frame = frameAt(result.frames, index)
          // What the file holds: the time rounded down to the interface's unit, then back to ns.
          const fileUnits = (BigInt(nsec) * units) / 1_000_000_000n
          const expectedNsec = exactNsec ? nsec : Number((fileUnits * 1_000_000_000n) / units)
          assert.equal(frame.tsSec, sec, `seconds of frame ${index}`)
          assert.equal(frame.tsNsec, expectedNsec, `nanoseconds of frame ${index}`)
          const ulp = sec === 0 ? 2 ** -40 : 2 ** (Math.floor(Math.log2(sec)) - 52)
          const expectedTs = sec + Number(fileUnits) / Number(units)
          assert.ok(
            Math.abs(frame.ts - expectedTs) <= ulp,
            `ts of frame ${index}: ${frame.ts} vs ${expectedTs}`,
          )
          assert.equal(frame.linkType, LINKTYPE.IPV4)
          assert.equal(frame.data.length, Math.min(5 + index * 4, 16), `snapped length of frame ${index}`)
          assert.equal(frame.data[3], 3 + index)
          assert.equal(frame.wireLen, 100 + index)
        })
      })
    }
  }

  it('applies if_tsoffset (seconds) to every timestamp of the interface', () => {
    for (const byteOrder of orders) {
      const writer = new PcapngWriter({byteOrder})
      writer.addInterface({linkType: LINKTYPE.ETHERNET, tsresol: 9, tsoffset: 1600000000})
      writer.addExact(0, 1700000000, 42, hex('01'))
      const file = writer.toBuffer()
      // The stored count is relative to the offset: 100,000,000 s in ns, not 1.7e18.
      const view = new DataView(file.buffer, file.byteOffset)
      // Section header (28) and interface description with both options (44).
      const epb = 28 + 44
      const high = view.getUint32(epb + 12, byteOrder === 'little')
      assert.equal(high, Math.floor((100000000 * 1e9) / 2 ** 32), `stored high word (${byteOrder})`)
      const frame = frameAt(readCaptureBytes(file).frames, 0)
      assert.equal(frame.tsSec, 1700000000)
      assert.equal(frame.tsNsec, 42)
    }
  })

  it('keeps each interface’s link type and resolution apart, and Simple Packet Blocks on interface 0', () => {
    const writer = new PcapngWriter()
    writer.addInterface({linkType: LINKTYPE.ETHERNET})
    writer.addInterface({linkType: LINKTYPE.IPV6, tsresol: 9})
    writer.addExact(1, 10, 7, hex('60'))
    writer.addExact(0, 11, 7000, hex('ff'))
    writer.addSimplePacket(hex('0102'))
    writer.addBlock(0x00000bad, hex('0102030405'))
    writer.newSection({byteOrder: 'big'})
    writer.addInterface({linkType: LINKTYPE.NULL})
    writer.addExact(0, 12, 0, hex('02000000'))
    const result = readCaptureBytes(writer.toBuffer())
    assert.equal(result.skippedBlocks, 1)
    assert.deepEqual(
      result.frames.map((frame) => [frame.linkType, frame.tsSec, frame.tsNsec, frame.data.length]),
      [
        [LINKTYPE.IPV6, 10, 7, 1],
        [LINKTYPE.ETHERNET, 11, 7000, 1],
        [LINKTYPE.ETHERNET, 11, 7000, 2],
        [LINKTYPE.NULL, 12, 0, 4],
      ],
    )
  })
})

describe('pcapng writer', () => {
  it('writes section header, interface description and packet blocks byte for byte as the format says', () => {
    const writer = new PcapngWriter()
    writer.addInterface({linkType: LINKTYPE.ETHERNET, tsresol: 9})
    writer.addExact(0, 1700000000, 123456789, hex('0102030405'))
    // The same blocks as in the hand-written file above.
    const expected = hex(`
      0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
      01000000 20000000 0100 0000 00000000 | 0900 0100 09000000 | 00000000 | 20000000
      06000000 28000000 00000000 fe9c9717 15cd853d 05000000 05000000 | 0102030405 000000 | 28000000
    `)
    assert.deepEqual([...writer.toBuffer()], [...expected])
  })

  it('refuses packets for undescribed interfaces and simple packets whose length the format cannot imply', () => {
    const writer = new PcapngWriter()
    assert.throws(() => writer.addExact(0, 1, 0, hex('00')), /interface 0 is not described/)
    writer.addInterface({linkType: LINKTYPE.ETHERNET, snaplen: 4})
    assert.throws(() => writer.addSimplePacket(hex('010203'), 10), /must carry 4 bytes, not 3/)
    writer.addSimplePacket(hex('01020304'), 10)
    assert.throws(() => writer.addExact(0, -1, 0, hex('00')), RangeError)
    assert.equal(writer.frameCount, 1)
  })
})

describe('pcapng reader: block checks', () => {
  const header = `0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
    01000000 14000000 0100 0000 00000000 14000000`

  it('reports a packet for an interface the section does not describe as corrupt', () => {
    const file = hex(`${header}
      06000000 20000000 01000000 00000000 00000000 00000000 00000000 20000000`)
    const result = readCaptureBytes(file)
    assert.equal(result.frames.length, 0)
    assert.ok(result.corrupt instanceof CaptureCorruptError, 'corrupt error set')
    assert.equal(result.corrupt.offset, 48)
    assert.match(result.corrupt.message, /interface 1, but the section describes 1/)
  })

  it('reports a trailing length that differs from the leading one as corrupt', () => {
    const file = hex(`${header}
      cdab0000 10000000 00000000 14000000`)
    const result = readCaptureBytes(file)
    assert.ok(result.corrupt instanceof CaptureCorruptError, 'corrupt error set')
    assert.equal(result.corrupt.offset, 48)
    assert.match(result.corrupt.message, /trailing length/)
  })

  it('reports a block length that is no multiple of 4, or absurdly large, as corrupt', () => {
    for (const length of ['11000000', 'fcffffff', '08000000']) {
      const result = readCaptureBytes(hex(`${header} cdab0000 ${length} 00000000 00000000`))
      assert.ok(result.corrupt instanceof CaptureCorruptError, `corrupt error for length ${length}`)
      assert.equal(result.corrupt.offset, 48)
      assert.match(result.corrupt.message, /impossible length/)
    }
  })

  it('reports a captured length larger than its block as corrupt', () => {
    const file = hex(`${header}
      06000000 24000000 00000000 00000000 00000000 09000000 09000000 01020304 24000000`)
    const result = readCaptureBytes(file)
    assert.ok(result.corrupt instanceof CaptureCorruptError, 'corrupt error set')
    assert.match(result.corrupt.message, /captured length 9 does not fit its 36-byte block/)
  })

  it('rejects a first section header with a bad byte-order magic or version as not pcapng', () => {
    assert.throws(
      () => readCaptureBytes(hex('0a0d0d0a 1c000000 11223344 0100 0000 ffffffffffffffff 1c000000')),
      (error: unknown) =>
        error instanceof CaptureFormatError && /byte-order magic 0x44332211/.test(error.message),
    )
    assert.throws(
      () => readCaptureBytes(hex('0a0d0d0a 1c000000 4d3c2b1a 0200 0000 ffffffffffffffff 1c000000')),
      (error: unknown) =>
        error instanceof CaptureFormatError && /unsupported version 2\.0/.test(error.message),
    )
  })
})

describe('TimestampScale', () => {
  /** Deterministic pseudo-random 32-bit words. */
  function* words(seed: number): Generator<number> {
    let state = seed
    for (;;) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0
      yield state
    }
  }

  it('splits 64-bit counts exactly like BigInt division for decimal and binary units', () => {
    const random = words(7)
    for (const tsresol of [0, 3, 6, 9, 11, 12, 15, 0x80, 0x80 | 20, 0x80 | 32, 0x80 | 40]) {
      const scale = new TimestampScale(tsresol)
      const units = BigInt(unitsPerSecond(tsresol))
      for (let i = 0; i < 300; i++) {
        // Mix small, epoch-sized and full-range high words; repeat some to exercise the cache.
        const pick = i % 3
        const highWord = random.next().value as number
        const high = pick === 0 ? highWord & 0x1fffff : pick === 1 ? 0x17979cfe + (i % 5) : highWord
        const low = random.next().value as number
        scale.split(high, low)
        const total = (BigInt(high) << 32n) | BigInt(low)
        const sec = total / units
        if (sec > BigInt(Number.MAX_SAFE_INTEGER)) continue
        assert.equal(scale.sec, Number(sec), `seconds of ${total} at resolution ${tsresol}`)
        if (units <= 2n ** 53n)
          assert.equal(scale.rem, Number(total % units), `remainder of ${total} at ${tsresol}`)
        const nsec = ((total % units) * 1_000_000_000n) / units
        // Exact except for binary units finer than 2^-32, where the product leaves the doubles' range.
        const tolerance = tsresol === (0x80 | 40) ? 1 : 0
        assert.ok(
          Math.abs(scale.nsec - Number(nsec)) <= tolerance,
          `nanoseconds of ${total} at ${tsresol}: ${scale.nsec}`,
        )
      }
    }
  })
})
