// Classic pcap: hand-written fixtures (independent of our writer), writer round trips for every
// byte order × resolution with exact timestamps, and the header and record checks.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {readCaptureBytes} from '../../src/sensor/pcap/capture-file.js'
import {CaptureCorruptError, CaptureFormatError} from '../../src/sensor/pcap/capture-errors.js'
import type {CaptureFrame} from '../../src/sensor/pcap/capture-frame.js'
import {PcapWriter} from '../../src/sensor/pcap/pcap-writer.js'
import type {ByteOrder, TimestampResolution} from '../../src/sensor/pcap/pcap-writer.js'
import {LINKTYPE} from '../../src/sensor/types.js'

/** Bytes from hex pairs; whitespace and `|` separators are ignored. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/[\s|]/g, '')
  assert.equal(digits.length % 2, 0, 'even number of hex digits')
  return Uint8Array.from(digits.match(/../g)!, (pair) => parseInt(pair, 16))
}

function bytesOf(frame: CaptureFrame | undefined): number[] {
  assert.ok(frame !== undefined, 'frame exists')
  return [...frame.data]
}

// Little-endian, microseconds, Ethernet, snaplen 65535; two records.
const LITTLE_MICRO = hex(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
  00f15365 40e20100 04000000 3c000000 | deadbeef
  01f15365 3f420f00 02000000 02000000 | 0102
`)

// Big-endian, nanoseconds, LINKTYPE_RAW with FCS bits set above the link type, snaplen 1500.
const BIG_NANO = hex(`
  a1b23c4d 0002 0004 00000000 00000000 000005dc 14000065
  6553f100 075bcd15 00000003 000005dc | 450000
`)

describe('pcap reader: hand-written files', () => {
  it('reads a little-endian microsecond file', () => {
    const result = readCaptureBytes(LITTLE_MICRO)
    assert.equal(result.format, 'pcap')
    assert.equal(result.truncated, false)
    assert.equal(result.corrupt, undefined)
    assert.equal(result.frames.length, 2)
    assert.equal(result.frameCount, 2)
    assert.equal(result.bytesRead, LITTLE_MICRO.length)
    const [first, second] = result.frames
    assert.deepEqual(bytesOf(first), [0xde, 0xad, 0xbe, 0xef])
    assert.equal(first!.linkType, LINKTYPE.ETHERNET)
    assert.equal(first!.wireLen, 60)
    assert.equal(first!.tsSec, 1700000000)
    assert.equal(first!.tsNsec, 123456000)
    assert.equal(first!.ts, 1700000000 + 123456 / 1e6)
    assert.deepEqual(bytesOf(second), [1, 2])
    assert.equal(second!.tsSec, 1700000001)
    assert.equal(second!.tsNsec, 999999000)
    assert.equal(second!.wireLen, 2)
  })

  it('reads a big-endian nanosecond file and masks the FCS bits off the link type', () => {
    const result = readCaptureBytes(BIG_NANO)
    assert.equal(result.frames.length, 1)
    const frame = result.frames[0]!
    assert.equal(frame.linkType, LINKTYPE.RAW)
    assert.deepEqual(bytesOf(frame), [0x45, 0, 0])
    assert.equal(frame.wireLen, 1500)
    assert.equal(frame.tsSec, 1700000000)
    assert.equal(frame.tsNsec, 123456789)
    assert.equal(Math.floor(frame.ts), 1700000000)
    // A double near 1.7e9 resolves ~0.24 µs: the fraction is right to well under a microsecond.
    assert.ok(Math.abs((frame.ts - 1700000000) * 1e9 - 123456789) < 250, `fraction of ${frame.ts}`)
  })

  it('hands out frames that point into the input instead of copying', () => {
    const frame = readCaptureBytes(LITTLE_MICRO).frames[0]!
    assert.equal(frame.data.buffer, LITTLE_MICRO.buffer)
    assert.equal(frame.data.byteOffset, LITTLE_MICRO.byteOffset + 40)
  })

  it("cuts ts to whole microseconds with timestampPrecision 'micro', keeping the exact form", () => {
    const frame = readCaptureBytes(BIG_NANO, {timestampPrecision: 'micro'}).frames[0]!
    assert.equal(frame.ts, 1700000000 + 123456 / 1e6)
    assert.equal(frame.tsNsec, 123456789)
  })

  it('folds a fraction of a second or more into the seconds', () => {
    const file = hex(`
      d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
      00f15365 a0252600 01000000 01000000 | 07
    `)
    // 0x2625a0 = 2,500,000 µs
    const frame = readCaptureBytes(file).frames[0]!
    assert.equal(frame.tsSec, 1700000002)
    assert.equal(frame.tsNsec, 500000000)
    assert.equal(frame.ts, 1700000002.5)
  })

  it('never reports a wire length below the captured length', () => {
    const file = hex(`
      d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
      00f15365 00000000 03000000 01000000 | 010203
    `)
    const frame = readCaptureBytes(file).frames[0]!
    assert.equal(frame.data.length, 3)
    assert.equal(frame.wireLen, 3)
  })
})

describe('pcap reader: header and record checks', () => {
  it('rejects an unsupported version as a format error', () => {
    const file = hex('d4c3b2a1 0300 0000 00000000 00000000 ffff0000 01000000')
    assert.throws(
      () => readCaptureBytes(file),
      (error: unknown) =>
        error instanceof CaptureFormatError &&
        error.code === 'DSIEM_E_PCAP_FORMAT' &&
        error.category === 'user' &&
        /unsupported pcap version 3\.0/.test(error.message),
    )
  })

  it('reports an absurd record length as corrupt, naming its offset, after the frames before it', () => {
    // Second record claims 0x00100000 (1 MiB) bytes with a snap length of 65535.
    const file = hex(`
      d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
      00f15365 00000000 01000000 01000000 | aa
      00f15365 00000000 00001000 00001000 | bbbbbbbb
    `)
    const result = readCaptureBytes(file)
    assert.equal(result.frames.length, 1)
    assert.deepEqual(bytesOf(result.frames[0]), [0xaa])
    assert.equal(result.truncated, false)
    assert.ok(result.corrupt instanceof CaptureCorruptError, 'corrupt error set')
    assert.equal(result.corrupt.offset, 41)
    assert.equal(result.corrupt.code, 'DSIEM_E_PCAP_CORRUPT')
    assert.match(
      result.corrupt.message,
      /byte offset 41: record length 1048576 exceeds the snap length 65535/,
    )
    assert.equal(result.bytesRead, 41)
  })

  it('accepts a record above 256 KiB when the snap length allows it, and one above the snap length below 256 KiB', () => {
    const big = new PcapWriter({snaplen: 400 * 1024})
    big.add(1, new Uint8Array(300 * 1024).fill(9))
    const bigFrame = readCaptureBytes(big.toBuffer()).frames[0]!
    assert.equal(bigFrame.data.length, 300 * 1024)
    const file = hex(`
      d4c3b2a1 0200 0400 00000000 00000000 02000000 01000000
      00f15365 00000000 04000000 04000000 | 01020304
    `)
    const result = readCaptureBytes(file)
    assert.equal(result.corrupt, undefined)
    assert.deepEqual(bytesOf(result.frames[0]), [1, 2, 3, 4])
  })
})

describe('pcap writer → reader round trips', () => {
  const orders: ByteOrder[] = ['little', 'big']
  const resolutions: TimestampResolution[] = ['micro', 'nano']
  for (const byteOrder of orders) {
    for (const resolution of resolutions) {
      it(`${byteOrder}-endian, ${resolution}seconds: data, lengths and exact timestamps`, () => {
        const writer = new PcapWriter({linkType: LINKTYPE.LINUX_SLL, snaplen: 64, resolution, byteOrder})
        const times: [number, number][] = [
          [0, 0],
          [1700000000, 1000],
          [1700000000, 999999000],
          [4294967295, 123456000],
        ]
        if (resolution === 'nano') times.push([1700000000, 123456789], [1700000000, 999999999], [1, 1])
        times.forEach(([sec, nsec], index) => {
          const data = Uint8Array.from({length: 10 + index * 20}, (_, i) => (i * 31 + index) & 0xff)
          writer.addExact(sec, nsec, data, data.length + index)
        })
        writer.add(1700000005.25, hex('0a0b'))
        const file = writer.toBuffer()
        assert.equal(file[0], byteOrder === 'little' ? (resolution === 'nano' ? 0x4d : 0xd4) : 0xa1)
        const result = readCaptureBytes(file)
        assert.equal(result.frames.length, times.length + 1)
        times.forEach(([sec, nsec], index) => {
          const frame = result.frames[index]!
          const length = 10 + index * 20
          assert.equal(frame.tsSec, sec, `seconds of frame ${index}`)
          assert.equal(frame.tsNsec, nsec, `nanoseconds of frame ${index}`)
          // ts is the nearest double (within one unit in the last place of the seconds).
          const ulp = sec === 0 ? 2 ** -52 : 2 ** (Math.floor(Math.log2(sec)) - 52)
          assert.ok(Math.abs(frame.ts - (sec + nsec / 1e9)) <= ulp, `ts of frame ${index}: ${frame.ts}`)
          if (resolution === 'micro') {
            assert.equal(Math.floor(frame.ts), sec, `integer part of ts of frame ${index}`)
            assert.equal(
              Math.round((frame.ts - sec) * 1e6),
              nsec / 1000,
              `microseconds of ts of frame ${index}`,
            )
          }
          assert.equal(frame.linkType, LINKTYPE.LINUX_SLL)
          assert.equal(frame.data.length, Math.min(length, 64), `snapped length of frame ${index}`)
          assert.equal(frame.wireLen, length + index, `wire length of frame ${index}`)
          assert.equal(frame.data[5], (5 * 31 + index) & 0xff)
        })
        const last = result.frames[times.length]!
        assert.equal(last.tsSec, 1700000005)
        assert.equal(last.tsNsec, 250000000)
        assert.equal(last.ts, 1700000005.25)
        assert.deepEqual(bytesOf(last), [10, 11])
      })
    }
  }

  it('documents the double: a nanosecond just below the second rounds ts up, tsSec/tsNsec stay exact', () => {
    const writer = new PcapWriter({resolution: 'nano'})
    writer.addExact(1700000000, 999999999, hex('00'))
    const frame = readCaptureBytes(writer.toBuffer()).frames[0]!
    assert.equal(frame.ts, 1700000001)
    assert.equal(frame.tsSec, 1700000000)
    assert.equal(frame.tsNsec, 999999999)
  })

  it('keeps microsecond timestamps exact through ts in a microsecond file', () => {
    const writer = new PcapWriter()
    const stamps = [1700000000.000001, 1700000000.999999, 1700000000.5, 1234567890.123456]
    for (const ts of stamps) writer.add(ts, hex('00'))
    const frames = readCaptureBytes(writer.toBuffer()).frames
    assert.deepEqual(
      frames.map((frame) => frame.ts),
      stamps,
    )
    assert.deepEqual(
      frames.map((frame) => frame.tsNsec),
      [1000, 999999000, 500000000, 123456000],
    )
  })

  it('writes the header a reader expects', () => {
    const header = new PcapWriter({linkType: LINKTYPE.RAW, snaplen: 1500, byteOrder: 'big'}).toBuffer()
    assert.deepEqual([...header], [...hex('a1b2c3d4 0002 0004 00000000 00000000 000005dc 00000065')])
  })

  it('refuses times pcap cannot hold', () => {
    const writer = new PcapWriter()
    assert.throws(() => writer.add(-1, hex('00')), RangeError)
    assert.throws(() => writer.add(2 ** 32, hex('00')), RangeError)
    assert.throws(() => writer.addExact(1, 1e9, hex('00')), RangeError)
    assert.equal(writer.frameCount, 0)
  })
})

describe('pcap writer: streaming', () => {
  it('hands over the file in pieces with takeBytes(), byte for byte what toBuffer() gives at once', () => {
    const whole = new PcapWriter({snaplen: 100})
    const streamed = new PcapWriter({snaplen: 100})
    const pieces: Uint8Array[] = []
    for (let i = 0; i < 50; i++) {
      const frame = Uint8Array.from({length: 20 + i * 3}, (_, k) => (i * 7 + k) & 0xff)
      whole.add(1_700_000_000 + i * 0.25, frame, frame.length + 10)
      streamed.add(1_700_000_000 + i * 0.25, frame, frame.length + 10)
      if (i % 7 === 3) pieces.push(streamed.takeBytes())
    }
    assert.equal(streamed.bufferedBytes > 0, true, 'something left since the last take')
    pieces.push(streamed.takeBytes())
    assert.equal(streamed.bufferedBytes, 0)
    assert.deepEqual(Buffer.concat(pieces), Buffer.from(whole.toBuffer()))
    assert.equal(readCaptureBytes(Buffer.concat(pieces)).frames.length, 50)
  })
})
