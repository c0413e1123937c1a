// What `dsiem serve --role worker` is told: where packets come from (a live interface through the
// AF_PACKET addon, or a pcap file read once like `zeek -r`), where the Zeek-style logs go, and the
// capture options, named after Zeek's af_packet keys. Checked here once, one clear line per bad value.

import {ConfigError} from '../../engine/errors.js'

export const FANOUT_MODES = ['hash', 'cpu', 'qm', 'lb'] as const
export type FanoutMode = (typeof FANOUT_MODES)[number]

export interface WorkerConfig {
  /** Live capture interface (AF_PACKET). Exactly one of `iface` and `pcap` is set. */
  iface: string | undefined
  /** Capture file (pcap, pcapng, optionally gzip-compressed) processed once, then the process exits. */
  pcap: string | undefined
  /** Directory for conn.log, dns.log, http.log, ssl.log, weird.log, capture_loss.log, stats.log. */
  logDir: string
  fanoutId: number | undefined
  fanoutMode: FanoutMode
  /** Ring size in bytes (Zeek's af_packet buffer_size). */
  bufferSize: number
  /** Bytes per ring block (Zeek's af_packet block_size). */
  blockSize: number
  snaplen: number
  /** Classic BPF filter expression (compiled with tcpdump -ddd), '' for none. */
  filter: string
  /** Zeek's -C: treat every checksum as valid. */
  ignoreChecksums: boolean
  /** Seeds connection uids, so reruns over the same packets give the same uids (Zeek's --seed). */
  seed: number | undefined
  /** Also turn selected observations into dsiem events (published on the bus). */
  events: boolean
  /** Copy every captured frame into this pcap file (Zeek's -w). */
  writePcap: string | undefined
}

export function validateWorkerConfig(config: WorkerConfig): WorkerConfig {
  const sources = [config.iface, config.pcap].filter((value) => value !== undefined && value !== '')
  if (sources.length !== 1) {
    throw new ConfigError(
      '--role worker needs exactly one packet source: --interface IFACE or --pcap FILE',
      'DSIEM_E_WORKER_CONFIG',
    )
  }
  if (
    config.fanoutId !== undefined &&
    (!Number.isInteger(config.fanoutId) || config.fanoutId < 0 || config.fanoutId > 65535)
  ) {
    throw new ConfigError(
      `--fanout-id: ${config.fanoutId} is not between 0 and 65535`,
      'DSIEM_E_WORKER_CONFIG',
    )
  }
  if (!(FANOUT_MODES as readonly string[]).includes(config.fanoutMode)) {
    throw new ConfigError(
      `--fanout-mode: ${JSON.stringify(config.fanoutMode)} is not one of ${FANOUT_MODES.join(', ')}`,
      'DSIEM_E_WORKER_CONFIG',
    )
  }
  if (!Number.isInteger(config.snaplen) || config.snaplen < 64 || config.snaplen > 262144) {
    throw new ConfigError(
      `--snaplen: ${config.snaplen} is not between 64 and 262144`,
      'DSIEM_E_WORKER_CONFIG',
    )
  }
  if (config.pcap !== undefined && config.fanoutId !== undefined) {
    throw new ConfigError(
      '--fanout-id applies to live capture (--interface), not to --pcap',
      'DSIEM_E_WORKER_CONFIG',
    )
  }
  return config
}
