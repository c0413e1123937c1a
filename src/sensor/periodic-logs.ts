// capture_loss.log and stats.log: records written every interval of network time (Zeek's 15 min and
// 5 min) and once more at the end of input. Counters are deltas since the previous record, as Zeek's
// misc/stats and misc/capture-loss write them; capture loss is the ACK-gap estimate, which catches
// loss upstream of this host (an overloaded SPAN port) that kernel counters cannot see.

import type {LogPath, LogRecord} from './types.js'

/** Kernel ring counters of a live capture, totals since it was opened. */
export interface CaptureCounters {
  packets: number
  drops: number
  freezes?: number
}

interface FlowCounterView {
  readonly activeTcp: number
  readonly activeUdp: number
  readonly activeIcmp: number
  readonly tcpConns: number
  readonly udpConns: number
  readonly icmpConns: number
}

interface SensorCounterView {
  readonly frames: number
  readonly bytes: number
  readonly records: Readonly<Record<string, number>>
}

export interface PeriodicLogsOptions {
  peer: string
  captureLossInterval: number
  statsInterval: number
  captureLoss: () => {acks: number; gaps: number}
  flowCounters: () => FlowCounterView
  sensorCounters: () => SensorCounterView
  captureCounters?: (() => CaptureCounters) | undefined
  /** Resident memory in MiB (the worker passes the process's RSS; the pure pipeline reads nothing itself). */
  memoryMb?: (() => number) | undefined
  write: (path: LogPath, record: LogRecord) => void
}

/** The previous record's totals, so each record carries deltas. */
interface StatsBaseline {
  frames: number
  bytes: number
  drops: number
  link: number
  tcpConns: number
  udpConns: number
  icmpConns: number
  dnsRequests: number
}

export class PeriodicLogs {
  private readonly options: PeriodicLogsOptions
  private lossAt = Number.NaN
  private statsAt = Number.NaN
  private lastLoss = {ts: Number.NaN, acks: 0, gaps: 0}
  private lastStats: StatsBaseline = {
    frames: 0,
    bytes: 0,
    drops: 0,
    link: 0,
    tcpConns: 0,
    udpConns: 0,
    icmpConns: 0,
    dnsRequests: 0,
  }

  constructor(options: PeriodicLogsOptions) {
    this.options = options
  }

  tick(now: number): void {
    if (Number.isNaN(this.lossAt)) {
      this.lossAt = now + this.options.captureLossInterval
      this.statsAt = now + this.options.statsInterval
      this.lastLoss.ts = now
      return
    }
    if (now >= this.lossAt) {
      this.writeCaptureLoss(now)
      this.lossAt = now + this.options.captureLossInterval
    }
    if (now >= this.statsAt) {
      this.writeStats(now)
      this.statsAt = now + this.options.statsInterval
    }
  }

  /** End of input: one last record of each kind covering what the previous ones did not. */
  flush(now: number): void {
    if (Number.isNaN(this.lastLoss.ts)) this.lastLoss.ts = now
    this.writeCaptureLoss(now)
    this.writeStats(now)
  }

  private writeCaptureLoss(now: number): void {
    const {acks, gaps} = this.options.captureLoss()
    const deltaAcks = acks - this.lastLoss.acks
    const deltaGaps = gaps - this.lastLoss.gaps
    this.options.write('capture_loss', {
      ts: now,
      ts_delta: now - this.lastLoss.ts,
      peer: this.options.peer,
      gaps: deltaGaps,
      acks: deltaAcks,
      percent_lost: deltaAcks === 0 ? 0 : (100 * deltaGaps) / deltaAcks,
    })
    this.lastLoss = {ts: now, acks, gaps}
  }

  private writeStats(now: number): void {
    const sensor = this.options.sensorCounters()
    const flows = this.options.flowCounters()
    const capture = this.options.captureCounters?.()
    const dnsRequests = sensor.records['dns'] ?? 0
    const last = this.lastStats
    const record: LogRecord = {
      ts: now,
      peer: this.options.peer,
      mem: this.options.memoryMb?.(),
      pkts_proc: sensor.frames - last.frames,
      bytes_recv: sensor.bytes - last.bytes,
      active_tcp_conns: flows.activeTcp,
      active_udp_conns: flows.activeUdp,
      active_icmp_conns: flows.activeIcmp,
      tcp_conns: flows.tcpConns - last.tcpConns,
      udp_conns: flows.udpConns - last.udpConns,
      icmp_conns: flows.icmpConns - last.icmpConns,
      dns_requests: dnsRequests - last.dnsRequests,
    }
    if (capture !== undefined) {
      record['pkts_dropped'] = capture.drops - last.drops
      record['pkts_link'] = capture.packets - last.link
    }
    this.options.write('stats', record)
    this.lastStats = {
      frames: sensor.frames,
      bytes: sensor.bytes,
      drops: capture?.drops ?? 0,
      link: capture?.packets ?? 0,
      tcpConns: flows.tcpConns,
      udpConns: flows.udpConns,
      icmpConns: flows.icmpConns,
      dnsRequests,
    }
  }
}
