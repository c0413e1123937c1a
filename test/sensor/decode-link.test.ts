// Link layers in front of IP: Ethernet with every tag layout, Linux SLL, BSD NULL in both byte orders,
// the raw-IP link types, 802.3 SNAP, non-IP and unknown link types, and cut link headers.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {frameFromIp, linkBytes, nonIpFrame, rawFrame, udpPacket} from '../../src/sensor/craft/frames.js'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import {LINKTYPE} from '../../src/sensor/types.js'
import type {DecodedPacket, RawFrame} from '../../src/sensor/types.js'

const ip4 = udpPacket({src: '192.0.2.1', dst: '198.51.100.2', sport: 1000, dport: 2000, payload: 'four'})
const ip6 = udpPacket({src: '2001:db8::a', dst: '2001:db8::b', sport: 3000, dport: 4000, payload: 'six!'})

function decodeOk(frame: RawFrame): DecodedPacket {
  const result = new PacketDecoder().decode(frame)
  assert.deepEqual(result.weirds, [], 'no weirds')
  assert.ok(result.packet !== undefined, 'a packet')
  return result.packet
}

function assertUdp4(packet: DecodedPacket): void {
  assert.equal(packet.ipVersion, 4)
  assert.equal(packet.src, '192.0.2.1')
  assert.equal(packet.dst, '198.51.100.2')
  assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 1000, dstPort: 2000})
  assert.equal(new TextDecoder().decode(packet.payload), 'four')
  assert.equal(packet.checksumOk, true)
}

function assertUdp6(packet: DecodedPacket): void {
  assert.equal(packet.ipVersion, 6)
  assert.equal(packet.src, '2001:db8::a')
  assert.equal(packet.dst, '2001:db8::b')
  assert.deepEqual(packet.transport, {kind: 'udp', srcPort: 3000, dstPort: 4000})
  assert.equal(new TextDecoder().decode(packet.payload), 'six!')
  assert.equal(packet.checksumOk, true)
}

describe('link layers', () => {
  it('Ethernet, untagged, IPv4 and IPv6', () => {
    const packet = decodeOk(frameFromIp(ip4))
    assertUdp4(packet)
    assert.equal(packet.vlan, undefined)
    assert.equal(packet.innerVlan, undefined)
    assert.equal(packet.wireLen, 14 + ip4.length)
    assertUdp6(decodeOk(frameFromIp(ip6)))
  })

  it('802.1Q: the VLAN id without priority bits', () => {
    const packet = decodeOk(frameFromIp(ip4, {vlan: 0xa00 | 0x6000}))
    assertUdp4(packet)
    assert.equal(packet.vlan, 0xa00)
    assert.equal(packet.innerVlan, undefined)
  })

  it('QinQ with 0x88a8 and with the legacy 0x9100 outer tag; IPv6 inside', () => {
    const standard = decodeOk(frameFromIp(ip6, {vlan: [100, 200]}))
    assertUdp6(standard)
    assert.equal(standard.vlan, 100)
    assert.equal(standard.innerVlan, 200)
    const legacy = decodeOk(frameFromIp(ip4, {vlan: [300, 400], vlanTpids: [0x9100, 0x8100]}))
    assertUdp4(legacy)
    assert.equal(legacy.vlan, 300)
    assert.equal(legacy.innerVlan, 400)
    const doubleQ = decodeOk(frameFromIp(ip4, {vlan: [5, 6], vlanTpids: [0x8100, 0x8100]}))
    assert.equal(doubleQ.vlan, 5)
    assert.equal(doubleQ.innerVlan, 6)
  })

  it('a third tag overwrites the inner VLAN, as in Zeek', () => {
    const packet = decodeOk(frameFromIp(ip4, {vlan: [1, 2, 3]}))
    assertUdp4(packet)
    assert.equal(packet.vlan, 1)
    assert.equal(packet.innerVlan, 3)
  })

  it('a priority-only tag (VLAN id 0) is no VLAN', () => {
    const packet = decodeOk(frameFromIp(ip4, {vlan: [0x6000, 42]}))
    assert.equal(packet.vlan, 42)
    assert.equal(packet.innerVlan, undefined)
  })

  it('a tag the kernel stripped is the outer VLAN; tags left in the frame are inner', () => {
    const stripped = decodeOk(frameFromIp(ip4, {vlanTci: 0x2000 | 77}))
    assertUdp4(stripped)
    assert.equal(stripped.vlan, 77)
    assert.equal(stripped.innerVlan, undefined)
    const stacked = decodeOk(frameFromIp(ip4, {vlanTci: 77, vlan: 88}))
    assert.equal(stacked.vlan, 77)
    assert.equal(stacked.innerVlan, 88)
  })

  it('Linux SLL, with and without a tag', () => {
    assertUdp4(decodeOk(frameFromIp(ip4, {link: 'sll'})))
    const tagged = decodeOk(frameFromIp(ip6, {link: 'sll', vlan: 9}))
    assertUdp6(tagged)
    assert.equal(tagged.vlan, 9)
  })

  it('BSD NULL in both byte orders, every IPv6 family value', () => {
    assertUdp4(decodeOk(frameFromIp(ip4, {link: 'null'})))
    assertUdp4(decodeOk(frameFromIp(ip4, {link: 'null-be'})))
    for (const family of [10, 24, 28, 30]) {
      assertUdp6(decodeOk(frameFromIp(ip6, {link: 'null', nullFamily: family})))
      assertUdp6(decodeOk(frameFromIp(ip6, {link: 'null-be', nullFamily: family})))
    }
  })

  it('NULL with a non-IP family is not analysed and not weird', () => {
    const decoder = new PacketDecoder()
    const result = decoder.decode(frameFromIp(ip4, {link: 'null', nullFamily: 7}))
    assert.equal(result.packet, undefined)
    assert.deepEqual(result.weirds, [])
    assert.equal(decoder.counters.nonIp, 1)
  })

  it('RAW, IPV4 and IPV6 link types (the version nibble decides)', () => {
    assertUdp4(decodeOk(frameFromIp(ip4, {link: 'raw'})))
    assertUdp6(decodeOk(frameFromIp(ip6, {link: 'raw'})))
    assertUdp4(decodeOk(frameFromIp(ip4, {link: 'ipv4'})))
    assertUdp6(decodeOk(frameFromIp(ip6, {link: 'ipv6'})))
  })

  it('802.3 with LLC/SNAP carrying IPv4', () => {
    const header = linkBytes(new Uint8Array(0), {etherType: ip4.length + 8}).subarray(0, 14)
    const snap = Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00)
    const bytes = new Uint8Array(14 + 8 + ip4.length)
    bytes.set(header)
    bytes.set(snap, 14)
    bytes.set(ip4, 22)
    assertUdp4(decodeOk(rawFrame(bytes, LINKTYPE.ETHERNET)))
    // Plain 802.2 LLC (spanning tree) is not IP.
    const stp = bytes.slice(0, 60)
    stp.set([0x42, 0x42, 0x03], 14)
    const decoder = new PacketDecoder()
    assert.equal(decoder.decode(rawFrame(stp, LINKTYPE.ETHERNET)).packet, undefined)
    assert.equal(decoder.counters.nonIp, 1)
  })

  it('ARP and LLDP (also behind a tag) are counted, not analysed, not weird', () => {
    const decoder = new PacketDecoder()
    for (const frame of [
      nonIpFrame(0x0806, new Uint8Array(28)),
      nonIpFrame(0x88cc, new Uint8Array(40)),
      nonIpFrame(0x0806, new Uint8Array(28), {vlan: 12}),
      nonIpFrame(0x0806, new Uint8Array(28), {link: 'sll'}),
    ]) {
      const result = decoder.decode(frame)
      assert.equal(result.packet, undefined)
      assert.deepEqual(result.weirds, [])
    }
    assert.equal(decoder.counters.nonIp, 4)
    assert.equal(decoder.counters.frames, 4)
    assert.equal(decoder.counters.packets, 0)
  })

  it('an unknown link type is counted, not weird', () => {
    const decoder = new PacketDecoder()
    const result = decoder.decode(rawFrame(ip4, 147))
    assert.equal(result.packet, undefined)
    assert.deepEqual(result.weirds, [])
    assert.equal(decoder.counters.unknownLinkType, 1)
  })

  it('cut link headers are Zeek weirds', () => {
    const cases: [RawFrame, string][] = [
      [rawFrame(new Uint8Array(13), LINKTYPE.ETHERNET), 'truncated_ethernet_frame'],
      [
        rawFrame(frameFromIp(ip4, {vlan: 5}).data.subarray(0, 16), LINKTYPE.ETHERNET),
        'truncated_VLAN_header',
      ],
      [rawFrame(new Uint8Array(15), LINKTYPE.LINUX_SLL), 'truncated_Linux_SLL_header'],
      [rawFrame(new Uint8Array(3), LINKTYPE.NULL), 'null_analyzer_failed'],
      [rawFrame(new Uint8Array(0), LINKTYPE.RAW), 'truncated_IP'],
    ]
    for (const [frame, name] of cases) {
      const decoder = new PacketDecoder()
      const result = decoder.decode(frame)
      assert.equal(result.packet, undefined, name)
      assert.deepEqual(
        result.weirds.map((weird) => weird.name),
        [name],
      )
      assert.equal(result.weirds[0]!.ts, frame.ts)
      assert.equal(result.weirds[0]!.src, undefined, 'no address known yet')
      assert.equal(decoder.counters.truncated, 1)
    }
  })

  it('decoder options: unset values keep the defaults, impossible ones are refused', () => {
    const decoder = new PacketDecoder({verifyChecksums: undefined as unknown as boolean})
    assert.equal(decoder.options.verifyChecksums, true)
    assert.equal(decoder.options.fragmentTimeout, 60)
    assert.equal(new PacketDecoder({verifyChecksums: false}).options.verifyChecksums, false)
    assert.throws(() => new PacketDecoder({fragmentTimeout: -1}), {code: 'DSIEM_E_DECODER_OPTION'})
    assert.throws(() => new PacketDecoder({fragmentTimeout: Number.NaN}), {code: 'DSIEM_E_DECODER_OPTION'})
    assert.throws(() => new PacketDecoder({maxPendingReassemblies: 0}), {code: 'DSIEM_E_DECODER_OPTION'})
  })
})
