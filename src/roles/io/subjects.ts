// Every NATS subject dsiem uses, defined once. Legacy subjects are upstream Dsiem's, verbatim, so an
// upstream Go frontend or backend interoperates. Routed subjects carry an event's pre-filter keys so a
// backend subscribes only to what its directives can match:
//   dsiem.events.<plugin_id>.<plugin_sid>.<category>.<product>
// Routed backends also announce themselves (route, heartbeat, leaving) on `dsiem.backends.announce`,
// and answer `dsiem.backends.query` (a frontend that just connected asking who is there) with an
// announcement. Legacy mode uses neither: upstream nodes see nothing new.
// Category and product are encoded into subject-safe tokens (NATS tokens cannot hold '.', '*', '>' or
// whitespace, and must not be empty).

import {createHash} from 'node:crypto'
import type {LogPath} from '../../sensor/types.js'

export const LEGACY_SUBJECTS = {
  events: 'dsiem_events',
  overload: 'dsiem_overload_signals',
} as const

export const SUBJECT_PREFIX = 'dsiem'

export const SUBJECTS = {
  overload: `${SUBJECT_PREFIX}.overload`,
  eventsPrefix: `${SUBJECT_PREFIX}.events`,
  backendsAnnounce: `${SUBJECT_PREFIX}.backends.announce`,
  backendsQuery: `${SUBJECT_PREFIX}.backends.query`,
  /** A worker's Zeek log lines, `dsiem.logs.<stream>` (conn, dns, http, ssl, weird, …), for central logging. */
  logsPrefix: `${SUBJECT_PREFIX}.logs`,
} as const

/** The subject a worker publishes one log stream's line batches on (stream names are subject-safe words). */
export function logStreamSubject(stream: LogPath): string {
  return `${SUBJECTS.logsPrefix}.${stream}`
}

/** The log stream a `dsiem.logs.<stream>` subject carries. */
export function logStreamFromSubject(subject: string): LogPath {
  return subject.slice(SUBJECTS.logsPrefix.length + 1) as LogPath
}

const MAX_PLAIN_TOKEN_BYTES = 192

/**
 * A subject-safe token: "_" for empty, "b" + base64url of the UTF-8 bytes, or for long values "h" +
 * base64url of their SHA-256 (nats-server drops a connection whose subject is too long, and two
 * directive keys that long are still told apart).
 */
export function subjectToken(value: string): string {
  if (value === '') return '_'
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length <= MAX_PLAIN_TOKEN_BYTES) return 'b' + bytes.toString('base64url')
  return 'h' + createHash('sha256').update(bytes).digest('base64url')
}

/** The subject an event is published on in routed mode. */
export function routedEventSubject(
  pluginId: number,
  pluginSid: number,
  category: string,
  product: string,
): string {
  return `${SUBJECTS.eventsPrefix}.${pluginId}.${pluginSid}.${subjectToken(category)}.${subjectToken(product)}`
}

/** Subscription for directives keyed by (plugin_id, plugin_sid). */
export function sidSubscription(pluginId: number, pluginSid: number): string {
  return `${SUBJECTS.eventsPrefix}.${pluginId}.${pluginSid}.*.*`
}

/** Subscription for taxonomy-only directives keyed by (category, product). */
export function taxonomySubscription(category: string, product: string): string {
  return `${SUBJECTS.eventsPrefix}.*.*.${subjectToken(category)}.${subjectToken(product)}`
}

/** Every routed event (a backend with `--route all`, tools, tests). */
export const ALL_ROUTED_EVENTS = `${SUBJECTS.eventsPrefix}.>`
