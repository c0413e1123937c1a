// The frame builder against bytes written out by hand (checksums computed outside this code base):
// Ethernet/IPv4/TCP, IPv6/UDP, ICMP, ICMPv6, link layers, VLAN stacks, IPv6 extension headers, and the
// fragment helpers' offsets and flags.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  fragmentIpv4,
  fragmentIpv6,
  frameFromIp,
  icmpFrame,
  icmpPacket,
  ipPacket,
  nonIpFrame,
  tcpFlagBits,
  tcpFrame,
  tcpOptions,
  udpFrame,
  udpPacket,
  withSnaplen,
} from '../../src/sensor/craft/frames.js'
import {addWords, isValidSum} from '../../src/sensor/decode/checksum.js'
import {LINKTYPE} from '../../src/sensor/types.js'

function hex(text: string): string {
  return text.replace(/\s+/g, '')
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

describe('frame builder: byte-exact against hand-written frames', () => {
  it('Ethernet/IPv4/TCP SYN with MSS', () => {
    const frame = tcpFrame({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      ipId: 0x1234,
      dontFragment: true,
      sport: 49152,
      dport: 80,
      seq: 0x01020304,
      flags: 'S',
      window: 64240,
      options: tcpOptions({mss: 1460}),
    })
    assert.equal(frame.linkType, LINKTYPE.ETHERNET)
    assert.equal(frame.wireLen, frame.data.length)
    assert.equal(
      toHex(frame.data),
      hex(`020000000002 020000000001 0800
        4500 002c 1234 4000 4006 1496 0a000001 0a000002
        c000 0050 01020304 00000000 6002 faf0 c4dc 0000 020405b4`),
    )
  })

  it('Ethernet/IPv6/UDP with a flow label', () => {
    const payload = Uint8Array.from(
      Buffer.from('123401000001000000000000076578616d706c6503636f6d0000010001', 'hex'),
    )
    const frame = udpFrame({
      src: '2001:db8::1',
      dst: '2001:db8::53',
      flowLabel: 0x12345,
      sport: 5353,
      dport: 53,
      payload,
    })
    assert.equal(
      toHex(frame.data),
      hex(`020000000002 020000000001 86dd
        60012345 0025 11 40 20010db8000000000000000000000001 20010db8000000000000000000000053
        14e9 0035 0025 ad1e
        123401000001000000000000 076578616d706c6503636f6d00 0001 0001`),
    )
  })

  it('Ethernet/IPv4/ICMP echo', () => {
    const frame = icmpFrame({
      src: '192.168.1.10',
      dst: '8.8.8.8',
      ipId: 0xabcd,
      ttl: 128,
      type: 8,
      id: 1,
      sequence: 7,
      payload: 'abcdefgh',
    })
    assert.equal(
      toHex(frame.data),
      hex(`020000000002 020000000001 0800
        4500 0024 abcd 0000 8001 bd49 c0a8010a 08080808
        08 00 6662 0001 0007 6162636465666768`),
    )
  })

  it('Ethernet/IPv6/ICMPv6 echo', () => {
    const frame = icmpFrame({
      src: 'fe80::1',
      dst: 'fe80::2',
      ttl: 255,
      type: 128,
      id: 0x42,
      sequence: 1,
      payload: 'ping',
    })
    assert.equal(
      toHex(frame.data),
      hex(`020000000002 020000000001 86dd
        60000000 000c 3a ff fe800000000000000000000000000001 fe800000000000000000000000000002
        80 00 a3a0 0042 0001 70696e67`),
    )
  })

  it('raw IPv4/UDP', () => {
    const packet = udpPacket({
      src: '172.16.0.1',
      dst: '172.16.0.2',
      ipId: 7,
      sport: 1111,
      dport: 2222,
      payload: 'hi',
    })
    assert.equal(
      toHex(packet),
      hex('4500 001e 0007 0000 4011 22a5 ac100001 ac100002 0457 08ae 000a 3248 6869'),
    )
    const frame = frameFromIp(packet, {link: 'raw', ts: 5})
    assert.equal(frame.linkType, LINKTYPE.RAW)
    assert.equal(frame.ts, 5)
    assert.equal(toHex(frame.data), toHex(packet))
  })
})

describe('frame builder: link layers', () => {
  const ip = udpPacket({src: '10.1.1.1', dst: '10.1.1.2', sport: 1, dport: 2})
  const ip6 = udpPacket({src: '::1', dst: '::2', sport: 1, dport: 2})

  it('802.1Q and QinQ tags, outermost first, with the default and chosen TPIDs', () => {
    const single = frameFromIp(ip, {vlan: 100})
    assert.equal(toHex(single.data.subarray(12, 18)), hex('8100 0064 0800'))
    const double = frameFromIp(ip, {vlan: [10, 20]})
    assert.equal(toHex(double.data.subarray(12, 22)), hex('88a8 000a 8100 0014 0800'))
    const legacy = frameFromIp(ip6, {vlan: [0x2005, 7], vlanTpids: [0x9100, 0x8100]})
    assert.equal(toHex(legacy.data.subarray(12, 22)), hex('9100 2005 8100 0007 86dd'))
  })

  it('Linux SLL header', () => {
    const frame = frameFromIp(ip, {link: 'sll', srcMac: 'aa:bb:cc:dd:ee:ff'})
    assert.equal(frame.linkType, LINKTYPE.LINUX_SLL)
    assert.equal(toHex(frame.data.subarray(0, 16)), hex('0000 0001 0006 aabbccddeeff 0000 0800'))
  })

  it('NULL header in both byte orders, IPv4 and IPv6 families', () => {
    assert.equal(toHex(frameFromIp(ip, {link: 'null'}).data.subarray(0, 4)), '02000000')
    assert.equal(toHex(frameFromIp(ip, {link: 'null-be'}).data.subarray(0, 4)), '00000002')
    assert.equal(toHex(frameFromIp(ip6, {link: 'null', nullFamily: 30}).data.subarray(0, 4)), '1e000000')
    assert.equal(frameFromIp(ip6, {link: 'null'}).linkType, LINKTYPE.NULL)
  })

  it('IPv4/IPv6 link types carry the datagram bare', () => {
    assert.equal(frameFromIp(ip, {link: 'ipv4'}).linkType, LINKTYPE.IPV4)
    assert.equal(frameFromIp(ip6, {link: 'ipv6'}).linkType, LINKTYPE.IPV6)
    assert.equal(toHex(frameFromIp(ip6, {link: 'ipv6'}).data), toHex(ip6))
  })

  it('non-IP frames, snap length and kernel-stripped tags', () => {
    const arp = nonIpFrame(0x0806, new Uint8Array(28))
    assert.equal(toHex(arp.data.subarray(12, 14)), '0806')
    assert.equal(arp.data.length, 42)
    const cut = frameFromIp(ip, {snaplen: 20, vlanTci: 0x2064})
    assert.equal(cut.data.length, 20)
    assert.equal(cut.wireLen, 14 + 28)
    assert.equal(cut.vlanTci, 0x2064)
    const recut = withSnaplen(cut, 5)
    assert.equal(recut.data.length, 5)
    assert.equal(recut.wireLen, 42)
  })
})

describe('frame builder: IP and transport details', () => {
  it('IPv4 options are padded to whole words and the IHL follows', () => {
    // Router alert (4 bytes) plus one NOP: padded with end-of-options to 8 bytes.
    const packet = ipPacket({src: '1.2.3.4', dst: '5.6.7.8', ipOptions: [0x94, 4, 0, 0, 1]}, 253, 'x')
    assert.equal(packet[0], 0x47)
    assert.equal(toHex(packet.subarray(20, 28)), '9404000001000000')
    assert.equal(packet[28], 0x78)
    assert.ok(isValidSum(addWords(packet, 0, 28, 0)), 'header checksum valid')
  })

  it('IPv6 extension headers are chained and padded to 8 bytes', () => {
    const packet = udpPacket({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      sport: 7,
      dport: 9,
      extensions: [
        {type: 'hop-by-hop'},
        {type: 'routing', routingType: 2, segmentsLeft: 1, addresses: ['2001:db8::99']},
        {type: 'destination', options: [0x1e, 1, 0]},
        {type: 'ah'},
      ],
    })
    assert.equal(packet[6], 0, 'first next header: hop-by-hop')
    // hop-by-hop: next 43, len 0, PadN of 4 zero bytes
    assert.equal(toHex(packet.subarray(40, 48)), '2b00010400000000')
    // routing type 2: next 60, len 2, type 2, 1 segment left, 4 reserved, one address
    assert.equal(toHex(packet.subarray(48, 56)), '3c02020100000000')
    assert.equal(toHex(packet.subarray(56, 72)), '20010db8000000000000000000000099')
    // destination options: next 51, len 0, option 0x1e with 1 data byte, PadN with 1 byte
    assert.equal(toHex(packet.subarray(72, 80)), '33001e0100010100')
    // AH: next 17, length (24 / 4 - 2 = 4)
    assert.equal(packet[80], 17)
    assert.equal(packet[81], 4)
    assert.equal(packet.length, 40 + 8 + 24 + 8 + 24 + 8)
    assert.equal((packet[4]! << 8) | packet[5]!, packet.length - 40)
  })

  it('TCP flag letters and option helper', () => {
    assert.equal(tcpFlagBits('S'), 0x02)
    assert.equal(tcpFlagBits('SA'), 0x12)
    assert.equal(tcpFlagBits('.'), 0x10)
    assert.equal(tcpFlagBits('FPU'), 0x29)
    assert.equal(tcpFlagBits('EC'), 0xc0)
    assert.equal(tcpFlagBits(0x1ff), 0xff)
    assert.throws(() => tcpFlagBits('Z'), /unknown TCP flag letter/)
    const options = tcpOptions({mss: 1460, sackPermitted: true, timestamp: [1, 2], windowScale: 7})
    assert.equal(toHex(options), hex('020405b4 0402 080a0000000100000002 01030307'))
  })

  it('corrupted checksums never verify, including the UDP zero and 0xffff edge cases', () => {
    for (let sport = 0; sport < 2000; sport++) {
      const tcp = tcpFrame({src: '10.0.0.1', dst: '10.0.0.2', sport, dport: 80, corruptChecksum: true})
      const tcpStart = 14 + 20
      assert.ok(
        !isValidSum(addWords(tcp.data, tcpStart, tcp.data.length, pseudo4(tcp.data, 6))),
        `tcp ${sport}`,
      )
      const udp = udpPacket({src: '10.0.0.1', dst: '10.0.0.2', sport, dport: 53, corruptChecksum: true})
      assert.notEqual((udp[26]! << 8) | udp[27]!, 0, 'a corrupted UDP checksum is never "none"')
      const ip = icmpPacket({src: '10.0.0.1', dst: '10.0.0.2', type: 8, id: sport, corruptIpChecksum: true})
      assert.ok(!isValidSum(addWords(ip, 0, 20, 0)), `ip header ${sport}`)
    }
  })

  it('explicit checksum values are written as given', () => {
    const udp = udpPacket({src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, checksum: 0})
    assert.equal((udp[26]! << 8) | udp[27]!, 0)
    const ip = udpPacket({src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, ipChecksum: 0xbeef})
    assert.equal((ip[10]! << 8) | ip[11]!, 0xbeef)
  })

  it('rejects addresses and MACs it cannot read', () => {
    assert.throws(() => udpPacket({src: '10.0.0', dst: '10.0.0.2', sport: 1, dport: 2}), /not an IP address/)
    assert.throws(() => frameFromIp(new Uint8Array(20), {srcMac: 'zz'}), /not a MAC address/)
  })
})

function pseudo4(frame: Uint8Array, proto: number): number {
  const length = frame.length - 34
  return addWords(frame, 26, 34, proto + length)
}

describe('fragment helpers', () => {
  it('IPv4: offsets in 8-byte units, More Fragments on all but the last, header copied', () => {
    const whole = udpPacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 1,
      dport: 2,
      ipId: 99,
      payload: new Uint8Array(100),
    })
    const pieces = fragmentIpv4(whole, 50) // 48 bytes per piece
    assert.equal(pieces.length, 3)
    const info = pieces.map((piece) => ({
      length: (piece[2]! << 8) | piece[3]!,
      mf: (piece[6]! & 0x20) !== 0,
      offset: (((piece[6]! & 0x1f) << 8) | piece[7]!) * 8,
      id: (piece[4]! << 8) | piece[5]!,
      headerOk: isValidSum(addWords(piece, 0, 20, 0)),
    }))
    assert.deepEqual(info, [
      {length: 68, mf: true, offset: 0, id: 99, headerOk: true},
      {length: 68, mf: true, offset: 48, id: 99, headerOk: true},
      {length: 32, mf: false, offset: 96, id: 99, headerOk: true},
    ])
    assert.equal(toHex(pieces[1]!.subarray(20)), toHex(whole.subarray(68, 116)))
  })

  it('IPv6: fragment header after the unfragmentable part, Next Header patched', () => {
    const whole = udpPacket({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      sport: 1,
      dport: 2,
      payload: new Uint8Array(40),
      extensions: [{type: 'hop-by-hop'}, {type: 'destination'}],
    })
    const pieces = fragmentIpv6(whole, 32, 0xdeadbeef)
    // Fragmentable part: destination options (8) + UDP (48) = 56 bytes → 32 + 24.
    assert.equal(pieces.length, 2)
    const first = pieces[0]!
    assert.equal(first[6], 0, 'IPv6 header still points at hop-by-hop')
    assert.equal(first[40], 44, 'hop-by-hop now points at the fragment header')
    assert.equal(toHex(first.subarray(48, 56)), '3c000001deadbeef')
    assert.equal((first[4]! << 8) | first[5]!, 8 + 8 + 32)
    const second = pieces[1]!
    assert.equal(toHex(second.subarray(48, 56)), '3c000020deadbeef')
    assert.equal(second.length, 56 + 24)
  })
})
