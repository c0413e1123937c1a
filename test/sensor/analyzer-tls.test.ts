// TLS analyser: ssl.log records field by field for TLS 1.2 (ECDHE, ALPN, resumption) and TLS 1.3
// (supported_versions, key_share), records and handshake messages split anywhere, alerts, and
// garbage on an SSL port.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseClientHello, parseServerHello} from '../../src/sensor/analyzers/tls-hello.js'
import {cipherSuiteName, curveName, tlsVersionName} from '../../src/sensor/analyzers/tls-names.js'
import {TlsAnalyzer} from '../../src/sensor/analyzers/tls.js'
import {
  TLS_RECORD,
  buildAlert,
  buildApplicationData,
  buildChangeCipherSpec,
  buildClientHello,
  buildEcdheServerKeyExchange,
  buildOpaqueHandshake,
  buildServerHello,
  concatRecords,
  tlsRecords,
} from '../../src/sensor/craft/tls.js'
import type {ConnView} from '../../src/sensor/types.js'
import {RecordingSink} from '../helpers/sensor-packets.js'

function setup(respP = 443) {
  const sink = new RecordingSink()
  const conn: ConnView = {
    uid: 'CtlsTest1',
    id: {origH: '10.9.8.7', origP: 55555, respH: '203.0.113.9', respP, proto: 'tcp'},
    startTs: 20,
  }
  return {analyzer: new TlsAnalyzer(conn, sink), records: sink.logged, paths: sink.paths, weirds: sink.weirds}
}

function feed(
  analyzer: TlsAnalyzer,
  isOrig: boolean,
  data: Uint8Array,
  ts: number,
  size = data.length,
): void {
  for (let at = 0; at < data.length; at += size) analyzer.deliver(isOrig, data.subarray(at, at + size), ts)
}

const handshake = (...messages: Uint8Array[]): Uint8Array =>
  tlsRecords(TLS_RECORD.handshake, concatRecords(...messages))
const clientSession = Uint8Array.from({length: 32}, (_, i) => i + 1)

const CLIENT_HELLO_12 = buildClientHello({
  serverName: 'www.example.com',
  alpn: ['h2', 'http/1.1'],
  sessionId: clientSession,
  keyShareGroups: [29],
  supportedVersions: [0x0304, 0x0303],
})

/** A full TLS 1.2 ECDHE_RSA handshake, each flight as one chunk. */
function tls12Flights(serverSession: Uint8Array): [isOrig: boolean, data: Uint8Array][] {
  return [
    [true, handshake(CLIENT_HELLO_12)],
    [
      false,
      handshake(
        buildServerHello({cipherSuite: 0xc02f, alpn: 'h2', sessionId: serverSession}),
        buildOpaqueHandshake(11, 1800),
        buildEcdheServerKeyExchange(23),
        buildOpaqueHandshake(14, 0),
      ),
    ],
    [
      true,
      concatRecords(
        handshake(buildOpaqueHandshake(16, 66)),
        buildChangeCipherSpec(),
        tlsRecords(22, new Uint8Array(40)),
      ),
    ],
    [false, concatRecords(buildChangeCipherSpec(), tlsRecords(22, new Uint8Array(40)))],
    [true, buildApplicationData(300)],
  ]
}

const ID_FIELDS = {
  uid: 'CtlsTest1',
  'id.orig_h': '10.9.8.7',
  'id.orig_p': 55555,
  'id.resp_h': '203.0.113.9',
  'id.resp_p': 443,
}

describe('TLS 1.2', () => {
  it('logs an ECDHE-RSA-AES128-GCM handshake with SNI and ALPN h2 when established', () => {
    const {analyzer, records, paths} = setup()
    let ts = 20
    for (const [isOrig, data] of tls12Flights(Uint8Array.of(9, 9, 9)))
      analyzer.deliver(isOrig, data, (ts += 0.01))
    assert.equal(analyzer.confirmed, true)
    assert.deepEqual(paths, ['ssl'])
    assert.deepEqual(records[0], {
      ts: 20.01,
      ...ID_FIELDS,
      version: 'TLSv12',
      cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      curve: 'secp256r1',
      server_name: 'www.example.com',
      resumed: false,
      next_protocol: 'h2',
      established: true,
      ssl_history: 'CsxknGIi',
    })
    analyzer.deliver(false, buildApplicationData(500), 21)
    analyzer.finish(22)
    assert.equal(records.length, 1, 'logged once, at establishment')
  })

  it('gives the same record when every byte arrives alone and the ClientHello spans two records', () => {
    const {analyzer, records} = setup()
    let ts = 20
    const flights = tls12Flights(Uint8Array.of(9, 9, 9))
    flights[0] = [
      true,
      tlsRecords(TLS_RECORD.handshake, CLIENT_HELLO_12, {maxFragment: 100, version: 0x0301}),
    ]
    for (const [isOrig, data] of flights) feed(analyzer, isOrig, data, (ts += 0.01), 1)
    assert.equal(records.length, 1)
    assert.equal(records[0]?.['ssl_history'], 'CsxknGIi')
    assert.equal(records[0]?.['server_name'], 'www.example.com')
    assert.equal(records[0]?.['curve'], 'secp256r1')
    assert.equal(records[0]?.['established'], true)
  })

  it('marks a resumed session when the server echoes the client session id', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, handshake(CLIENT_HELLO_12), 1)
    analyzer.deliver(
      false,
      concatRecords(
        handshake(buildServerHello({cipherSuite: 0xc030, sessionId: clientSession})),
        buildChangeCipherSpec(),
        tlsRecords(22, new Uint8Array(40)),
      ),
      2,
    )
    analyzer.deliver(true, concatRecords(buildChangeCipherSpec(), tlsRecords(22, new Uint8Array(40))), 3)
    analyzer.deliver(true, buildApplicationData(10), 4)
    assert.deepEqual(
      [records[0]?.['resumed'], records[0]?.['cipher'], records[0]?.['ssl_history'], records[0]?.['curve']],
      [true, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'CsiI', undefined],
    )
  })

  it('records a fatal alert and logs the failed handshake at finish', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, handshake(CLIENT_HELLO_12), 30)
    analyzer.deliver(false, buildAlert(2, 40), 30.1)
    assert.equal(records.length, 0, 'not established: logged when the connection ends')
    analyzer.finish(31)
    assert.deepEqual(records[0], {
      ts: 30,
      ...ID_FIELDS,
      server_name: 'www.example.com',
      resumed: false,
      last_alert: 'handshake_failure',
      established: false,
      ssl_history: 'Cl',
    })
  })
})

describe('TLS 1.3', () => {
  it('takes the version from supported_versions and the curve from key_share', () => {
    const {analyzer, records} = setup()
    const hello = buildClientHello({
      serverName: 'tls13.example',
      supportedVersions: [0x0304],
      keyShareGroups: [4588, 29],
      sessionId: clientSession,
      alpn: ['h2'],
    })
    analyzer.deliver(true, handshake(hello), 40)
    analyzer.deliver(
      false,
      concatRecords(
        handshake(
          buildServerHello({
            cipherSuite: 0x1301,
            selectedVersion: 0x0304,
            keyShareGroup: 29,
            sessionId: clientSession,
          }),
        ),
        buildChangeCipherSpec(),
        buildApplicationData(2000),
      ),
      40.05,
    )
    assert.equal(records.length, 0, 'the client has not finished yet')
    analyzer.deliver(true, concatRecords(buildChangeCipherSpec(), buildApplicationData(53)), 40.1)
    assert.deepEqual(records[0], {
      ts: 40,
      ...ID_FIELDS,
      version: 'TLSv13',
      cipher: 'TLS_AES_128_GCM_SHA256',
      curve: 'x25519',
      server_name: 'tls13.example',
      resumed: false,
      established: true,
      ssl_history: 'CsiI',
    })
  })

  it('treats a pre_shared_key in the ServerHello as resumption and names X25519MLKEM768', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(
      true,
      handshake(buildClientHello({supportedVersions: [0x0304], keyShareGroups: [4588]})),
      1,
    )
    analyzer.deliver(
      false,
      concatRecords(
        handshake(
          buildServerHello({
            cipherSuite: 0x1302,
            selectedVersion: 0x0304,
            keyShareGroup: 4588,
            preSharedKey: true,
          }),
        ),
        buildApplicationData(100),
      ),
      2,
    )
    analyzer.deliver(true, buildApplicationData(40), 3)
    assert.deepEqual(
      [
        records[0]?.['resumed'],
        records[0]?.['curve'],
        records[0]?.['cipher'],
        records[0]?.['ssl_history'],
        records[0]?.['established'],
      ],
      [true, 'X25519MLKEM768', 'TLS_AES_256_GCM_SHA384', 'Cs', true],
    )
  })
})

describe('TLS hand-written bytes and violations', () => {
  // ClientHello with SNI "a.io", one suite (0x1301), written out byte by byte.
  const HAND_CLIENT_HELLO = Uint8Array.from([
    0x16,
    0x03,
    0x01,
    0x00,
    0x3c,
    0x01,
    0x00,
    0x00,
    0x38,
    0x03,
    0x03,
    ...new Array<number>(32).fill(0),
    0x00,
    0x00,
    0x02,
    0x13,
    0x01,
    0x01,
    0x00,
    0x00,
    0x0d,
    0x00,
    0x00,
    0x00,
    0x09,
    0x00,
    0x07,
    0x00,
    0x00,
    0x04,
    0x61,
    0x2e,
    0x69,
    0x6f,
  ])
  // ServerHello choosing 0xc02f with ALPN "h2".
  const HAND_SERVER_HELLO = Uint8Array.from([
    0x16,
    0x03,
    0x03,
    0x00,
    0x35,
    0x02,
    0x00,
    0x00,
    0x31,
    0x03,
    0x03,
    ...new Array<number>(32).fill(0x11),
    0x00,
    0xc0,
    0x2f,
    0x00,
    0x00,
    0x09,
    0x00,
    0x10,
    0x00,
    0x05,
    0x00,
    0x03,
    0x02,
    0x68,
    0x32,
  ])

  it('parses hand-written hellos', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, HAND_CLIENT_HELLO, 1)
    analyzer.deliver(false, HAND_SERVER_HELLO, 2)
    analyzer.finish(3)
    assert.deepEqual(
      [
        records[0]?.['server_name'],
        records[0]?.['cipher'],
        records[0]?.['version'],
        records[0]?.['next_protocol'],
        records[0]?.['ssl_history'],
      ],
      ['a.io', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLSv12', 'h2', 'Cs'],
    )
    const client = parseClientHello(HAND_CLIENT_HELLO.subarray(9))
    assert.deepEqual(client?.cipherSuites, [0x1301])
    assert.deepEqual(client?.serverNames, ['a.io'])
    const server = parseServerHello(HAND_SERVER_HELLO.subarray(9))
    assert.deepEqual([server?.cipherSuite, server?.alpn, server?.helloRetryRequest], [0xc02f, ['h2'], false])
  })

  it('exposes what the crafted ClientHello carries', () => {
    const parsed = parseClientHello(CLIENT_HELLO_12.subarray(4))
    assert.deepEqual(
      [
        parsed?.serverNames,
        parsed?.alpn,
        parsed?.supportedVersions,
        parsed?.keyShareGroups,
        parsed?.sessionId.length,
      ],
      [['www.example.com'], ['h2', 'http/1.1'], [0x0304, 0x0303], [29], 32],
    )
    assert.equal(
      parseClientHello(CLIENT_HELLO_12.subarray(4, 50)),
      undefined,
      'a cut hello is refused, not thrown',
    )
  })

  it('fails on garbage on 443 and logs nothing', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), 1)
    assert.equal(analyzer.failed, true)
    assert.equal(analyzer.confirmed, false)
    analyzer.finish(2)
    assert.deepEqual(records, [])
  })

  it('fails on a well-framed record whose handshake is no hello', () => {
    const {analyzer} = setup()
    analyzer.deliver(true, handshake(buildOpaqueHandshake(16, 10)), 1)
    assert.equal(analyzer.failed, true)
  })

  it('names versions, suites and curves as Zeek does, unknown ones as unknown-<n>', () => {
    assert.deepEqual(
      [tlsVersionName(0x0301), tlsVersionName(0x0300), tlsVersionName(0x7f1c), tlsVersionName(0x9999)],
      ['TLSv10', 'SSLv3', 'TLSv13-draft28', 'unknown-39321'],
    )
    assert.deepEqual(
      [cipherSuiteName(0xcca8), cipherSuiteName(0x1303), cipherSuiteName(0x0a0a)],
      ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'unknown-2570'],
    )
    assert.deepEqual(
      [curveName(24), curveName(25), curveName(30), curveName(9999)],
      ['secp384r1', 'secp521r1', 'x448', 'unknown-9999'],
    )
  })
})
