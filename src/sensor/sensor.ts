// The sensor pipeline of one worker: frames in, Zeek-style log records and correlation events out.
// Decoder, flow table and analysers are wired here and nowhere else; live capture, pcap files and
// tests all drive this one class, which is what makes offline and live output identical. Time is the
// packets' own (Zeek's network time); a live worker moves it on with `advance()` when the wire is quiet.

import type {NormalizedEvent} from '../engine/event.js'
import {randomIds, type IdGenerator} from '../engine/ids.js'
import {createAnalyzers} from './analyzers/registry.js'
import {PacketDecoder} from './decode/packet-decoder.js'
import {SensorEventMapper} from './events.js'
import {FlowTable} from './flow/flow-table.js'
import {createUidSource} from './flow/uid.js'
import {PeriodicLogs, type CaptureCounters} from './periodic-logs.js'
import type {LogPath, LogRecord, RawFrame, SensorSink, WeirdNotice} from './types.js'
import {WeirdLog} from './weird-log.js'

export interface SensorOutput {
  log(path: LogPath, record: LogRecord): void
  event?(event: NormalizedEvent): void
}

export interface SensorOptions {
  /** Node name written as `peer` (weird, capture_loss, stats) and as the events' sensor. */
  peer: string
  /** Zeek verifies IP/TCP/UDP checksums unless run with -C. */
  verifyChecksums: boolean
  /** Seeds connection uids so two runs over the same packets give the same uids (Zeek's --seed). */
  seed?: number | undefined
  output: SensorOutput
  newEventId?: IdGenerator | undefined
  /** Seconds of network time between capture_loss records (Zeek: 15 min) and stats records (5 min). */
  captureLossInterval?: number | undefined
  statsInterval?: number | undefined
  /** Kernel capture counters for stats.log (live capture only). */
  captureCounters?: (() => CaptureCounters) | undefined
  memoryMb?: (() => number) | undefined
}

export interface SensorCounters {
  frames: number
  bytes: number
  /** Frames the decoder did not hand on (non-IP, malformed, bad IP checksum, fragments held). */
  notAnalysed: number
  records: Record<string, number>
  events: number
  weirdsSuppressed: number
}

const HOUSEKEEPING_SECONDS = 1

export class Sensor {
  private readonly decoder: PacketDecoder
  private readonly flows: FlowTable
  private readonly weirds: WeirdLog
  private readonly mapper: SensorEventMapper | undefined
  private readonly output: SensorOutput
  private readonly periodic: PeriodicLogs
  private nextHousekeeping = Number.NEGATIVE_INFINITY
  private networkTime = 0
  private finished = false
  private readonly counts: Omit<SensorCounters, 'weirdsSuppressed'> = {
    frames: 0,
    bytes: 0,
    notAnalysed: 0,
    records: {},
    events: 0,
  }

  constructor(options: SensorOptions) {
    this.output = options.output
    this.weirds = new WeirdLog(options.peer)
    this.mapper =
      options.output.event === undefined
        ? undefined
        : new SensorEventMapper(options.peer, options.newEventId ?? randomIds)
    this.decoder = new PacketDecoder({verifyChecksums: options.verifyChecksums})
    const sink: SensorSink = {
      log: (path, record) => this.emit(path, record),
      weird: (notice) => this.weird(notice),
    }
    this.flows = new FlowTable({sink, analyzers: createAnalyzers, newUid: createUidSource(options.seed)})
    this.periodic = new PeriodicLogs({
      peer: options.peer,
      captureLossInterval: options.captureLossInterval ?? 900,
      statsInterval: options.statsInterval ?? 300,
      captureLoss: () => this.flows.captureLoss(),
      flowCounters: () => this.flows.counters,
      sensorCounters: () => this.counts,
      captureCounters: options.captureCounters,
      memoryMb: options.memoryMb,
      write: (path, record) => this.emit(path, record),
    })
  }

  processFrame(frame: RawFrame): void {
    const ts = frame.ts
    this.counts.frames++
    this.counts.bytes += frame.wireLen
    if (ts > this.networkTime) this.networkTime = ts
    if (ts >= this.nextHousekeeping) this.housekeeping(ts)
    const result = this.decoder.decode(frame)
    for (const notice of result.weirds) this.weird(notice)
    if (result.packet === undefined) this.counts.notAnalysed++
    else this.flows.process(result.packet)
  }

  /** Network time moved on without packets (a quiet wire): expire what is due. */
  advance(now: number): void {
    if (this.finished || now <= this.networkTime) return
    this.networkTime = now
    this.housekeeping(now)
  }

  /** End of input: every open connection and pending transaction is written, then final capture_loss/stats. */
  finish(): void {
    if (this.finished) return
    this.finished = true
    this.flows.finishAll(this.networkTime)
    if (this.counts.frames > 0) this.periodic.flush(this.networkTime)
  }

  get counters(): Readonly<SensorCounters> {
    return {...this.counts, weirdsSuppressed: this.weirds.suppressed}
  }

  /** Network time: the newest packet timestamp seen (or the time last passed to advance()). */
  get now(): number {
    return this.networkTime
  }

  private housekeeping(now: number): void {
    this.nextHousekeeping = now + HOUSEKEEPING_SECONDS
    this.decoder.expireFragments(now)
    this.flows.advance(now)
    this.periodic.tick(now)
  }

  private weird(notice: WeirdNotice): void {
    const record = this.weirds.record(notice)
    if (record !== undefined) this.emit('weird', record)
  }

  private emit(path: LogPath, record: LogRecord): void {
    this.counts.records[path] = (this.counts.records[path] ?? 0) + 1
    this.output.log(path, record)
    if (path === 'conn' && typeof record['uid'] === 'string') this.weirds.forgetConnection(record['uid'])
    if (this.mapper === undefined) return
    const event = this.mapper.eventFor(path, record)
    if (event === undefined) return
    this.counts.events++
    this.output.event?.(event)
  }
}
