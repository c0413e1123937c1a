// HTTP analyser: http.log records field by field for bodies by Content-Length, chunked and
// close-delimited, HEAD/304/1xx, pipelining, byte-by-byte delivery, and garbage on an HTTP port.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {HttpAnalyzer} from '../../src/sensor/analyzers/http.js'
import {parseRequestLine, unescapeUri} from '../../src/sensor/analyzers/http-lines.js'
import {buildHttpRequest, buildHttpResponse} from '../../src/sensor/craft/http.js'
import type {ConnView} from '../../src/sensor/types.js'
import {RecordingSink} from '../helpers/sensor-packets.js'

function setup() {
  const sink = new RecordingSink()
  const conn: ConnView = {
    uid: 'ChttpTest1',
    id: {origH: '192.168.1.10', origP: 51000, respH: '93.184.216.34', respP: 80, proto: 'tcp'},
    startTs: 10,
  }
  return {
    analyzer: new HttpAnalyzer(conn, sink),
    records: sink.logged,
    paths: sink.paths,
    weirds: sink.weirds,
  }
}

const text = (value: string): Uint8Array => Uint8Array.from(Buffer.from(value, 'latin1'))

/** Delivers `data` in chunks of `size` bytes. */
function feed(
  analyzer: HttpAnalyzer,
  isOrig: boolean,
  data: Uint8Array,
  ts: number,
  size = data.length,
): void {
  for (let at = 0; at < data.length; at += size) analyzer.deliver(isOrig, data.subarray(at, at + size), ts)
}

const ID_FIELDS = {
  uid: 'ChttpTest1',
  'id.orig_h': '192.168.1.10',
  'id.orig_p': 51000,
  'id.resp_h': '93.184.216.34',
  'id.resp_p': 80,
}

// A request written out by hand so builder and parser cannot share a bug.
const HAND_REQUEST = text(
  'GET /index.html?q=a%20b HTTP/1.1\r\n' +
    'Host: www.example.com:8080\r\n' +
    'User-Agent: curl/8.5.0\r\n' +
    'Referer: http://ref.example/\r\n' +
    'Origin: http://origin.example\r\n' +
    'Accept: */*\r\n' +
    '\r\n',
)
const HAND_RESPONSE = text(
  'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nhello world!',
)

const GET_RECORD = {
  ts: 10.5,
  ...ID_FIELDS,
  trans_depth: 1,
  method: 'GET',
  host: 'www.example.com',
  uri: '/index.html?q=a b',
  referrer: 'http://ref.example/',
  version: '1.1',
  user_agent: 'curl/8.5.0',
  origin: 'http://origin.example',
  request_body_len: 0,
  response_body_len: 12,
  status_code: 200,
  status_msg: 'OK',
  tags: [],
}

describe('HTTP transactions', () => {
  it('logs GET + 200 with a Content-Length body field by field when the response completes', () => {
    const {analyzer, records, paths} = setup()
    analyzer.deliver(true, HAND_REQUEST, 10.5)
    assert.equal(analyzer.confirmed, true, 'a request line confirms HTTP')
    analyzer.deliver(false, HAND_RESPONSE.subarray(0, 60), 10.6)
    assert.equal(records.length, 0, 'not logged before the body is complete')
    analyzer.deliver(false, HAND_RESPONSE.subarray(60), 10.7)
    assert.deepEqual(paths, ['http'])
    assert.deepEqual(records[0], GET_RECORD)
    analyzer.finish(11)
    assert.equal(records.length, 1, 'nothing left to log at finish')
  })

  it('gives the same record when every byte arrives in its own chunk', () => {
    const {analyzer, records} = setup()
    feed(analyzer, true, HAND_REQUEST, 10.5, 1)
    feed(analyzer, false, HAND_RESPONSE, 10.7, 1)
    assert.deepEqual(records, [GET_RECORD])
  })

  it('counts a POST body by Content-Length', () => {
    const {analyzer, records} = setup()
    const body = 'name=alice&token=' + 'x'.repeat(100)
    analyzer.deliver(
      true,
      buildHttpRequest({method: 'POST', uri: '/login', headers: [['Host', 'h']], body}),
      1,
    )
    analyzer.deliver(
      false,
      buildHttpResponse({status: 302, reason: 'Found', headers: [['Content-Length', '0']]}),
      2,
    )
    assert.equal(records[0]?.['method'], 'POST')
    assert.equal(records[0]?.['request_body_len'], body.length)
    assert.equal(records[0]?.['response_body_len'], 0)
    assert.equal(records[0]?.['status_code'], 302)
    assert.equal(records[0]?.['status_msg'], 'Found')
  })

  it('counts the decoded length of a chunked response, with a chunk size line split across chunks', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildHttpRequest({uri: '/stream'}), 1)
    const body = 'a'.repeat(300)
    const response = buildHttpResponse({status: 200, body, chunked: [100, 7, 193]})
    feed(analyzer, false, response, 2, 13)
    assert.equal(records[0]?.['response_body_len'], 300)
    // Hand-written chunked body with an extension and a trailer.
    const hand = setup()
    hand.analyzer.deliver(true, text('GET / HTTP/1.1\r\n\r\n'), 1)
    hand.analyzer.deliver(
      false,
      text(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n',
      ),
      2,
    )
    assert.equal(hand.records[0]?.['response_body_len'], 15)
  })

  it('counts a close-delimited response body until finish', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildHttpRequest({version: '1.0'}), 1)
    analyzer.deliver(
      false,
      buildHttpResponse({version: '1.0', status: 200, body: 'x'.repeat(40), noContentLength: true}),
      2,
    )
    analyzer.deliver(false, text('y'.repeat(60)), 3)
    assert.equal(records.length, 0, 'the body runs until the connection closes')
    analyzer.finish(4)
    assert.equal(records[0]?.['response_body_len'], 100)
    assert.equal(records[0]?.['version'], '1.0')
  })

  it('reads no body after a HEAD response with Content-Length, and none after 304', () => {
    const {analyzer, records} = setup()
    analyzer.deliver(true, buildHttpRequest({method: 'HEAD', uri: '/big'}), 1)
    analyzer.deliver(true, buildHttpRequest({uri: '/cached', headers: [['If-None-Match', '"abc"']]}), 1)
    analyzer.deliver(false, buildHttpResponse({status: 200, headers: [['Content-Length', '123456']]}), 2)
    analyzer.deliver(false, buildHttpResponse({status: 304, headers: [['ETag', '"abc"']]}), 3)
    assert.deepEqual(
      records.map((record) => [record['method'], record['status_code'], record['response_body_len']]),
      [
        ['HEAD', 200, 0],
        ['GET', 304, 0],
      ],
    )
  })

  it('keeps 100 Continue as info_code/info_msg on the transaction of the final response', () => {
    const {analyzer, records} = setup()
    const request = buildHttpRequest({
      method: 'PUT',
      uri: '/up',
      headers: [['Expect', '100-continue']],
      body: 'z'.repeat(10),
    })
    const headEnd = request.length - 10
    analyzer.deliver(true, request.subarray(0, headEnd), 1)
    analyzer.deliver(false, buildHttpResponse({status: 100}), 1.1)
    assert.equal(records.length, 0, 'a 1xx does not complete the transaction')
    analyzer.deliver(true, request.subarray(headEnd), 1.2)
    analyzer.deliver(false, buildHttpResponse({status: 201, reason: 'Created', body: 'ok'}), 1.3)
    assert.deepEqual(
      [
        records.length,
        records[0]?.['trans_depth'],
        records[0]?.['status_code'],
        records[0]?.['status_msg'],
        records[0]?.['info_code'],
        records[0]?.['info_msg'],
        records[0]?.['request_body_len'],
        records[0]?.['response_body_len'],
      ],
      [1, 1, 201, 'Created', 100, 'Continue', 10, 2],
    )
  })

  it('numbers pipelined requests 1, 2, 3 and matches responses in order', () => {
    const {analyzer, records} = setup()
    const requests = ['/a', '/b', '/c'].map((uri) =>
      buildHttpRequest({uri, headers: [['Host', 'pipe.example']]}),
    )
    analyzer.deliver(true, Uint8Array.from(Buffer.concat(requests)), 1)
    const responses = [
      buildHttpResponse({status: 200, body: 'A'}),
      buildHttpResponse({status: 404, body: 'not here'}),
      buildHttpResponse({status: 200, body: 'CCC', chunked: true}),
    ]
    feed(analyzer, false, Uint8Array.from(Buffer.concat(responses)), 2, 5)
    assert.deepEqual(
      records.map((record) => [
        record['trans_depth'],
        record['uri'],
        record['status_code'],
        record['response_body_len'],
      ]),
      [
        [1, '/a', 200, 1],
        [2, '/b', 404, 8],
        [3, '/c', 200, 3],
      ],
    )
  })

  it('logs an unanswered request at finish, with the Basic auth user and proxy headers', () => {
    const {analyzer, records} = setup()
    const auth = Buffer.from('bob:secret').toString('base64')
    analyzer.deliver(
      true,
      buildHttpRequest({
        uri: '/private',
        headers: [
          ['Authorization', `Basic ${auth}`],
          ['X-Forwarded-For', '10.1.1.1'],
        ],
      }),
      5,
    )
    analyzer.finish(6)
    assert.deepEqual(records, [
      {
        ts: 5,
        ...ID_FIELDS,
        trans_depth: 1,
        method: 'GET',
        uri: '/private',
        version: '1.1',
        request_body_len: 0,
        response_body_len: 0,
        tags: [],
        username: 'bob',
        proxied: ['X-FORWARDED-FOR -> 10.1.1.1'],
      },
    ])
  })

  it('stops reading as HTTP after 101 Switching Protocols and logs the upgrade at finish', () => {
    const {analyzer, records, weirds} = setup()
    analyzer.deliver(true, buildHttpRequest({uri: '/ws', headers: [['Upgrade', 'websocket']]}), 1)
    analyzer.deliver(false, buildHttpResponse({status: 101, headers: [['Upgrade', 'websocket']]}), 2)
    analyzer.deliver(true, Uint8Array.of(0x81, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9), 3)
    analyzer.deliver(false, Uint8Array.of(0x81, 0x02, 0x68, 0x69), 3)
    analyzer.finish(4)
    assert.deepEqual(weirds, [])
    assert.deepEqual([records.length, records[0]?.['status_code'], records[0]?.['info_code']], [1, 101, 101])
  })
})

describe('HTTP violations', () => {
  it('fails on binary garbage with bad_HTTP_request and logs nothing', () => {
    const {analyzer, records, weirds} = setup()
    analyzer.deliver(true, Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01), 1)
    assert.equal(analyzer.failed, true)
    assert.equal(analyzer.confirmed, false)
    analyzer.finish(2)
    assert.deepEqual(records, [])
    assert.deepEqual(
      weirds.map((weird) => [weird.name, weird.uid]),
      [['bad_HTTP_request', 'ChttpTest1']],
    )
  })

  it('fails on a text line that is no request line', () => {
    const {analyzer, weirds} = setup()
    analyzer.deliver(true, text('hello there, how are you\r\n'), 1)
    assert.equal(analyzer.failed, true)
    assert.equal(weirds[0]?.name, 'bad_HTTP_request')
  })

  it('accepts an unknown method with an unknown_HTTP_method weird', () => {
    const {analyzer, records, weirds} = setup()
    analyzer.deliver(true, text('BREW /pot HTTP/1.1\r\n\r\n'), 1)
    analyzer.deliver(false, text("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n"), 2)
    assert.equal(records[0]?.['method'], 'BREW')
    assert.equal(records[0]?.['status_msg'], "I'm a teapot")
    assert.deepEqual(
      weirds.map((weird) => [weird.name, weird.addl]),
      [['unknown_HTTP_method', 'BREW']],
    )
  })

  it('fails when the server answers with something that is not a status line', () => {
    const {analyzer, weirds} = setup()
    analyzer.deliver(false, text('SSH-2.0-OpenSSH_9.6\r\n'), 1)
    assert.equal(analyzer.failed, true)
    assert.equal(weirds[0]?.name, 'bad_HTTP_reply')
  })
})

describe('HTTP lines', () => {
  it('parses request lines and refuses incomplete ones', () => {
    const none = (): void => assert.fail('no weird expected')
    assert.deepEqual(parseRequestLine(text('OPTIONS * HTTP/1.1'), none), {
      method: 'OPTIONS',
      uri: '*',
      version: '1.1',
    })
    assert.equal(parseRequestLine(text('GET /'), none), undefined)
    assert.equal(parseRequestLine(text('GET HTTP/1.1'), none), undefined)
    assert.equal(parseRequestLine(text('GET / HTTP/x'), none), undefined)
  })

  it('decodes URIs the way Zeek unescape_URI does', () => {
    const weirds: string[] = []
    const decode = (uri: string): string => unescapeUri(text(uri), 0, uri.length, (name) => weirds.push(name))
    assert.equal(decode('/a%41%u0042%zz'), '/aAB%zz')
    assert.equal(decode('/x%%41'), '/xA')
    assert.equal(decode('/end%'), '/end%')
    assert.deepEqual(weirds, ['unescaped_%_in_URI', 'double_%_in_URI', 'illegal_%_at_end_of_URI'])
  })
})
