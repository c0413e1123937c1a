// §1: the normalized event as Go's encoding/json decodes it (case-insensitive keys, later duplicates
// win, strict integers, null = zero value, unknown keys ignored), upstream's Valid(), the golden
// serialization, exact rcvd_time nanoseconds, and RFC 3339 timestamps as Go's time.Parse reads them.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  EventDecodeError,
  emptyEvent,
  isValidEvent,
  parseEvent,
  parseEventLines,
  parseRfc3339Seconds,
  serializeEvent,
  type NormalizedEvent,
} from '../../src/engine/index.js'
import {testValidEvent} from './upstream-data.js'

function rejects(text: string): void {
  assert.throws(() => parseEvent(text), EventDecodeError, text)
}

describe('event JSON decoding (§1.3)', () => {
  it('decodes every field', () => {
    const event = parseEvent(
      JSON.stringify({
        conn_id: 7,
        event_id: 'id',
        timestamp: 'ts',
        title: 'ti',
        sensor: 'se',
        plugin_id: 1001,
        plugin_sid: 2,
        product: 'p',
        category: 'c',
        subcategory: 'sc',
        src_ip: '1.1.1.1',
        src_port: 1,
        dst_ip: '2.2.2.2',
        dst_port: 2,
        protocol: 'TCP',
        custom_data1: 'd1',
        custom_label1: 'l1',
        custom_data2: 'd2',
        custom_label2: 'l2',
        custom_data3: 'd3',
        custom_label3: 'l3',
        rcvd_time: 5,
        trace_parent: 'tp',
        trace_state: 'tst',
      }),
    )
    assert.deepEqual(event, {
      connId: 7,
      eventId: 'id',
      timestamp: 'ts',
      title: 'ti',
      sensor: 'se',
      pluginId: 1001,
      pluginSid: 2,
      product: 'p',
      category: 'c',
      subcategory: 'sc',
      srcIp: '1.1.1.1',
      srcPort: 1,
      dstIp: '2.2.2.2',
      dstPort: 2,
      protocol: 'TCP',
      customData1: 'd1',
      customLabel1: 'l1',
      customData2: 'd2',
      customLabel2: 'l2',
      customData3: 'd3',
      customLabel3: 'l3',
      rcvdTime: 5n,
      traceParent: 'tp',
      traceState: 'tst',
    } satisfies NormalizedEvent)
  })

  it('matches keys case-insensitively and ignores unknown keys', () => {
    const event = parseEvent(
      '{"SRC_IP":"1.1.1.1","Event_ID":"x","Plugin_Sid":3,"unknown":{"a":[1,2]},"src_ipx":"no"}',
    )
    assert.deepEqual([event.srcIp, event.eventId, event.pluginSid], ['1.1.1.1', 'x', 3])
  })

  it('folds keys like Go: the Kelvin sign and long s match k and s', () => {
    const event = parseEvent('{"\u017Frc_ip":"1.1.1.1","\u212Aingdom":"x","ſenſor":"s"}')
    assert.deepEqual([event.srcIp, event.sensor], ['1.1.1.1', 's'])
  })

  it('lets later duplicate keys win, in input order, whatever their case', () => {
    assert.equal(parseEvent('{"plugin_id":1,"plugin_id":2}').pluginId, 2)
    assert.equal(parseEvent('{"plugin_id":1,"PLUGIN_ID":2}').pluginId, 2)
    assert.equal(parseEvent('{"plugin_id":1,"PLUGIN_ID":2,"plugin_id":3}').pluginId, 3)
    assert.equal(parseEvent('{"Src_Ip":"a","src_ip":"b","SRC_IP":"c","src_ip":"d"}').srcIp, 'd')
    // null in a later duplicate leaves the earlier value (null never assigns).
    assert.equal(parseEvent('{"plugin_id":1,"plugin_id":null}').pluginId, 1)
  })

  it('still rejects a bad value hidden by a later duplicate', () => {
    rejects('{"plugin_id":"1","plugin_id":1}')
    rejects('{"plugin_id":1.5,"Plugin_ID":1}')
  })

  it('rejects non-integral and quoted integers, and overflows', () => {
    rejects('{"plugin_id":"1001"}')
    rejects('{"plugin_id":1001.0}')
    rejects('{"plugin_id":1e3}')
    rejects('{"src_port":"80"}')
    rejects('{"conn_id":-1}')
    rejects('{"rcvd_time":1.5}')
    rejects('{"rcvd_time":"1"}')
    rejects('{"rcvd_time":9223372036854775808}')
    rejects('{"plugin_id":true}')
  })

  it('rejects a wrong type for strings and the document', () => {
    rejects('{"src_ip":1}')
    rejects('{"event_id":["x"]}')
    rejects('{"sensor":{}}')
    rejects('[]')
    rejects('"event"')
    rejects('1')
  })

  it('rejects syntax errors, empty input and trailing data', () => {
    for (const text of [
      '',
      ' ',
      'garbage',
      '{',
      '{"a":1,}',
      '{"a" 1}',
      '{} {}',
      '{"a":01}',
      "{'a':1}",
      '\ufeff{}',
    ]) {
      rejects(text)
    }
  })

  it('accepts negative zero and large exact integers', () => {
    assert.equal(parseEvent('{"src_port":-0}').srcPort, 0)
    assert.equal(parseEvent('{"plugin_id":9007199254740991}').pluginId, 9007199254740991)
  })

  it('treats null as the zero value, for the document too', () => {
    const event = parseEvent('{"plugin_id":null,"src_ip":null,"rcvd_time":null,"conn_id":null}')
    assert.deepEqual(event, emptyEvent())
    assert.deepEqual(parseEvent('null'), emptyEvent())
  })

  it('keeps rcvd_time nanoseconds exact', () => {
    assert.equal(parseEvent('{"rcvd_time":1795263372882677522}').rcvdTime, 1795263372882677522n)
    assert.equal(parseEvent('{"rcvd_time":-9223372036854775808}').rcvdTime, -9223372036854775808n)
    assert.equal(parseEvent('{"rcvd_time":9223372036854775807}').rcvdTime, 9223372036854775807n)
  })

  it('decodes string escapes like Go, lone surrogates becoming U+FFFD', () => {
    assert.equal(parseEvent('{"title":"a\\u0026b\\n\\/\\"\\\\"}').title, 'a&b\n/"\\')
    assert.equal(parseEvent('{"title":"\\ud83d\\ude00"}').title, '😀')
    assert.equal(parseEvent('{"title":"x\\ud83dy"}').title, 'x\ufffdy')
    assert.equal(parseEvent('{"title":"\\ude00\\ud83d"}').title, '\ufffd\ufffd')
    assert.equal(parseEvent('{"title":"\\ud83d\\u0041"}').title, '\ufffdA')
    rejects('{"title":"a\\x"}')
    rejects('{"title":"a\nb"}')
  })
})

describe('Valid() (§1.2)', () => {
  // Upstream's TestValid event sets exactly the required strings.
  const required = ['eventId', 'timestamp', 'sensor', 'srcIp', 'dstIp'] as const
  const make = (fields: Partial<NormalizedEvent>) => ({...testValidEvent(), ...fields})

  it('rejects the empty event and one with only the required strings', () => {
    assert.equal(isValidEvent(emptyEvent()), false)
    assert.equal(isValidEvent(make({})), false)
  })

  it('accepts plugin id+sid, or product+category', () => {
    assert.equal(isValidEvent(make({pluginId: 1001, pluginSid: 50001})), true)
    assert.equal(isValidEvent(make({product: 'IDS', category: 'Malware'})), true)
    assert.equal(
      isValidEvent(make({product: 'IDS', category: 'Malware', pluginId: 1001, pluginSid: 50001})),
      true,
    )
  })

  it('requires product and category when either plugin number is 0', () => {
    assert.equal(isValidEvent(make({pluginId: 1001})), false)
    assert.equal(isValidEvent(make({pluginSid: 1})), false)
    assert.equal(isValidEvent(make({pluginId: 1001, product: 'IDS'})), false)
    assert.equal(isValidEvent(make({pluginId: 1001, category: 'Malware'})), false)
    assert.equal(isValidEvent(make({pluginId: 1001, product: 'IDS', category: 'Malware'})), true)
  })

  for (const field of required) {
    it(`requires ${field}`, () => {
      assert.equal(isValidEvent(make({pluginId: 1, pluginSid: 1, [field]: ''})), false)
    })
  }

  it('does not require title or subcategory, nor syntax-check addresses', () => {
    assert.equal(isValidEvent(make({pluginId: 1, pluginSid: 1, srcIp: 'not an ip'})), true)
  })

  it('parseEventLines reports decode errors and invalid events by line, keeping the rest', () => {
    const valid = JSON.stringify({
      event_id: '1',
      timestamp: 't',
      sensor: 's',
      src_ip: 'a',
      dst_ip: 'b',
      plugin_id: 1,
      plugin_sid: 1,
    })
    const parsed = parseEventLines(`${valid}\n\ngarbage\n{}\n${valid}\n`)
    assert.equal(parsed.events.length, 2)
    assert.deepEqual(
      parsed.errors.map((e) => e.line),
      [3, 4],
    )
  })
})

describe('event serialization (event.golden)', () => {
  it('writes the golden line for the TestValid event', () => {
    assert.equal(
      serializeEvent(testValidEvent()),
      '{"event_id":"1001","timestamp":"2018-10-08T07:16:50Z","sensor":"sensor1","src_ip":"10.0.0.1","src_port":0,"dst_ip":"8.8.8.8","dst_port":0,"protocol":""}',
    )
  })

  it('writes every field in struct order, omitting empty omitempty fields, and round-trips', () => {
    const text =
      '{"conn_id":3,"event_id":"e","timestamp":"t","title":"a\\u003cb","sensor":"s","plugin_id":1,"plugin_sid":2,"product":"p","category":"c","subcategory":"sc","src_ip":"1.1.1.1","src_port":1,"dst_ip":"2.2.2.2","dst_port":2,"protocol":"TCP","custom_data1":"d1","custom_label1":"l1","custom_data2":"d2","custom_label2":"l2","custom_data3":"d3","custom_label3":"l3","rcvd_time":1795263372882677522,"trace_parent":"tp","trace_state":"ts"}'
    assert.equal(serializeEvent(parseEvent(text)), text)
  })
})

describe('RFC 3339 timestamps (Go time.Parse with time.RFC3339)', () => {
  const cases: [text: string, seconds: number][] = [
    ['2018-10-08T07:16:50Z', 1538983010],
    ['2018-10-08T07:16:50.999999999Z', 1538983010],
    ['2018-10-08T07:16:50.1234567890123Z', 1538983010],
    ['2018-10-08T09:16:50+02:00', 1538983010],
    ['2018-10-08T02:16:50-05:00', 1538983010],
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59.5Z', -1],
    ['2024-02-29T00:00:00Z', 1709164800],
    // Go's general parser (used when the fast RFC 3339 path fails) is more lenient:
    ['2018-10-08T7:16:50Z', 1538983010],
    ['2018-10-08T07:16:50,5Z', 1538983010],
    ['2018-10-08T07:16:50+24:00', 1538983010 - 86400],
    ['2018-10-08T07:16:50-00:60', 1538983010 + 3600],
    // Years below 100 are years, not 19xx.
    ['0001-01-01T00:00:00Z', -62135596800],
    ['0099-12-31T23:59:59Z', -59011459201],
  ]
  for (const [text, seconds] of cases) {
    it(`${text} → ${seconds}`, () => assert.equal(parseRfc3339Seconds(text), seconds))
  }

  const invalid = [
    '',
    '#',
    '2018-10-08',
    '2018-10-08 07:16:50Z',
    '2018-10-08t07:16:50Z',
    '2018-10-08T07:16:50z',
    '2018-10-08T07:16:50',
    '2018-10-08T07:16Z',
    '2018-10-08T07:16:60Z',
    '2018-10-08T24:00:00Z',
    '2018-10-08T07:60:00Z',
    '2018-13-01T00:00:00Z',
    '2018-00-01T00:00:00Z',
    '2018-02-29T00:00:00Z',
    '2018-04-31T00:00:00Z',
    '2018-10-00T00:00:00Z',
    '18-10-08T07:16:50Z',
    '2018-1-08T07:16:50Z',
    '2018-10-8T07:16:50Z',
    '2018-10-08T07:6:50Z',
    '2018-10-08T07:16:5Z',
    '2018-10-08T07:16:50.Z',
    '2018-10-08T07:16:50+0200',
    '2018-10-08T07:16:50+02',
    '2018-10-08T07:16:50+25:00',
    '2018-10-08T07:16:50+02:61',
    '2018-10-08T07:16:50Z ',
    ' 2018-10-08T07:16:50Z',
    '2018-10-08T07:16:50ZZ',
    '+2018-10-08T07:16:50Z',
  ]
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () =>
      assert.ok(Number.isNaN(parseRfc3339Seconds(text)), `${JSON.stringify(text)} parsed as a time`))
  }
})
