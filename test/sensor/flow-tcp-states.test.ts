import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'
import {createUidSource, FlowTable} from '../../src/sensor/flow/flow-table.js'
import type {DecodedPacket} from '../../src/sensor/types.js'
import {RecordingSink, TcpDialog, type ConnLog} from '../helpers/sensor-packets.js'

function setup(): {sink: RecordingSink; flows: FlowTable} {
  const sink = new RecordingSink()
  const flows = new FlowTable({sink, analyzers: () => [], newUid: createUidSource(7)})
  return {sink, flows}
}

/** Feeds the packets, ends the input and returns the one conn record. */
function conn(packets: DecodedPacket[]): ConnLog {
  const {sink, flows} = setup()
  for (const packet of packets) flows.process(packet)
  flows.finishAll()
  return sink.conn()
}

function near(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what} is a number`)
  assert.ok(Math.abs((actual as number) - expected) < 1e-6, `${what}: ${String(actual)} ≈ ${expected}`)
}

/** Community ID v1 computed straight from the spec for an IPv4 TCP/UDP/ICMP flow. */
function specCommunityId(a: string, aPort: number, b: string, bPort: number, proto: number): string {
  const octets = (ip: string) => ip.split('.').map(Number)
  let [src, sp, dst, dp] = [octets(a), aPort, octets(b), bPort]
  const less = (x: number[], y: number[]) => {
    for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! < y[i]!
    return false
  }
  if (!(less(src, dst) || (src.join() === dst.join() && sp < dp))) [src, sp, dst, dp] = [dst, dp, src, sp]
  const input = Buffer.from([0, 0, ...src, ...dst, proto, 0, sp >> 8, sp & 255, dp >> 8, dp & 255])
  return '1:' + createHash('sha1').update(input).digest('base64')
}

describe('flow table: a normal TCP session', () => {
  const dialog = new TcpDialog({
    client: '192.168.4.76',
    clientPort: 46378,
    server: '31.3.245.133',
    serverPort: 80,
    start: 1591367999.5,
    step: 0.01,
  })
  const packets = [
    ...dialog.handshake(),
    dialog.c('PA', 77),
    dialog.s('A'),
    dialog.s('PA', 295),
    dialog.c('A'),
    dialog.c('FA'),
    dialog.s('FA'),
    dialog.c('A'),
  ]

  it('writes SF with ShADadFf, sequence-number byte counts, packet and IP byte counts', () => {
    const {sink, flows} = setup()
    for (const packet of packets) flows.process(packet)
    assert.equal(sink.conns().length, 0, 'still open while the close delay runs')
    flows.advance(1591367999.58 + 4.9)
    assert.equal(sink.conns().length, 0, 'not yet removed 4.9 s after the last FIN')
    flows.advance(1591367999.58 + 5)
    const record = sink.conn()
    assert.equal(record.ts, 1591367999.5)
    assert.match(String(record.uid), /^C[0-9A-Za-z]+$/)
    assert.equal(record['id.orig_h'], '192.168.4.76')
    assert.equal(record['id.orig_p'], 46378)
    assert.equal(record['id.resp_h'], '31.3.245.133')
    assert.equal(record['id.resp_p'], 80)
    assert.equal(record.proto, 'tcp')
    assert.equal(record.service, undefined)
    // The last ACK comes after both FINs and does not extend the duration.
    near(record.duration, 0.08, 'duration')
    assert.equal(record.orig_bytes, 77)
    assert.equal(record.resp_bytes, 295)
    assert.equal(record.conn_state, 'SF')
    assert.equal(record.missed_bytes, 0)
    assert.equal(record.history, 'ShADadFf')
    assert.equal(record.orig_pkts, 6)
    assert.equal(record.orig_ip_bytes, 6 * 40 + 77)
    assert.equal(record.resp_pkts, 4)
    assert.equal(record.resp_ip_bytes, 4 * 40 + 295)
    assert.equal(record.ip_proto, 6)
    assert.equal(record.community_id, specCommunityId('192.168.4.76', 46378, '31.3.245.133', 80, 6))
    assert.equal(record.local_orig, undefined)
    assert.equal(record.vlan, undefined)
    assert.equal(flows.counters.tcpConns, 1)
    assert.equal(flows.counters.activeTcp, 0)
    assert.deepEqual(sink.weirds, [])
    // ACKs while both sides were established: SYN-ACK, ACK, data, ACK, data, ACK.
    assert.deepEqual(flows.captureLoss(), {acks: 6, gaps: 0})
  })

  it('counts bytes across the 32-bit sequence wrap', () => {
    const wrap = new TcpDialog({clientIsn: 0xffffff00, serverIsn: 0xfffffff0})
    const record = conn([
      ...wrap.handshake(),
      wrap.c('PA', 1000),
      wrap.s('PA', 300),
      wrap.c('A'),
      wrap.c('FA'),
      wrap.s('FA'),
    ])
    assert.equal(record.orig_bytes, 1000)
    assert.equal(record.resp_bytes, 300)
    assert.equal(record.conn_state, 'SF')
  })

  it('takes vlan and inner_vlan from the first packet', () => {
    const tagged = new TcpDialog({vlan: 42})
    const record = conn(tagged.handshake())
    assert.equal(record.vlan, 42)
    assert.equal(record.inner_vlan, undefined)
  })
})

describe('flow table: conn_state for each way a TCP connection can go', () => {
  it('REJ: SYN answered by RST-ACK', () => {
    const d = new TcpDialog()
    const record = conn([d.c('S'), d.s('RA')])
    assert.equal(record.conn_state, 'REJ')
    assert.equal(record.history, 'Sr')
    assert.equal(record.orig_bytes, 0)
    assert.equal(record.resp_bytes, 0)
  })

  it('S0: a lone SYN has no duration and no byte counts', () => {
    const d = new TcpDialog()
    const record = conn([d.c('S')])
    assert.equal(record.conn_state, 'S0')
    assert.equal(record.history, 'S')
    assert.equal(record.duration, undefined)
    assert.equal(record.orig_bytes, undefined)
    assert.equal(record.resp_bytes, undefined)
    assert.equal(record.orig_pkts, 1)
    assert.equal(record.orig_ip_bytes, 40)
    assert.equal(record.resp_pkts, 0)
  })

  it('S1 at the end of input: established, never closed', () => {
    const d = new TcpDialog()
    const record = conn([...d.handshake(), d.c('PA', 10), d.s('PA', 20)])
    assert.equal(record.conn_state, 'S1')
    assert.equal(record.history, 'ShADd')
    assert.equal(record.orig_bytes, 10)
    assert.equal(record.resp_bytes, 20)
  })

  it('RSTO: the originator aborts an established connection', () => {
    const d = new TcpDialog()
    const record = conn([...d.handshake(), d.c('PA', 5), d.c('R')])
    assert.equal(record.conn_state, 'RSTO')
    assert.equal(record.history, 'ShADR')
  })

  it('RSTR: the responder resets an established connection', () => {
    const d = new TcpDialog()
    const record = conn([...d.handshake(), d.s('R')])
    assert.equal(record.conn_state, 'RSTR')
    assert.equal(record.history, 'ShAr')
  })

  it('RSTOS0: SYN then RST from the originator, nothing from the responder', () => {
    const d = new TcpDialog()
    const record = conn([d.c('S'), d.c('R')])
    assert.equal(record.conn_state, 'RSTOS0')
    assert.equal(record.history, 'SR')
  })

  it('OTH rather than RSTOS0 when the originator never sent a SYN', () => {
    const d = new TcpDialog()
    const record = conn([d.c('PA', 5), d.c('R')])
    assert.equal(record.conn_state, 'OTH')
    assert.equal(record.history, 'DR')
  })

  it('SH: SYN then FIN from the originator, no answer', () => {
    const d = new TcpDialog()
    const {sink, flows} = setup()
    for (const packet of [d.c('S'), d.c('F')]) flows.process(packet)
    flows.finishAll()
    const record = sink.conn()
    assert.equal(record.conn_state, 'SH')
    assert.equal(record.history, 'SF')
    assert.ok(sink.weirdNames().includes('inappropriate_FIN'), `weirds: ${sink.weirdNames().join(',')}`)
  })

  it('S2 and S3: only one side closed an established connection', () => {
    const d2 = new TcpDialog()
    const s2 = conn([...d2.handshake(), d2.c('FA')])
    assert.equal(s2.conn_state, 'S2')
    assert.equal(s2.history, 'ShAF')
    const d3 = new TcpDialog()
    const s3 = conn([...d3.handshake(), d3.s('FA')])
    assert.equal(s3.conn_state, 'S3')
    assert.equal(s3.history, 'ShAf')
  })

  it('a SYN-ACK first flips the roles (^): SHR when the responder then closes', () => {
    const d = new TcpDialog({client: '10.1.1.1', clientPort: 51000, server: '10.2.2.2', serverPort: 7777})
    const record = conn([d.s('SA'), d.s('FA')])
    assert.equal(record['id.orig_h'], '10.1.1.1')
    assert.equal(record['id.orig_p'], 51000)
    assert.equal(record['id.resp_h'], '10.2.2.2')
    assert.equal(record['id.resp_p'], 7777)
    assert.equal(record.history, '^hf')
    assert.equal(record.conn_state, 'SHR')
    assert.equal(record.orig_pkts, 0)
    assert.equal(record.resp_pkts, 2)
  })

  it('RSTRH: the responder sent a SYN-ACK and then a RST, no SYN seen', () => {
    const d = new TcpDialog({serverPort: 7777})
    const record = conn([d.s('SA'), d.s('R')])
    assert.equal(record.history, '^hr')
    assert.equal(record.conn_state, 'RSTRH')
  })

  it('OTH for a midstream connection, flipped when the first packet comes from a server port', () => {
    const d = new TcpDialog({serverPort: 443})
    const record = conn([d.s('PA', 100), d.c('A'), d.c('PA', 20)])
    assert.equal(record['id.orig_p'], 40000)
    assert.equal(record['id.resp_p'], 443)
    assert.equal(record.history, '^dAD')
    assert.equal(record.conn_state, 'OTH')
    // Midstream sides are numbered as if a SYN had preceded them, so the counts hold.
    assert.equal(record.orig_bytes, 20)
    assert.equal(record.resp_bytes, 100)
  })

  it('does not flip when both ports look like servers and the source is the higher one', () => {
    const d = new TcpDialog({clientPort: 8080, serverPort: 80})
    const record = conn([d.c('PA', 10)])
    assert.equal(record['id.orig_p'], 8080)
    assert.equal(record.history, 'D')
  })

  it('SF for a midstream connection that closes both ways', () => {
    const d = new TcpDialog()
    const record = conn([d.c('PA', 10), d.s('PA', 10), d.c('FA'), d.s('FA')])
    assert.equal(record.conn_state, 'SF')
    assert.equal(record.history, 'DdFf')
  })

  it('Q and I for odd flag combinations, once per direction', () => {
    const d = new TcpDialog()
    const record = conn([d.c('SF'), d.s('FRA'), d.s('FRA', undefined, {seq: 7000})])
    assert.equal(record.history, 'Qi')
  })
})
