// What the sensor tells the correlation engine. Most log records are context; a few observations are
// what directives correlate on (scans, brute force, resolver failures), so those become normalized
// dsiem events with the sensor's own plugin_id and one plugin_sid per kind of observation. The table
// is the contract directive authors rely on (documented in directives/README.md).

import {emptyEvent, formatRfc3339, type NormalizedEvent} from '../engine/event.js'
import type {IdGenerator} from '../engine/ids.js'
import type {LogPath, LogRecord} from './types.js'

export const SENSOR_PLUGIN_ID = 9100
export const SENSOR_PRODUCT = 'dsiem sensor'

export interface SensorSignature {
  readonly sid: number
  readonly title: string
  readonly category: string
  readonly subcategory: string
}

export const SENSOR_SIGNATURES = {
  connRejected: {sid: 1, title: 'TCP connection rejected', category: 'Network', subcategory: 'Rejected'},
  connUnanswered: {
    sid: 2,
    title: 'TCP connection attempt unanswered',
    category: 'Network',
    subcategory: 'Scan',
  },
  connHalfOpen: {sid: 3, title: 'TCP half-open connection', category: 'Network', subcategory: 'Scan'},
  sshSession: {sid: 4, title: 'SSH connection', category: 'Authentication', subcategory: 'SSH'},
  dnsNxdomain: {
    sid: 10,
    title: 'DNS name does not exist (NXDOMAIN)',
    category: 'DNS',
    subcategory: 'NXDOMAIN',
  },
  dnsServerFailure: {sid: 11, title: 'DNS query refused or failed', category: 'DNS', subcategory: 'Failure'},
  httpClientError: {sid: 20, title: 'HTTP client error response', category: 'Web', subcategory: '4xx'},
  httpServerError: {sid: 21, title: 'HTTP server error response', category: 'Web', subcategory: '5xx'},
  weird: {sid: 30, title: 'Protocol anomaly', category: 'Anomaly', subcategory: 'Weird'},
} as const satisfies Record<string, SensorSignature>

/** TCP states Zeek uses for a connection that reached the established stage at some point. */
const ESTABLISHED_STATES = new Set(['SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR'])
const HALF_OPEN_STATES = new Set(['SH', 'RSTOS0'])

function signatureFor(path: LogPath, record: LogRecord): SensorSignature | undefined {
  switch (path) {
    case 'conn': {
      if (record['proto'] !== 'tcp') return undefined
      const state = record['conn_state']
      if (state === 'REJ') return SENSOR_SIGNATURES.connRejected
      if (state === 'S0') return SENSOR_SIGNATURES.connUnanswered
      if (HALF_OPEN_STATES.has(state as string)) return SENSOR_SIGNATURES.connHalfOpen
      if (record['id.resp_p'] === 22 && ESTABLISHED_STATES.has(state as string)) {
        return SENSOR_SIGNATURES.sshSession
      }
      return undefined
    }
    case 'dns':
      if (record['rcode'] === 3) return SENSOR_SIGNATURES.dnsNxdomain
      if (record['rcode'] === 2 || record['rcode'] === 5) return SENSOR_SIGNATURES.dnsServerFailure
      return undefined
    case 'http': {
      const status = record['status_code']
      if (typeof status !== 'number') return undefined
      if (status >= 400 && status < 500) return SENSOR_SIGNATURES.httpClientError
      if (status >= 500 && status < 600) return SENSOR_SIGNATURES.httpServerError
      return undefined
    }
    case 'weird':
      return record['id.orig_h'] === undefined ? undefined : SENSOR_SIGNATURES.weird
    default:
      return undefined
  }
}

/** The detail worth carrying in custom_data2 for each kind of record. */
function detailFor(path: LogPath, record: LogRecord): [label: string, value: string] | undefined {
  switch (path) {
    case 'conn':
      return ['conn_state', String(record['conn_state'] ?? '')]
    case 'dns':
      return record['query'] === undefined ? undefined : ['query', String(record['query'])]
    case 'http':
      return ['url', `${String(record['host'] ?? '')}${String(record['uri'] ?? '')}`]
    case 'weird':
      return ['weird', String(record['name'])]
    default:
      return undefined
  }
}

function protocolOf(path: LogPath, record: LogRecord): string {
  if (typeof record['proto'] === 'string') return record['proto'].toUpperCase()
  return path === 'http' ? 'TCP' : ''
}

export class SensorEventMapper {
  private readonly sensor: string
  private readonly newId: IdGenerator

  constructor(sensor: string, newId: IdGenerator) {
    this.sensor = sensor
    this.newId = newId
  }

  /** The event a log record stands for, or undefined when it is only context. */
  eventFor(path: LogPath, record: LogRecord): NormalizedEvent | undefined {
    const signature = signatureFor(path, record)
    if (signature === undefined) return undefined
    const event = emptyEvent()
    event.eventId = this.newId()
    event.timestamp = formatRfc3339(record['ts'] as number)
    event.title = signature.title
    event.sensor = this.sensor
    event.pluginId = SENSOR_PLUGIN_ID
    event.pluginSid = signature.sid
    event.product = SENSOR_PRODUCT
    event.category = signature.category
    event.subcategory = signature.subcategory
    event.srcIp = String(record['id.orig_h'])
    event.dstIp = String(record['id.resp_h'])
    event.srcPort = Number(record['id.orig_p'] ?? 0)
    event.dstPort = Number(record['id.resp_p'] ?? 0)
    event.protocol = protocolOf(path, record)
    if (record['uid'] !== undefined) {
      event.customLabel1 = 'uid'
      event.customData1 = String(record['uid'])
    }
    const detail = detailFor(path, record)
    if (detail !== undefined) {
      event.customLabel2 = detail[0]
      event.customData2 = detail[1]
    }
    return event
  }
}
