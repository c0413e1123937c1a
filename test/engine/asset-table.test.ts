// §4.3: the asset table (HOME_NET, asset values, host names, networks, whitelist) and asset-file
// loading errors, as upstream's asset.go (asset_test.go TestInit / TestAsset) behaves.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {AssetTable, ConfigError, type AssetEntry} from '../../src/engine/index.js'

const entry = (name: string, cidr: string, value: number, whitelisted = false): AssetEntry => ({
  name,
  cidr,
  value,
  whitelisted,
})

// The content of upstream's asset1 fixture.
const ASSET1 = AssetTable.fromEntries([
  entry('firewall', '192.168.0.1/32', 5),
  entry('192-168-Net', '192.168.0.0/16', 2),
  entry('10-Net', '10.0.0.0/8', 2),
  entry('172-16-Net', '172.16.0.0/12', 2),
  entry('VulnScanner', '192.168.0.2/32', 3, true),
  entry('server', '192.168.0.3/32', 5),
  entry('firewall-ipv6', '2002:c0a8:0001:0:0:0:0:1/128', 5),
  entry('2002:c0a8:1::/64-Net', '2002:c0a8:1::/64', 2),
])

describe('AssetTable lookups (TestAsset)', () => {
  it('answers HOME_NET, value, name and networks for IPv4', () => {
    assert.equal(ASSET1.isInHomeNet('192.168.0.1'), true)
    assert.equal(ASSET1.isInHomeNet('8.8.8.200'), false)
    assert.equal(ASSET1.hostName('192.168.0.1'), 'firewall')
    assert.equal(ASSET1.hostName('192.168.0.0/16'), '')
    assert.equal(ASSET1.hostName('192.168.7.7'), '')
    assert.equal(ASSET1.value('192.168.0.1'), 5)
    assert.equal(ASSET1.value('192.168.7.7'), 2)
    assert.equal(ASSET1.value('8.8.8.200'), 0)
    assert.deepEqual(ASSET1.networks('192.168.0.1'), ['192.168.0.0/16'])
    assert.deepEqual(ASSET1.networks('8.8.8.200'), [])
  })

  it('answers the same for IPv6, in any textual form', () => {
    for (const ip of ['2002:c0a8:0001:0:0:0:0:1', '2002:c0a8:1::1', '2002:C0A8:1:0::1']) {
      assert.equal(ASSET1.isInHomeNet(ip), true, ip)
      assert.equal(ASSET1.hostName(ip), 'firewall-ipv6', ip)
      assert.equal(ASSET1.value(ip), 5, ip)
      assert.deepEqual(ASSET1.networks(ip), ['2002:c0a8:1::/64'], ip)
    }
    assert.equal(ASSET1.value('2002:c0a8:1::9'), 2)
    assert.equal(ASSET1.isInHomeNet('2002:c0a8:2::1'), false)
  })

  it('whitelists by the whitelisted entries only, which add no HOME_NET, value or name', () => {
    assert.equal(ASSET1.isWhitelisted('192.168.0.2'), true)
    assert.equal(ASSET1.isWhitelisted('192.168.0.1'), false)
    assert.equal(ASSET1.isWhitelisted('foo'), false)
    // 192.168.0.2 is still inside 192-168-Net, which is where its value and network come from.
    assert.equal(ASSET1.value('192.168.0.2'), 2)
    assert.equal(ASSET1.hostName('192.168.0.2'), '')
    const onlyWhitelist = AssetTable.fromEntries([entry('scanner', '10.0.0.0/8', 5, true)])
    assert.equal(onlyWhitelist.isInHomeNet('10.1.1.1'), false)
    assert.equal(onlyWhitelist.value('10.1.1.1'), 0)
    assert.deepEqual(onlyWhitelist.networks('10.1.1.1'), [])
  })

  it('treats unparsable and IPv4-mapped addresses like Go', () => {
    for (const ip of ['', 'garbage', '192.168.000.1', '192.168.0.1/32']) {
      assert.equal(ASSET1.isInHomeNet(ip), false, ip)
      assert.equal(ASSET1.value(ip), 0, ip)
    }
    assert.equal(ASSET1.hostName('::ffff:192.168.0.1'), 'firewall')
  })

  it('uses the highest value among containing networks, not the most specific one', () => {
    const table = AssetTable.fromEntries([entry('wide', '10.0.0.0/8', 4), entry('narrow', '10.1.0.0/16', 1)])
    assert.equal(table.value('10.1.2.3'), 4)
    assert.deepEqual(table.networks('10.1.2.3'), ['10.0.0.0/8', '10.1.0.0/16'])
  })

  it('lists each network once, masked, excluding host entries', () => {
    const table = AssetTable.fromEntries([
      entry('a', '192.168.0.9/24', 1),
      entry('host', '192.168.0.9/32', 1),
      entry('v6host', '2001:db8::9/128', 1),
      entry('v6net', '2001:db8::9/48', 1),
    ])
    assert.deepEqual(table.networks('192.168.0.9'), ['192.168.0.0/24'])
    assert.deepEqual(table.networks('2001:db8::9'), ['2001:db8::/48'])
    assert.equal(table.hostName('2001:db8::9'), 'v6host')
  })

  it("keeps only the last entry of a repeated network (upstream's trie replaces it)", () => {
    const table = AssetTable.fromEntries([
      entry('first', '192.168.0.1/32', 5),
      entry('net', '192.168.0.0/24', 1),
      entry('second', '192.168.0.1/32', 2),
      entry('net-again', '192.168.0.77/24', 3),
    ])
    assert.equal(table.hostName('192.168.0.1'), 'second')
    assert.equal(table.value('192.168.0.1'), 3)
    assert.equal(table.value('192.168.0.2'), 3)
    assert.deepEqual(table.networks('192.168.0.1'), ['192.168.0.0/24'])
  })
})

describe('asset loading errors (TestInit)', () => {
  const load = (...texts: string[]) =>
    AssetTable.fromFiles(
      texts.map((text, i) => ({name: `assets_${i}.json`, text})),
      'configs',
    )
  const fails = (pattern: RegExp, ...texts: string[]) =>
    assert.throws(
      () => load(...texts),
      (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
    )

  it('needs at least one file', () => fails(/^Cannot find asset files in configs$/))
  it('rejects an empty file', () => fails(/^assets_0\.json:2:1: unexpected end of JSON input/, '\n'))
  it('rejects a file that is not JSON', () => fails(/^assets_0\.json:1:1: invalid character '#'/, '# no'))
  it('rejects a bad CIDR', () =>
    fails(/invalid CIDR address: 10\.0\.$/, '{"assets":[{"name":"n","cidr":"10.0.","value":2}]}'))
  it('rejects a bare IP', () =>
    fails(/invalid CIDR address: 10\.0\.0\.1$/, '{"assets":[{"name":"n","cidr":"10.0.0.1","value":2}]}'))
  it('rejects an empty name', () =>
    fails(
      /value cannot be 0 and name cannot be empty for 192\.168\.0\.1\/24$/,
      '{"assets":[{"name":"","value":3,"cidr":"192.168.0.1/24"}]}',
    ))
  it('rejects value 0', () =>
    fails(/value cannot be 0 and name cannot be empty/, '{"assets":[{"name":"n","cidr":"10.0.0.0/8"}]}'))
  it('rejects a string value', () =>
    fails(
      /cannot unmarshal string into Go struct field/,
      '{"assets":[{"name":"n","cidr":"10.0.0.0/8","value":"2"}]}',
    ))
  it('reports a JSON error in a later file before a bad entry in an earlier one', () =>
    fails(/^assets_1\.json:/, '{"assets":[{"name":"","cidr":"10.0.0.0/8","value":1}]}', '{'))

  it('merges every file and accepts negative values, IPv6 and host bits', () => {
    const table = load(
      '{"assets":[{"name":"a","cidr":"10.0.0.1/8","value":-1}]}',
      '{"ASSETS":[{"Name":"b","CIDR":"2001:db8::1/64","value":7,"whitelisted":null}],"other":1}',
    )
    assert.equal(table.size, 2)
    assert.equal(table.value('10.9.9.9'), 0)
    assert.equal(table.isInHomeNet('10.9.9.9'), true)
    assert.equal(table.value('2001:db8::77'), 7)
  })
})
