// Malformed input never throws: valid frames cut at every length (snap-length style, and with the wire
// length cut too), and seeded random corruption of every link type. Every frame ends in exactly one
// counted outcome, and a cut that keeps the headers still gives the packet with the bytes present.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  fragmentIpv4,
  frameFromIp,
  icmpFrame,
  rawFrame,
  tcpFrame,
  tcpOptions,
  udpFrame,
  udpPacket,
} from '../../src/sensor/craft/frames.js'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import type {DecoderCounters} from '../../src/sensor/decode/packet-decoder.js'
import type {RawFrame} from '../../src/sensor/types.js'
import {seededRandom} from '../../src/engine/generator/random.js'

interface Sample {
  name: string
  frame: RawFrame
  /** Bytes in front of the transport payload. */
  headersLen: number
  /** A whole first fragment is held for reassembly instead of coming out as a packet. */
  fragment?: boolean
}

const payload = Uint8Array.from({length: 40}, (_, i) => 0x30 + i)

const samples: Sample[] = [
  {
    name: 'Ethernet/IPv4 with options/TCP with options',
    frame: tcpFrame({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      ipOptions: [1, 1, 1, 1],
      sport: 1,
      dport: 2,
      flags: 'PA',
      options: tcpOptions({timestamp: [1, 2]}),
      payload,
    }),
    headersLen: 14 + 24 + 32,
  },
  {
    name: 'QinQ/IPv6 with extension headers/UDP',
    frame: udpFrame({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      vlan: [1, 2],
      extensions: [
        {type: 'hop-by-hop'},
        {type: 'routing', routingType: 2, segmentsLeft: 1, addresses: ['::9']},
      ],
      sport: 3,
      dport: 4,
      payload,
    }),
    headersLen: 22 + 40 + 8 + 24 + 8,
  },
  {
    name: 'SLL/IPv6/ICMPv6',
    frame: icmpFrame({src: 'fe80::1', dst: 'ff02::1', type: 128, link: 'sll', payload}),
    headersLen: 16 + 40 + 8,
  },
  {
    name: 'NULL/IPv4/ICMP',
    frame: icmpFrame({src: '1.1.1.1', dst: '2.2.2.2', type: 0, link: 'null-be', payload}),
    headersLen: 4 + 20 + 8,
  },
  {
    name: 'raw IPv4 first fragment/UDP',
    frame: frameFromIp(
      fragmentIpv4(
        udpPacket({src: '1.1.1.1', dst: '2.2.2.2', sport: 5, dport: 6, payload: new Uint8Array(200)}),
        96,
      )[0]!,
      {link: 'raw'},
    ),
    headersLen: 20 + 8,
    fragment: true,
  },
]

/** Every frame lands in exactly one outcome counter. */
function assertAccounted(counters: DecoderCounters): void {
  const outcomes =
    counters.packets +
    counters.nonIp +
    counters.unknownLinkType +
    counters.truncated +
    counters.malformed +
    counters.badIpChecksum +
    counters.fragmentsHeld +
    counters.fragmentsDropped
  assert.equal(outcomes, counters.frames, `outcomes ${JSON.stringify(counters)}`)
}

describe('truncation', () => {
  for (const sample of samples) {
    it(`${sample.name}: cut at every length, snap-length style`, () => {
      const full = sample.frame.data
      for (let length = 0; length <= full.length; length++) {
        const decoder = new PacketDecoder()
        const frame: RawFrame = {...sample.frame, data: full.slice(0, length)}
        const result = decoder.decode(frame)
        assertAccounted(decoder.counters)
        const packet = result.packet
        if (length >= sample.headersLen && !(sample.fragment && length === full.length)) {
          assert.ok(packet !== undefined, `packet at ${length}`)
          assert.equal(packet.capLen, length)
          assert.equal(packet.wireLen, full.length)
          assert.equal(packet.payload.length, Math.min(length - sample.headersLen, packet.payloadLen))
          assert.deepEqual(
            [...packet.payload],
            [...full.subarray(sample.headersLen, length)].slice(0, packet.payloadLen),
          )
          assert.equal(packet.checksumOk, true)
        } else {
          assert.ok(packet === undefined, `no packet at ${length}`)
          const held = sample.fragment === true && length === full.length
          assert.ok(held || result.weirds.length > 0, `a weird at ${length}`)
        }
      }
    })

    it(`${sample.name}: cut at every length on the wire too`, () => {
      const full = sample.frame.data
      const decoder = new PacketDecoder()
      for (let length = 0; length < full.length; length++) {
        const result = decoder.decode({...sample.frame, data: full.slice(0, length), wireLen: length})
        // The IP length reaches the end of every sample: anything shorter on the wire is truncated.
        assert.equal(result.packet, undefined, `no packet at ${length}`)
        assert.ok(result.weirds.length > 0, `a weird at ${length}`)
      }
      assertAccounted(decoder.counters)
    })
  }
})

describe('random corruption', () => {
  it('bit flips, byte overwrites and cuts of valid frames never throw and are all accounted', () => {
    const next = seededRandom(0x5eed)
    const decoder = new PacketDecoder({fragmentTimeout: 5})
    for (let round = 0; round < 20_000; round++) {
      const sample = samples[round % samples.length]!
      const data = sample.frame.data.slice()
      const edits = 1 + Math.floor(next() * 4)
      for (let edit = 0; edit < edits; edit++) {
        const at = Math.floor(next() * data.length)
        if (next() < 0.5) data[at] = data[at]! ^ (1 << Math.floor(next() * 8))
        else data[at] = Math.floor(next() * 256)
      }
      const length = next() < 0.3 ? Math.floor(next() * data.length) : data.length
      const frame: RawFrame = {...sample.frame, ts: round, data: data.subarray(0, length)}
      const result = decoder.decode(frame)
      for (const weird of result.weirds) assert.equal(typeof weird.name, 'string')
      if (round % 1000 === 0) decoder.expireFragments(round)
    }
    assertAccounted(decoder.counters)
    assert.ok(decoder.counters.packets > 0, 'some frames survive')
    assert.ok(decoder.counters.badIpChecksum > 0, 'some hit the IP checksum')
  })

  it('random bytes under every link type never throw', () => {
    const next = seededRandom(42)
    const decoder = new PacketDecoder({verifyChecksums: false})
    const linkTypes = [0, 1, 101, 113, 228, 229, 12345]
    for (let round = 0; round < 20_000; round++) {
      const data = Uint8Array.from({length: Math.floor(next() * 120)}, () => Math.floor(next() * 256))
      // Steer some frames past the link layer: an IP version nibble and an IP Ethertype.
      if (data.length > 20 && next() < 0.5) data[next() < 0.5 ? 0 : 14] = next() < 0.5 ? 0x45 : 0x60
      if (data.length > 14 && next() < 0.5) data.set([0x08, 0x00], 12)
      decoder.decode(rawFrame(data, linkTypes[round % linkTypes.length]!, {ts: round}))
    }
    assertAccounted(decoder.counters)
  })
})
