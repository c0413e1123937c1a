import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {createUidSource, FlowTable} from '../../src/sensor/flow/flow-table.js'
import type {AnalyzerFactory, DecodedPacket} from '../../src/sensor/types.js'
import {RecordingAnalyzer, recordingFactory, RecordingSink, TcpDialog} from '../helpers/sensor-packets.js'

function run(packets: DecodedPacket[], factory: AnalyzerFactory = () => []) {
  const sink = new RecordingSink()
  const flows = new FlowTable({sink, analyzers: factory, newUid: createUidSource(3)})
  for (const packet of packets) flows.process(packet)
  flows.finishAll()
  return {sink, flows, record: sink.conn()}
}

/** A factory that attaches one recording analyser per connection and hands it back. */
function oneAnalyzer(options: {confirmOn?: string} = {}) {
  const analyzers: RecordingAnalyzer[] = []
  const {factory, calls} = recordingFactory(() => {
    const analyzer = new RecordingAnalyzer('test', options)
    analyzers.push(analyzer)
    return [analyzer]
  })
  return {factory, calls, analyzers}
}

describe('flow table: TCP stream delivery', () => {
  it('delivers both directions in order and a retransmission only once (t in the history)', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const hello = d.c('PA', 'hello ')
    const resend = {...hello, ts: hello.ts + 0.5}
    const {record} = run(
      [...handshake, hello, d.s('A'), resend, d.c('PA', 'world'), d.s('PA', 'ok'), d.c('A')],
      factory,
    )
    assert.equal(record.history, 'ShADaTd')
    assert.equal(record.orig_bytes, 11)
    assert.equal(analyzers.length, 1)
    assert.equal(analyzers[0]!.stream(true), 'hello world')
    assert.equal(analyzers[0]!.stream(false), 'ok')
  })

  it('repeats t logarithmically: at the 1st and the 10th retransmission', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const data = d.c('PA', 'x')
    const resends = Array.from({length: 10}, (_, i) => ({...data, ts: data.ts + i + 1}))
    const {record} = run([...handshake, data, ...resends])
    assert.equal(record.history, 'ShADTT')
  })

  it('puts out-of-order segments back in order for the analyser', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const first = d.c('PA', 'one-')
    const second = d.c('PA', 'two-')
    const third = d.c('PA', 'three')
    const {record} = run([...handshake, third, first, second, d.s('A')], factory)
    assert.equal(analyzers[0]!.stream(true), 'one-two-three')
    // Filling a hole behind the furthest byte counts as a retransmission, as in Zeek.
    assert.equal(record.history, 'ShADTa')
    assert.equal(record.missed_bytes, 0)
    const data = analyzers[0]!.events.filter((e) => e.kind === 'data')
    assert.deepEqual(
      data.map((e) => (e.kind === 'data' ? e.text : '')),
      ['one-', 'two-', 'three'],
    )
  })

  it('delivers overlapping retransmissions once, keeping the first copy of each byte', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const first = d.c('PA', 'abcdefgh')
    // Overlaps the last four bytes and adds four; a conflicting copy of 'efgh' is ignored.
    const overlap = d.c('PA', 'EFGHijkl', {seq: 1005})
    d.clientNext = 1013
    const ahead = d.c('PA', 'qrst', {seq: 1017})
    const fill = d.c('PA', 'mnopQRS', {seq: 1013})
    const {record} = run(
      [...handshake, first, overlap, ahead, fill, d.s('A', undefined, {ack: 1021})],
      factory,
    )
    assert.equal(analyzers[0]!.stream(true), 'abcdefghijklmnopqrst')
    assert.equal(record.missed_bytes, 0)
    assert.equal(record.orig_bytes, 20)
  })

  it('gives up on a hole when too much is waiting behind it', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const start = d.c('PA', 'head')
    const big = d.c('PA', 600 * 1024, {seq: 1005 + 10})
    const bigger = d.c('PA', 600 * 1024, {seq: 1005 + 10 + 600 * 1024})
    run([...handshake, start, big, bigger], factory)
    const events = analyzers[0]!.events
    assert.deepEqual(events[0], {kind: 'data', isOrig: true, text: 'head', ts: start.ts})
    assert.deepEqual(events[1], {kind: 'gap', isOrig: true, length: 10, ts: bigger.ts})
    assert.equal(analyzers[0]!.stream(true).length, 4 + 1200 * 1024)
  })

  it('turns a hole into a gap when the other side acknowledges past it (g, missed_bytes, analyser.gap)', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const a = d.c('PA', 'aaaa')
    d.c('PA', 'bbbbbb') // never captured
    const c = d.c('PA', 'cccc')
    const {record, flows} = run([...handshake, a, c, d.s('A'), d.c('FA'), d.s('FA')], factory)
    assert.equal(record.history, 'ShADaGFf')
    assert.equal(record.missed_bytes, 6)
    assert.equal(record.orig_bytes, 14)
    assert.equal(record.conn_state, 'SF')
    const events = analyzers[0]!.events.map((e) =>
      e.kind === 'data' ? `data ${e.text}` : e.kind === 'gap' ? `gap ${e.length}` : 'finish',
    )
    assert.deepEqual(events, ['data aaaa', 'gap 6', 'data cccc', 'finish'])
    assert.equal(flows.captureLoss().gaps, 1)
  })

  it('reports a hole never acknowledged to the analyser at the end, without counting it in conn.log', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const a = d.c('PA', 'aaaa')
    d.c('PA', 'bb')
    const c = d.c('PA', 'cc')
    const {record} = run([...handshake, a, c], factory)
    assert.equal(record.missed_bytes, 0)
    assert.equal(record.history, 'ShAD')
    assert.equal(analyzers[0]!.stream(true), 'aaaacc')
    assert.deepEqual(
      analyzers[0]!.events.filter((e) => e.kind === 'gap'),
      [{kind: 'gap', isOrig: true, length: 2, ts: c.ts}],
    )
  })

  it('treats the part a snap length cut off as missing', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const cut = d.c('PA', 'abc', {payloadLen: 10})
    const {record} = run([...handshake, cut, d.s('A'), d.c('PA', 'z')], factory)
    assert.equal(analyzers[0]!.stream(true), 'abcz')
    assert.equal(record.missed_bytes, 7)
    assert.equal(record.orig_bytes, 11)
  })

  it('records a zero window (w) but not on a RST', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {record} = run([
      ...handshake,
      d.c('PA', 5),
      d.s('A', undefined, {window: 0}),
      d.s('R', undefined, {window: 0}),
    ])
    assert.equal(record.history, 'ShADawr')
  })

  it('records a bad checksum (C + weird) and otherwise ignores the packet', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, analyzers} = oneAnalyzer()
    const badFin = d.c('FA', undefined, {checksumOk: false})
    const {record, sink, flows} = run([...handshake, badFin, d.c('PA', 'ok', {seq: 1001})], factory)
    assert.equal(record.history, 'ShACD')
    assert.equal(record.conn_state, 'S1')
    assert.equal(record.orig_pkts, 3)
    assert.equal(analyzers[0]!.stream(true), 'ok')
    assert.equal(flows.counters.badChecksums, 1)
    const weird = sink.weirds.find((w) => w.name === 'bad_TCP_checksum')
    assert.ok(weird !== undefined, `weirds: ${sink.weirdNames().join(',')}`)
    assert.equal(weird.uid, record.uid)
    assert.equal(weird.src, '10.0.0.1')
    assert.equal(weird.srcPort, 40000)
    assert.equal(weird.dst, '10.0.0.2')
    assert.equal(weird.dstPort, 80)
  })
})

describe('flow table: analyser hookup', () => {
  it('calls the factory once with the first payload, fills service, finishes on removal', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, calls, analyzers} = oneAnalyzer({confirmOn: 'GET'})
    const {record} = run(
      [
        ...handshake,
        d.c('PA', 'GET / HTTP/1.1\r\n\r\n'),
        d.s('PA', 'HTTP/1.1 200 OK\r\n\r\n'),
        d.c('FA'),
        d.s('FA'),
      ],
      factory,
    )
    assert.equal(calls.length, 1)
    assert.equal(calls[0]!.firstData, 'GET / HTTP/1.1\r\n\r\n')
    assert.equal(calls[0]!.isOrig, true)
    assert.equal(calls[0]!.uid, record.uid)
    assert.equal(record.service, 'test')
    const last = analyzers[0]!.events.at(-1)
    assert.equal(last?.kind, 'finish')
  })

  it('lists services in the order the analysers confirmed, not the order they were attached', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const late = new RecordingAnalyzer('ssl', {confirmOn: 'second'})
    const early = new RecordingAnalyzer('http', {confirmOn: 'first'})
    const {record} = run([...handshake, d.c('PA', 'first'), d.s('PA', 'second')], () => [late, early])
    assert.equal(record.service, 'http,ssl')
  })

  it('stops feeding an analyser that failed and survives one that throws', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const quitter = new RecordingAnalyzer('quitter', {failOn: 'stop'})
    const thrower: RecordingAnalyzer = new RecordingAnalyzer('thrower')
    thrower.deliver = () => {
      throw new Error('parser bug')
    }
    const {record, sink} = run([...handshake, d.c('PA', 'stop'), d.c('PA', 'more')], () => [quitter, thrower])
    assert.equal(quitter.stream(true), 'stop')
    assert.equal(record.service, undefined)
    const weird = sink.weirds.find((w) => w.name === 'analyzer_error')
    assert.equal(weird?.addl, 'thrower: parser bug')
  })

  it('does not call the factory for a connection without payload', () => {
    const d = new TcpDialog()
    const handshake = d.handshake()
    const {factory, calls} = oneAnalyzer()
    run([...handshake, d.c('FA'), d.s('FA')], factory)
    assert.equal(calls.length, 0)
  })
})
