// Addresses and networks as Go's net.ParseIP / net.ParseCIDR / IPNet.String read and write them,
// which decides what asset files and rule address lists accept and what `networks` contains.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  formatNetwork,
  isPrivateOrInvalidIp,
  networkContains,
  parseCidr,
  parseIp,
} from '../../src/engine/index.js'

describe('parseIp (net.ParseIP)', () => {
  const valid = [
    '0.0.0.0',
    '255.255.255.255',
    '192.168.0.1',
    '::',
    '::1',
    '1::',
    '2001:db8::',
    '2001:DB8::A',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1::8',
    '::ffff:1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4',
    '::1.2.3.4',
    '2002:c0a8:0001:0:0:0:0:1',
    '0000:0000:0000:0000:0000:0000:0000:0001',
  ]
  for (const text of valid) it(`accepts ${text}`, () => assert.notEqual(parseIp(text), undefined))

  const invalid = [
    '',
    '192.168.0',
    '192.168.0.1.5',
    '192.168.000.1',
    '01.2.3.4',
    '1.2.3.256',
    '1.2.3.-1',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.4/32',
    '0x1.2.3.4',
    '1..2.3',
    ':',
    ':::',
    '1:',
    ':1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:01.2.3.4',
    '::ffff:1.2.3',
    '1.2.3.4::',
    'fe80::1%eth0',
    'fe80::1%1',
    'localhost',
  ]
  for (const text of invalid)
    it(`rejects ${JSON.stringify(text)}`, () => assert.equal(parseIp(text), undefined))

  it('reads an IPv4-mapped IPv6 address as IPv4', () => {
    assert.deepEqual(parseIp('::ffff:192.168.0.1'), parseIp('192.168.0.1'))
    assert.deepEqual(parseIp('::ffff:c0a8:1'), parseIp('192.168.0.1'))
    assert.equal(parseIp('::c0a8:1')!.v4, false)
  })
})

describe('parseCidr (net.ParseCIDR) and formatNetwork (IPNet.String)', () => {
  const cases: [text: string, formatted: string][] = [
    ['192.168.0.1/32', '192.168.0.1/32'],
    ['192.168.0.1/24', '192.168.0.0/24'],
    ['192.168.0.1/16', '192.168.0.0/16'],
    ['10.1.2.3/0', '0.0.0.0/0'],
    ['255.255.255.255/31', '255.255.255.254/31'],
    ['2002:c0a8:0001:0:0:0:0:1/128', '2002:c0a8:1::1/128'],
    ['2002:c0a8:1::/64', '2002:c0a8:1::/64'],
    ['2001:DB8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['2001:db8:0:1:1:1:1:1/128', '2001:db8:0:1:1:1:1:1/128'],
    ['1:0:0:2:0:0:0:3/128', '1:0:0:2::3/128'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['fe80::1/10', 'fe80::/10'],
    // Go keeps an IPv4-mapped network 16 bytes long but treats it as IPv4 with the last 32 mask bits,
    // as long as the mask keeps the ::ffff: prefix; a shorter mask leaves a plain IPv6 network.
    ['::ffff:192.168.0.1/120', '192.168.0.0/24'],
    ['::ffff:192.168.0.1/128', '192.168.0.1/32'],
    ['::ffff:192.168.0.1/96', '0.0.0.0/0'],
    ['::ffff:192.168.0.1/64', '::/64'],
  ]
  for (const [text, formatted] of cases) {
    it(`${text} → ${formatted}`, () => assert.equal(formatNetwork(parseCidr(text)!), formatted))
  }

  const invalid = [
    '192.168.0.1',
    '192.168.0.1/',
    '192.168.0.1/33',
    '192.168.0.1/-1',
    '192.168.0.1/+8',
    '192.168.0.1/ 8',
    '192.168.0.1/0x8',
    '192.168.0.1/1234',
    '192.168.0/16',
    '10.0.',
    '2001:db8::/129',
    'fe80::1%eth0/64',
    'HOME_NET/32',
    '/32',
  ]
  for (const text of invalid)
    it(`rejects ${JSON.stringify(text)}`, () => assert.equal(parseCidr(text), undefined))

  it('accepts prefix lengths with leading zeros, as Go does', () => {
    assert.equal(formatNetwork(parseCidr('10.0.0.1/08')!), '10.0.0.0/8')
    assert.equal(formatNetwork(parseCidr('10.0.0.1/008')!), '10.0.0.0/8')
  })

  it('contains addresses of its own family only', () => {
    const v4 = parseCidr('192.168.0.0/16')!
    const all6 = parseCidr('::/0')!
    assert.equal(networkContains(v4, parseIp('192.168.255.1')!), true)
    assert.equal(networkContains(v4, parseIp('192.169.0.1')!), false)
    assert.equal(networkContains(v4, parseIp('::ffff:192.168.1.1')!), true)
    assert.equal(networkContains(all6, parseIp('192.168.1.1')!), false)
    assert.equal(networkContains(all6, parseIp('2001:db8::1')!), true)
    assert.equal(networkContains(parseCidr('::ffff:192.168.0.0/120')!, parseIp('192.168.0.9')!), true)
    assert.equal(networkContains(parseCidr('::ffff:0.0.0.0/96')!, parseIp('8.8.8.8')!), true)
    assert.equal(networkContains(parseCidr('::ffff:0.0.0.0/64')!, parseIp('8.8.8.8')!), false)
    assert.equal(networkContains(parseCidr('::ffff:0.0.0.0/64')!, parseIp('::1')!), true)
  })
})

describe('isPrivateOrInvalidIp (intel lookup filter)', () => {
  const cases: [string, boolean][] = [
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['127.0.0.1', true],
    ['169.254.1.1', true],
    ['8.8.8.8', false],
    ['fd00::1', true],
    ['::1', true],
    ['fe80::1', true],
    ['2001:db8::1', false],
    ['garbage', true],
  ]
  for (const [ip, expected] of cases)
    it(`${ip} → ${expected}`, () => assert.equal(isPrivateOrInvalidIp(ip), expected))
})
