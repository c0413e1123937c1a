// Address text as Zeek logs it: dotted quads, and IPv6 per RFC 5952 (checked against the RFC's own
// examples and, for random addresses, against the WHATWG URL serializer, which follows the same rules
// except for IPv4-mapped addresses). The memo caches must never return another address's text.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {ipv4Text, ipv6Text} from '../../src/sensor/decode/address.js'
import {seededRandom} from '../../src/engine/generator/random.js'

function groupsToBytes(groups: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(16)
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8
    bytes[i * 2 + 1] = group & 0xff
  })
  return bytes
}

describe('IPv4 text', () => {
  it('dotted quads at any offset', () => {
    const bytes = Uint8Array.of(9, 9, 0, 0, 0, 0, 255, 255, 255, 255, 10, 0, 0, 1)
    assert.equal(ipv4Text(bytes, 2), '0.0.0.0')
    assert.equal(ipv4Text(bytes, 6), '255.255.255.255')
    assert.equal(ipv4Text(bytes, 10), '10.0.0.1')
    assert.equal(ipv4Text(bytes, 1), '9.0.0.0')
  })

  it('100k random addresses, each looked up twice, always their own text', () => {
    const next = seededRandom(7)
    const bytes = new Uint8Array(4)
    for (let i = 0; i < 100_000; i++) {
      for (let j = 0; j < 4; j++) bytes[j] = Math.floor(next() * 256)
      const expected = bytes.join('.')
      assert.equal(ipv4Text(bytes, 0), expected)
      assert.equal(ipv4Text(bytes, 0), expected)
    }
  })
})

describe('IPv6 text (RFC 5952)', () => {
  const cases: [number[], string][] = [
    [[0x2001, 0xdb8, 0, 0, 0, 0, 2, 1], '2001:db8::2:1'],
    // §4.2.2: one zero group is not shortened.
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'],
    // §4.2.3: the longest run, and the first of equal runs.
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    // §4.3: lower case; §4.1: no leading zeros.
    [
      [0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xabcd],
      '2001:db8:aaaa:bbbb:cccc:dddd:eeee:abcd',
    ],
    [[0x2001, 0x0db8, 0, 0, 0, 0, 0, 0x0001], '2001:db8::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
    [[1, 2, 3, 4, 5, 6, 7, 0], '1:2:3:4:5:6:7:0'],
    [[0, 1, 0, 0, 0, 1, 0, 0], '0:1::1:0:0'],
    [[1, 0, 2, 0, 3, 0, 4, 0], '1:0:2:0:3:0:4:0'],
    [[0xfe80, 0, 0, 0, 0x0202, 0xb3ff, 0xfe1e, 0x8329], 'fe80::202:b3ff:fe1e:8329'],
    // §5: IPv4-mapped addresses end in a dotted quad.
    [[0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], '::ffff:192.0.2.1'],
    [[0, 0, 0, 0, 0, 0xffff, 0, 0], '::ffff:0.0.0.0'],
    // IPv4-compatible (deprecated) and other prefixes stay hexadecimal.
    [[0, 0, 0, 0, 0, 0, 0xc000, 0x0201], '::c000:201'],
    [[0, 0, 0, 0, 0xffff, 0, 0xc000, 0x0201], '::ffff:0:c000:201'],
  ]
  for (const [groups, text] of cases) {
    it(text, () => {
      const bytes = new Uint8Array(20)
      bytes.set(groupsToBytes(groups), 3)
      assert.equal(ipv6Text(bytes, 3), text)
    })
  }

  it('random addresses with zero runs agree with the URL serializer', () => {
    const next = seededRandom(11)
    for (let i = 0; i < 50_000; i++) {
      const groups = Array.from({length: 8}, () => (next() < 0.5 ? 0 : Math.floor(next() * 0x10000)))
      // Skip the IPv4-mapped prefix, where RFC 5952 and WHATWG differ on purpose.
      if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) continue
      const bytes = groupsToBytes(groups)
      const expected = new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(
        1,
        -1,
      )
      assert.equal(ipv6Text(bytes, 0), expected)
      assert.equal(ipv6Text(bytes, 0), expected, 'cached')
    }
  })
})
