// Cluster mode: a worker's log lines travel to central logging over the bus in batches (one NATS
// message per stream per flush, at most ~512 KiB, well under the server's 1 MiB max_payload), never
// one message per record. When the bus is down the batch is counted as lost for the bus only: the
// worker's local log files always have every line.

import {BusUnavailableError, type EventBus} from '../bus.js'
import type {LogPath} from '../../sensor/types.js'

const MAX_BATCH_BYTES = 512 * 1024

interface PendingStream {
  lines: string[]
  bytes: number
}

export class LogBatcher {
  private readonly bus: EventBus
  private readonly pending = new Map<LogPath, PendingStream>()
  private readonly onLost: (stream: LogPath, lines: number, reason: string) => void
  published = 0
  lost = 0

  constructor(bus: EventBus, onLost: (stream: LogPath, lines: number, reason: string) => void) {
    this.bus = bus
    this.onLost = onLost
  }

  add(stream: LogPath, line: string): void {
    let entry = this.pending.get(stream)
    if (entry === undefined) this.pending.set(stream, (entry = {lines: [], bytes: 0}))
    entry.lines.push(line)
    entry.bytes += line.length + 1
    if (entry.bytes >= MAX_BATCH_BYTES) this.send(stream, entry)
  }

  flush(): void {
    for (const [stream, entry] of this.pending) this.send(stream, entry)
  }

  private send(stream: LogPath, entry: PendingStream): void {
    if (entry.lines.length === 0) return
    const lines = entry.lines
    entry.lines = []
    entry.bytes = 0
    try {
      this.bus.publishLogBatch(stream, lines.join('\n'))
      this.published += lines.length
    } catch (error) {
      if (!(error instanceof BusUnavailableError)) throw error
      this.lost += lines.length
      this.onLost(stream, lines.length, error.message)
    }
  }
}
