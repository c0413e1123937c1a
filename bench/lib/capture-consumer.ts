// One consumer of `bench:capture`, a child process of its own so its CPU time is its own: a TPACKET_V3
// ring on the veth's capture end (the production capture module), and per retired block either
//
// - `count`: count the packets and their wire bytes, release (capture only, goal G9), or
// - `sensor`: what the live worker does (src/roles/worker/live-worker.ts): every frame through the
//   Sensor with checksum verification, records as Zeek JSON lines into a ZeekLogDirectory, network
//   time moved on and logs flushed every second (capture + flows + logs, goal G10).
//
// Protocol (IPC): → {type: 'ready'} once capturing; ← {type: 'status'} → {type: 'status', …};
// ← {type: 'finish'} → capture closed, sensor finished, logs closed → {type: 'finished', …};
// ← {type: 'exit'}.

import {frameAt, openCapture, type CaptureOptions, type CaptureStats} from '../../src/roles/io/capture.js'
import {ZeekLogDirectory} from '../../src/roles/io/zeek-log-files.js'
import {sensorOutputTo} from '../../src/roles/worker/sensor-output.js'
import {Sensor, type SensorCounters} from '../../src/sensor/sensor.js'
import {monotonicMs} from './serve-proc.js'

export type ConsumerMode = 'count' | 'sensor'

export interface ConsumerConfig {
  iface: string
  mode: ConsumerMode
  capture: Partial<CaptureOptions>
  /** Log directory (sensor mode). */
  logDir?: string
}

export interface ConsumerStatus {
  type: 'status'
  /** Packets handed to JS and fully processed (their block released). */
  processed: number
  bytes: number
  kernel: CaptureStats
  /** Monotonic ms of the first and the last block handled (NaN before the first). */
  firstBlockMs: number
  lastBlockMs: number
}

export interface ConsumerFinished {
  type: 'finished'
  status: ConsumerStatus
  /** sensor.finish() and closing the logs (sensor mode). */
  finishSeconds: number
  sensor: SensorCounters | undefined
  /** Lines written per log file (sensor mode). */
  logLines: Record<string, number>
  /** process.cpuUsage() since the capture started: a cross-check of the parent's figure. */
  cpuSeconds: number
}

type ParentMessage = {type: 'status'} | {type: 'finish'} | {type: 'exit'}

const HOUSEKEEPING_MS = 1000

const config = JSON.parse(process.argv[2] ?? '{}') as ConsumerConfig
const capture = openCapture(config.iface, config.capture)
let processed = 0
let bytes = 0
let firstBlockMs = Number.NaN
let lastBlockMs = Number.NaN
let kernelAtClose: CaptureStats | undefined

const logs =
  config.mode === 'sensor' ? new ZeekLogDirectory(config.logDir ?? 'bench-capture-logs') : undefined
const sensor =
  logs === undefined
    ? undefined
    : new Sensor({
        peer: 'bench',
        verifyChecksums: true,
        output: sensorOutputTo({logs}),
        captureCounters: () => capture.stats(),
        memoryMb: () => Math.round(process.memoryUsage.rss() / (1024 * 1024)),
      })

const cpuAtStart = process.cpuUsage()
if (sensor === undefined) {
  capture.start((block) => {
    const now = monotonicMs()
    if (processed === 0) firstBlockMs = now
    const wire = block.wireLens
    let sum = 0
    for (let i = 0; i < block.count; i++) sum += wire[i]!
    bytes += sum
    processed += block.count
    block.release()
    lastBlockMs = now
  })
} else {
  capture.start((block) => {
    if (processed === 0) firstBlockMs = monotonicMs()
    try {
      for (let i = 0; i < block.count; i++) sensor.processFrame(frameAt(block, i))
    } finally {
      block.release()
    }
    processed += block.count
    lastBlockMs = monotonicMs()
  })
}

const housekeeping =
  sensor === undefined
    ? undefined
    : setInterval(() => {
        sensor.advance(Date.now() / 1000)
        logs?.flush()
      }, HOUSEKEEPING_MS)

function status(): ConsumerStatus {
  return {
    type: 'status',
    processed,
    bytes: sensor === undefined ? bytes : sensor.counters.bytes,
    kernel: kernelAtClose ?? capture.stats(),
    firstBlockMs,
    lastBlockMs,
  }
}

function reply(message: ConsumerStatus | ConsumerFinished | {type: 'ready'}): void {
  if (process.connected) process.send?.(message)
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'status':
      reply(status())
      break
    case 'finish': {
      kernelAtClose = capture.stats()
      capture.close()
      if (housekeeping !== undefined) clearInterval(housekeeping)
      const finishStart = monotonicMs()
      sensor?.finish()
      // counts() before close(): closing forgets the files.
      const logLines = logs?.counts() ?? {}
      logs?.close()
      const finishSeconds = (monotonicMs() - finishStart) / 1000
      const cpu = process.cpuUsage(cpuAtStart)
      reply({
        type: 'finished',
        status: status(),
        finishSeconds,
        sensor:
          sensor === undefined ? undefined : {...sensor.counters, records: {...sensor.counters.records}},
        logLines,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      })
      break
    }
    case 'exit':
      capture.close()
      process.exit(0)
  }
})

reply({type: 'ready'})
