import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {ConfigError} from '../../src/engine/errors.js'
import {createUidSource, FlowTable} from '../../src/sensor/flow/flow-table.js'
import {DEFAULT_FLOW_TIMEOUTS} from '../../src/sensor/flow/timeouts.js'
import {RecordingSink, TcpDialog, udpPacket} from '../helpers/sensor-packets.js'

function setup() {
  const sink = new RecordingSink()
  const flows = new FlowTable({sink, analyzers: () => [], newUid: createUidSource(5)})
  return {sink, flows}
}

describe('flow table: timeouts in network time', () => {
  it("uses Zeek's defaults", () => {
    assert.deepEqual(DEFAULT_FLOW_TIMEOUTS, {
      tcpInactivity: 300,
      udpInactivity: 60,
      icmpInactivity: 60,
      tcpAttemptDelay: 5,
      tcpCloseDelay: 5,
      tcpResetDelay: 5,
      tcpPartialCloseDelay: 3,
      tcpSessionTimer: 6,
      tcpConnectionLinger: 5,
    })
  })

  it('expires a UDP flow 60 s after its last packet, from advance() or a later packet', () => {
    const {sink, flows} = setup()
    flows.process(udpPacket({ts: 100, src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 53, payload: 10}))
    flows.process(udpPacket({ts: 130, src: '10.0.0.2', dst: '10.0.0.1', sport: 53, dport: 5000, payload: 10}))
    flows.advance(189.9)
    assert.equal(sink.conns().length, 0, 'not before 60 s of quiet')
    assert.equal(flows.counters.activeUdp, 1)
    flows.advance(190)
    assert.equal(sink.conns().length, 1)
    assert.equal(sink.conn().duration, 30)
    assert.equal(flows.counters.activeUdp, 0)
    // A packet on the same tuple afterwards starts a new connection.
    flows.process(udpPacket({ts: 500, src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 53, payload: 10}))
    flows.finishAll()
    const [first, second] = sink.conns()
    assert.notEqual(first!.uid, second!.uid)
    assert.equal(second!.ts, 500)
  })

  it('expires an idle TCP connection after 5 minutes', () => {
    const {sink, flows} = setup()
    const d = new TcpDialog({start: 0, step: 1})
    for (const packet of d.handshake()) flows.process(packet)
    flows.advance(2 + 299)
    assert.equal(sink.conns().length, 0)
    flows.advance(2 + 300)
    assert.equal(sink.conn().conn_state, 'S1')
  })

  it('removes an unanswered SYN after the attempt delay; its retransmission stays in it', () => {
    const {sink, flows} = setup()
    const d = new TcpDialog({start: 0, step: 1})
    const syn = d.c('S')
    flows.process(syn)
    flows.process({...syn, ts: 3})
    flows.advance(4.9)
    assert.equal(sink.conns().length, 0)
    flows.advance(5)
    const record = sink.conn()
    assert.equal(record.conn_state, 'S0')
    assert.equal(record.orig_pkts, 2)
    assert.equal(record.history, 'S')
  })

  it('removes a reset connection 5 s after its last packet', () => {
    const {sink, flows} = setup()
    const d = new TcpDialog({start: 0, step: 1})
    for (const packet of [...d.handshake(), d.s('R')]) flows.process(packet)
    flows.advance(3 + 4.99)
    assert.equal(sink.conns().length, 0)
    flows.advance(3 + 5)
    assert.equal(sink.conn().conn_state, 'RSTR')
  })

  it('starts a new connection (new uid) for a SYN on a closed tuple', () => {
    const {sink, flows} = setup()
    const d = new TcpDialog({start: 0, step: 0.1})
    for (const packet of [...d.handshake(), d.c('FA'), d.s('FA'), d.c('A')]) flows.process(packet)
    const again = new TcpDialog({start: 1, step: 0.1, clientIsn: 777})
    flows.process(again.c('S'))
    assert.equal(sink.conns().length, 1, 'the old connection is written when the tuple is reused')
    assert.equal(sink.conns()[0]!.conn_state, 'SF')
    for (const packet of [again.s('SA'), again.c('A')]) flows.process(packet)
    flows.finishAll()
    const [first, second] = sink.conns()
    assert.notEqual(first!.uid, second!.uid)
    assert.equal(second!.ts, 1)
    assert.equal(second!.history, 'ShA')
    assert.equal(flows.counters.tcpConns, 2)
  })

  it('keeps a retransmitted SYN in the same connection', () => {
    const {sink, flows} = setup()
    const d = new TcpDialog({start: 0, step: 1})
    const syn = d.c('S')
    flows.process(syn)
    flows.process({...syn, ts: 1})
    for (const packet of [d.s('SA'), d.c('A')]) flows.process(packet)
    flows.finishAll()
    assert.equal(sink.conn().history, 'ShA')
    assert.equal(sink.conn().orig_pkts, 3)
  })

  it('rejects a negative timeout as a configuration error', () => {
    const sink = new RecordingSink()
    assert.throws(
      () =>
        new FlowTable({sink, analyzers: () => [], newUid: createUidSource(1), timeouts: {udpInactivity: -1}}),
      (error: unknown) => error instanceof ConfigError && /udpInactivity/.test(error.message),
    )
  })

  it('honours a configured timeout', () => {
    const sink = new RecordingSink()
    const flows = new FlowTable({
      sink,
      analyzers: () => [],
      newUid: createUidSource(1),
      timeouts: {udpInactivity: 10},
    })
    flows.process(udpPacket({ts: 0, src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 53, payload: 1}))
    flows.advance(10)
    assert.equal(sink.conns().length, 1)
  })
})
