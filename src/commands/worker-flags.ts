// The worker role's flags on `dsiem serve` (each with its DSIEM_* twin), named after Zeek's options and
// af_packet keys where Zeek has one, and the WorkerConfig they make.

import path from 'node:path'
import {Flags} from '@oclif/core'
import {
  FANOUT_MODES,
  validateWorkerConfig,
  type FanoutMode,
  type WorkerConfig,
} from '../roles/worker/worker-config.js'

export const workerFlags = {
  interface: Flags.string({
    description: 'Worker: capture live on this interface (AF_PACKET; needs CAP_NET_RAW or root).',
    env: 'DSIEM_INTERFACE',
    helpGroup: 'WORKER',
  }),
  pcap: Flags.string({
    description: 'Worker: read this pcap/pcapng file (gzip allowed), write the logs and exit (like zeek -r).',
    env: 'DSIEM_PCAP',
    helpGroup: 'WORKER',
  }),
  'log-dir': Flags.string({
    description:
      'Worker: directory for conn.log, dns.log, http.log, ssl.log, weird.log, … [default: DATA_DIR/logs]',
    env: 'DSIEM_LOG_DIR',
    helpGroup: 'WORKER',
  }),
  'fanout-id': Flags.integer({
    description: 'Worker: AF_PACKET fanout group id shared by the workers of one interface (0-65535).',
    env: 'DSIEM_FANOUT_ID',
    helpGroup: 'WORKER',
  }),
  'fanout-mode': Flags.string({
    description:
      'Worker: how the kernel spreads packets over the group (hash keeps each flow on one worker).',
    env: 'DSIEM_FANOUT_MODE',
    options: [...FANOUT_MODES],
    default: 'hash',
    helpGroup: 'WORKER',
  }),
  'buffer-size': Flags.integer({
    description: 'Worker: capture ring size in MiB (af_packet buffer_size).',
    env: 'DSIEM_BUFFER_SIZE',
    default: 128,
    helpGroup: 'WORKER',
  }),
  'block-size': Flags.integer({
    description: 'Worker: capture ring block size in KiB (af_packet block_size; a power of two).',
    env: 'DSIEM_BLOCK_SIZE',
    default: 256,
    helpGroup: 'WORKER',
  }),
  snaplen: Flags.integer({
    description: 'Worker: bytes kept of each packet.',
    env: 'DSIEM_SNAPLEN',
    default: 9216,
    helpGroup: 'WORKER',
  }),
  filter: Flags.string({
    description: 'Worker: BPF filter expression applied in the kernel (compiled with tcpdump).',
    env: 'DSIEM_FILTER',
    default: '',
    helpGroup: 'WORKER',
  }),
  'ignore-checksums': Flags.boolean({
    char: 'C',
    description: "Worker: treat every checksum as valid (Zeek's -C; for NIC offloading).",
    env: 'DSIEM_IGNORE_CHECKSUMS',
    default: false,
    helpGroup: 'WORKER',
  }),
  seed: Flags.integer({
    description: 'Worker: seed for connection uids, so reruns over the same packets give the same uids.',
    env: 'DSIEM_SEED',
    helpGroup: 'WORKER',
  }),
  'sensor-events': Flags.boolean({
    description: 'Worker: turn scans, rejected connections, NXDOMAIN, HTTP errors… into dsiem events.',
    env: 'DSIEM_SENSOR_EVENTS',
    default: true,
    allowNo: true,
    helpGroup: 'WORKER',
  }),
  'write-pcap': Flags.string({
    description: "Worker: also write every captured frame to this pcap file (Zeek's -w).",
    env: 'DSIEM_WRITE_PCAP',
    helpGroup: 'WORKER',
  }),
}

interface WorkerFlagValues {
  interface?: string | undefined
  pcap?: string | undefined
  'log-dir'?: string | undefined
  'fanout-id'?: number | undefined
  'fanout-mode': string
  'buffer-size': number
  'block-size': number
  snaplen: number
  filter: string
  'ignore-checksums': boolean
  seed?: number | undefined
  'sensor-events': boolean
  'write-pcap'?: string | undefined
}

export function workerConfigFromFlags(flags: WorkerFlagValues, dataDir: string): WorkerConfig {
  return validateWorkerConfig({
    iface: flags.interface,
    pcap: flags.pcap,
    logDir: flags['log-dir'] ?? path.join(dataDir, 'logs'),
    fanoutId: flags['fanout-id'],
    fanoutMode: flags['fanout-mode'] as FanoutMode,
    bufferSize: flags['buffer-size'] * 1024 * 1024,
    blockSize: flags['block-size'] * 1024,
    snaplen: flags.snaplen,
    filter: flags.filter,
    ignoreChecksums: flags['ignore-checksums'],
    seed: flags.seed,
    events: flags['sensor-events'],
    writePcap: flags['write-pcap'],
  })
}
