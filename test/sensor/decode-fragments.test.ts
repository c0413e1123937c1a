// IPv4 and IPv6 fragment reassembly: in order, out of order, duplicates, overlaps (consistent and not),
// incomplete datagrams expiring, the bound on held datagrams, and the fragment weirds Zeek reports.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {fragmentIpv4, fragmentIpv6, frameFromIp, tcpPacket, udpPacket} from '../../src/sensor/craft/frames.js'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import type {DecodeResult, DecodedPacket} from '../../src/sensor/types.js'

const payload = Uint8Array.from({length: 300}, (_, i) => (i * 7) & 0xff)
const whole4 = udpPacket({src: '10.9.8.7', dst: '10.1.1.1', ipId: 321, sport: 4000, dport: 5000, payload})
const whole6 = udpPacket({
  src: '2001:db8::7',
  dst: '2001:db8::1',
  sport: 4000,
  dport: 5000,
  payload,
  extensions: [{type: 'hop-by-hop'}, {type: 'destination', options: new Uint8Array(6)}],
})

function pieces(version: 4 | 6, size = 96, id = 0x1234): Uint8Array[] {
  return version === 4 ? fragmentIpv4(whole4, size) : fragmentIpv6(whole6, size, id)
}

/** Feeds the datagrams as frames one second apart (from `ts`); returns the results. */
function feed(decoder: PacketDecoder, datagrams: Uint8Array[], ts = 100): DecodeResult[] {
  return datagrams.map((datagram, i) => decoder.decode(frameFromIp(datagram, {ts: ts + i})))
}

function names(results: DecodeResult[]): string[] {
  return results.flatMap((result) => result.weirds.map((weird) => weird.name))
}

function assertWhole(packet: DecodedPacket | undefined, version: 4 | 6): void {
  assert.ok(packet !== undefined, 'reassembled packet')
  assert.equal(packet.ipVersion, version)
  assert.equal(packet.src, version === 4 ? '10.9.8.7' : '2001:db8::7')
  assert.equal(packet.dst, version === 4 ? '10.1.1.1' : '2001:db8::1')
  assert.equal(packet.ipProto, 17)
  assert.equal(packet.ipLen, version === 4 ? whole4.length : whole6.length)
  assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 4000, dstPort: 5000})
  assert.equal(packet.payloadLen, 300)
  assert.deepEqual([...packet.payload], [...payload])
  assert.equal(packet.checksumOk, true, 'UDP checksum over the reassembled datagram')
}

for (const version of [4, 6] as const) {
  describe(`IPv${version} fragments`, () => {
    it('in order: held until the last, which brings the whole datagram with its timestamp', () => {
      const decoder = new PacketDecoder()
      const fragments = pieces(version)
      assert.equal(fragments.length, 4)
      const results = feed(decoder, fragments)
      assert.deepEqual(names(results), [])
      for (const result of results.slice(0, -1)) assert.equal(result.packet, undefined)
      const last = results[results.length - 1]!.packet
      assertWhole(last, version)
      assert.equal(last!.ts, 100 + fragments.length - 1)
      assert.equal(decoder.counters.fragments, fragments.length)
      assert.equal(decoder.counters.fragmentsHeld, fragments.length - 1)
      assert.equal(decoder.counters.reassembled, 1)
      assert.equal(decoder.counters.packets, 1)
      assert.equal(decoder.pendingReassemblies, 0)
    })

    it('out of order: reversed and shuffled', () => {
      for (const order of [
        [3, 2, 1, 0],
        [2, 0, 3, 1],
        [0, 3, 1, 2],
      ]) {
        const fragments = pieces(version)
        const results = feed(
          new PacketDecoder(),
          order.map((i) => fragments[i]!),
        )
        assert.deepEqual(names(results), [])
        assert.deepEqual(
          results.map((result) => result.packet !== undefined),
          [false, false, false, true],
        )
        assertWhole(results[3]!.packet, version)
      }
    })

    it('a duplicate fragment is fragment_overlap and changes nothing', () => {
      const fragments = pieces(version)
      const decoder = new PacketDecoder()
      const results = feed(decoder, [
        fragments[0]!,
        fragments[1]!,
        fragments[1]!,
        fragments[2]!,
        fragments[3]!,
      ])
      assert.deepEqual(names(results), ['fragment_overlap'])
      assert.equal(results[2]!.weirds[0]!.src, version === 4 ? '10.9.8.7' : '2001:db8::7')
      assertWhole(results[4]!.packet, version)
      assert.equal(decoder.counters.reassembled, 1)
    })

    it('overlapping pieces of another split with the same bytes are fragment_overlap', () => {
      const coarse = pieces(version, 96)
      const fine = pieces(version, 64)
      // Coarse 0 and 2 first, then every fine piece: those straddle the coarse ones.
      const results = feed(new PacketDecoder(), [coarse[0]!, coarse[2]!, ...fine])
      const weirds = names(results)
      assert.ok(weirds.length > 0, 'overlaps reported')
      assert.ok(
        weirds.every((name) => name === 'fragment_overlap'),
        `only consistent overlaps: ${weirds.join()}`,
      )
      const done = results.filter((result) => result.packet !== undefined)
      assert.equal(done.length, 1)
      assertWhole(done[0]!.packet, version)
    })

    it('an overlap with different bytes is fragment_inconsistency; the first bytes win', () => {
      const fragments = pieces(version)
      const forged = fragments[1]!.slice()
      forged[forged.length - 5] = forged[forged.length - 5]! ^ 0xff
      const decoder = new PacketDecoder()
      const results = feed(decoder, [fragments[0]!, fragments[1]!, forged, fragments[2]!, fragments[3]!])
      assert.deepEqual(names(results), ['fragment_inconsistency'])
      assertWhole(results[4]!.packet, version)
    })

    it('an incomplete datagram expires after the timeout and is counted', () => {
      const fragments = pieces(version)
      const decoder = new PacketDecoder({fragmentTimeout: 30})
      feed(decoder, [fragments[0]!, fragments[1]!], 1000)
      assert.equal(decoder.pendingReassemblies, 1)
      decoder.expireFragments(1029)
      assert.equal(decoder.pendingReassemblies, 1, 'not yet: the timer runs from the first fragment')
      decoder.expireFragments(1030)
      assert.equal(decoder.pendingReassemblies, 0)
      assert.equal(decoder.counters.reassembliesExpired, 1)
      // The rest alone cannot complete it any more.
      const late = feed(decoder, [fragments[2]!, fragments[3]!], 1031)
      assert.deepEqual(
        late.map((result) => result.packet),
        [undefined, undefined],
      )
      assert.equal(decoder.pendingReassemblies, 1)
    })

    it('a fragment arriving after the timeout starts over even without expireFragments', () => {
      const fragments = pieces(version)
      const decoder = new PacketDecoder({fragmentTimeout: 10})
      feed(decoder, [fragments[0]!, fragments[1]!], 0)
      const late = feed(decoder, [fragments[2]!, fragments[3]!], 50)
      assert.equal(late[1]!.packet, undefined)
      assert.equal(decoder.counters.reassembliesExpired, 1)
    })

    it('a zero timeout holds fragments forever, as Zeek does by default', () => {
      const fragments = pieces(version)
      const decoder = new PacketDecoder({fragmentTimeout: 0})
      feed(decoder, [fragments[0]!, fragments[1]!, fragments[2]!], 0)
      decoder.expireFragments(1e9)
      const last = feed(decoder, [fragments[3]!], 1e9)
      assertWhole(last[0]!.packet, version)
    })

    it('the number of held datagrams is bounded; the oldest goes first', () => {
      const decoder = new PacketDecoder({maxPendingReassemblies: 2})
      const ids = [1, 2, 3]
      const firsts = ids.map((id) =>
        version === 4
          ? fragmentIpv4(
              udpPacket({src: '10.0.0.1', dst: '10.0.0.2', ipId: id, sport: 1, dport: 2, payload}),
              96,
            )
          : fragmentIpv6(udpPacket({src: '::1', dst: '::2', sport: 1, dport: 2, payload}), 96, id),
      )
      feed(
        decoder,
        firsts.map((fragments) => fragments[0]!),
      )
      assert.equal(decoder.pendingReassemblies, 2)
      assert.equal(decoder.counters.reassembliesEvicted, 1)
      // Datagram 1 was evicted: its remaining fragments do not complete it; datagram 3's do.
      const rest1 = feed(decoder, firsts[0]!.slice(1))
      assert.equal(rest1[rest1.length - 1]!.packet, undefined)
      const rest3 = feed(decoder, firsts[2]!.slice(1))
      assert.equal(rest3[rest3.length - 1]!.packet?.payloadLen, 300)
    })

    it('small non-last fragments are excessively_small_fragment', () => {
      const plain =
        version === 4
          ? whole4
          : udpPacket({src: '2001:db8::7', dst: '2001:db8::1', sport: 4000, dport: 5000, payload})
      const fragments = version === 4 ? fragmentIpv4(plain, 16) : fragmentIpv6(plain, 8, 9)
      const results = feed(new PacketDecoder(), fragments)
      const weirds = names(results)
      assert.equal(weirds.length, fragments.length - 1, 'one per non-last fragment')
      assert.ok(
        weirds.every((name) => name === 'excessively_small_fragment'),
        weirds.join(),
      )
      const packet = results[results.length - 1]!.packet
      assert.equal(packet?.payloadLen, 300)
      assert.equal(packet?.checksumOk, true)
    })

    it('a cut first fragment is analysed alone; a cut later one is dropped', () => {
      const fragments = pieces(version)
      const decoder = new PacketDecoder()
      const first = decoder.decode(frameFromIp(fragments[0]!, {snaplen: 100}))
      // UDP then sees the fragment's length, not the datagram's (Zeek reports the same).
      assert.deepEqual(
        first.weirds.map((w) => w.name),
        ['incompletely_captured_fragment', 'UDP_datagram_length_mismatch'],
      )
      assert.deepEqual(first.packet?.transport, {kind: 'udp', srcPort: 4000, dstPort: 5000})
      assert.equal(first.packet?.checksumOk, true, 'not verifiable')
      const later = decoder.decode(frameFromIp(fragments[1]!, {snaplen: 74}))
      assert.equal(later.packet, undefined)
      assert.deepEqual(
        later.weirds.map((w) => w.name),
        ['incompletely_captured_fragment'],
      )
      assert.equal(decoder.pendingReassemblies, 0)
    })

    it('two last fragments with different ends are fragment_size_inconsistency', () => {
      const fragments = pieces(version)
      const last = fragments[3]!
      const shorter = last.slice(0, last.length - 8)
      if (version === 4) {
        shorter[3] = shorter[3]! - 8
        fixIpv4Checksum(shorter)
      } else {
        shorter[5] = shorter[5]! - 8
      }
      const results = feed(new PacketDecoder(), [shorter, last, fragments[0]!, fragments[1]!, fragments[2]!])
      // The longer last fragment also overlaps the shorter one, with the same bytes.
      assert.deepEqual(names(results), ['fragment_size_inconsistency', 'fragment_overlap'])
      assertWhole(results[4]!.packet, version)
    })
  })
}

describe('fragment weirds specific to one version', () => {
  it("IPv4 fragments with Don't Fragment set are fragment_with_DF", () => {
    const fragments = fragmentIpv4(whole4, 96).map((fragment) => {
      const flagged = fragment.slice()
      flagged[6] = flagged[6]! | 0x40
      fixIpv4Checksum(flagged)
      return flagged
    })
    const results = feed(new PacketDecoder(), fragments)
    assert.deepEqual(
      names(results),
      fragments.map(() => 'fragment_with_DF'),
    )
    assertWhole(results[results.length - 1]!.packet, 4)
  })

  it('IPv4 fragments disagreeing on the protocol are fragment_protocol_inconsistency', () => {
    const fragments = fragmentIpv4(whole4, 96)
    const odd = fragments[2]!.slice()
    odd[9] = 6
    fixIpv4Checksum(odd)
    const results = feed(new PacketDecoder(), [fragments[0]!, fragments[1]!, odd, fragments[3]!])
    assert.deepEqual(names(results), ['fragment_protocol_inconsistency'])
  })

  it('TCP over IPv6 with the destination options in the fragmentable part', () => {
    const data = new Uint8Array(500).fill(0x42)
    const tcp = tcpPacket({
      src: '2001:db8::5',
      dst: '2001:db8::6',
      sport: 443,
      dport: 50000,
      flags: 'PA',
      seq: 99,
      ack: 77,
      payload: data,
      extensions: [
        {type: 'routing', routingType: 2, segmentsLeft: 1, addresses: ['2001:db8::99']},
        {type: 'destination'},
      ],
    })
    const results = feed(new PacketDecoder(), fragmentIpv6(tcp, 200, 5).reverse())
    const packet = results[results.length - 1]!.packet
    assert.equal(packet?.dst, '2001:db8::99')
    assert.equal(packet?.ipProto, 6)
    assert.equal(packet?.payloadLen, 500)
    assert.equal(packet?.checksumOk, true)
    assert.equal(packet?.transport?.kind === 'tcp' && packet.transport.seq, 99)
  })
})

function fixIpv4Checksum(packet: Uint8Array): void {
  packet[10] = 0
  packet[11] = 0
  const headerLen = (packet[0]! & 0x0f) * 4
  let sum = 0
  for (let i = 0; i < headerLen; i += 2) sum += (packet[i]! << 8) | packet[i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  const checksum = ~sum & 0xffff
  packet[10] = checksum >> 8
  packet[11] = checksum & 0xff
}
