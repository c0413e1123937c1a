// One deterministic event stream for every directive-set size: pre-built NormalizedEvent objects (no
// JSON parsing in the timed loop) with a realistic mix. Most events match no directive (other
// Suricata SIDs, OSSEC and firewall events, taxonomy-only events); the rest carry the SIDs of a few
// "active" directives, from a pool of internal sources with skewed weights so that some
// (directive, source) pairs complete the directive many times and others stay mid-way. Every event
// is labelled with why it was generated; the expected outcome is computed from those labels.

import {emptyEvent, formatRfc3339, type NormalizedEvent} from '../../src/engine/index.js'
import {SCANNER_IP} from './bench-assets.js'
import {BENCH_PLUGIN_ID, type DirectiveSpec} from './directive-set.js'
import {Prng} from './prng.js'

export const EVENT_KIND = {
  /** Matches no directive's quick check. */
  noise: 0,
  /** An active directive's SID from an internal source: joins or opens that pair's backlog. */
  directive: 1,
  /** An active directive's SID from outside HOME_NET: passes the quick check, matches no rule. */
  nearMiss: 2,
  /** An active directive's SID from the whitelisted scanner: dropped before correlation. */
  whitelisted: 3,
} as const
export type EventKind = (typeof EVENT_KIND)[keyof typeof EVENT_KIND]

export interface StreamOptions {
  readonly events: number
  readonly seed: number
  /** Directives the matching events are spread over (must exist in every set benchmarked). */
  readonly active: readonly DirectiveSpec[]
  /** Share of events carrying an active directive's SID (from any source). */
  readonly matchingShare: number
  /** Event-time rate, which only sets how far the timestamps advance. */
  readonly eventsPerSecond: number
  readonly startSeconds: number
}

export interface EventStream {
  readonly events: readonly NormalizedEvent[]
  /** Each event's timestamp as Unix seconds, so the driver's clock needs no parsing. */
  readonly seconds: Float64Array
  readonly kinds: Uint8Array
  /** Directive id of the SID an event carries (0 for noise). */
  readonly directiveIds: Int32Array
  readonly options: StreamOptions
}

const SENSORS = ['suricata-dmz-01', 'suricata-core-01', 'ossec-mgr-01', 'fw-edge-01']

function uuid(rng: Prng): string {
  let hex = ''
  for (let i = 0; i < 32; i++) hex += Math.floor(rng.next() * 16).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`
}

function internalIp(rng: Prng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return `10.${rng.int(2, 40)}.${rng.int(0, 255)}.${rng.int(1, 254)}`
    case 1:
      return `10.1.${rng.int(0, 15)}.${rng.int(1, 254)}`
    case 2:
      return `172.${rng.int(16, 31)}.${rng.int(0, 255)}.${rng.int(1, 254)}`
    default:
      return `192.168.${rng.int(0, 255)}.${rng.int(1, 254)}`
  }
}

function externalIp(rng: Prng): string {
  // Documentation and public ranges far from every HOME_NET entry.
  return `${rng.pick([45, 81, 103, 185, 198, 203])}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`
}

/** Zipf-like weights: a few heavy hitters, a long tail of rare ones. */
function zipf(count: number, exponent: number): number[] {
  return Array.from({length: count}, (_, i) => 1 / Math.pow(i + 1, exponent))
}

interface NoiseKind {
  readonly weight: number
  fill(event: NormalizedEvent, rng: Prng): void
}

const NOISE: readonly NoiseKind[] = [
  {
    // Suricata alerts for rules no directive uses (SIDs below the benchmark's range).
    weight: 35,
    fill: (e, rng) => {
      e.pluginId = BENCH_PLUGIN_ID
      e.pluginSid = rng.int(2_000_001, 2_099_999)
      e.title = `ET INFO generic alert ${e.pluginSid}`
      e.protocol = 'TCP'
    },
  },
  {
    // OSSEC/Wazuh host events.
    weight: 25,
    fill: (e, rng) => {
      e.pluginId = 7001
      e.pluginSid = rng.pick([5501, 5502, 5710, 5715, 5402, 2502, 31101, 31108])
      e.title = 'ossec: host event'
      e.protocol = 'TCP'
      e.customLabel1 = 'user'
      e.customData1 = rng.pick(['root', 'admin', 'www-data', 'backup', 'deploy'])
    },
  },
  {
    // Firewall accept/deny logs.
    weight: 25,
    fill: (e, rng) => {
      e.pluginId = 4001
      e.pluginSid = rng.int(1, 40)
      e.title = 'firewall: connection'
      e.protocol = rng.pick(['TCP', 'UDP'])
    },
  },
  {
    // Taxonomy-only events (no plugin numbers), as from a web-log pipeline.
    weight: 15,
    fill: (e, rng) => {
      e.product = rng.pick(['Apache HTTP Server', 'nginx', 'IIS'])
      e.category = rng.pick(['Web Access', 'Web Error'])
      e.subcategory = rng.pick(['GET', 'POST', '404'])
      e.title = 'web access log'
      e.protocol = 'TCP'
    },
  },
]

export function generateStream(options: StreamOptions): EventStream {
  const rng = new Prng(options.seed)
  const n = options.events
  const events: NormalizedEvent[] = new Array(n)
  const seconds = new Float64Array(n)
  const kinds = new Uint8Array(n)
  const directiveIds = new Int32Array(n)

  // Each active directive gets its own attacker pool and weight; sources are skewed within the pool.
  const pools = options.active.map((spec) => {
    const size = rng.int(20, 60)
    return {spec, sources: Array.from({length: size}, () => internalIp(rng)), weights: zipf(size, 0.8)}
  })
  const directiveWeights = zipf(pools.length, 0.5)
  const noiseWeights = NOISE.map((k) => k.weight)
  // Destinations: mostly the Internet (value 0), sometimes internal servers (raises the asset value).
  const internalDestinations = ['10.1.0.10', '10.1.0.20', '10.1.3.7', '172.16.5.5', '192.168.10.1']

  for (let i = 0; i < n; i++) {
    const e = emptyEvent()
    const second = options.startSeconds + Math.floor(i / options.eventsPerSecond)
    e.eventId = uuid(rng)
    e.timestamp = formatRfc3339(second)
    e.sensor = rng.pick(SENSORS)
    e.srcPort = rng.int(1024, 65000)
    e.dstPort = rng.pick([22, 53, 80, 443, 445, 3389, 8080])
    let kind: EventKind = EVENT_KIND.noise
    let directiveId = 0
    if (rng.next() < options.matchingShare) {
      const pool = pools[rng.weighted(directiveWeights)]!
      directiveId = pool.spec.id
      e.pluginId = BENCH_PLUGIN_ID
      e.pluginSid = pool.spec.sid
      e.title = `ET alert ${pool.spec.sid}`
      e.protocol = 'TCP'
      const r = rng.next()
      if (r < 0.03) {
        kind = EVENT_KIND.whitelisted
        e.srcIp = SCANNER_IP
      } else if (r < 0.1) {
        kind = EVENT_KIND.nearMiss
        e.srcIp = externalIp(rng)
      } else {
        kind = EVENT_KIND.directive
        e.srcIp = pool.sources[rng.weighted(pool.weights)]!
      }
      e.dstIp = rng.next() < 0.15 ? rng.pick(internalDestinations) : externalIp(rng)
    } else {
      NOISE[rng.weighted(noiseWeights)]!.fill(e, rng)
      const inbound = rng.next() < 0.5
      e.srcIp = inbound ? externalIp(rng) : internalIp(rng)
      e.dstIp = inbound ? internalIp(rng) : externalIp(rng)
    }
    events[i] = e
    seconds[i] = second
    kinds[i] = kind
    directiveIds[i] = directiveId
  }
  return {events, seconds, kinds, directiveIds, options}
}
