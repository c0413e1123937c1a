// The sensor's fuzzer: random frames, and valid frames and capture files with bytes flipped, cut or
// extended, pushed through the whole pipeline (decoder, flows, analysers, log formatting) and through
// the capture-file readers. Anything but a typed input error counts as a failure. Deterministic for a
// seed, so a failure found by the long run (`npm run fuzz`) replays exactly.

import {InputError} from '../../src/engine/errors.js'
import {seededRandom} from '../../src/engine/generator/random.js'
import {formatZeekJson} from '../../src/sensor/logs/zeek-json.js'
import {readCaptureBytes} from '../../src/sensor/pcap/index.js'
import {Sensor} from '../../src/sensor/sensor.js'
import {LINKTYPE, type RawFrame} from '../../src/sensor/types.js'
import {scenarioFrames, scenarioPcap} from './sensor-scenario.js'

const LINK_TYPES = Object.values(LINKTYPE)

function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const int = (n: number) => Math.floor(random() * n)
  let out = Uint8Array.from(bytes)
  const edits = 1 + int(4)
  for (let e = 0; e < edits; e++) {
    switch (int(4)) {
      case 0: // flip a few bytes
        for (let k = 0; k < 1 + int(3) && out.length > 0; k++) out[int(out.length)] = int(256)
        break
      case 1: // cut
        out = out.subarray(0, int(out.length + 1))
        break
      case 2: {
        // extend with garbage
        const tail = Uint8Array.from({length: int(64)}, () => int(256))
        const grown = new Uint8Array(out.length + tail.length)
        grown.set(out)
        grown.set(tail, out.length)
        out = grown
        break
      }
      default: // interesting values in a random place (lengths, offsets)
        if (out.length > 1) out[int(out.length)] = [0, 1, 0x7f, 0x80, 0xff][int(5)]!
    }
  }
  return out
}

export interface FuzzStats {
  frames: number
  files: number
  records: number
  typedFileErrors: number
}

/** Runs `iterations` rounds; throws (with the seed and round) on the first failure. */
export function fuzzSensor(seed: number, iterations: number): FuzzStats {
  const random = seededRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  const valid = scenarioFrames()
  const pcap = scenarioPcap()
  const stats: FuzzStats = {frames: 0, files: 0, records: 0, typedFileErrors: 0}
  for (let round = 0; round < iterations; round++) {
    // Checksums off half of the time, so mutated payloads reach the protocol analysers.
    const sensor = new Sensor({
      peer: 'fuzz',
      verifyChecksums: round % 2 === 0,
      seed: round,
      output: {
        log: (path, record) => {
          formatZeekJson(path, record)
          stats.records++
        },
        event: () => {},
      },
    })
    try {
      for (const frame of valid) {
        const roll = random()
        const next: RawFrame =
          roll < 0.3
            ? frame
            : roll < 0.9
              ? {...frame, data: mutate(frame.data, random)}
              : {
                  ts: frame.ts,
                  linkType: LINK_TYPES[int(LINK_TYPES.length)]!,
                  data: Uint8Array.from({length: int(200)}, () => int(256)),
                  wireLen: int(2000),
                }
        sensor.processFrame(next)
        stats.frames++
      }
      sensor.advance(valid.at(-1)!.ts + 3600)
      sensor.finish()
    } catch (error) {
      throw new Error(`sensor fuzz failure (seed ${seed}, round ${round}): ${(error as Error).stack}`)
    }
    try {
      readCaptureBytes(mutate(pcap, random))
      stats.files++
    } catch (error) {
      if (!(error instanceof InputError)) {
        throw new Error(`pcap reader fuzz failure (seed ${seed}, round ${round}): ${(error as Error).stack}`)
      }
      stats.typedFileErrors++
    }
  }
  return stats
}
