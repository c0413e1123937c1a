// The capture-file entry points: format sniffing, gzip, truncation at every byte offset, chunked
// streaming (frames identical whatever the chunk size, and still valid after the decoder moved on)
// and how a corrupt record ends a stream.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {CaptureDecoder} from '../../src/sensor/pcap/capture-decoder.js'
import type {CaptureSummary} from '../../src/sensor/pcap/capture-decoder.js'
import {CaptureCorruptError, CaptureFormatError} from '../../src/sensor/pcap/capture-errors.js'
import type {CaptureFrame, CaptureReadOptions} from '../../src/sensor/pcap/capture-frame.js'
import {readCaptureBytes, readCaptureStream} from '../../src/sensor/pcap/capture-file.js'
import type {CaptureStreamOptions} from '../../src/sensor/pcap/capture-file.js'
import {PcapWriter} from '../../src/sensor/pcap/pcap-writer.js'
import {PcapngWriter} from '../../src/sensor/pcap/pcapng-writer.js'
import {LINKTYPE} from '../../src/sensor/types.js'

interface Sample {
  name: string
  file: Uint8Array
  /** File offsets where a record or block ends: a cut there leaves a valid, shorter file. */
  boundaries: number[]
  frameCount: number
}

function payload(index: number, length: number): Uint8Array {
  return Uint8Array.from({length}, (_, i) => (index * 17 + i) & 0xff)
}

function pcapSample(): Sample {
  const writer = new PcapWriter({resolution: 'nano', byteOrder: 'big'})
  const boundaries = [24]
  const lengths = [14, 0, 33, 7]
  lengths.forEach((length, index) => {
    writer.addExact(1700000000 + index, index * 1000 + 1, payload(index, length), length + 2)
    boundaries.push(boundaries.at(-1)! + 16 + length)
  })
  return {name: 'pcap', file: writer.toBuffer(), boundaries, frameCount: lengths.length}
}

function pcapngSample(): Sample {
  const writer = new PcapngWriter()
  const boundaries: number[] = []
  const mark = (): void => void boundaries.push(writer.toBuffer().length)
  mark()
  writer.addInterface({linkType: LINKTYPE.ETHERNET, tsresol: 9})
  mark()
  writer.addExact(0, 1700000000, 5, payload(0, 9))
  mark()
  writer.addBlock(0x00000004, payload(9, 6))
  mark()
  writer.addExact(0, 1700000001, 6, payload(1, 1))
  mark()
  writer.newSection({byteOrder: 'big'})
  mark()
  writer.addInterface({linkType: LINKTYPE.RAW})
  mark()
  writer.addSimplePacket(payload(2, 5))
  mark()
  writer.addExact(0, 1700000002, 7000, payload(3, 20))
  mark()
  return {name: 'pcapng', file: writer.toBuffer(), boundaries, frameCount: 4}
}

const SAMPLES = [pcapSample(), pcapngSample()]

/** Everything that identifies a frame, as plain values. */
function describeFrames(frames: CaptureFrame[]): unknown[] {
  return frames.map((frame) => ({
    ts: frame.ts,
    tsSec: frame.tsSec,
    tsNsec: frame.tsNsec,
    linkType: frame.linkType,
    wireLen: frame.wireLen,
    data: [...frame.data],
  }))
}

async function* chunksOf(bytes: Uint8Array, size: number, fresh = true): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    yield fresh ? bytes.slice(at, at + size) : bytes.subarray(at, at + size)
  }
}

interface StreamRead {
  frames: CaptureFrame[]
  batches: number
  summary: CaptureSummary
}

async function readStream(
  source: AsyncIterable<Uint8Array>,
  options: CaptureStreamOptions = {},
): Promise<StreamRead> {
  const frames: CaptureFrame[] = []
  let batches = 0
  let summary: CaptureSummary | undefined
  for await (const batch of readCaptureStream(source, {...options, onEnd: (end) => void (summary = end)})) {
    assert.ok(batch.length > 0, 'no empty batches')
    batches++
    frames.push(...batch)
  }
  assert.ok(summary !== undefined, 'onEnd was called')
  return {frames, batches, summary}
}

describe('format sniffing', () => {
  it('throws a typed format error naming the magic of an unknown file', async () => {
    const text = new TextEncoder().encode('GET / HTTP/1.1\r\n')
    const check = (error: unknown): boolean =>
      error instanceof CaptureFormatError &&
      error.code === 'DSIEM_E_PCAP_FORMAT' &&
      error.category === 'user' &&
      error.message === 'not a pcap or pcapng file (magic 0x47455420)'
    assert.throws(() => readCaptureBytes(text), check)
    await assert.rejects(readStream(chunksOf(text, 1)), check)
    assert.throws(() => new CaptureDecoder().push(text), check)
  })

  it('reports an empty input and a cut magic as truncated, not as a format error', async () => {
    const empty = readCaptureBytes(new Uint8Array(0))
    assert.equal(empty.truncated, true)
    assert.equal(empty.truncation, 'the file is empty')
    assert.equal(empty.format, undefined)
    assert.equal(empty.frames.length, 0)
    const cut = readCaptureBytes(Uint8Array.of(0xd4, 0xc3))
    assert.equal(cut.truncated, true)
    assert.equal(cut.truncatedAt, 0)
    const streamed = await readStream(chunksOf(new Uint8Array(0), 1))
    assert.equal(streamed.summary.truncated, true)
    assert.equal(streamed.frames.length, 0)
  })

  it('tells pcap from pcapng', () => {
    assert.deepEqual(
      SAMPLES.map((sample) => readCaptureBytes(sample.file).format),
      ['pcap', 'pcapng'],
    )
  })

  it('refuses gzip in the raw decoder with a pointer to the entry points', () => {
    assert.throws(
      () => new CaptureDecoder().push(gzipSync(SAMPLES[0]!.file)),
      /use readCaptureStream or readCaptureBytes/,
    )
  })
})

describe('truncation at every byte offset', () => {
  for (const sample of SAMPLES) {
    it(`${sample.name}: never throws, keeps the frames before the cut, flags a cut inside a unit`, async () => {
      const whole = describeFrames(readCaptureBytes(sample.file).frames)
      assert.equal(whole.length, sample.frameCount)
      for (let cut = 0; cut < sample.file.length; cut++) {
        const part = sample.file.subarray(0, cut)
        const result = readCaptureBytes(part)
        const complete = sample.boundaries.filter((end) => end <= cut)
        const atBoundary = complete.at(-1) === cut
        const frameCount =
          sample.name === 'pcap' ? Math.max(complete.length - 1, 0) : framesBefore(sample, cut)
        assert.equal(result.frames.length, frameCount, `frames for a cut at ${cut}`)
        assert.deepEqual(
          describeFrames(result.frames),
          whole.slice(0, frameCount),
          `frame contents for a cut at ${cut}`,
        )
        assert.equal(result.truncated, !atBoundary, `truncated flag for a cut at ${cut}`)
        assert.equal(result.corrupt, undefined, `no corrupt error for a cut at ${cut}`)
        if (!atBoundary) {
          assert.equal(result.truncatedAt, complete.at(-1) ?? 0, `truncation offset for a cut at ${cut}`)
          assert.match(
            result.truncation ?? '',
            /the file (ends|is empty)/,
            `truncation text for a cut at ${cut}`,
          )
        }
        const streamed = await readStream(chunksOf(part, 5))
        assert.equal(streamed.frames.length, frameCount, `streamed frames for a cut at ${cut}`)
        assert.equal(streamed.summary.truncated, !atBoundary, `streamed truncated flag for a cut at ${cut}`)
        assert.equal(
          streamed.summary.truncatedAt,
          result.truncatedAt,
          `streamed truncation offset for a cut at ${cut}`,
        )
      }
    })
  }

  it('names the unit and the byte counts of a cut record', () => {
    const sample = SAMPLES[0]!
    const result = readCaptureBytes(sample.file.subarray(0, 24 + 16 + 5))
    assert.equal(
      result.truncation,
      'the file ends at byte offset 45 inside a record starting at byte offset 24 (30 bytes needed, 21 present)',
    )
  })
})

/** pcapng sample: frames whose blocks end at or before `cut` (boundaries 2, 4, 7, 8 end packet blocks). */
function framesBefore(sample: Sample, cut: number): number {
  return [2, 4, 7, 8].filter((index) => sample.boundaries[index]! <= cut).length
}

describe('gzip input', () => {
  for (const sample of SAMPLES) {
    it(`${sample.name}: a compressed file reads identically, whole and streamed`, async () => {
      const plain = describeFrames(readCaptureBytes(sample.file).frames)
      const compressed = gzipSync(sample.file)
      const whole = readCaptureBytes(compressed)
      assert.equal(whole.gzip, true)
      assert.equal(whole.truncated, false)
      assert.deepEqual(describeFrames(whole.frames), plain)
      for (const size of [1, 7, 4096]) {
        const streamed = await readStream(chunksOf(compressed, size))
        assert.equal(streamed.summary.gzip, true)
        assert.equal(streamed.summary.truncated, false, `not truncated in chunks of ${size}`)
        assert.deepEqual(describeFrames(streamed.frames), plain, `frames in chunks of ${size}`)
      }
    })
  }

  it('flags a cut gzip stream as truncated and keeps a prefix of the frames', async () => {
    const writer = new PcapWriter()
    for (let i = 0; i < 2000; i++) writer.add(1700000000 + i / 1000, payload(i, 40 + (i % 50)))
    const plain = describeFrames(readCaptureBytes(writer.toBuffer()).frames)
    const compressed = gzipSync(writer.toBuffer())
    for (const cut of [compressed.length - 4, Math.floor(compressed.length / 2), 15]) {
      const part = compressed.subarray(0, cut)
      const whole = readCaptureBytes(part)
      assert.equal(whole.truncated, true, `bytes: truncated at ${cut}`)
      assert.match(whole.truncation ?? '', /gzip stream ends early/)
      assert.deepEqual(
        describeFrames(whole.frames),
        plain.slice(0, whole.frames.length),
        `bytes: prefix at ${cut}`,
      )
      const streamed = await readStream(chunksOf(part, 1000))
      assert.equal(streamed.summary.truncated, true, `stream: truncated at ${cut}`)
      assert.match(streamed.summary.truncation ?? '', /gzip stream ends early/)
      assert.deepEqual(
        describeFrames(streamed.frames),
        plain.slice(0, streamed.frames.length),
        `stream: prefix at ${cut}`,
      )
    }
    // Only the trailer (CRC and size) is missing: every frame is there.
    const trailerCut = readCaptureBytes(compressed.subarray(0, compressed.length - 4))
    assert.equal(trailerCut.frames.length, 2000)
  })

  it('reports damaged gzip data as a corrupt file', async () => {
    const compressed = gzipSync(SAMPLES[0]!.file)
    compressed[compressed.length - 6]! ^= 0xff
    const whole = readCaptureBytes(compressed)
    assert.ok(whole.corrupt instanceof CaptureCorruptError, 'corrupt error set')
    assert.match(whole.corrupt.message, /gzip data error \(incorrect data check\)/)
    assert.equal(whole.truncated, false)
    await assert.rejects(readStream(chunksOf(compressed, 64)), /gzip data error/)
  })
})

describe('streaming', () => {
  for (const sample of SAMPLES) {
    it(`${sample.name}: chunks of 1, 7 and 4096 bytes give identical frames`, async () => {
      const expected = describeFrames(readCaptureBytes(sample.file).frames)
      for (const size of [1, 7, 4096]) {
        const streamed = await readStream(chunksOf(sample.file, size))
        assert.deepEqual(describeFrames(streamed.frames), expected, `frames in chunks of ${size}`)
        assert.equal(streamed.summary.frameCount, sample.frameCount)
        assert.equal(streamed.summary.bytesRead, sample.file.length)
        assert.equal(streamed.summary.truncated, false)
      }
    })
  }

  it('yields one batch per chunk that completes frames', async () => {
    const sample = SAMPLES[0]!
    const streamed = await readStream(chunksOf(sample.file, 4096))
    assert.equal(streamed.batches, 1)
    const byteWise = await readStream(chunksOf(sample.file, 1))
    assert.equal(byteWise.batches, sample.frameCount)
  })

  it('points frames into the chunks when they fit, and copies a frame split across chunks', () => {
    const file = SAMPLES[0]!.file
    const decoder = new CaptureDecoder()
    const first = file.slice(0, 60)
    const second = file.slice(60)
    const frames = [...decoder.push(first), ...decoder.push(second)]
    assert.equal(frames.length, 4)
    assert.equal(frames[0]!.data.buffer, first.buffer, 'first frame lies in the first chunk')
    assert.notEqual(frames[1]!.data.buffer, first.buffer, 'the split record was assembled elsewhere')
    assert.notEqual(frames[1]!.data.buffer, second.buffer, 'the split record was assembled elsewhere')
    assert.equal(frames[3]!.data.buffer, second.buffer, 'last frame lies in the second chunk')
  })

  it('copies frames out of a source that reuses its buffer (reusesChunks)', async () => {
    const sample = SAMPLES[1]!
    const expected = describeFrames(readCaptureBytes(sample.file).frames)
    // 64-byte chunks hold some blocks whole (read in place) and split others (assembled apart).
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const buffer = new Uint8Array(64)
      for (let at = 0; at < sample.file.length; at += buffer.length) {
        const part = sample.file.subarray(at, at + buffer.length)
        buffer.set(part)
        yield buffer.subarray(0, part.length)
        buffer.fill(0xee)
      }
    }
    const options: CaptureReadOptions = {reusesChunks: true}
    const streamed = await readStream(reusing(), options)
    assert.deepEqual(describeFrames(streamed.frames), expected)
    // Without the option the frames that lay inside one chunk are overwritten: the test can tell.
    const careless = await readStream(reusing())
    assert.notDeepEqual(describeFrames(careless.frames), expected)
  })

  it('yields the frames before a corrupt record, then throws it after onEnd', async () => {
    const writer = new PcapWriter({snaplen: 100})
    writer.add(1, payload(0, 10))
    writer.add(2, payload(1, 10))
    const file = new Uint8Array([...writer.toBuffer(), ...new Uint8Array(16).fill(0xff)])
    const frames: CaptureFrame[] = []
    let summary: CaptureSummary | undefined
    await assert.rejects(
      (async () => {
        for await (const batch of readCaptureStream(chunksOf(file, 3), {
          onEnd: (end) => void (summary = end),
        })) {
          frames.push(...batch)
        }
      })(),
      (error: unknown) => error instanceof CaptureCorruptError && error.offset === 76,
    )
    assert.equal(frames.length, 2)
    assert.ok(summary !== undefined, 'onEnd was called')
    assert.equal(summary.corrupt?.offset, 76)
    assert.equal(summary.frameCount, 2)
  })

  it('returns the summary as the generator result and closes the source when stopped early', async () => {
    const sample = SAMPLES[0]!
    const generator = readCaptureStream(chunksOf(sample.file, 4096))
    let step = await generator.next()
    assert.equal(step.done, false)
    step = await generator.next()
    assert.equal(step.done, true)
    assert.equal((step.value as CaptureSummary).frameCount, sample.frameCount)

    let closed = false
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        yield sample.file
        for (;;) yield sample.file.subarray(24)
      } finally {
        closed = true
      }
    }
    for await (const batch of readCaptureStream(endless())) {
      assert.equal(batch.length, sample.frameCount)
      break
    }
    assert.equal(closed, true)
  })

  it('closes the source when a gzip stream is stopped early', async () => {
    let closed = false
    const compressed = gzipSync(SAMPLES[0]!.file)
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        // Concatenated gzip members form one valid stream: an endless one here.
        for (;;) yield compressed
      } finally {
        closed = true
      }
    }
    for await (const batch of readCaptureStream(source())) {
      assert.ok(batch.length >= 4, `first batch holds the first member's frames (${batch.length})`)
      break
    }
    // Readable.from closes its iterator on destroy, asynchronously.
    for (let tick = 0; tick < 20 && !closed; tick++) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(closed, true, 'source closed')
  })
})
