import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {formatZeekDouble, formatZeekJson, zeekJsonString} from '../../src/sensor/logs/zeek-json.js'

describe('Zeek JSON log lines', () => {
  it('prints doubles as rapidjson with six decimal places does: truncated, trailing zeros trimmed, always a point', () => {
    const cases: [number, string][] = [
      [5, '5.0'],
      [0, '0.0'],
      [0.254, '0.254'],
      [1591367999.430166, '1591367999.430166'],
      [0.1234567, '0.123456'],
      [2.5e-7, '0.0'],
      [123456.1, '123456.1'],
      [-1.5, '-1.5'],
    ]
    for (const [value, text] of cases) assert.equal(formatZeekDouble(value), text, `double ${value}`)
  })

  it('escapes bytes that are not printable as literal \\xNN and keeps valid UTF-8', () => {
    assert.equal(zeekJsonString('www.example.com'), '"www.example.com"')
    assert.equal(zeekJsonString('a"b\\c'), '"a\\"b\\\\c"')
    assert.equal(zeekJsonString('GET\n\x00'), '"GET\\\\x0a\\\\x00"')
    // 'é' as UTF-8 bytes (0xc3 0xa9) handed in as a byte string, then a lone 0xff byte.
    assert.equal(zeekJsonString('caf\xc3\xa9\xff'), '"café\\\\xff"')
    assert.equal(
      JSON.parse(zeekJsonString('x\x01y')),
      'x\\x01y',
      'the escape survives a JSON parser literally',
    )
  })

  it('writes conn fields in schema order, leaves unset fields out, counts without a point and times with one', () => {
    const line = formatZeekJson('conn', {
      history: 'ShADadFf',
      uid: 'C5bLoe2Mvxqhawzqqd',
      ts: 1591367999.430166,
      'id.orig_h': '192.168.4.76',
      'id.orig_p': 46378,
      'id.resp_h': '31.3.245.133',
      'id.resp_p': 80,
      proto: 'tcp',
      service: 'http',
      duration: 0.254,
      orig_bytes: 77,
      resp_bytes: 295,
      conn_state: 'SF',
      missed_bytes: 0,
      orig_pkts: 6,
      orig_ip_bytes: 397,
      resp_pkts: 4,
      resp_ip_bytes: 511,
      ip_proto: 6,
      local_orig: undefined,
    })
    assert.equal(
      line,
      '{"ts":1591367999.430166,"uid":"C5bLoe2Mvxqhawzqqd","id.orig_h":"192.168.4.76","id.orig_p":46378,"id.resp_h":"31.3.245.133","id.resp_p":80,"proto":"tcp","service":"http","duration":0.254,"orig_bytes":77,"resp_bytes":295,"conn_state":"SF","missed_bytes":0,"history":"ShADadFf","orig_pkts":6,"orig_ip_bytes":397,"resp_pkts":4,"resp_ip_bytes":511,"ip_proto":6}',
    )
  })

  it('writes vectors and sets as arrays, intervals inside them as doubles', () => {
    const line = formatZeekJson('dns', {
      ts: 10,
      answers: ['1.2.3.4', 'a.example'],
      TTLs: [300, 60.5],
      rejected: false,
    })
    assert.equal(line, '{"ts":10.0,"answers":["1.2.3.4","a.example"],"TTLs":[300.0,60.5],"rejected":false}')
    assert.equal(formatZeekJson('http', {ts: 1, tags: []}), '{"ts":1.0,"tags":[]}')
  })
})
