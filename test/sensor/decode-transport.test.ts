// TCP, UDP, ICMP and ICMPv6 field by field against what the builder put in, and their checksums:
// correct ones accepted, each kind of corrupted one flagged (the packet still delivered), verification
// off accepts everything, UDP's zero checksum, and the header-length defects Zeek names.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {icmpFrame, tcpFrame, tcpOptions, udpFrame} from '../../src/sensor/craft/frames.js'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import {TCP_FLAG} from '../../src/sensor/types.js'
import type {DecodeResult, DecodedPacket, RawFrame} from '../../src/sensor/types.js'

function decode(frame: RawFrame, verifyChecksums = true): DecodeResult {
  return new PacketDecoder({verifyChecksums}).decode(frame)
}

function decodeOk(frame: RawFrame): DecodedPacket {
  const result = decode(frame)
  assert.deepEqual(result.weirds, [], 'no weirds')
  assert.ok(result.packet !== undefined, 'a packet')
  return result.packet
}

const V4 = {src: '10.1.2.3', dst: '10.4.5.6'}
const V6 = {src: '2001:db8:0:1::10', dst: 'fd00::20'}

describe('TCP', () => {
  for (const addresses of [V4, V6]) {
    it(`every field over IPv${addresses === V4 ? 4 : 6}`, () => {
      const payload = Uint8Array.from({length: 100}, (_, i) => i)
      const packet = decodeOk(
        tcpFrame({
          ...addresses,
          sport: 65535,
          dport: 1,
          seq: 0xfffffff0,
          ack: 0x80000001,
          flags: 'FSRPAU',
          window: 29200,
          urgent: 3,
          options: tcpOptions({mss: 1400, sackPermitted: true, timestamp: [7, 8], windowScale: 2}),
          payload,
        }),
      )
      assert.equal(packet.src, addresses.src)
      assert.equal(packet.dst, addresses.dst)
      assert.equal(packet.ipProto, 6)
      assert.deepEqual(packet.transport, {
        kind: 'tcp',
        srcPort: 65535,
        dstPort: 1,
        seq: 0xfffffff0,
        ack: 0x80000001,
        flags: TCP_FLAG.FIN | TCP_FLAG.SYN | TCP_FLAG.RST | TCP_FLAG.PSH | TCP_FLAG.ACK | TCP_FLAG.URG,
        window: 29200,
      })
      assert.equal(packet.payloadLen, 100)
      assert.deepEqual([...packet.payload], [...payload])
      assert.equal(packet.checksumOk, true)
    })
  }

  it('a wrong checksum delivers the packet with checksumOk false, counted', () => {
    for (const addresses of [V4, V6]) {
      const decoder = new PacketDecoder()
      const result = decoder.decode(
        tcpFrame({...addresses, sport: 1, dport: 2, payload: 'x', corruptChecksum: true}),
      )
      assert.deepEqual(result.weirds, [])
      assert.equal(result.packet?.checksumOk, false)
      assert.equal(result.packet?.transport?.kind, 'tcp')
      assert.equal(decoder.counters.badTransportChecksum, 1)
      assert.equal(decoder.counters.packets, 1)
      assert.equal(
        decode(tcpFrame({...addresses, sport: 1, dport: 2, corruptChecksum: true}), false).packet?.checksumOk,
        true,
      )
    }
  })

  it('data offset below 5 words is bad_TCP_header_len, with the ports', () => {
    const decoder = new PacketDecoder()
    const frame = tcpFrame({...V4, sport: 10, dport: 20, dataOffset: 4})
    const result = decoder.decode(frame)
    assert.equal(result.packet, undefined)
    assert.deepEqual(result.weirds, [
      {ts: frame.ts, name: 'bad_TCP_header_len', src: V4.src, dst: V4.dst, srcPort: 10, dstPort: 20},
    ])
    assert.equal(decoder.counters.malformed, 1)
  })

  it('options beyond the segment or the capture are truncated_header', () => {
    const beyond = decode(tcpFrame({...V4, sport: 10, dport: 20, dataOffset: 15}))
    assert.deepEqual(
      beyond.weirds.map((w) => w.name),
      ['truncated_header'],
    )
    const cut = decode(
      tcpFrame({...V4, sport: 10, dport: 20, options: new Uint8Array(20).fill(1), snaplen: 14 + 20 + 24}),
    )
    assert.deepEqual(
      cut.weirds.map((w) => w.name),
      ['truncated_header'],
    )
    assert.equal(cut.weirds[0]!.srcPort, 10)
  })
})

describe('UDP', () => {
  for (const addresses of [V4, V6]) {
    it(`ports and payload over IPv${addresses === V4 ? 4 : 6}; bad checksum flagged`, () => {
      const packet = decodeOk(udpFrame({...addresses, sport: 53, dport: 33333, payload: 'answer'}))
      assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 53, dstPort: 33333})
      assert.equal(packet.ipProto, 17)
      assert.equal(new TextDecoder().decode(packet.payload), 'answer')
      assert.equal(packet.payloadLen, 6)
      assert.equal(packet.checksumOk, true)
      const bad = decode(
        udpFrame({...addresses, sport: 53, dport: 33333, payload: 'answer', corruptChecksum: true}),
      )
      assert.deepEqual(bad.weirds, [])
      assert.equal(bad.packet?.checksumOk, false)
      const unchecked = decode(udpFrame({...addresses, sport: 53, dport: 1, corruptChecksum: true}), false)
      assert.equal(unchecked.packet?.checksumOk, true)
    })
  }

  it('a zero checksum means "none" over IPv4 but is wrong over IPv6', () => {
    assert.equal(decodeOk(udpFrame({...V4, sport: 1, dport: 2, payload: 'z', checksum: 0})).checksumOk, true)
    assert.equal(
      decode(udpFrame({...V6, sport: 1, dport: 2, payload: 'z', checksum: 0})).packet?.checksumOk,
      false,
    )
  })

  it('a computed checksum of zero is sent as 0xffff and verifies', () => {
    // Search a payload whose checksum comes out as zero, to exercise the all-ones encoding.
    let found = false
    for (let value = 0; value < 0x10000 && !found; value++) {
      const frame = udpFrame({...V4, sport: 1, dport: 2, payload: [value >> 8, value & 0xff]})
      const field = (frame.data[40]! << 8) | frame.data[41]!
      if (field !== 0xffff) continue
      found = true
      assert.equal(decodeOk(frame).checksumOk, true)
    }
    assert.ok(found, 'some payload has a zero checksum')
  })

  it('a length field that disagrees with IP is UDP_datagram_length_mismatch; the packet still goes on', () => {
    const frame = udpFrame({...V4, sport: 7, dport: 9, payload: 'abcd', length: 10})
    const result = decode(frame)
    assert.deepEqual(result.weirds, [
      {
        ts: frame.ts,
        name: 'UDP_datagram_length_mismatch',
        addl: '10 != 12',
        src: V4.src,
        dst: V4.dst,
        srcPort: 7,
        dstPort: 9,
      },
    ])
    assert.equal(result.packet?.payloadLen, 4)
  })

  it('an IP payload shorter than the UDP header is truncated_header', () => {
    const result = decode(udpFrame({...V6, sport: 7, dport: 9, ipPayloadLength: 6}))
    assert.equal(result.packet, undefined)
    assert.deepEqual(
      result.weirds.map((w) => w.name),
      ['truncated_header'],
    )
  })
})

describe('ICMP and ICMPv6', () => {
  it('ICMP type and code; bad checksum flagged', () => {
    const packet = decodeOk(
      icmpFrame({...V4, type: 3, code: 13, rest: [0, 0, 5, 220], payload: new Uint8Array(28)}),
    )
    assert.deepEqual(packet.transport, {kind: 'icmp', version: 4, type: 3, code: 13})
    assert.equal(packet.ipProto, 1)
    assert.equal(packet.payloadLen, 28)
    assert.equal(packet.checksumOk, true)
    assert.equal(decode(icmpFrame({...V4, type: 8, corruptChecksum: true})).packet?.checksumOk, false)
  })

  it('ICMPv6 with its pseudo-header; bad checksum flagged', () => {
    const packet = decodeOk(icmpFrame({...V6, type: 135, code: 0, payload: new Uint8Array(16)}))
    assert.deepEqual(packet.transport, {kind: 'icmp', version: 6, type: 135, code: 0})
    assert.equal(packet.ipProto, 58)
    assert.equal(packet.checksumOk, true)
    assert.equal(decode(icmpFrame({...V6, type: 128, corruptChecksum: true})).packet?.checksumOk, false)
    assert.equal(decode(icmpFrame({...V6, type: 128, corruptChecksum: true}), false).packet?.checksumOk, true)
  })

  it('an ICMP message shorter than 8 bytes is truncated_header', () => {
    const result = decode(icmpFrame({...V4, type: 8, ipTotalLength: 26}))
    assert.equal(result.packet, undefined)
    assert.deepEqual(
      result.weirds.map((w) => w.name),
      ['truncated_header'],
    )
  })
})

describe('snap-length cuts after the transport header', () => {
  it('deliver the payload present, the full payloadLen, and skip checksum verification', () => {
    const payload = new Uint8Array(1000).fill(0x61)
    for (const frame of [
      tcpFrame({...V4, sport: 1, dport: 2, payload, corruptChecksum: true, snaplen: 14 + 20 + 20 + 100}),
      udpFrame({...V6, sport: 1, dport: 2, payload, corruptChecksum: true, snaplen: 14 + 40 + 8 + 100}),
    ]) {
      const packet = decodeOk(frame)
      assert.equal(packet.payload.length, 100)
      assert.equal(packet.payloadLen, 1000)
      assert.equal(packet.checksumOk, true, 'nothing to verify against')
      assert.equal(packet.capLen, frame.data.length)
      assert.ok(packet.wireLen > packet.capLen, 'wire length kept')
    }
  })
})
