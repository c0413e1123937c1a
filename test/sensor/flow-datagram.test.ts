import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'
import {createUidSource, FlowTable} from '../../src/sensor/flow/flow-table.js'
import type {AnalyzerFactory, DecodedPacket} from '../../src/sensor/types.js'
import {icmpPacket, RecordingAnalyzer, RecordingSink, udpPacket} from '../helpers/sensor-packets.js'

function run(packets: DecodedPacket[], factory: AnalyzerFactory = () => []) {
  const sink = new RecordingSink()
  const flows = new FlowTable({sink, analyzers: factory, newUid: createUidSource(11)})
  for (const packet of packets) flows.process(packet)
  flows.finishAll()
  return {sink, flows}
}

const client = '192.168.1.10'
const resolver = '192.168.1.1'

describe('flow table: UDP', () => {
  it('pairs a DNS-like request and response into one SF connection', () => {
    const query = new RecordingAnalyzer('dns', {confirmOn: 'answer'})
    const {sink, flows} = run(
      [
        udpPacket({ts: 10, src: client, dst: resolver, sport: 33000, dport: 53, payload: 'q'.repeat(30)}),
        udpPacket({
          ts: 10.25,
          src: resolver,
          dst: client,
          sport: 53,
          dport: 33000,
          payload: 'answer'.padEnd(46, '.'),
        }),
      ],
      () => [query],
    )
    const record = sink.conn()
    assert.equal(record.proto, 'udp')
    assert.equal(record['id.orig_h'], client)
    assert.equal(record['id.orig_p'], 33000)
    assert.equal(record['id.resp_p'], 53)
    assert.equal(record.conn_state, 'SF')
    assert.equal(record.history, 'Dd')
    assert.equal(record.duration, 0.25)
    assert.equal(record.orig_bytes, 30)
    assert.equal(record.resp_bytes, 46)
    assert.equal(record.orig_pkts, 1)
    assert.equal(record.orig_ip_bytes, 58)
    assert.equal(record.resp_pkts, 1)
    assert.equal(record.resp_ip_bytes, 74)
    assert.equal(record.missed_bytes, 0)
    assert.equal(record.ip_proto, 17)
    assert.equal(record.service, 'dns')
    assert.deepEqual(
      query.events.map((e) => e.kind),
      ['data', 'data', 'finish'],
    )
    assert.equal(flows.counters.udpConns, 1)
  })

  it('S0 for a lone datagram, without duration or byte counts', () => {
    const {sink} = run([udpPacket({ts: 5, src: client, dst: resolver, sport: 33001, dport: 53, payload: 20})])
    const record = sink.conn()
    assert.equal(record.conn_state, 'S0')
    assert.equal(record.history, 'D')
    assert.equal(record.duration, undefined)
    assert.equal(record.orig_bytes, undefined)
    assert.equal(record.orig_pkts, 1)
  })

  it('flips a response seen without its request (from a server port): ^d and SHR', () => {
    const {sink} = run([
      udpPacket({ts: 5, src: resolver, dst: client, sport: 53, dport: 33002, payload: 40}),
      udpPacket({ts: 6, src: resolver, dst: client, sport: 53, dport: 33002, payload: 40}),
    ])
    const record = sink.conn()
    assert.equal(record['id.orig_h'], client)
    assert.equal(record['id.orig_p'], 33002)
    assert.equal(record['id.resp_h'], resolver)
    assert.equal(record['id.resp_p'], 53)
    assert.equal(record.history, '^d')
    assert.equal(record.conn_state, 'SHR')
    assert.equal(record.resp_bytes, 80)
    assert.equal(record.orig_bytes, 0)
  })

  it('counts a datagram with a bad checksum but does not analyse it (C, weird)', () => {
    const analyzer = new RecordingAnalyzer('dns')
    const {sink} = run(
      [
        udpPacket({
          ts: 5,
          src: client,
          dst: resolver,
          sport: 33003,
          dport: 53,
          payload: 12,
          checksumOk: false,
        }),
      ],
      () => [analyzer],
    )
    const record = sink.conn()
    assert.equal(record.history, 'C')
    assert.equal(record.conn_state, 'OTH')
    assert.equal(record.orig_pkts, 1)
    assert.deepEqual(sink.weirdNames(), ['bad_UDP_checksum'])
    assert.deepEqual(analyzer.events, [])
  })
})

describe('flow table: ICMP', () => {
  it('pairs an echo request and its reply: orig_p 8, resp_p 0, OTH, no history', () => {
    const {sink} = run([
      icmpPacket({ts: 20, src: '10.0.0.1', dst: '8.8.8.8', type: 8, payload: 56}),
      icmpPacket({ts: 20.02, src: '8.8.8.8', dst: '10.0.0.1', type: 0, payload: 56}),
      icmpPacket({ts: 21, src: '10.0.0.1', dst: '8.8.8.8', type: 8, payload: 56}),
      icmpPacket({ts: 21.02, src: '8.8.8.8', dst: '10.0.0.1', type: 0, payload: 56}),
    ])
    const record = sink.conn()
    assert.equal(record.proto, 'icmp')
    assert.equal(record['id.orig_h'], '10.0.0.1')
    assert.equal(record['id.orig_p'], 8)
    assert.equal(record['id.resp_h'], '8.8.8.8')
    assert.equal(record['id.resp_p'], 0)
    assert.equal(record.conn_state, 'OTH')
    assert.equal(record.history, undefined)
    assert.equal(record.orig_bytes, 112)
    assert.equal(record.resp_bytes, 112)
    assert.equal(record.orig_pkts, 2)
    assert.equal(record.orig_ip_bytes, 168)
    assert.equal(record.resp_ip_bytes, 168)
    assert.equal(record.ip_proto, 1)
    // The spec orders 8.8.8.8 (port 0) before 10.0.0.1 (port 8).
    const input = Buffer.from([0, 0, 8, 8, 8, 8, 10, 0, 0, 1, 1, 0, 0, 0, 0, 8])
    assert.equal(record.community_id, '1:' + createHash('sha1').update(input).digest('base64'))
  })

  it('keeps one-way messages apart, with the code as resp_p', () => {
    const {sink} = run([
      icmpPacket({ts: 30, src: '10.0.0.254', dst: '10.0.0.1', type: 3, code: 3, payload: 28}),
      icmpPacket({ts: 31, src: '10.0.0.1', dst: '10.0.0.254', type: 3, code: 3, payload: 28}),
    ])
    const records = sink.conns()
    assert.equal(records.length, 2)
    assert.equal(records[0]!['id.orig_h'], '10.0.0.254')
    assert.equal(records[0]!['id.orig_p'], 3)
    assert.equal(records[0]!['id.resp_p'], 3)
    assert.equal(records[1]!['id.orig_h'], '10.0.0.1')
  })

  it('pairs ICMPv6 echo (128/129) with ip_proto 58', () => {
    const {sink} = run([
      icmpPacket({ts: 40, src: '2001:db8::1', dst: '2001:db8::2', type: 128, payload: 16}),
      icmpPacket({ts: 40.5, src: '2001:db8::2', dst: '2001:db8::1', type: 129, payload: 16}),
    ])
    const record = sink.conn()
    assert.equal(record['id.orig_p'], 128)
    assert.equal(record['id.resp_p'], 129)
    assert.equal(record.ip_proto, 58)
    assert.equal(record.orig_ip_bytes, 40 + 8 + 16)
    assert.match(String(record.community_id), /^1:[A-Za-z0-9+/]{27}=$/)
  })
})
