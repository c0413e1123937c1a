// Offline worker output: a progress bar on stderr while a capture file is read (only on a TTY, so
// pipes and CI logs stay clean), then a short summary of what was written.

import type {PcapRunSummary} from '../../roles/worker/pcap-run.js'

const BAR_WIDTH = 30

/** A progress callback that redraws at most every 100 ms; call the returned `done` before printing. */
export function ttyProgressBar(stream: NodeJS.WriteStream, label: string) {
  let lastDraw = 0
  let drawn = false
  return {
    update(read: number, total: number): void {
      if (!stream.isTTY) return
      const now = Date.now()
      if (now - lastDraw < 100 && read < total) return
      lastDraw = now
      const fraction = total === 0 ? 1 : Math.min(1, read / total)
      const filled = Math.round(fraction * BAR_WIDTH)
      const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled)
      stream.write(`\r${label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}%`)
      drawn = true
    },
    done(): void {
      if (drawn) stream.write('\r\x1b[2K')
    },
  }
}

export function renderPcapSummary(summary: PcapRunSummary): string {
  const streams = Object.entries(summary.records)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stream, count]) => `${stream} ${count}`)
    .join(', ')
  const lines = [
    `${summary.file}: ${summary.frames} packets, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s`,
    `logs in ${summary.logDir}: ${streams === '' ? 'none' : streams}`,
    `sensor events: ${summary.events}`,
  ]
  if (summary.truncatedAt !== undefined) {
    lines.push(
      `warning: the file is truncated at byte ${summary.truncatedAt}; everything before it was processed`,
    )
  }
  return lines.join('\n')
}
