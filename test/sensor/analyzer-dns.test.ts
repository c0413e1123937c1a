// DNS analyser: dns.log records field by field for UDP and TCP, query/reply pairing, every rendered
// answer type, and malformed messages (compression loops, truncation) turned into weirds.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {DnsAnalyzer} from '../../src/sensor/analyzers/dns.js'
import {parseDnsMessage, readName} from '../../src/sensor/analyzers/dns-message.js'
import {qclassName, qtypeName, rcodeName} from '../../src/sensor/analyzers/dns-names.js'
import {
  buildDnsMessage,
  buildDnsQuery,
  buildDnsResponse,
  frameDnsOverTcp,
} from '../../src/sensor/craft/dns.js'
import type {ConnProto, ConnView} from '../../src/sensor/types.js'
import {RecordingSink} from '../helpers/sensor-packets.js'

function recorder() {
  const sink = new RecordingSink()
  return {sink, records: sink.logged, paths: sink.paths, weirds: sink.weirds}
}

function conn(proto: ConnProto, respP = 53): ConnView {
  return {
    uid: 'CdnsTest1',
    id: {origH: '10.0.0.2', origP: 40000, respH: '10.0.0.1', respP, proto},
    startTs: 100,
  }
}

function setup(proto: ConnProto = 'udp', respP = 53) {
  const rec = recorder()
  return {...rec, analyzer: new DnsAnalyzer(conn(proto, respP), rec.sink)}
}

const ID_FIELDS = {
  uid: 'CdnsTest1',
  'id.orig_h': '10.0.0.2',
  'id.orig_p': 40000,
  'id.resp_h': '10.0.0.1',
  'id.resp_p': 53,
}

// www.example.com A, id 0xbeef, RD — written out byte by byte so builder and parser share nothing.
const HAND_QUERY = Uint8Array.from([
  0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 3, 0x77, 0x77, 0x77, 7, 0x65, 0x78,
  0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 0x00, 0x01, 0x00, 0x01,
])
// Its answer: QR RD RA, one A RR whose owner is a pointer to the question name (offset 12), TTL 3600.
const HAND_RESPONSE = Uint8Array.from([
  0xbe, 0xef, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 3, 0x77, 0x77, 0x77, 7, 0x65, 0x78,
  0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00,
  0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 93, 184, 216, 34,
])

describe('DNS over UDP', () => {
  it('pairs an A query with its answer and logs every field as Zeek does', () => {
    const {analyzer, records, weirds, paths} = setup()
    analyzer.deliver(true, HAND_QUERY, 100.5)
    assert.equal(records.length, 0, 'nothing is logged before the reply')
    assert.equal(analyzer.confirmed, true, 'a well-formed query confirms DNS')
    analyzer.deliver(false, HAND_RESPONSE, 100.5625)
    assert.deepEqual(paths, ['dns'])
    assert.deepEqual(records[0], {
      ts: 100.5,
      ...ID_FIELDS,
      proto: 'udp',
      trans_id: 0xbeef,
      rtt: 0.0625,
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
      TTLs: [3600],
      rejected: false,
    })
    assert.deepEqual(weirds, [])
    analyzer.finish(101)
    assert.equal(records.length, 1, 'a logged pair is not logged again at finish')
  })

  it('renders AAAA answers as compressed IPv6 text', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(7, 'ipv6.example.org', 28), 1)
    const answer = {
      name: 'ipv6.example.org',
      ttl: 300,
      data: {type: 'AAAA' as const, address: '2001:db8:0:0:0:0:0:1'},
    }
    analyzer.deliver(false, buildDnsResponse(7, 'ipv6.example.org', 28, [answer]), 1.25)
    assert.equal(records[0]?.['qtype_name'], 'AAAA')
    assert.deepEqual(records[0]?.['answers'], ['2001:db8::1'])
    assert.deepEqual(records[0]?.['TTLs'], [300])
    assert.equal(records[0]?.['rtt'], 0.25)
  })

  it('lists a CNAME chain and the final address in answer order', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(9, 'www.shop.example', 1), 1)
    const reply = buildDnsResponse(9, 'www.shop.example', 1, [
      {name: 'www.shop.example', ttl: 60, data: {type: 'CNAME', target: 'shop.cdn.example.net'}},
      {name: 'shop.cdn.example.net', ttl: 30, data: {type: 'CNAME', target: 'edge7.cdn.example.net'}},
      {name: 'edge7.cdn.example.net', ttl: 20, data: {type: 'A', address: '198.51.100.7'}},
    ])
    analyzer.deliver(false, reply, 1.01)
    assert.deepEqual(records[0]?.['answers'], [
      'shop.cdn.example.net',
      'edge7.cdn.example.net',
      '198.51.100.7',
    ])
    assert.deepEqual(records[0]?.['TTLs'], [60, 30, 20])
  })

  it('logs the MX exchange, TXT strings, SRV target and SOA mname', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(1, 'example.com', 15), 1)
    analyzer.deliver(
      false,
      buildDnsResponse(1, 'example.com', 15, [
        {name: 'example.com', ttl: 100, data: {type: 'MX', preference: 10, exchange: 'mx1.example.com'}},
        {name: 'example.com', ttl: 100, data: {type: 'MX', preference: 20, exchange: 'mx2.example.com'}},
      ]),
      2,
    )
    analyzer.deliver(true, buildDnsQuery(2, 'example.com', 16), 3)
    analyzer.deliver(
      false,
      buildDnsResponse(2, 'example.com', 16, [
        {name: 'example.com', ttl: 50, data: {type: 'TXT', strings: ['v=spf1 -all']}},
        {name: 'example.com', ttl: 50, data: {type: 'TXT', strings: ['hello', 'world']}},
      ]),
      4,
    )
    analyzer.deliver(true, buildDnsQuery(3, '_sip._tcp.example.com', 33), 5)
    analyzer.deliver(
      false,
      buildDnsResponse(3, '_sip._tcp.example.com', 33, [
        {
          name: '_sip._tcp.example.com',
          ttl: 10,
          data: {type: 'SRV', priority: 1, weight: 5, port: 5060, target: 'sip.example.com'},
        },
      ]),
      6,
    )
    analyzer.deliver(true, buildDnsQuery(4, 'example.com', 6), 7)
    const soa = {
      type: 'SOA' as const,
      mname: 'ns1.example.com',
      rname: 'hostmaster.example.com',
      serial: 2024010101,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: 300,
    }
    analyzer.deliver(
      false,
      buildDnsResponse(4, 'example.com', 6, [{name: 'example.com', ttl: 3600, data: soa}]),
      8,
    )
    assert.deepEqual(
      records.map((record) => [record['qtype_name'], record['answers']]),
      [
        ['MX', ['mx1.example.com', 'mx2.example.com']],
        ['TXT', ['TXT 11 v=spf1 -all', 'TXT 5 hello TXT 5 world']],
        ['SRV', ['sip.example.com']],
        ['SOA', ['ns1.example.com']],
      ],
    )
  })

  it('logs NXDOMAIN with an SOA in authority as not rejected, without answers, AA/RA or rtt', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(0x77, 'nope.example', 1), 10)
    const reply = buildDnsMessage({
      id: 0x77,
      qr: true,
      rd: true,
      ra: true,
      rcode: 3,
      questions: [{name: 'nope.example', qtype: 1}],
      authority: [
        {
          name: 'example',
          ttl: 900,
          data: {
            type: 'SOA',
            mname: 'a.ns.example',
            rname: 'h.example',
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5,
          },
        },
      ],
    })
    analyzer.deliver(false, reply, 10.2)
    const record = records[0]!
    assert.equal(record['rcode'], 3)
    assert.equal(record['rcode_name'], 'NXDOMAIN')
    assert.equal(record['rejected'], false)
    assert.equal(record['answers'], undefined, 'no answers field without answers')
    assert.equal(record['TTLs'], undefined, 'no TTLs field without answers')
    // Zeek's scripts take AA, RA and rtt from the first answer RR; with none they stay unset/false.
    assert.equal(record['rtt'], undefined)
    assert.equal(record['RA'], false)
    assert.equal(record['RD'], true)
  })

  it('marks a reply without any resource records as rejected (REFUSED)', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(5, 'x.example', 1), 1)
    const refused = buildDnsMessage({id: 5, qr: true, rcode: 5, questions: [{name: 'x.example', qtype: 1}]})
    analyzer.deliver(false, refused, 1.5)
    assert.equal(records[0]?.['rcode_name'], 'REFUSED')
    assert.equal(records[0]?.['rejected'], true)
  })

  it('writes an unanswered query at finish, without reply fields', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(42, 'slow.example', 1), 50)
    analyzer.finish(80)
    assert.deepEqual(records, [
      {
        ts: 50,
        ...ID_FIELDS,
        proto: 'udp',
        trans_id: 42,
        query: 'slow.example',
        qclass: 1,
        qclass_name: 'C_INTERNET',
        qtype: 1,
        qtype_name: 'A',
        AA: false,
        TC: false,
        RD: true,
        RA: false,
        Z: 0,
        rejected: false,
      },
    ])
  })

  it('logs a reply without its query at finish, timed by the reply, with dns_unmatched_reply', () => {
    const {analyzer, records, weirds} = setup()
    const reply = buildDnsResponse(8, 'lonely.example', 1, [
      {name: 'lonely.example', ttl: 5, data: {type: 'A', address: '192.0.2.8'}},
    ])
    analyzer.deliver(false, reply, 70)
    assert.equal(records.length, 0, 'a reply waits for a late query until the connection ends')
    analyzer.finish(90)
    assert.equal(records.length, 1)
    assert.equal(records[0]?.['ts'], 70)
    assert.equal(records[0]?.['rtt'], undefined)
    assert.equal(records[0]?.['query'], 'lonely.example')
    assert.deepEqual(records[0]?.['answers'], ['192.0.2.8'])
    assert.equal(records[0]?.['RA'], true)
    assert.deepEqual(
      weirds.map((weird) => [weird.name, weird.uid, weird.dstPort]),
      [['dns_unmatched_reply', 'CdnsTest1', 53]],
    )
  })

  it('pairs by trans_id and, for a shared id, by the question', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildDnsQuery(3, 'first.example', 1), 1)
    analyzer.deliver(true, buildDnsQuery(3, 'second.example', 1), 2)
    analyzer.deliver(false, buildDnsResponse(3, 'second.example', 1, []), 3)
    assert.equal(records[0]?.['query'], 'second.example')
    assert.equal(records[0]?.['rtt'], undefined)
    analyzer.finish(4)
    assert.equal(records[1]?.['query'], 'first.example')
    assert.equal(records[1]?.['rcode'], undefined)
  })

  it('lower-cases names as Zeek does and keeps Z, TC and unknown type/class names', () => {
    const {analyzer, records} = setup()
    const query = buildDnsMessage({
      id: 11,
      z: 2,
      tc: true,
      questions: [{name: 'WwW.ExAmPlE.CoM', qtype: 999, qclass: 3}],
    })
    analyzer.deliver(true, query, 1)
    analyzer.finish(2)
    assert.equal(records[0]?.['query'], 'www.example.com')
    assert.equal(records[0]?.['qtype_name'], 'query-999')
    assert.equal(records[0]?.['qclass_name'], 'C_CHAOS')
    assert.equal(records[0]?.['Z'], 2)
    assert.equal(records[0]?.['TC'], true)
    assert.equal(records[0]?.['RD'], false)
  })

  it('renders an unknown RR type as Zeek does, with a DNS_RR_unknown_type weird', () => {
    const {analyzer, records, weirds} = setup()
    analyzer.deliver(true, buildDnsQuery(12, 'svc.example', 64), 1)
    const raw = {type: 'raw' as const, rrType: 64, rdata: Uint8Array.of(0, 1, 0)}
    analyzer.deliver(
      false,
      buildDnsResponse(12, 'svc.example', 64, [{name: 'svc.example', ttl: 9, data: raw}]),
      2,
    )
    assert.deepEqual(records[0]?.['answers'], ['<unknown type=64>'])
    assert.deepEqual(
      weirds.map((weird) => [weird.name, weird.addl]),
      [['DNS_RR_unknown_type', '64']],
    )
  })
})

describe('DNS over TCP', () => {
  const query = buildDnsQuery(0x0101, 'tcp.example', 1)
  const reply = buildDnsResponse(0x0101, 'tcp.example', 1, [
    {name: 'tcp.example', ttl: 1, data: {type: 'A', address: '203.0.113.1'}},
  ])
  const query2 = buildDnsQuery(0x0202, 'two.example', 28)
  const reply2 = buildDnsResponse(0x0202, 'two.example', 28, [
    {name: 'two.example', ttl: 2, data: {type: 'AAAA', address: '2001:db8::2'}},
  ])

  it('reads two length-framed messages from one chunk', () => {
    const {analyzer, records} = setup('tcp')
    analyzer.deliver(true, frameDnsOverTcp(query, query2), 1)
    analyzer.deliver(false, frameDnsOverTcp(reply, reply2), 2)
    assert.deepEqual(
      records.map((record) => [record['proto'], record['trans_id'], record['answers']]),
      [
        ['tcp', 0x0101, ['203.0.113.1']],
        ['tcp', 0x0202, ['2001:db8::2']],
      ],
    )
  })

  it('reassembles a message split across three chunks (one boundary inside the length prefix)', () => {
    const {analyzer, records} = setup('tcp')
    analyzer.deliver(true, frameDnsOverTcp(query), 1)
    const framed = frameDnsOverTcp(reply)
    analyzer.deliver(false, framed.subarray(0, 1), 2)
    analyzer.deliver(false, framed.subarray(1, 20), 2.1)
    assert.equal(records.length, 0, 'no record before the whole reply arrived')
    analyzer.deliver(false, framed.subarray(20), 2.2)
    assert.equal(records.length, 1)
    assert.deepEqual(records[0]?.['answers'], ['203.0.113.1'])
    assert.equal(records[0]?.['rtt'], 2.2 - 1)
  })
})

describe('DNS names and malformed messages', () => {
  it('compresses names in the builder and follows the pointers when parsing', () => {
    const reply = buildDnsResponse(1, 'a.b.example.com', 1, [
      {name: 'a.b.example.com', ttl: 1, data: {type: 'CNAME', target: 'c.b.example.com'}},
    ])
    const plain = buildDnsResponse(
      1,
      'a.b.example.com',
      1,
      [{name: 'a.b.example.com', ttl: 1, data: {type: 'CNAME', target: 'c.b.example.com'}}],
      {compress: false},
    )
    assert.ok(reply.length < plain.length, `compressed ${reply.length} must be shorter than ${plain.length}`)
    const weirds: string[] = []
    const parsed = parseDnsMessage(reply, (name) => weirds.push(name))
    assert.deepEqual(parsed?.answers, [{name: 'a.b.example.com', type: 5, ttl: 1, reply: 'c.b.example.com'}])
    assert.deepEqual(weirds, [])
  })

  it('reads a hand-written pointer chain (pointer to a name ending in a pointer)', () => {
    // offset 0: "example" "com" 0 ; offset 13: "mail" + pointer to 0 ; offset 20: "x" + pointer to 13
    const data = Uint8Array.from([
      7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 4, 0x6d, 0x61, 0x69, 0x6c, 0xc0, 0,
      1, 0x78, 0xc0, 13,
    ])
    const result = readName(data, 20, data.length, () => assert.fail('no weird expected'))
    assert.deepEqual(result, {text: 'x.mail.example.com', end: 24})
  })

  it('stops a compression loop with DNS_label_forward_compress_offset', () => {
    // The question name is a pointer to itself (offset 12).
    const looping = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
    const weirds: string[] = []
    const parsed = parseDnsMessage(looping, (name) => weirds.push(name))
    assert.deepEqual(weirds, ['DNS_label_forward_compress_offset'])
    assert.equal(parsed?.questions[0]?.name, '')
    // Two pointers aimed at each other: whichever is read first points forward and is refused.
    const mutual = Uint8Array.from([
      0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0xc0, 16, 0xc0, 12, 0, 1, 0, 1,
    ])
    const seen: string[] = []
    parseDnsMessage(mutual, (name) => seen.push(name))
    assert.deepEqual(seen, ['DNS_label_forward_compress_offset'])
  })

  it('reports truncation with Zeek weird names and never throws', () => {
    const weirds: string[] = []
    assert.equal(
      parseDnsMessage(Uint8Array.of(1, 2, 3), (name) => weirds.push(name)),
      undefined,
    )
    const full = buildDnsResponse(4, 'cut.example', 1, [
      {name: 'cut.example', ttl: 1, data: {type: 'A', address: '192.0.2.1'}},
    ])
    const cutInRdata = parseDnsMessage(full.subarray(0, full.length - 2), (name) => weirds.push(name))
    assert.equal(cutInRdata?.complete, false)
    assert.equal(cutInRdata?.questions[0]?.name, 'cut.example')
    const cutInQuestion = parseDnsMessage(full.subarray(0, 26), (name) => weirds.push(name))
    assert.equal(cutInQuestion?.questions.length, 0)
    assert.deepEqual(weirds, [
      'DNS_truncated_len_lt_hdr_len',
      'DNS_truncated_RR_rdlength_lt_len',
      'DNS_truncated_quest_too_short',
    ])
  })

  it('gives up on a port-53 flow whose first message is not DNS, logging nothing', () => {
    const {analyzer, records, weirds} = setup()
    analyzer.deliver(true, Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x10]), 1)
    assert.equal(analyzer.failed, true)
    assert.equal(analyzer.confirmed, false)
    analyzer.finish(2)
    assert.deepEqual(records, [])
    assert.equal(weirds[0]?.name, 'DNS_truncated_len_lt_hdr_len')
  })

  it('keeps going after confirmation: a bad message is a weird, the next good one still pairs', () => {
    const {analyzer, records, weirds} = setup()
    analyzer.deliver(true, HAND_QUERY, 1)
    const looping = Uint8Array.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
    analyzer.deliver(false, looping, 1.1)
    analyzer.deliver(false, HAND_RESPONSE, 1.2)
    assert.equal(analyzer.failed, false)
    assert.deepEqual(
      weirds.map((weird) => weird.name),
      ['DNS_label_forward_compress_offset', 'dns_unmatched_reply'],
    )
    assert.deepEqual(records[0]?.['answers'], ['93.184.216.34'])
  })

  it('maps numbers to Zeek names with Zeek fallbacks', () => {
    assert.deepEqual(
      [
        qtypeName(255),
        qtypeName(65),
        qtypeName(4242),
        qclassName(255),
        qclassName(7),
        rcodeName(2),
        rcodeName(12),
      ],
      ['*', 'HTTPS', 'query-4242', 'C_ANY', 'qclass-7', 'SERVFAIL', '?12'],
    )
  })
})
