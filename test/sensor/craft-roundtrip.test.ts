// Round trip: random frames from the builder decode to exactly what was asked for, over every link
// kind, tag layout, IP version and transport.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {icmpFrame, tcpFlagBits, tcpFrame, udpFrame} from '../../src/sensor/craft/frames.js'
import type {FrameOptions, IpOptions, LinkKind} from '../../src/sensor/craft/frames.js'
import {PacketDecoder} from '../../src/sensor/decode/packet-decoder.js'
import type {RawFrame, Transport} from '../../src/sensor/types.js'
import {seededRandom} from '../../src/engine/generator/random.js'

describe('builder → decoder round trip', () => {
  it('2000 random frames decode field by field to their parameters', () => {
    const next = seededRandom(2024)
    const int = (limit: number) => Math.floor(next() * limit)
    const pick = <T>(values: readonly T[]): T => values[int(values.length)]!
    const decoder = new PacketDecoder()
    for (let round = 0; round < 2000; round++) {
      const v6 = next() < 0.5
      const address = () =>
        v6
          ? `2001:db8:${int(0x10000).toString(16)}::${int(0x10000).toString(16)}`
          : `${int(256)}.${int(256)}.${int(256)}.${int(256)}`
      const ip: IpOptions = {src: address(), dst: address(), ttl: int(256)}
      const link: LinkKind = pick([
        'ethernet',
        'sll',
        'null',
        'null-be',
        'raw',
        v6 ? 'ipv6' : 'ipv4',
      ] as const)
      const tags =
        link === 'ethernet' || link === 'sll' ? Array.from({length: int(3)}, () => 1 + int(4094)) : []
      const frameOptions: FrameOptions = {link, ts: 1e9 + round / 7}
      if (tags.length > 0) frameOptions.vlan = tags
      const payload = Uint8Array.from({length: int(300)}, () => int(256))
      let frame: RawFrame
      let expected: Transport
      const kind = pick(['tcp', 'udp', 'icmp'] as const)
      if (kind === 'tcp') {
        const fields = {
          sport: int(65536),
          dport: int(65536),
          seq: int(2 ** 32),
          ack: int(2 ** 32),
          flags: pick(['S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'FSRPAUEC']),
          window: int(65536),
        }
        frame = tcpFrame({...ip, ...fields, payload, ...frameOptions})
        expected = {
          kind: 'tcp',
          srcPort: fields.sport,
          dstPort: fields.dport,
          seq: fields.seq,
          ack: fields.ack,
          flags: tcpFlagBits(fields.flags),
          window: fields.window,
        }
      } else if (kind === 'udp') {
        const fields = {sport: int(65536), dport: int(65536)}
        frame = udpFrame({...ip, ...fields, payload, ...frameOptions})
        expected = {kind: 'udp', srcPort: fields.sport, dstPort: fields.dport}
      } else {
        const fields = {type: int(256), code: int(256)}
        frame = icmpFrame({...ip, ...fields, id: int(65536), sequence: int(65536), payload, ...frameOptions})
        expected = {kind: 'icmp', version: v6 ? 6 : 4, ...fields}
      }
      const result = decoder.decode(frame)
      const context = `round ${round}: ${kind} ${link} ${ip.src} → ${ip.dst}`
      assert.deepEqual(result.weirds, [], context)
      const packet = result.packet
      assert.ok(packet !== undefined, context)
      assert.equal(packet.ts, frameOptions.ts, context)
      assert.equal(packet.ipVersion, v6 ? 6 : 4, context)
      assert.equal(
        packet.src,
        new URL(`http://${v6 ? `[${ip.src}]` : ip.src}/`).hostname.replace(/^\[|\]$/g, ''),
      )
      assert.equal(
        packet.dst,
        new URL(`http://${v6 ? `[${ip.dst}]` : ip.dst}/`).hostname.replace(/^\[|\]$/g, ''),
      )
      assert.equal(packet.ttl, ip.ttl, context)
      assert.deepEqual(packet.transport, expected, context)
      assert.deepEqual([...packet.payload], [...payload], context)
      assert.equal(packet.payloadLen, payload.length, context)
      assert.equal(packet.checksumOk, true, context)
      assert.equal(packet.vlan, tags.length > 0 ? tags[0] : undefined, context)
      assert.equal(packet.innerVlan, tags.length > 1 ? tags[tags.length - 1] : undefined, context)
      assert.equal(packet.wireLen, frame.data.length, context)
    }
    assert.equal(decoder.counters.packets, 2000)
  })
})
