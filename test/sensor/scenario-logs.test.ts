// Acceptance: the worker's offline mode on a generated pcap writes the conn, dns, http, ssl and weird
// records a Zeek user expects, field by field, and its connection and DNS counts agree with tshark's
// reading of the same file.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runPcapFile, type PcapRunSummary} from '../../src/roles/worker/pcap-run.js'
import {formatZeekDouble} from '../../src/sensor/logs/zeek-json.js'
import {readCaptureBytes} from '../../src/sensor/pcap/index.js'
import {expectedCommunityId} from '../helpers/community-id.js'
import {
  CLIENT,
  DNS_A_QUERY,
  DNS_A_RESPONSE,
  DNS_NX_QUERY,
  DNS_NX_RESPONSE,
  DNS_TCP_QUERY,
  DNS_TCP_RESPONSE,
  DNS_VLAN_QUERY,
  HTTP_BODY,
  HTTP_REQUEST,
  HTTP_RESPONSE,
  RESOLVER,
  SCANNER,
  SCAN_PORTS,
  scenarioPcap,
  T0,
  TLS_CLIENT_HELLO,
  TLS_SERVER,
  TLS_SERVER_HELLO,
  VLAN_ID,
  WEB,
} from '../helpers/sensor-scenario.js'

type Json = Record<string, unknown>

function readLog(dir: string, stream: string): Json[] {
  const file = path.join(dir, `${stream}.log`)
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Json)
}

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('worker offline mode on the acceptance pcap', () => {
  let dir: string
  let pcapFile: string
  let summary: PcapRunSummary
  let stamps: number[]
  let conn: Json[]

  /** The timestamp of the packet sent `offset` seconds after T0, as the pcap stores it. */
  const at = (offset: number): number => {
    const found = stamps.find((ts) => Math.abs(ts - (T0 + offset)) < 1e-6)
    assert.ok(found !== undefined, `a packet at T0+${offset}`)
    return found
  }
  /** A duration as Zeek's JSON prints it (six decimals, truncated), parsed back. */
  const duration = (from: number, to: number): number => Number(formatZeekDouble(at(to) - at(from)))
  const connOf = (origP: number, respH: string, respP: number): Json => {
    const found = conn.find(
      (r) => r['id.orig_p'] === origP && r['id.resp_h'] === respH && r['id.resp_p'] === respP,
    )
    assert.ok(found !== undefined, `a conn record for ${origP} → ${respH}:${respP}`)
    return found
  }
  const withoutUid = (record: Json): Json => {
    const {uid, ...rest} = record
    assert.match(String(uid), /^C[0-9A-Za-z]{10,}$/, 'uid in Zeek form')
    return rest
  }
  const tcpConn = (fields: Json): Json => ({proto: 'tcp', ip_proto: 6, missed_bytes: 0, ...fields})

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dsiem-scenario-'))
    pcapFile = path.join(dir, 'scenario.pcap')
    const pcap = scenarioPcap()
    writeFileSync(pcapFile, pcap)
    stamps = readCaptureBytes(pcap, {timestampPrecision: 'micro'}).frames.map((frame) => frame.ts)
    summary = await runPcapFile({
      file: pcapFile,
      logDir: path.join(dir, 'logs'),
      peer: 'worker-test',
      verifyChecksums: true,
      seed: 1,
      events: true,
    })
    conn = readLog(path.join(dir, 'logs'), 'conn')
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('reads every packet and writes one conn record per connection', () => {
    assert.equal(summary.frames, stamps.length)
    assert.equal(summary.truncatedAt, undefined)
    assert.equal(conn.length, 1 + 1 + SCAN_PORTS.length + 3 + 1 + 1 + 1 + 1, 'conn records')
  })

  // Zeek's duration leaves out the final ACK of a three- or four-way close.
  it('logs the HTTP session as SF with ShADadFf, byte and packet counts, service and community id', () => {
    assert.deepEqual(withoutUid(connOf(40001, WEB, 80)), {
      ...tcpConn({}),
      ts: at(0),
      'id.orig_h': CLIENT,
      'id.orig_p': 40001,
      'id.resp_h': WEB,
      'id.resp_p': 80,
      service: 'http',
      duration: duration(0, 0.08),
      orig_bytes: HTTP_REQUEST.length,
      resp_bytes: HTTP_RESPONSE.length,
      conn_state: 'SF',
      history: 'ShADadFf',
      orig_pkts: 6,
      orig_ip_bytes: 6 * 40 + HTTP_REQUEST.length,
      resp_pkts: 4,
      resp_ip_bytes: 4 * 40 + HTTP_RESPONSE.length,
      community_id: expectedCommunityId(CLIENT, 40001, WEB, 80, 6),
    })
  })

  it('logs the rejected connection as REJ and each lone SYN as S0 without duration or byte counts', () => {
    assert.deepEqual(withoutUid(connOf(40002, WEB, 8080)), {
      ...tcpConn({}),
      ts: at(1),
      'id.orig_h': CLIENT,
      'id.orig_p': 40002,
      'id.resp_h': WEB,
      'id.resp_p': 8080,
      duration: duration(1, 1.01),
      orig_bytes: 0,
      resp_bytes: 0,
      conn_state: 'REJ',
      history: 'Sr',
      orig_pkts: 1,
      orig_ip_bytes: 40,
      resp_pkts: 1,
      resp_ip_bytes: 40,
      community_id: expectedCommunityId(CLIENT, 40002, WEB, 8080, 6),
    })
    SCAN_PORTS.forEach((port, i) => {
      assert.deepEqual(withoutUid(connOf(50000 + i, WEB, port)), {
        ...tcpConn({}),
        ts: at(2 + i * 0.001),
        'id.orig_h': SCANNER,
        'id.orig_p': 50000 + i,
        'id.resp_h': WEB,
        'id.resp_p': port,
        conn_state: 'S0',
        history: 'S',
        orig_pkts: 1,
        orig_ip_bytes: 40,
        resp_pkts: 0,
        resp_ip_bytes: 0,
        community_id: expectedCommunityId(SCANNER, 50000 + i, WEB, port, 6),
      })
    })
  })

  it('logs DNS over UDP connections (answered, NXDOMAIN, unanswered on a VLAN)', () => {
    const udp = (sport: number, from: number, to: number, query: Uint8Array, response: Uint8Array) => ({
      ts: at(from),
      'id.orig_h': CLIENT,
      'id.orig_p': sport,
      'id.resp_h': RESOLVER,
      'id.resp_p': 53,
      proto: 'udp',
      service: 'dns',
      duration: duration(from, to),
      orig_bytes: query.length,
      resp_bytes: response.length,
      conn_state: 'SF',
      missed_bytes: 0,
      history: 'Dd',
      orig_pkts: 1,
      orig_ip_bytes: 28 + query.length,
      resp_pkts: 1,
      resp_ip_bytes: 28 + response.length,
      ip_proto: 17,
      community_id: expectedCommunityId(CLIENT, sport, RESOLVER, 53, 17),
    })
    assert.deepEqual(
      withoutUid(connOf(53001, RESOLVER, 53)),
      udp(53001, 3, 3.02, DNS_A_QUERY, DNS_A_RESPONSE),
    )
    assert.deepEqual(
      withoutUid(connOf(53002, RESOLVER, 53)),
      udp(53002, 3.1, 3.13, DNS_NX_QUERY, DNS_NX_RESPONSE),
    )
    assert.deepEqual(withoutUid(connOf(53003, RESOLVER, 53)), {
      ts: at(3.2),
      'id.orig_h': CLIENT,
      'id.orig_p': 53003,
      'id.resp_h': RESOLVER,
      'id.resp_p': 53,
      proto: 'udp',
      service: 'dns',
      conn_state: 'S0',
      missed_bytes: 0,
      history: 'D',
      orig_pkts: 1,
      orig_ip_bytes: 28 + DNS_VLAN_QUERY.length,
      resp_pkts: 0,
      resp_ip_bytes: 0,
      ip_proto: 17,
      community_id: expectedCommunityId(CLIENT, 53003, RESOLVER, 53, 17),
      vlan: VLAN_ID,
    })
  })

  it('logs DNS over TCP, the TLS session and the aborted session', () => {
    assert.deepEqual(withoutUid(connOf(40003, RESOLVER, 53)), {
      ...tcpConn({}),
      ts: at(4),
      'id.orig_h': CLIENT,
      'id.orig_p': 40003,
      'id.resp_h': RESOLVER,
      'id.resp_p': 53,
      service: 'dns',
      duration: duration(4, 4.06),
      orig_bytes: 2 + DNS_TCP_QUERY.length,
      resp_bytes: 2 + DNS_TCP_RESPONSE.length,
      conn_state: 'SF',
      history: 'ShADdFf',
      orig_pkts: 5,
      orig_ip_bytes: 5 * 40 + 2 + DNS_TCP_QUERY.length,
      resp_pkts: 3,
      resp_ip_bytes: 3 * 40 + 2 + DNS_TCP_RESPONSE.length,
      community_id: expectedCommunityId(CLIENT, 40003, RESOLVER, 53, 6),
    })
    assert.deepEqual(withoutUid(connOf(40004, TLS_SERVER, 443)), {
      ...tcpConn({}),
      ts: at(5),
      'id.orig_h': CLIENT,
      'id.orig_p': 40004,
      'id.resp_h': TLS_SERVER,
      'id.resp_p': 443,
      service: 'ssl',
      duration: duration(5, 5.07),
      orig_bytes: TLS_CLIENT_HELLO.length,
      resp_bytes: TLS_SERVER_HELLO.length,
      conn_state: 'SF',
      history: 'ShADdFf',
      orig_pkts: 6,
      orig_ip_bytes: 6 * 40 + TLS_CLIENT_HELLO.length,
      resp_pkts: 3,
      resp_ip_bytes: 3 * 40 + TLS_SERVER_HELLO.length,
      community_id: expectedCommunityId(CLIENT, 40004, TLS_SERVER, 443, 6),
    })
    const banner = 'SSH-2.0-OpenSSH_9.2\r\n'.length
    assert.deepEqual(withoutUid(connOf(40005, WEB, 22)), {
      ...tcpConn({}),
      ts: at(7),
      'id.orig_h': CLIENT,
      'id.orig_p': 40005,
      'id.resp_h': WEB,
      'id.resp_p': 22,
      duration: duration(7, 7.05),
      orig_bytes: 0,
      resp_bytes: banner,
      conn_state: 'RSTO',
      history: 'ShAdR',
      orig_pkts: 4,
      orig_ip_bytes: 4 * 40,
      resp_pkts: 2,
      resp_ip_bytes: 2 * 40 + banner,
      community_id: expectedCommunityId(CLIENT, 40005, WEB, 22, 6),
    })
  })

  it('logs the ICMP echo as one OTH connection keyed by type and counterpart type', () => {
    assert.deepEqual(withoutUid(connOf(8, WEB, 0)), {
      ts: at(6),
      'id.orig_h': CLIENT,
      'id.orig_p': 8,
      'id.resp_h': WEB,
      'id.resp_p': 0,
      proto: 'icmp',
      duration: duration(6, 6.001),
      orig_bytes: 56,
      resp_bytes: 56,
      conn_state: 'OTH',
      missed_bytes: 0,
      orig_pkts: 1,
      orig_ip_bytes: 84,
      resp_pkts: 1,
      resp_ip_bytes: 84,
      ip_proto: 1,
      community_id: expectedCommunityId(CLIENT, 8, WEB, 0, 1),
    })
  })

  it('writes dns.log records for UDP and TCP queries with the connection uid', () => {
    const dns = readLog(path.join(dir, 'logs'), 'dns')
    assert.equal(dns.length, 4, 'four queries')
    const byId = (id: number) => dns.find((r) => r['trans_id'] === id) ?? assert.fail(`dns record ${id}`)
    const answered = byId(0x1234)
    assert.equal(answered['uid'], connOf(53001, RESOLVER, 53)['uid'])
    assert.deepEqual(withoutUid(answered), {
      ts: at(3),
      'id.orig_h': CLIENT,
      'id.orig_p': 53001,
      'id.resp_h': RESOLVER,
      'id.resp_p': 53,
      proto: 'udp',
      trans_id: 0x1234,
      rtt: duration(3, 3.02),
      query: 'www.example.com',
      qclass: 1,
      qclass_name: 'C_INTERNET',
      qtype: 1,
      qtype_name: 'A',
      rcode: 0,
      rcode_name: 'NOERROR',
      AA: false,
      TC: false,
      RD: true,
      RA: true,
      Z: 0,
      answers: ['93.184.216.34'],
      TTLs: [300],
      rejected: false,
    })
    const nx = byId(0x2222)
    assert.equal(nx['rcode_name'], 'NXDOMAIN')
    assert.equal(nx['query'], 'nope.example.com')
    assert.equal(nx['answers'], undefined)
    const lonely = byId(0x3333)
    assert.equal(lonely['qtype_name'], 'AAAA')
    assert.equal(lonely['rcode'], undefined, 'no reply, no rcode')
    const overTcp = byId(0x4444)
    assert.equal(overTcp['proto'], 'tcp')
    assert.deepEqual(overTcp['answers'], ['TXT 11 v=spf1 -all'])
    assert.deepEqual(overTcp['TTLs'], [60])
  })

  it('writes the http.log and ssl.log records', () => {
    const http = readLog(path.join(dir, 'logs'), 'http')
    assert.equal(http.length, 1)
    assert.equal(http[0]!['uid'], connOf(40001, WEB, 80)['uid'])
    assert.deepEqual(withoutUid(http[0]!), {
      ts: at(0.03),
      'id.orig_h': CLIENT,
      'id.orig_p': 40001,
      'id.resp_h': WEB,
      'id.resp_p': 80,
      trans_depth: 1,
      method: 'GET',
      host: 'www.example.com',
      uri: '/index.html',
      version: '1.1',
      user_agent: 'dsiem-test/1.0',
      request_body_len: 0,
      response_body_len: HTTP_BODY.length,
      status_code: 200,
      status_msg: 'OK',
      tags: [],
    })
    const ssl = readLog(path.join(dir, 'logs'), 'ssl')
    assert.equal(ssl.length, 1)
    assert.deepEqual(withoutUid(ssl[0]!), {
      ts: at(5.03),
      'id.orig_h': CLIENT,
      'id.orig_p': 40004,
      'id.resp_h': TLS_SERVER,
      'id.resp_p': 443,
      version: 'TLSv12',
      cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      server_name: 'secure.example.com',
      resumed: false,
      next_protocol: 'h2',
      established: false,
      ssl_history: 'Cs',
    })
  })

  it('turns the truncated and the malformed packet into weird records instead of failing', () => {
    const weird = readLog(path.join(dir, 'logs'), 'weird')
    assert.deepEqual(
      weird.map((r) => [r['ts'], r['name'], r['notice'], r['peer']]),
      [
        [at(8), 'truncated_IP', false, 'worker-test'],
        [at(8.5), 'IPv4_min_header_size', false, 'worker-test'],
      ],
    )
  })

  it('emits correlation events for the scan, the rejected connection and the NXDOMAIN answer', () => {
    const events = readFileSync(path.join(dir, 'logs', 'dsiem_events.ndjson'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Json)
    const sids = events.map((e) => e['plugin_sid']).sort((a, b) => Number(a) - Number(b))
    assert.deepEqual(sids, [1, ...SCAN_PORTS.map(() => 2), 4, 10])
    assert.equal(summary.events, events.length)
  })

  it('agrees with tshark on the number of TCP and UDP conversations and DNS queries', (t) => {
    if (!hasTshark()) {
      t.skip('tshark not installed (apt-get install tshark)')
      process.stdout.write('NOTICE: tshark comparison skipped: tshark not installed\n')
      return
    }
    const fields = (filter: string, field: string): string[] =>
      execFileSync('tshark', ['-r', pcapFile, '-Y', filter, '-T', 'fields', '-e', field], {encoding: 'utf8'})
        .split('\n')
        .filter((line) => line !== '')
    const streams = (proto: 'tcp' | 'udp') => new Set(fields(proto, `${proto}.stream`)).size
    assert.equal(conn.filter((r) => r['proto'] === 'tcp').length, streams('tcp'), 'TCP connections')
    assert.equal(conn.filter((r) => r['proto'] === 'udp').length, streams('udp'), 'UDP connections')
    const queries = fields('dns.flags.response == 0', 'dns.id')
    assert.equal(readLog(path.join(dir, 'logs'), 'dns').length, queries.length, 'DNS queries')
  })
})
