// The two traffic sets of `bench:capture`, as Ethernet frames for injectFrames(), with what a sensor
// must log for them (so the benchmark can check the work was really done):
//
// - `udp64`: 64-byte UDP frames over 10,000 flows, the classic small-packet capture test (goal G9).
//   Every repetition resends the same flows, so the sensor logs 10,000 connections however many
//   repetitions went out (well inside UDP's inactivity timeout).
// - `mixed`: whole TCP sessions (HTTP with bodies of several sizes, TLS handshakes followed by
//   application data), DNS query/response pairs over UDP and a port scan, averaging several hundred
//   bytes per packet (goal G10 is in Mbps). Every repetition is made of new connections: client
//   addresses are 10.c.R.R, and `forRepetition(r)` rewrites the R.R word (with incremental checksum
//   updates) so repetition r is a different set of 5-tuples, without rebuilding the frames.

import {buildDnsQuery, buildDnsResponse, type DnsRecordSpec} from '../../src/sensor/craft/dns.js'
import {TcpConversation} from '../../src/sensor/craft/conversation.js'
import {tcpFrame, udpFrame} from '../../src/sensor/craft/frames.js'
import {buildHttpRequest, buildHttpResponse} from '../../src/sensor/craft/http.js'
import {
  buildApplicationData,
  buildChangeCipherSpec,
  buildClientHello,
  buildEcdheServerKeyExchange,
  buildOpaqueHandshake,
  buildServerHello,
  concatRecords,
  tlsRecords,
  TLS_RECORD,
} from '../../src/sensor/craft/tls.js'
import {Prng} from './prng.js'

export type TrafficSetName = 'udp64' | 'mixed'

/** Log lines a sensor must write for the traffic, by stream. */
export interface ExpectedLogs {
  conn: number
  dns: number
  http: number
  ssl: number
  weird: number
}

export interface TrafficSet {
  name: TrafficSetName
  description: string
  /** One repetition, in sending order (complete Ethernet frames, checksums right). */
  frames: Uint8Array[]
  /** Wire bytes of one repetition. */
  bytesPerRepetition: number
  /** Log lines for `repetitions` repetitions. */
  expected(repetitions: number): ExpectedLogs
  /** Rewrites the frames in place for repetition `r` (0-based); a no-op for sets that repeat their flows. */
  forRepetition(r: number): void
  /** Largest repetition count forRepetition() can tell apart. */
  maxRepetitions: number
}

const SEED = 20261121

// ---------------------------------------------------------------------------------------------
// udp64

export const UDP64_FLOWS = 10_000
const UDP64_FRAME_BYTES = 64
/** Ethernet 14 + IPv4 20 + UDP 8. */
const UDP_HEADERS = 42

function udp64Set(): TrafficSet {
  const payload = new Uint8Array(UDP64_FRAME_BYTES - UDP_HEADERS).fill(0x5a)
  const frames: Uint8Array[] = []
  for (let flow = 0; flow < UDP64_FLOWS; flow++) {
    // Ports well away from the DNS ports the analysers claim: these flows get no application analyser.
    frames.push(
      udpFrame({
        src: `10.20.${flow >> 8}.${flow & 0xff}`,
        dst: `192.168.20.${1 + (flow % 200)}`,
        sport: 20000 + (flow % 20000),
        dport: 30000 + (flow % 97),
        payload,
      }).data,
    )
  }
  return {
    name: 'udp64',
    description: `${UDP64_FRAME_BYTES}-byte UDP frames over ${fmtInt(UDP64_FLOWS)} flows, every repetition the same flows`,
    frames,
    bytesPerRepetition: UDP64_FRAME_BYTES * UDP64_FLOWS,
    expected: () => ({conn: UDP64_FLOWS, dns: 0, http: 0, ssl: 0, weird: 0}),
    forRepetition: () => undefined,
    maxRepetitions: Number.MAX_SAFE_INTEGER,
  }
}

// ---------------------------------------------------------------------------------------------
// mixed

const HTTP_SESSIONS = 48
const TLS_SESSIONS = 24
const DNS_PAIRS = 160
const SCAN_PORTS = 48
/** Of the scanned ports, every this-many-th answers with RST (REJ); the rest stay unanswered (S0). */
const SCAN_REJECT_EVERY = 4
/** Response body sizes (bytes) and how often each occurs: small pages to downloads. */
const HTTP_BODY_SIZES = [0, 350, 2_400, 9_000, 24_000, 64_000] as const
const HTTP_BODY_WEIGHTS = [2, 5, 5, 4, 2, 1] as const
const CLIENT_NETS = 250
const WORDS = ['alpha', 'bravo', 'cdn', 'mail', 'api', 'static', 'news', 'shop', 'login', 'img']
const TLDS = ['com', 'net', 'org', 'io']

/** Client payload split into segments, each answered by the other side's ACK after every second one. */
function sendAcked(conv: TcpConversation, side: 'client' | 'server', data: Uint8Array, mss = 1460): void {
  const other = side === 'client' ? 'server' : 'client'
  const burst = 2 * mss
  for (let at = 0; at < data.length; at += burst) {
    conv.send(side, data.subarray(at, Math.min(data.length, at + burst)))
    conv.ack(other)
  }
}

function bodyOf(size: number, seed: number): Uint8Array {
  const body = new Uint8Array(size)
  // Text-like content: what an HTTP body mostly is; the sensor does not look inside it anyway.
  for (let i = 0; i < size; i++) body[i] = 0x61 + ((i * 7 + seed) % 26)
  return body
}

function hostName(prng: Prng): string {
  return `${prng.pick(WORDS)}${prng.int(1, 99)}.${prng.pick(WORDS)}.${prng.pick(TLDS)}`
}

interface MixedPlan {
  frames: Uint8Array[]
  conn: number
  dns: number
  http: number
  ssl: number
}

function mixedPlan(): MixedPlan {
  const prng = new Prng(SEED)
  /** Session k: client 10.c.0.1 (the 0.1 word is what forRepetition rewrites), its own source port. */
  let session = 0
  const nextClient = (): {client: string; sport: number} => {
    const k = session++
    return {client: `10.${1 + (k % CLIENT_NETS)}.0.1`, sport: 20000 + k}
  }
  const sessions: Uint8Array[][] = []
  let http = 0
  let ssl = 0

  for (let s = 0; s < HTTP_SESSIONS; s++) {
    const {client, sport} = nextClient()
    const server = `192.168.80.${1 + (s % 40)}`
    const host = hostName(prng)
    const conv = new TcpConversation({client, server, sport, dport: s % 5 === 0 ? 8080 : 80, ts: 0})
    conv.handshake()
    // Keep-alive: one to three request/response pairs per connection.
    const requests = prng.int(1, 3)
    for (let r = 0; r < requests; r++) {
      const size = HTTP_BODY_SIZES[prng.weighted(HTTP_BODY_WEIGHTS)]!
      const post = prng.next() < 0.15
      const request = buildHttpRequest({
        method: post ? 'POST' : 'GET',
        uri: `/${prng.pick(WORDS)}/${prng.int(1, 100000)}${post ? '' : `?q=${prng.pick(WORDS)}&page=${r}`}`,
        headers: [
          ['Host', host],
          ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
          ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
          ['Accept-Language', 'en-US,en;q=0.5'],
          ['Cookie', `session=${prng.int(1e8, 9e8)}; theme=dark`],
        ],
        ...(post ? {body: bodyOf(prng.int(200, 1500), s)} : {}),
      })
      const response = buildHttpResponse({
        status: size === 0 ? 304 : 200,
        headers: [
          ['Server', 'nginx/1.24.0'],
          ['Date', 'Sat, 21 Nov 2026 10:00:00 GMT'],
          ['Content-Type', size > 20_000 ? 'application/octet-stream' : 'text/html; charset=utf-8'],
          ['Cache-Control', 'max-age=600'],
        ],
        ...(size === 0 ? {} : {body: bodyOf(size, s + r)}),
      })
      sendAcked(conv, 'client', request)
      sendAcked(conv, 'server', response)
      http++
    }
    conv.close(prng.next() < 0.5 ? 'client' : 'server')
    sessions.push(conv.frames.map((f) => f.data))
  }

  for (let s = 0; s < TLS_SESSIONS; s++) {
    const {client, sport} = nextClient()
    const server = `192.168.44.${1 + (s % 30)}`
    const conv = new TcpConversation({client, server, sport, dport: 443, ts: 0})
    conv.handshake()
    const clientHello = tlsRecords(
      TLS_RECORD.handshake,
      buildClientHello({serverName: hostName(prng), alpn: ['h2', 'http/1.1']}),
    )
    // TLS 1.2 full handshake: ServerHello, Certificate (opaque), ServerKeyExchange, ServerHelloDone.
    const serverFlight = tlsRecords(
      TLS_RECORD.handshake,
      concatRecords(
        buildServerHello({cipherSuite: 0xc02f, alpn: 'h2'}),
        buildOpaqueHandshake(11, prng.int(1800, 3800)),
        buildEcdheServerKeyExchange(23),
        buildOpaqueHandshake(14, 0),
      ),
    )
    const clientFinish = concatRecords(
      tlsRecords(TLS_RECORD.handshake, buildOpaqueHandshake(16, 66)),
      buildChangeCipherSpec(),
      tlsRecords(TLS_RECORD.handshake, buildOpaqueHandshake(20, 40)),
    )
    const serverFinish = concatRecords(
      buildChangeCipherSpec(),
      tlsRecords(TLS_RECORD.handshake, buildOpaqueHandshake(20, 40)),
    )
    sendAcked(conv, 'client', clientHello)
    sendAcked(conv, 'server', serverFlight)
    sendAcked(conv, 'client', clientFinish)
    sendAcked(conv, 'server', serverFinish)
    const exchanges = prng.int(1, 3)
    for (let e = 0; e < exchanges; e++) {
      sendAcked(conv, 'client', buildApplicationData(prng.int(150, 900)))
      sendAcked(conv, 'server', buildApplicationData(prng.int(1_000, 16_000)))
    }
    conv.close('client')
    ssl++
    sessions.push(conv.frames.map((f) => f.data))
  }

  let dns = 0
  for (let q = 0; q < DNS_PAIRS; q++) {
    const {client, sport} = nextClient()
    const resolver = `192.168.53.${1 + (q % 2)}`
    const name = hostName(prng)
    const kind = prng.weighted([6, 3, 1, 1])
    const id = (q * 7919 + 17) & 0xffff
    let qtype = 1
    let answers: DnsRecordSpec[] = []
    let rcode = 0
    if (kind === 0) {
      answers = [
        {name, ttl: 300, data: {type: 'CNAME', target: `edge.${name}`}},
        {name: `edge.${name}`, ttl: 60, data: {type: 'A', address: `93.184.${q % 250}.${1 + (q % 200)}`}},
        {name: `edge.${name}`, ttl: 60, data: {type: 'A', address: `93.184.${q % 250}.${2 + (q % 200)}`}},
      ]
    } else if (kind === 1) {
      qtype = 28
      answers = [{name, ttl: 300, data: {type: 'AAAA', address: `2001:db8::${(q % 65535).toString(16)}`}}]
    } else if (kind === 2) {
      qtype = 16
      answers = [{name, ttl: 3600, data: {type: 'TXT', strings: ['v=spf1 include:_spf.example.net -all']}}]
    } else {
      rcode = 3
    }
    sessions.push([
      udpFrame({src: client, dst: resolver, sport, dport: 53, payload: buildDnsQuery(id, name, qtype)}).data,
      udpFrame({
        src: resolver,
        dst: client,
        sport: 53,
        dport: sport,
        payload: buildDnsResponse(id, name, qtype, answers, {rcode}),
      }).data,
    ])
    dns++
  }

  // A scanner sweeping one host: lone SYNs, some refused with RST-ACK.
  const scanner = nextClient()
  for (let p = 0; p < SCAN_PORTS; p++) {
    const sport = scanner.sport + 1000 + p
    const dport = 1000 + p * 37
    const syn = tcpFrame({
      src: scanner.client,
      dst: '192.168.99.9',
      sport,
      dport,
      flags: 'S',
      seq: 1_000_000 + p,
    }).data
    const answer =
      p % SCAN_REJECT_EVERY === 0
        ? [
            tcpFrame({
              src: '192.168.99.9',
              dst: scanner.client,
              sport: dport,
              dport: sport,
              flags: 'RA',
              seq: 0,
              ack: 1_000_001 + p,
            }).data,
          ]
        : []
    sessions.push([syn, ...answer])
  }

  // Interleave the sessions a few at a time, as a link carrying many conversations does: each
  // session's own order is kept, the mix between them is seeded.
  const frames: Uint8Array[] = []
  const cursors = sessions.map(() => 0)
  const live = sessions.map((_, i) => i)
  while (live.length > 0) {
    const at = prng.int(0, Math.min(live.length, 16) - 1)
    const i = live[at]!
    frames.push(sessions[i]![cursors[i]!++]!)
    if (cursors[i]! >= sessions[i]!.length) live.splice(at, 1)
  }
  return {
    frames,
    conn: HTTP_SESSIONS + TLS_SESSIONS + DNS_PAIRS + SCAN_PORTS,
    dns,
    http,
    ssl,
  }
}

/** One's-complement checksum update for a 16-bit word changing from `from` to `to` (RFC 1624, eqn. 3). */
function updateChecksum(checksum: number, from: number, to: number): number {
  let sum = (~checksum & 0xffff) + (~from & 0xffff) + to
  sum = (sum & 0xffff) + (sum >>> 16)
  sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

const ETHERNET = 14
const IP_SRC_LOW_WORD = ETHERNET + 14
const IP_DST_LOW_WORD = ETHERNET + 18
const CLIENT_FIRST_OCTET = 10

/** Sets the low word of every 10.x.x.x address in `frame` to `word`, keeping both checksums right. */
function rewriteClientWord(frame: Uint8Array, word: number): void {
  const ihl = (frame[ETHERNET]! & 0x0f) * 4
  const proto = frame[ETHERNET + 9]!
  const l4 = ETHERNET + ihl
  const l4Checksum = proto === 6 ? l4 + 16 : proto === 17 ? l4 + 6 : -1
  for (const [firstOctet, at] of [
    [ETHERNET + 12, IP_SRC_LOW_WORD],
    [ETHERNET + 16, IP_DST_LOW_WORD],
  ] as const) {
    if (frame[firstOctet] !== CLIENT_FIRST_OCTET) continue
    const from = (frame[at]! << 8) | frame[at + 1]!
    if (from === word) continue
    frame[at] = word >> 8
    frame[at + 1] = word & 0xff
    const ipSum = (frame[ETHERNET + 10]! << 8) | frame[ETHERNET + 11]!
    const newIp = updateChecksum(ipSum, from, word)
    frame[ETHERNET + 10] = newIp >> 8
    frame[ETHERNET + 11] = newIp & 0xff
    if (l4Checksum < 0) continue
    const l4Sum = (frame[l4Checksum]! << 8) | frame[l4Checksum + 1]!
    // UDP checksum 0 means "none"; a computed 0 is sent as 0xffff.
    if (proto === 17 && l4Sum === 0) continue
    let next = updateChecksum(l4Sum, from, word)
    if (proto === 17 && next === 0) next = 0xffff
    frame[l4Checksum] = next >> 8
    frame[l4Checksum + 1] = next & 0xff
  }
}

function mixedSet(): TrafficSet {
  const plan = mixedPlan()
  const bytes = plan.frames.reduce((sum, frame) => sum + frame.length, 0)
  return {
    name: 'mixed',
    description:
      `per repetition ${HTTP_SESSIONS} HTTP sessions (${plan.http} request/response pairs, bodies 0–64 KB), ` +
      `${TLS_SESSIONS} TLS 1.2 sessions (handshake + application data), ${DNS_PAIRS} DNS query/response pairs, ` +
      `a ${SCAN_PORTS}-port SYN scan; new client addresses every repetition`,
    frames: plan.frames,
    bytesPerRepetition: bytes,
    expected: (repetitions) => ({
      conn: plan.conn * repetitions,
      dns: plan.dns * repetitions,
      http: plan.http * repetitions,
      ssl: plan.ssl * repetitions,
      weird: 0,
    }),
    forRepetition(r) {
      // Word 0 would make the addresses 10.c.0.0; start at 0.1 (the address the frames were built with).
      const word = r + 1
      for (const frame of plan.frames) rewriteClientWord(frame, word)
    },
    maxRepetitions: 0xfffe,
  }
}

export function buildTrafficSet(name: TrafficSetName): TrafficSet {
  return name === 'udp64' ? udp64Set() : mixedSet()
}

function fmtInt(value: number): string {
  return value.toLocaleString('en-US')
}
