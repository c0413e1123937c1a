// Frames written out byte by byte (checksums computed outside this code base, the IPv4 header from the
// well-known RFC 1071 / Wikipedia example), decoded without the frame builder, so a bug the builder and
// the decoder share cannot hide.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import {LINKTYPE, TCP_FLAG} from '../../src/sensor/types.js'
import type {DecodedPacket, RawFrame} from '../../src/sensor/types.js'

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '')
  return Uint8Array.from({length: clean.length / 2}, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16))
}

function frame(bytes: Uint8Array, linkType: number = LINKTYPE.ETHERNET): RawFrame {
  return {ts: 1.5, linkType, data: bytes, wireLen: bytes.length}
}

function decodeOne(bytes: Uint8Array, linkType: number = LINKTYPE.ETHERNET): DecodedPacket {
  const result = new PacketDecoder().decode(frame(bytes, linkType))
  assert.deepEqual(result.weirds, [], 'no weirds')
  assert.ok(result.packet !== undefined, 'a packet')
  return result.packet
}

// Ethernet / IPv4 10.0.0.1 → 10.0.0.2, id 0x1234, DF, TTL 64 / TCP 49152 → 80 SYN, seq 0x01020304,
// window 64240, MSS option 1460.
const TCP_SYN = hex(`
  020000000002 020000000001 0800
  4500 002c 1234 4000 4006 1496 0a000001 0a000002
  c000 0050 01020304 00000000 6002 faf0 c4dc 0000 020405b4`)

// Ethernet / IPv6 2001:db8::1 → 2001:db8::53, flow label 0x12345, hop limit 64 / UDP 5353 → 53,
// a DNS query for example.com A.
const UDP6_DNS = hex(`
  020000000002 020000000001 86dd
  60012345 0025 11 40 20010db8000000000000000000000001 20010db8000000000000000000000053
  14e9 0035 0025 ad1e
  1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001`)

// Ethernet / IPv4 192.168.1.10 → 8.8.8.8, id 0xabcd, TTL 128 / ICMP echo request id 1 seq 7 "abcdefgh".
const ICMP_ECHO = hex(`
  020000000002 020000000001 0800
  4500 0024 abcd 0000 8001 bd49 c0a8010a 08080808
  08 00 6662 0001 0007 6162636465666768`)

// Ethernet / IPv6 fe80::1 → fe80::2, hop limit 255 / ICMPv6 echo request id 0x42 seq 1 "ping".
const ICMP6_ECHO = hex(`
  020000000002 020000000001 86dd
  60000000 000c 3a ff fe800000000000000000000000000001 fe800000000000000000000000000002
  80 00 a3a0 0042 0001 70696e67`)

// Raw IPv4 172.16.0.1 → 172.16.0.2, id 7 / UDP 1111 → 2222 "hi".
const UDP4_RAW = hex(`
  4500 001e 0007 0000 4011 22a5 ac100001 ac100002
  0457 08ae 000a 3248 6869`)

describe('hand-written frames', () => {
  it('Ethernet/IPv4/TCP SYN with an MSS option', () => {
    const packet = decodeOne(TCP_SYN)
    assert.equal(packet.ipVersion, 4)
    assert.equal(packet.src, '10.0.0.1')
    assert.equal(packet.dst, '10.0.0.2')
    assert.equal(packet.ipProto, 6)
    assert.equal(packet.ipLen, 44)
    assert.equal(packet.ttl, 64)
    assert.equal(packet.wireLen, 58)
    assert.equal(packet.capLen, 58)
    assert.deepEqual(packet.transport, {
      kind: 'tcp',
      srcPort: 49152,
      dstPort: 80,
      seq: 0x01020304,
      ack: 0,
      flags: TCP_FLAG.SYN,
      window: 64240,
    })
    assert.equal(packet.payloadLen, 0)
    assert.equal(packet.payload.length, 0)
    assert.equal(packet.checksumOk, true)
    assert.equal(packet.ts, 1.5)
  })

  it('Ethernet/IPv6/UDP DNS query', () => {
    const packet = decodeOne(UDP6_DNS)
    assert.equal(packet.ipVersion, 6)
    assert.equal(packet.src, '2001:db8::1')
    assert.equal(packet.dst, '2001:db8::53')
    assert.equal(packet.ipProto, 17)
    assert.equal(packet.ipLen, 40 + 37)
    assert.equal(packet.ttl, 64)
    assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 5353, dstPort: 53})
    assert.equal(packet.payloadLen, 29)
    assert.equal(packet.payload[12], 7, 'payload starts with the DNS header, then the label length')
    assert.equal(new TextDecoder().decode(packet.payload.subarray(13, 20)), 'example')
    assert.equal(packet.checksumOk, true)
  })

  it('Ethernet/IPv4/ICMP echo request', () => {
    const packet = decodeOne(ICMP_ECHO)
    assert.equal(packet.src, '192.168.1.10')
    assert.equal(packet.dst, '8.8.8.8')
    assert.equal(packet.ttl, 128)
    assert.deepEqual(packet.transport, {kind: 'icmp', version: 4, type: 8, code: 0})
    assert.equal(packet.payloadLen, 8)
    assert.equal(new TextDecoder().decode(packet.payload), 'abcdefgh')
    assert.equal(packet.checksumOk, true)
  })

  it('Ethernet/IPv6/ICMPv6 echo request', () => {
    const packet = decodeOne(ICMP6_ECHO)
    assert.equal(packet.src, 'fe80::1')
    assert.equal(packet.dst, 'fe80::2')
    assert.equal(packet.ttl, 255)
    assert.equal(packet.ipProto, 58)
    assert.deepEqual(packet.transport, {kind: 'icmp', version: 6, type: 128, code: 0})
    assert.equal(new TextDecoder().decode(packet.payload), 'ping')
    assert.equal(packet.checksumOk, true)
  })

  it('raw IPv4/UDP', () => {
    const packet = decodeOne(UDP4_RAW, LINKTYPE.RAW)
    assert.equal(packet.src, '172.16.0.1')
    assert.equal(packet.dst, '172.16.0.2')
    assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 1111, dstPort: 2222})
    assert.equal(new TextDecoder().decode(packet.payload), 'hi')
    assert.equal(packet.checksumOk, true)
  })

  it('the RFC 1071 / Wikipedia IPv4 header example checks out (UDP checksum 0: none)', () => {
    const header = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7')
    const udp = new Uint8Array(0x73 - 20)
    udp.set(hex('0035 e7a3 005f 0000'))
    const bytes = new Uint8Array(0x73)
    bytes.set(header)
    bytes.set(udp, 20)
    const packet = decodeOne(bytes, LINKTYPE.IPV4)
    assert.equal(packet.src, '192.168.0.1')
    assert.equal(packet.dst, '192.168.0.199')
    assert.equal(packet.ipLen, 115)
    assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 53, dstPort: 59299})
    assert.equal(packet.payloadLen, 87)
    assert.equal(packet.checksumOk, true)
  })

  it('one flipped bit in each hand-written frame breaks a checksum', () => {
    // Byte offsets inside the checksummed transport part of each frame.
    const cases: [Uint8Array, number, number][] = [
      [TCP_SYN, 40, LINKTYPE.ETHERNET],
      [UDP6_DNS, 70, LINKTYPE.ETHERNET],
      [ICMP_ECHO, 45, LINKTYPE.ETHERNET],
      [ICMP6_ECHO, 63, LINKTYPE.ETHERNET],
      [UDP4_RAW, 29, LINKTYPE.RAW],
    ]
    for (const [bytes, offset, linkType] of cases) {
      const damaged = bytes.slice()
      damaged[offset] = damaged[offset]! ^ 0x10
      const result = new PacketDecoder().decode(frame(damaged, linkType))
      assert.equal(result.packet?.checksumOk, false, `checksum flagged at offset ${offset}`)
    }
    const header = TCP_SYN.slice()
    header[22] = header[22]! ^ 1 // TTL
    const result = new PacketDecoder().decode(frame(header))
    assert.equal(result.packet, undefined)
    assert.deepEqual(
      result.weirds.map((w) => w.name),
      ['bad_IP_checksum'],
    )
  })
})
