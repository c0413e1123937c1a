// AnalyzerFactory: analysers by Zeek's registered ports, by content sniffing on other ports (HTTP on
// 5000, TLS on 8443), and none for random data.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {createAnalyzers, servicesFor} from '../../src/sensor/analyzers/registry.js'
import {looksLikeHttpRequest, looksLikeTlsClientHello} from '../../src/sensor/analyzers/sniff.js'
import {buildDnsQuery} from '../../src/sensor/craft/dns.js'
import {buildHttpRequest, buildHttpResponse} from '../../src/sensor/craft/http.js'
import {TLS_RECORD, buildClientHello, tlsRecords} from '../../src/sensor/craft/tls.js'
import type {ConnProto, ConnView, LogRecord, SensorSink} from '../../src/sensor/types.js'

function conn(proto: ConnProto, respP: number): ConnView {
  return {
    uid: 'CregTest1',
    id: {origH: '10.0.0.1', origP: 40001, respH: '10.0.0.2', respP, proto},
    startTs: 1,
  }
}

function recordingSink(): {sink: SensorSink; logs: [string, LogRecord][]} {
  const logs: [string, LogRecord][] = []
  return {logs, sink: {log: (path, record) => logs.push([path, record]), weird: () => {}}}
}

const text = (value: string): Uint8Array => Uint8Array.from(Buffer.from(value, 'latin1'))
const CLIENT_HELLO = tlsRecords(TLS_RECORD.handshake, buildClientHello({serverName: 'sniffed.example'}))
/** Deterministic pseudo-random bytes (xorshift), so the test is reproducible. */
function noise(length: number, seed: number): Uint8Array {
  let state = seed
  return Uint8Array.from({length}, () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return state & 0xff
  })
}

describe('analyser selection by port', () => {
  const cases: [ConnProto, number, string[]][] = [
    ['udp', 53, ['dns']],
    ['udp', 5353, ['dns']],
    ['udp', 5355, ['dns']],
    ['tcp', 53, ['dns']],
    ['tcp', 80, ['http']],
    ['tcp', 8080, ['http']],
    ['tcp', 3128, ['http']],
    ['tcp', 443, ['ssl']],
    ['tcp', 993, ['ssl']],
    ['tcp', 5223, ['ssl']],
    ['udp', 443, []],
    ['udp', 137, []],
    ['tcp', 22, []],
    ['icmp', 0, []],
  ]
  for (const [proto, port, expected] of cases) {
    it(`${port}/${proto} → [${expected.join(', ')}]`, () => {
      const {sink} = recordingSink()
      const analyzers = createAnalyzers(conn(proto, port), new Uint8Array(0), true, sink)
      assert.deepEqual(
        analyzers.map((analyzer) => analyzer.service),
        expected,
      )
      for (const analyzer of analyzers) {
        assert.equal(analyzer.confirmed, false, 'nothing is confirmed before data was parsed')
        assert.equal(analyzer.failed, false, 'a fresh analyser has not failed')
      }
    })
  }
})

describe('analyser selection by content', () => {
  it('recognises HTTP on port 5000 and the analyser logs the transaction', () => {
    const {sink, logs} = recordingSink()
    const request = buildHttpRequest({uri: '/api', headers: [['Host', 'svc.local:5000']]})
    const [analyzer, ...rest] = createAnalyzers(conn('tcp', 5000), request, true, sink)
    assert.equal(analyzer?.service, 'http')
    assert.equal(rest.length, 0)
    analyzer.deliver(true, request, 2)
    analyzer.deliver(false, buildHttpResponse({status: 200, body: '{}'}), 3)
    assert.equal(analyzer.confirmed, true)
    assert.deepEqual(
      logs.map(([path, record]) => [path, record['host'], record['uri'], record['status_code']]),
      [['http', 'svc.local', '/api', 200]],
    )
  })

  it('recognises TLS on port 8443 and the analyser confirms', () => {
    const {sink} = recordingSink()
    const analyzers = createAnalyzers(conn('tcp', 8443), CLIENT_HELLO, true, sink)
    assert.deepEqual(
      analyzers.map((analyzer) => analyzer.service),
      ['ssl'],
    )
    analyzers[0]!.deliver(true, CLIENT_HELLO, 2)
    assert.equal(analyzers[0]!.confirmed, true)
  })

  it('adds SSL next to HTTP when port 80 carries a ClientHello; HTTP then fails, SSL confirms', () => {
    const {sink} = recordingSink()
    const analyzers = createAnalyzers(conn('tcp', 80), CLIENT_HELLO, true, sink)
    assert.deepEqual(
      analyzers.map((analyzer) => analyzer.service),
      ['http', 'ssl'],
    )
    for (const analyzer of analyzers) analyzer.deliver(true, CLIENT_HELLO, 2)
    assert.deepEqual(
      analyzers.map((analyzer) => [analyzer.service, analyzer.confirmed, analyzer.failed]),
      [
        ['http', false, true],
        ['ssl', true, false],
      ],
    )
  })

  it('recognises a request line cut before its end by a known method', () => {
    assert.equal(looksLikeHttpRequest(text('POST /upload/very/long/path?with=query')), true)
    assert.equal(looksLikeHttpRequest(text('FOO /x')), false)
    assert.equal(looksLikeHttpRequest(text('GET / HTTP/2.0\r\n')), false, 'only HTTP/1.x')
    assert.equal(looksLikeTlsClientHello(CLIENT_HELLO.subarray(0, 6)), true)
    assert.equal(
      looksLikeTlsClientHello(Uint8Array.of(22, 3, 3, 0, 40, 2)),
      false,
      'a ServerHello is not sniffed',
    )
  })

  it('picks nothing for random data, nor for the responder speaking first', () => {
    const {sink} = recordingSink()
    for (let seed = 1; seed <= 200; seed++) {
      const data = noise(64, seed)
      assert.deepEqual(
        servicesFor(conn('tcp', 40000 + seed), data, true),
        [],
        `random payload with seed ${seed} matched a protocol`,
      )
    }
    assert.deepEqual(createAnalyzers(conn('tcp', 7000), CLIENT_HELLO, false, sink), [])
    assert.deepEqual(createAnalyzers(conn('udp', 7000), buildDnsQuery(1, 'x.example', 1), true, sink), [])
  })
})
