import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {isValidEvent, serializeEvent} from '../../src/engine/event.js'
import {sequentialIds} from '../../src/engine/ids.js'
import {SENSOR_PLUGIN_ID, SENSOR_SIGNATURES, SensorEventMapper} from '../../src/sensor/events.js'
import type {LogRecord} from '../../src/sensor/types.js'
import {WeirdLog, WEIRD_SAMPLING} from '../../src/sensor/weird-log.js'

const conn = (state: string, respPort = 80, proto = 'tcp'): LogRecord => ({
  ts: 1700000000.5,
  uid: 'CabcDEF123',
  'id.orig_h': '10.0.0.5',
  'id.orig_p': 40000,
  'id.resp_h': '10.0.0.9',
  'id.resp_p': respPort,
  proto,
  conn_state: state,
})

describe('sensor events from log records', () => {
  const mapper = new SensorEventMapper('worker-1', sequentialIds('e'))

  it('turns rejected, unanswered and half-open TCP connections into scan events', () => {
    const cases: [string, number | undefined][] = [
      ['REJ', SENSOR_SIGNATURES.connRejected.sid],
      ['S0', SENSOR_SIGNATURES.connUnanswered.sid],
      ['SH', SENSOR_SIGNATURES.connHalfOpen.sid],
      ['RSTOS0', SENSOR_SIGNATURES.connHalfOpen.sid],
      ['SF', undefined],
      ['OTH', undefined],
    ]
    for (const [state, sid] of cases) {
      assert.equal(mapper.eventFor('conn', conn(state))?.pluginSid, sid, `conn_state ${state}`)
    }
    assert.equal(mapper.eventFor('conn', conn('S0', 53, 'udp')), undefined, 'UDP S0 is not a scan signal')
  })

  it('fills the normalized event the engine correlates on', () => {
    const event = mapper.eventFor('conn', conn('REJ', 22))
    assert.ok(event !== undefined, 'an event for REJ')
    assert.ok(isValidEvent(event), 'the event passes upstream Valid()')
    assert.equal(event.pluginId, SENSOR_PLUGIN_ID)
    assert.equal(event.timestamp, '2023-11-14T22:13:20Z')
    assert.equal(event.srcIp, '10.0.0.5')
    assert.equal(event.dstPort, 22)
    assert.equal(event.protocol, 'TCP')
    assert.equal(event.sensor, 'worker-1')
    assert.equal(event.customData1, 'CabcDEF123')
    assert.match(serializeEvent(event), /"plugin_sid":1,/)
  })

  it('counts established SSH sessions, NXDOMAIN and failures, HTTP 4xx/5xx', () => {
    assert.equal(mapper.eventFor('conn', conn('SF', 22))?.pluginSid, SENSOR_SIGNATURES.sshSession.sid)
    const dns = {...conn('SF', 53, 'udp'), query: 'nope.example', rcode: 3}
    const nx = mapper.eventFor('dns', dns)
    assert.equal(nx?.pluginSid, SENSOR_SIGNATURES.dnsNxdomain.sid)
    assert.equal(nx?.customData2, 'nope.example')
    assert.equal(
      mapper.eventFor('dns', {...dns, rcode: 5})?.pluginSid,
      SENSOR_SIGNATURES.dnsServerFailure.sid,
    )
    assert.equal(mapper.eventFor('dns', {...dns, rcode: 0}), undefined)
    const http = {...conn('SF'), proto: undefined, host: 'example.com', uri: '/x', status_code: 404}
    const notFound = mapper.eventFor('http', http)
    assert.equal(notFound?.pluginSid, SENSOR_SIGNATURES.httpClientError.sid)
    assert.equal(notFound?.protocol, 'TCP')
    assert.equal(notFound?.customData2, 'example.com/x')
    assert.equal(
      mapper.eventFor('http', {...http, status_code: 503})?.pluginSid,
      SENSOR_SIGNATURES.httpServerError.sid,
    )
    assert.equal(mapper.eventFor('http', {...http, status_code: 200}), undefined)
  })
})

describe('weird.log volume controls', () => {
  it('logs a connection weird once per connection and forgets it when the connection ends', () => {
    const weirds = new WeirdLog('w1')
    const notice = {
      ts: 1,
      name: 'bad_TCP_checksum',
      uid: 'C1',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcPort: 1,
      dstPort: 2,
    }
    const first = weirds.record(notice)
    assert.deepEqual(first, {
      ts: 1,
      uid: 'C1',
      'id.orig_h': '10.0.0.1',
      'id.orig_p': 1,
      'id.resp_h': '10.0.0.2',
      'id.resp_p': 2,
      name: 'bad_TCP_checksum',
      addl: undefined,
      notice: false,
      peer: 'w1',
    })
    assert.equal(weirds.record(notice), undefined, 'second time on the same connection')
    assert.ok(weirds.record({...notice, uid: 'C2'}) !== undefined, 'another connection logs again')
    weirds.forgetConnection('C1')
    assert.ok(weirds.record(notice) !== undefined, 'after the connection ended')
  })

  it('samples a noisy weird name after the threshold, and starts over after the sampling window', () => {
    const weirds = new WeirdLog('w1')
    let logged = 0
    const total = WEIRD_SAMPLING.threshold + 3 * WEIRD_SAMPLING.rate
    for (let i = 0; i < total; i++) if (weirds.record({ts: 5, name: 'truncated_IP'}) !== undefined) logged++
    assert.equal(logged, WEIRD_SAMPLING.threshold + 3)
    assert.equal(weirds.suppressed, total - logged)
    assert.ok(
      weirds.record({ts: 5 + WEIRD_SAMPLING.durationSeconds, name: 'truncated_IP'}) !== undefined,
      'new window',
    )
  })
})
