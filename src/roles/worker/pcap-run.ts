// Offline mode, `dsiem serve --role worker --pcap FILE`: read a capture file once (pcap, pcapng, or
// either gzip-compressed), write the logs into the log directory, and report what was done — Zeek's
// `zeek -r`. A truncated file keeps everything read before the cut and says where the cut was.

import {createReadStream, statSync} from 'node:fs'
import {serializeEvent, type NormalizedEvent} from '../../engine/event.js'
import {InputError} from '../../engine/errors.js'
import {readCaptureStream} from '../../sensor/pcap/index.js'
import {Sensor} from '../../sensor/sensor.js'
import {ZeekLogDirectory} from '../io/zeek-log-files.js'
import {sensorOutputTo} from './sensor-output.js'

/** Normalized events of an offline run, one JSON line each, ready for `dsiem directive test --events`. */
export const OFFLINE_EVENTS_FILE = 'dsiem_events.ndjson'

export interface PcapRunOptions {
  file: string
  logDir: string
  /** Node name written as `peer` and as the events' sensor. */
  peer: string
  verifyChecksums: boolean
  seed?: number | undefined
  /** Write events to OFFLINE_EVENTS_FILE in the log directory. */
  events: boolean
  /** Also publish events (a worker with a bus). */
  publishEvent?: ((event: NormalizedEvent) => void) | undefined
  onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined
}

export interface PcapRunSummary {
  file: string
  logDir: string
  frames: number
  bytes: number
  /** Records written per log stream. */
  records: Record<string, number>
  events: number
  /** Where the file ended mid-record, when it did. */
  truncatedAt: number | undefined
  seconds: number
}

async function* countingChunks(file: string, onChunk: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, {highWaterMark: 1024 * 1024})) {
    onChunk((chunk as Buffer).length)
    yield chunk as Buffer
  }
}

function fileSize(file: string): number {
  try {
    const stats = statSync(file)
    if (!stats.isFile()) throw new InputError(`--pcap: ${file} is not a file`, 'DSIEM_E_PCAP_FILE')
    return stats.size
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError(`--pcap: cannot read ${file}: ${(error as Error).message}`, 'DSIEM_E_PCAP_FILE', {
      cause: error,
    })
  }
}

export async function runPcapFile(options: PcapRunOptions): Promise<PcapRunSummary> {
  const started = performance.now()
  const totalBytes = fileSize(options.file)
  const logs = new ZeekLogDirectory(options.logDir)
  const publish = options.publishEvent
  const sensor = new Sensor({
    peer: options.peer,
    verifyChecksums: options.verifyChecksums,
    seed: options.seed,
    output: sensorOutputTo({
      logs,
      event:
        options.events || publish !== undefined
          ? (event) => {
              if (options.events) logs.append(OFFLINE_EVENTS_FILE, serializeEvent(event))
              publish?.(event)
            }
          : undefined,
    }),
  })
  let bytesRead = 0
  let truncatedAt: number | undefined
  try {
    const chunks = countingChunks(options.file, (bytes) => {
      bytesRead += bytes
      options.onProgress?.(bytesRead, totalBytes)
    })
    // Zeek reads traces through libpcap's default microsecond mode; so do we, for identical `ts` values.
    const reader = readCaptureStream(chunks, {timestampPrecision: 'micro'})
    for (;;) {
      const next = await reader.next()
      if (next.done === true) {
        if (next.value.truncated) truncatedAt = next.value.truncatedAt
        break
      }
      for (const frame of next.value) sensor.processFrame(frame)
    }
    sensor.finish()
  } catch (error) {
    // A file that is not a capture, or corrupt past some record: what was read before the bad record
    // is still written out, and the error names the file.
    sensor.finish()
    if (error instanceof InputError) {
      throw new InputError(`--pcap ${options.file}: ${error.message}`, error.code, {cause: error})
    }
    throw error
  } finally {
    logs.close()
  }
  const counters = sensor.counters
  return {
    file: options.file,
    logDir: options.logDir,
    frames: counters.frames,
    bytes: counters.bytes,
    records: {...counters.records},
    events: counters.events,
    truncatedAt,
    seconds: (performance.now() - started) / 1000,
  }
}
