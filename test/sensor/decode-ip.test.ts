// The IP layer: IPv4 with options and every malformed length, the header checksum, and IPv6 with each
// extension header (hop-by-hop, routing, destination options, AH, atomic fragment) and their defects.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  frameFromIp,
  ipPacket,
  rawFrame,
  tcpFrame,
  tcpPacket,
  udpFrame,
  udpPacket,
} from '../../src/sensor/craft/frames.js'
import type {Ipv6Extension} from '../../src/sensor/craft/frames.js'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import {LINKTYPE} from '../../src/sensor/types.js'
import type {DecodeResult, RawFrame} from '../../src/sensor/types.js'

function decode(frame: RawFrame, options: ConstructorParameters<typeof PacketDecoder>[0] = {}): DecodeResult {
  return new PacketDecoder(options).decode(frame)
}

function weirdNames(result: DecodeResult): string[] {
  return result.weirds.map((weird) => weird.name)
}

describe('IPv4', () => {
  it('header fields, options skipped to the transport', () => {
    // Record route with room for two addresses (11 bytes) and a NOP, padded to 12.
    const options = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    const frame = tcpFrame({
      src: '203.0.113.9',
      dst: '10.20.30.40',
      ttl: 3,
      ipId: 4242,
      tos: 0x10,
      ipOptions: options,
      sport: 5555,
      dport: 443,
      flags: 'PA',
      seq: 10,
      ack: 20,
      payload: 'data',
    })
    const result = decode(frame)
    assert.deepEqual(result.weirds, [])
    const packet = result.packet!
    assert.equal(packet.src, '203.0.113.9')
    assert.equal(packet.dst, '10.20.30.40')
    assert.equal(packet.ttl, 3)
    assert.equal(packet.ipLen, 20 + 12 + 20 + 4)
    assert.equal(packet.ipProto, 6)
    assert.equal(packet.transport?.kind, 'tcp')
    assert.equal(packet.transport?.kind === 'tcp' && packet.transport.dstPort, 443)
    assert.equal(new TextDecoder().decode(packet.payload), 'data')
    assert.equal(packet.payloadLen, 4)
  })

  it('Ethernet padding after a short datagram is not payload', () => {
    const ip = udpPacket({src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: 'ab'})
    const bytes = new Uint8Array(60)
    bytes.set(frameFromIp(ip).data)
    bytes.fill(0xee, 14 + ip.length)
    const packet = decode(rawFrame(bytes, LINKTYPE.ETHERNET)).packet!
    assert.equal(packet.ipLen, 30)
    assert.equal(packet.payloadLen, 2)
    assert.equal(new TextDecoder().decode(packet.payload), 'ab')
    assert.equal(packet.checksumOk, true)
    assert.equal(packet.capLen, 60)
  })

  it('a bad header checksum is bad_IP_checksum and no packet; ignored without verification', () => {
    const frame = udpFrame({src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, corruptIpChecksum: true})
    const decoder = new PacketDecoder()
    const result = decoder.decode(frame)
    assert.equal(result.packet, undefined)
    assert.deepEqual(result.weirds, [
      {ts: frame.ts, name: 'bad_IP_checksum', src: '10.0.0.1', dst: '10.0.0.2'},
    ])
    assert.equal(decoder.counters.badIpChecksum, 1)
    const unchecked = decode(frame, {verifyChecksums: false})
    assert.deepEqual(unchecked.weirds, [])
    assert.equal(unchecked.packet?.src, '10.0.0.1')
    assert.equal(unchecked.packet?.checksumOk, true)
  })

  it('version, header length and total length defects', () => {
    const base = {src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: 'xyz'}
    // Zeek's IP analyser checks in this order; header defects are reported before the header is
    // trusted (no addresses), a short transport header after it (addresses known).
    const cases: [
      string,
      Parameters<typeof udpFrame>[0],
      string[],
      'truncated' | 'malformed',
      string | undefined,
    ][] = [
      ['IHL below 5', {...base, ipHeaderLength: 16}, ['IPv4_min_header_size'], 'malformed', undefined],
      [
        'IHL beyond the total length',
        {...base, ipHeaderLength: 60},
        ['invalid_IP_header_size'],
        'malformed',
        undefined,
      ],
      [
        'total length beyond the wire',
        {...base, ipTotalLength: 200},
        ['truncated_IP_len'],
        'truncated',
        undefined,
      ],
      [
        'total length below the UDP header',
        {...base, ipTotalLength: 24},
        ['truncated_header'],
        'truncated',
        '10.0.0.1',
      ],
    ]
    for (const [what, options, names, counter, src] of cases) {
      const decoder = new PacketDecoder()
      const result = decoder.decode(udpFrame(options))
      assert.equal(result.packet, undefined, what)
      assert.deepEqual(weirdNames(result), names, what)
      assert.equal(decoder.counters[counter], 1, what)
      assert.equal(result.weirds[0]!.src, src, `${what}: addresses`)
    }
    const version = decode(udpFrame({...base, ipVersion: 5}))
    assert.equal(version.packet, undefined)
    assert.deepEqual(weirdNames(version), ['unknown_ip_version'])
  })

  it('total length 0 (segmentation offload): ip_hdr_len_zero, dropped unless checksums are ignored', () => {
    const frame = tcpFrame({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 1,
      dport: 2,
      payload: 'abcdef',
      ipTotalLength: 0,
    })
    const verified = new PacketDecoder().decode(frame)
    assert.deepEqual(weirdNames(verified), ['ip_hdr_len_zero'])
    assert.equal(verified.packet, undefined, 'dropped when checksums are verified, as Zeek does')
    const result = new PacketDecoder({verifyChecksums: false}).decode(frame)
    assert.deepEqual(weirdNames(result), ['ip_hdr_len_zero'])
    assert.equal(result.packet?.ipLen, 46)
    assert.equal(result.packet?.payloadLen, 6)
    assert.equal(result.packet?.checksumOk, true)
  })

  it('options cut by the snap length are internally_truncated_header, counted as truncated', () => {
    const frame = udpFrame({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 1,
      dport: 2,
      ipOptions: new Uint8Array(20).fill(1),
      snaplen: 14 + 30,
    })
    const decoder = new PacketDecoder()
    const result = decoder.decode(frame)
    assert.equal(result.packet, undefined)
    assert.deepEqual(weirdNames(result), ['internally_truncated_header'])
    assert.equal(decoder.counters.truncated, 1)
  })

  it('unknown transports come through with the IP payload', () => {
    const gre = ipPacket({src: '10.0.0.1', dst: '10.0.0.2'}, 47, Uint8Array.of(0, 0, 0x08, 0, 1, 2))
    const packet = decode(frameFromIp(gre)).packet!
    assert.equal(packet.ipProto, 47)
    assert.equal(packet.transport, undefined)
    assert.equal(packet.payloadLen, 6)
    assert.deepEqual([...packet.payload], [0, 0, 8, 0, 1, 2])
    assert.equal(packet.checksumOk, true)
  })
})

describe('IPv6 extension headers', () => {
  const base = {src: '2001:db8::1', dst: '2001:db8::2', sport: 1234, dport: 80, flags: 'S', payload: 'hello'}

  function decodeWith(extensions: Ipv6Extension[]): DecodeResult {
    return decode(tcpFrame({...base, extensions}))
  }

  const cases: [string, Ipv6Extension[]][] = [
    ['hop-by-hop', [{type: 'hop-by-hop', options: [5, 2, 0, 0]}]],
    ['destination options', [{type: 'destination', options: new Uint8Array(14)}]],
    [
      'routing with no segments left',
      [{type: 'routing', routingType: 0, segmentsLeft: 0, addresses: ['2001:db8::9']}],
    ],
    ['authentication header', [{type: 'ah', icv: new Uint8Array(12)}]],
    ['atomic fragment', [{type: 'fragment', offset: 0, more: false, id: 5}]],
    [
      'all of them',
      [
        {type: 'hop-by-hop'},
        {type: 'destination'},
        {type: 'routing', routingType: 2, segmentsLeft: 0, addresses: ['2001:db8::9']},
        {type: 'fragment', offset: 0, more: false, id: 6},
        {type: 'ah'},
        {type: 'destination', options: new Uint8Array(30)},
      ],
    ],
  ]
  for (const [what, extensions] of cases) {
    it(`${what}: walked to the TCP header`, () => {
      const result = decodeWith(extensions)
      const routing0 = extensions.some((e) => e.type === 'routing' && (e.routingType ?? 0) === 0)
      assert.deepEqual(weirdNames(result), routing0 ? ['routing0_hdr'] : [])
      const packet = result.packet!
      assert.equal(packet.ipProto, 6)
      assert.equal(packet.src, '2001:db8::1')
      assert.equal(packet.dst, '2001:db8::2')
      assert.equal(packet.transport?.kind, 'tcp')
      assert.equal(packet.transport?.kind === 'tcp' && packet.transport.srcPort, 1234)
      assert.equal(new TextDecoder().decode(packet.payload), 'hello')
      assert.equal(packet.payloadLen, 5)
      assert.equal(packet.checksumOk, true)
    })
  }

  it('a routing header with segments left makes its last address the destination (checksum too)', () => {
    const type0 = decodeWith([
      {type: 'routing', routingType: 0, segmentsLeft: 2, addresses: ['2001:db8::a', '2001:db8::b']},
    ])
    assert.deepEqual(weirdNames(type0), ['routing0_hdr'])
    assert.equal(type0.packet?.dst, '2001:db8::b')
    assert.equal(type0.packet?.checksumOk, true)
    const type2 = decodeWith([
      {type: 'routing', routingType: 2, segmentsLeft: 1, addresses: ['2001:db8::77']},
    ])
    assert.deepEqual(weirdNames(type2), [])
    assert.equal(type2.packet?.dst, '2001:db8::77')
    assert.equal(type2.packet?.checksumOk, true)
  })

  it('routing header defects', () => {
    const unknown = decodeWith([{type: 'routing', routingType: 4, segmentsLeft: 1, data: new Uint8Array(20)}])
    assert.deepEqual(
      unknown.weirds.map((w) => [w.name, w.addl]),
      [['unknown_routing_type', '4']],
    )
    assert.equal(unknown.packet?.dst, '2001:db8::2')
    const badType2 = decodeWith([
      {type: 'routing', routingType: 2, segmentsLeft: 1, data: new Uint8Array(36)},
    ])
    assert.deepEqual(weirdNames(badType2), ['bad_routing2_len'])
    const odd = decodeWith([
      {type: 'routing', routingType: 0, segmentsLeft: 1, data: new Uint8Array(4 + 16 + 8)},
    ])
    assert.deepEqual(weirdNames(odd), ['odd_routing0_len', 'routing0_hdr'])
    const twice = decodeWith([
      {type: 'routing', routingType: 2, segmentsLeft: 1, addresses: ['2001:db8::71']},
      {type: 'routing', routingType: 2, segmentsLeft: 1, addresses: ['2001:db8::72']},
    ])
    assert.deepEqual(weirdNames(twice), ['multiple_routing_header'])
    assert.equal(twice.packet?.dst, '2001:db8::72')
  })

  it('an extension header longer than the payload length is truncated_header', () => {
    const ip = tcpPacket({...base, extensions: [{type: 'destination', options: new Uint8Array(30)}]})
    // Payload length 8: the destination options header says it is 32 bytes.
    ip[4] = 0
    ip[5] = 8
    const decoder = new PacketDecoder()
    const result = decoder.decode(frameFromIp(ip))
    assert.equal(result.packet, undefined)
    assert.deepEqual(weirdNames(result), ['truncated_header'])
    assert.equal(result.weirds[0]!.src, '2001:db8::1')
    assert.equal(decoder.counters.truncated, 1)
  })

  it('an extension header the snap length cut is internally_truncated_header', () => {
    const frame = tcpFrame({
      ...base,
      extensions: [{type: 'hop-by-hop', options: new Uint8Array(22)}],
      snaplen: 14 + 40 + 10,
    })
    const result = decode(frame)
    assert.equal(result.packet, undefined)
    assert.deepEqual(weirdNames(result), ['internally_truncated_header'])
  })

  it('payload length beyond the wire is truncated_IP; zero payload length is ip_hdr_len_zero', () => {
    const long = decode(tcpFrame({...base, ipPayloadLength: 500}))
    assert.deepEqual(weirdNames(long), ['truncated_IP'])
    const zero = decode(tcpFrame({...base, ipPayloadLength: 0}))
    assert.deepEqual(weirdNames(zero), ['ip_hdr_len_zero'])
    assert.equal(zero.packet?.payloadLen, 5)
    const none = ipPacket({src: '::1', dst: '::2'}, 59)
    const noNext = decode(frameFromIp(none))
    assert.deepEqual(noNext.weirds, [])
    assert.equal(noNext.packet?.ipProto, 59)
    assert.equal(noNext.packet?.transport, undefined)
  })

  it('ESP ends the chain: an unparsed transport', () => {
    const esp = ipPacket(
      {src: '2001:db8::1', dst: '2001:db8::2', extensions: [{type: 'hop-by-hop'}]},
      50,
      new Uint8Array(24),
    )
    const packet = decode(frameFromIp(esp)).packet!
    assert.equal(packet.ipProto, 50)
    assert.equal(packet.transport, undefined)
    assert.equal(packet.payloadLen, 24)
  })
})
