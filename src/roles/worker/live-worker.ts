// The live worker role: AF_PACKET capture (through the one capture module) → sensor → log files in the
// log directory, log batches on the bus for central logging, and events to the correlation backends.
// Ring blocks are handed to the sensor whole and released right after, so the kernel gets its memory
// back as soon as JS is done with a block; a quiet wire still moves network time on every second, so
// idle connections expire and capture_loss/stats records keep coming.

import {hostname} from 'node:os'
import type {NormalizedEvent} from '../../engine/event.js'
import {Sensor} from '../../sensor/sensor.js'
import {LINKTYPE} from '../../sensor/types.js'
import {BusUnavailableError} from '../bus.js'
import type {RoleContext} from '../context.js'
import {compileFilter} from '../io/bpf.js'
import {frameAt, openCapture, type CaptureOptions, type LiveCapture} from '../io/capture.js'
import {PcapDump} from '../io/pcap-dump.js'
import {ZeekLogDirectory} from '../io/zeek-log-files.js'
import {LOSS_LOG_WINDOW_MS, RateLimitedCounter} from '../rate-limited-counter.js'
import type {RoleModule, RunningRole} from '../types.js'
import {LogBatcher} from './log-batcher.js'
import {sensorOutputTo} from './sensor-output.js'
import type {WorkerConfig} from './worker-config.js'

const HOUSEKEEPING_MS = 1000

export interface WorkerRoleDependencies {
  /** Opens the capture (tests inject a binding through this). */
  openCapture?: (iface: string, options: Partial<CaptureOptions>) => LiveCapture
}

export function captureOptionsFor(config: WorkerConfig): Partial<CaptureOptions> {
  return {
    bufferSize: config.bufferSize,
    blockSize: config.blockSize,
    snaplen: config.snaplen,
    fanoutMode: config.fanoutMode,
    checksumMode: config.ignoreChecksums ? 'off' : 'on',
    ...(config.fanoutId === undefined ? {} : {fanoutId: config.fanoutId}),
    ...(config.filter === '' ? {} : {bpf: compileFilter(config.filter, LINKTYPE.ETHERNET)}),
  }
}

export function createWorkerRole(dependencies: WorkerRoleDependencies = {}): RoleModule {
  const open = dependencies.openCapture ?? openCapture
  return {
    name: 'worker',
    async start(ctx: RoleContext): Promise<RunningRole> {
      const config = ctx.config.worker
      if (config?.iface === undefined) throw new Error('worker role started without --interface')
      const iface = config.iface
      const node = ctx.config.node !== '' ? ctx.config.node : hostname()
      const log = ctx.log.child({role: 'worker', interface: iface})
      const metrics = workerMetrics(ctx)
      const capture = open(iface, captureOptionsFor(config))
      const logs = new ZeekLogDirectory(config.logDir)
      const dump =
        config.writePcap === undefined
          ? undefined
          : new PcapDump(config.writePcap, LINKTYPE.ETHERNET, config.snaplen)
      let captureFailed: string | undefined
      const unsentLines = new RateLimitedCounter(LOSS_LOG_WINDOW_MS, (stream, count, reason) =>
        log.warn(
          `${count} ${stream} log lines not sent to central logging (kept in ${config.logDir}): ${reason}`,
        ),
      )
      const unpublished = new RateLimitedCounter(LOSS_LOG_WINDOW_MS, (reason, count, message) =>
        log.warn(`${count} sensor events not published (${reason}): ${message}`),
      )
      const batcher =
        ctx.bus.mode === 'memory'
          ? undefined
          : new LogBatcher(ctx.bus, (stream, lines, reason) => {
              metrics.logLinesLost.inc(lines)
              unsentLines.add(stream, lines, reason)
            })
      const publish = (event: NormalizedEvent): void => {
        try {
          const pending = ctx.bus.publishEvent(event)
          if (pending !== undefined) pending.catch(() => metrics.eventsDropped.inc({reason: 'backend_busy'}))
          metrics.eventsPublished.inc()
        } catch (error) {
          const reason = error instanceof BusUnavailableError ? 'bus_down' : 'rejected'
          metrics.eventsDropped.inc({reason})
          unpublished.add(reason, 1, (error as Error).message)
        }
      }
      const sensor = new Sensor({
        peer: node,
        verifyChecksums: !config.ignoreChecksums,
        seed: config.seed,
        output: sensorOutputTo({
          logs,
          logLine: batcher === undefined ? undefined : (path, line) => batcher.add(path, line),
          event: config.events ? publish : undefined,
        }),
        captureCounters: () => capture.stats(),
        memoryMb: () => Math.round(process.memoryUsage.rss() / (1024 * 1024)),
      })
      capture.start(
        (block) => {
          try {
            for (let i = 0; i < block.count; i++) {
              const frame = frameAt(block, i)
              dump?.add(frame)
              sensor.processFrame(frame)
            }
            metrics.packets.inc(block.count)
          } finally {
            block.release()
          }
        },
        (error) => {
          // The interface went away or down: keep serving what was captured, say so once.
          log.error(`capture on ${iface} failed: ${error.message}`)
          captureFailed = error.message
        },
      )
      const housekeeping = setInterval(() => {
        sensor.advance(Date.now() / 1000)
        logs.flush()
        dump?.flush()
        batcher?.flush()
        unsentLines.flush(false)
        unpublished.flush(false)
        const stats = capture.stats()
        metrics.kernelPackets.set(stats.packets)
        metrics.kernelDrops.set(stats.drops)
      }, HOUSEKEEPING_MS)
      housekeeping.unref()
      log.info(`worker capturing on ${iface}`, {
        fanout: config.fanoutId === undefined ? 'off' : `${config.fanoutId}/${config.fanoutMode}`,
        logDir: config.logDir,
      })

      let stopped = false
      return {
        name: 'worker',
        status: () => {
          const stats = capture.stats()
          const counters = sensor.counters
          return {
            role: 'worker',
            healthy: captureFailed === undefined,
            detail: {
              interface: iface,
              packets: counters.frames,
              kernelPackets: stats.packets,
              kernelDrops: stats.drops,
              records: counters.records,
              events: counters.events,
              ...(captureFailed === undefined ? {} : {error: captureFailed}),
            },
          }
        },
        async stop() {
          if (stopped) return
          stopped = true
          clearInterval(housekeeping)
          capture.close()
          sensor.finish()
          batcher?.flush()
          unsentLines.flush(true)
          unpublished.flush(true)
          logs.close()
          dump?.close()
          log.info('worker stopped', {packets: sensor.counters.frames, records: sensor.counters.records})
        },
      }
    },
  }
}

function workerMetrics(ctx: RoleContext) {
  return {
    packets: ctx.metrics.counter('dsiem_worker_packets_total', 'Frames the worker analysed.'),
    kernelPackets: ctx.metrics.gauge(
      'dsiem_worker_kernel_packets',
      'Packets the kernel ring received (tp_packets, cumulative).',
    ),
    kernelDrops: ctx.metrics.gauge(
      'dsiem_worker_kernel_drops',
      'Packets the kernel dropped because the ring was full (tp_drops, cumulative).',
    ),
    eventsPublished: ctx.metrics.counter(
      'dsiem_worker_events_published_total',
      'Sensor events handed to the bus.',
    ),
    eventsDropped: ctx.metrics.counter(
      'dsiem_worker_events_dropped_total',
      'Sensor events the bus did not take, by reason.',
      ['reason'],
    ),
    logLinesLost: ctx.metrics.counter(
      'dsiem_worker_log_lines_unsent_total',
      'Log lines not sent to central logging (still in the local log files).',
    ),
  }
}
