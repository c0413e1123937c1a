// Upstream Dsiem's own fixture files, read in place from ../shared: what loads, what is skipped and
// why, what aborts, and the event serialization golden file.

import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {ConfigError, DsiemError, parseEvent, serializeEvent} from '../../src/engine/index.js'
import {loadAssetsFromDir} from '../../src/roles/io/config-dir.js'
import {skipWithoutUpstreamFixtures, upstream} from '../helpers/paths.js'
import {testValidEvent, upstreamAssetFixture, upstreamDirectiveFixture} from '../engine/upstream-data.js'

const skip = skipWithoutUpstreamFixtures('upstream fixture compatibility')

describe('upstream directive fixtures', {skip}, () => {
  it('directive1: loads 2 of 3, skipping the reused id', () => {
    const set = upstreamDirectiveFixture('directive1')
    assert.deepEqual(
      set.directives.map((d) => [d.id, d.name]),
      [
        [1, 'Correct Rule, Attack from SRC_IP to DST_IP'],
        [2, 'Correct Rule, Too Many Dropped Packets'],
      ],
    )
    assert.equal(set.totalFromFiles, 3)
    assert.deepEqual(
      set.skipped.map((s) => s.message),
      [
        "Skipping directive ID 1 'ID Already Used' due to error: id '1' is already used as an ID by other directive",
      ],
    )
    // The fixture's "sub_category" key is not "subcategory": no subcategory condition.
    assert.equal(set.directives[1]!.rules[0]!.subcategory, undefined)
    assert.equal(set.directives[1]!.rules[1]!.stickyDifferent, 'SRC_IP')
  })

  it("directive2: loads nothing, each directive skipped for upstream's reason", () => {
    const set = upstreamDirectiveFixture('directive2')
    assert.deepEqual(set.directives, [])
    assert.equal(set.totalFromFiles, 15)
    const rule = 'directive 2 contains invalid rule, '
    assert.deepEqual(
      set.skipped.map((s) => [s.name, s.reason]),
      [
        [
          'Has No Rules',
          'directive 2 has no rule therefore has no effect, or only 1 rule and therefore will never expire',
        ],
        ['Empty Kingdom', 'Directive kingdom cannot be empty'],
        ['Wrong Priority and Rule Stage', rule + 'can not use 0 as rule stage'],
        [
          'Wrong 1st Stage Occurrence, Reliability, and Duplicate Rule Stage',
          rule + 'duplicate rule stage found (2)',
        ],
        ['Wrong Rule Type', rule + 'invalid rule type, valid types: [PluginRule TaxonomyRule]'],
        ['No Plugin ID', rule + 'PluginRule requires PluginID to be 1 or higher'],
        ['No Plugin SID', rule + 'PluginRule requires PluginSID to be defined'],
        ['Wrong Plugin SID', rule + 'PluginRule requires PluginSID to be 1 or higher'],
        ['Wrong Product', rule + 'TaxonomyRule requires Product to be defined'],
        ['Wrong Category', rule + 'TaxonomyRule requires Category to be defined'],
        ['Wrong From Address', rule + 'HOME_NETs/32 is not a valid IPv4 address'],
        ['Wrong To Address', rule + 'rule From/To cannot be empty'],
        ['Wrong Port From', rule + '0 is not a valid TCP/IP port number'],
        ['Wrong Port To', rule + 'strconv.Atoi: parsing "a": invalid syntax'],
      ],
    )
    const warnings = set.warnings.map((w) => w.message)
    for (const expected of [
      'directive 2 has wrong priority set (6), configuring it to 1',
      'Directive 2 rule 1 has wrong reliability set (11), configuring it to 10',
      'Directive 2 rule 2 has wrong reliability set (-1), configuring it to 0',
      "Directive '2' rule 1 has wrong occurence set (100), configuring it to 1",
    ]) {
      assert.ok(warnings.includes(expected), `${expected}\n  not among\n${warnings.join('\n')}`)
    }
    assert.equal(warnings.at(-1), 'Skipping disabled directive ID 2')
  })

  it('directive3: a file that is not JSON aborts the load, naming file, line and column', () => {
    const file = upstream(
      'internal/pkg/dsiem/siem/fixtures/directive3/directives_dsiem-backend-0_testing1.json',
    )
    assert.throws(
      () => upstreamDirectiveFixture('directive3'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === `${file}:1:1: invalid character '#' looking for beginning of value`,
    )
  })

  it('directive4 and directive5 load completely', () => {
    assert.deepEqual(
      upstreamDirectiveFixture('directive4').directives.map((d) => [d.id, d.allRulesAlwaysActive]),
      [[5, true]],
    )
    const five = upstreamDirectiveFixture('directive5')
    assert.deepEqual(five.skipped, [])
    assert.deepEqual(
      five.directives[0]!.rules.map((r) => r.customData2),
      ['', 'ANY', ':2', ':2'],
    )
  })
})

describe('upstream asset fixtures', {skip}, () => {
  it('asset1 loads, with the whitelist and IPv6 entries', () => {
    const table = upstreamAssetFixture('asset1')
    assert.equal(table.size, 8)
    assert.equal(table.isWhitelisted('192.168.0.2'), true)
    assert.equal(table.hostName('192.168.0.1'), 'firewall')
    assert.equal(table.hostName('2002:c0a8:0001:0:0:0:0:1'), 'firewall-ipv6')
    assert.deepEqual(table.networks('2002:c0a8:1::1'), ['2002:c0a8:1::/64'])
  })

  const failures: [name: string, pattern: RegExp][] = [
    ['asset2', /assets_testing\.json: invalid CIDR address: 10\.0\.$/],
    ['asset3', /assets_testing\.json: value cannot be 0 and name cannot be empty for 192\.168\.0\.1\/24$/],
    ['asset4', /assets_testing\.json:2:1: unexpected end of JSON input$/],
  ]
  for (const [name, pattern] of failures) {
    it(`${name} fails to load`, () => {
      assert.throws(
        () => upstreamAssetFixture(name),
        (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
      )
    })
  }

  it('a missing directory fails to load', () => {
    assert.throws(() => upstreamAssetFixture('assetX'), DsiemError)
  })

  it('configs/assets_testing.json loads', () => {
    const table = loadAssetsFromDir(upstream('configs'))
    assert.equal(table.size, 5)
    assert.deepEqual(
      ['192.168.0.1', '192.168.0.2', '172.20.0.1', '8.8.8.8'].map((ip) => [
        table.value(ip),
        table.isWhitelisted(ip),
      ]),
      [
        [5, false],
        [2, true],
        [2, false],
        [0, false],
      ],
    )
  })
})

describe('event.golden', {skip}, () => {
  const golden = () => readFileSync(upstream('internal/pkg/dsiem/event/fixtures/event.golden'), 'utf8')

  it('round-trips byte for byte', () => {
    const text = golden()
    assert.equal(serializeEvent(parseEvent(text)), text)
  })

  it('is what the TestValid event serializes to', () => {
    assert.equal(serializeEvent(testValidEvent()), golden())
  })
})
