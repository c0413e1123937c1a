// S4: matching one event against one rule (upstream rule_test.go TestRule), with the asset values of
// upstream's configs/assets_testing.json, plus the sticky_different side effects (§2.6) and the
// pre-filter pairs (§2.3, TestQuickCheck).

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AssetTable,
  EventMatchContext,
  StickySet,
  compileRule,
  emptyEvent,
  emptyRule,
  matchRule,
  type DirectiveRule,
  type NormalizedEvent,
} from '../../src/engine/index.js'
import {directive, rule} from '../helpers/directive-builders.js'
import {harness, event as makeEvent} from '../helpers/engine-harness.js'

// configs/assets_testing.json
const ASSETS = AssetTable.fromEntries([
  {name: 'Firewall', cidr: '192.168.0.1/32', value: 5, whitelisted: false},
  {name: 'VulnerabilityScanner', cidr: '192.168.0.2/32', value: 5, whitelisted: true},
  {name: '192-168-Net', cidr: '192.168.0.0/16', value: 2, whitelisted: false},
  {name: '10-Net', cidr: '10.0.0.0/8', value: 2, whitelisted: false},
  {name: '172-16-Net', cidr: '172.16.0.0/12', value: 2, whitelisted: false},
])

function matches(event: NormalizedEvent, rule: DirectiveRule, sticky: StickySet | null = null): boolean {
  return matchRule(new EventMatchContext(event, ASSETS), compileRule(rule), sticky)
}

function stickyWith(strings: string[], ints: number[]): StickySet {
  const sticky = new StickySet()
  for (const s of strings) sticky.strings.add(s)
  for (const n of ints) sticky.ints.add(n)
  return sticky
}

const e1: NormalizedEvent = {
  ...emptyEvent(),
  pluginId: 1001,
  pluginSid: 50001,
  product: 'IDS',
  category: 'Malware',
  subcategory: 'C&C Communication',
  srcIp: '192.168.0.1',
  dstIp: '8.8.8.200',
  srcPort: 31337,
  dstPort: 80,
}
const r1: DirectiveRule = {
  ...emptyRule(),
  type: 'PluginRule',
  pluginId: 1001,
  pluginSid: [50001],
  product: ['IDS'],
  category: 'Malware',
  subcategory: ['C&C Communication'],
  from: 'HOME_NET',
  to: 'ANY',
  portFrom: 'ANY',
  portTo: 'ANY',
  protocol: 'ANY',
}
const r2: DirectiveRule = {...r1, type: 'TaxonomyRule'}

describe('matchRule: TestRule base table', () => {
  const e2 = {...e1, srcIp: e1.dstIp, dstIp: e1.srcIp}
  const e3 = {...e1, dstIp: e1.srcIp}
  const cases: [n: number, event: NormalizedEvent, rule: DirectiveRule, expected: boolean][] = [
    [1, e1, r1, true],
    [2, e1, r2, true],
    [3, e1, {...r1, pluginSid: [50002]}, false],
    [4, e1, {...r2, category: 'Scanning'}, false],
    [5, e1, {...r1, pluginId: 1002}, false],
    [6, e1, {...r2, product: ['Firewall']}, false],
    [7, e1, {...r2, subcategory: []}, true],
    [8, e1, {...r2, subcategory: ['Firewall Allow']}, false],
    [9, e1, {...r1, type: 'Unknown'}, false],
    [10, e2, r1, false],
    [11, e1, {...r1, from: '!HOME_NET'}, false],
    [12, e1, {...r1, from: '192.168.0.10'}, false],
    [13, e1, {...r1, to: 'HOME_NET'}, false],
    [14, e3, {...r1, to: '!HOME_NET'}, false],
    [15, e1, {...r1, to: '192.168.0.10'}, false],
    [16, e1, {...r1, portFrom: '1337'}, false],
    [17, e1, {...r1, portTo: '1337'}, false],
  ]
  for (const [n, event, rule, expected] of cases) {
    it(`case ${n} → ${expected}`, () => assert.equal(matches(event, rule, new StickySet()), expected))
  }

  it('the positive counterparts of the address and port cases match', () => {
    assert.equal(matches(e2, {...r1, from: '!HOME_NET'}), true)
    assert.equal(matches(e1, {...r1, from: '192.168.0.1'}), true)
    assert.equal(matches(e3, {...r1, to: 'HOME_NET'}), true)
    assert.equal(matches(e1, {...r1, to: '8.8.8.0/24'}), true)
    assert.equal(matches(e1, {...r1, portFrom: '31337'}), true)
    assert.equal(matches(e1, {...r1, portTo: '443, 80'}), true)
    assert.equal(matches(e1, {...r2, subcategory: ['Firewall Allow', 'ANY']}), true)
  })

  it('compares taxonomy fields case-sensitively and never looks at protocol', () => {
    assert.equal(matches(e1, {...r2, category: 'malware'}), false)
    assert.equal(matches(e1, {...r2, product: ['ids']}), false)
    assert.equal(matches({...e1, protocol: 'UDP'}, {...r1, protocol: 'TCP'}), true)
  })

  it('treats an unparsable event address as outside HOME_NET', () => {
    assert.equal(matches({...e1, srcIp: 'garbage'}, r1), false)
    assert.equal(matches({...e1, srcIp: 'garbage'}, {...r1, from: '!HOME_NET'}), true)
    assert.equal(matches({...e1, srcIp: 'garbage'}, {...r1, from: '!10.0.0.0/8'}), false)
  })
})

describe('matchRule: custom data (TestRule 51–58)', () => {
  const rc1 = {...r1, customData1: 'deny'}
  const ec2 = {...e1, customData1: 'deny'}
  const rc3 = {...rc1, customData2: 'malware'}
  const ec4 = {...ec2, customData2: 'malware'}
  const ec5 = {...ec4, customData2: 'exploit'}
  const rc6 = {...rc3, customData3: '7000'}
  const ec7 = {...ec5, customData3: '7000'}
  const ec8 = {...ec7, customData2: 'malware'}
  const rc9 = {...rc6, customData2: '!malware'}
  const cases: [n: number, event: NormalizedEvent, rule: DirectiveRule, expected: boolean][] = [
    [51, e1, rc1, false],
    [52, ec2, rc1, true],
    [53, ec2, rc3, false],
    [54, ec4, rc3, true],
    [55, ec5, rc3, false],
    [56, ec5, rc6, false],
    [57, ec7, rc6, false],
    [58, ec8, rc6, true],
    [59, ec8, rc9, false],
  ]
  for (const [n, event, rule, expected] of cases) {
    it(`case ${n} → ${expected}`, () => assert.equal(matches(event, rule, new StickySet()), expected))
  }

  it('ignores custom data conditions on TaxonomyRule', () => {
    assert.equal(matches(e1, {...r2, customData1: 'deny'}), true)
  })
})

describe('matchRule: ANY / empty custom data (TestRule 113–136)', () => {
  const eAny1 = {...e1, customData1: 'foo', customData2: 'bar', customData3: 'qux'}
  const eAny2 = {...eAny1, customData1: '', customData2: '', customData3: ''}
  const fields = [
    ['customData1', 'foo'],
    ['customData2', 'bar'],
    ['customData3', 'qux'],
  ] as const
  for (const [field, value] of fields) {
    const cases: [condition: string, withData: boolean, withoutData: boolean][] = [
      ['ANY', true, true],
      ['', true, true],
      ['quas', false, false],
      [value, true, false],
    ]
    for (const [condition, withData, withoutData] of cases) {
      it(`${field} ${JSON.stringify(condition)}: event with data → ${withData}, without → ${withoutData}`, () => {
        const rule = {...r1, [field]: condition}
        assert.equal(matches(eAny1, rule), withData)
        assert.equal(matches(eAny2, rule), withoutData)
      })
    }
  }
})

describe('matchRule: sticky_different (TestRule 101–112, §2.6)', () => {
  const e = {...e1, customData1: 'foo', customData2: 'bar', customData3: 'custom'}
  const rs1 = {...r1, stickyDifferent: 'PLUGIN_SID'}
  const seenIps = () => stickyWith(['192.168.0.1', '8.8.8.200'], [50001])
  const seenPorts = () => stickyWith([], [31337, 80])
  const seenData = () => stickyWith(['foo', 'bar'], [])
  const cases: [n: number, rule: DirectiveRule, sticky: () => StickySet | null, expected: boolean][] = [
    [101, rs1, () => new StickySet(), true],
    [102, rs1, seenIps, true],
    [103, {...rs1, stickyDifferent: 'SRC_IP'}, seenIps, true],
    [104, {...rs1, stickyDifferent: 'DST_IP'}, seenIps, true],
    [105, {...rs1, stickyDifferent: 'SRC_IP'}, () => new StickySet(), true],
    [106, rs1, () => null, true],
    [107, {...rs1, stickyDifferent: 'SRC_IP'}, () => null, true],
    [108, {...rs1, stickyDifferent: 'SRC_PORT'}, seenPorts, true],
    [109, {...rs1, stickyDifferent: 'DST_PORT'}, seenPorts, true],
    [110, {...rs1, customData1: 'foo', stickyDifferent: 'CUSTOM_DATA1'}, seenData, true],
    [111, {...rs1, customData2: 'bar', stickyDifferent: 'CUSTOM_DATA2'}, seenData, true],
    [112, {...rs1, customData3: 'foo', stickyDifferent: 'CUSTOM_DATA3'}, seenData, false],
  ]
  for (const [n, rule, sticky, expected] of cases) {
    it(`case ${n} → ${expected}`, () => assert.equal(matches(e, rule, sticky()), expected))
  }

  const recorded: [field: string, rule: Partial<DirectiveRule>, strings: string[], ints: number[]][] = [
    ['PLUGIN_SID', {}, [], [50001]],
    ['SRC_IP', {}, ['192.168.0.1'], []],
    ['DST_IP', {}, ['8.8.8.200'], []],
    ['SRC_PORT', {}, [], [31337]],
    ['DST_PORT', {}, [], [80]],
    ['CUSTOM_DATA1', {}, ['foo'], []],
    ['CUSTOM_DATA2', {}, ['bar'], []],
    ['CUSTOM_DATA3', {}, ['custom'], []],
  ]
  for (const [field, extra, strings, ints] of recorded) {
    it(`records the ${field} value of a matching event`, () => {
      const sticky = new StickySet()
      assert.equal(matches(e, {...r1, ...extra, stickyDifferent: field}, sticky), true)
      assert.deepEqual([...sticky.strings], strings)
      assert.deepEqual([...sticky.ints], ints)
      // A second identical event adds nothing.
      matches(e, {...r1, ...extra, stickyDifferent: field}, sticky)
      assert.equal(sticky.size, strings.length + ints.length)
    })
  }

  it('records PLUGIN_SID before the address check, even when the event then fails', () => {
    const sticky = new StickySet()
    assert.equal(matches(e, {...rs1, from: '!HOME_NET'}, sticky), false)
    assert.deepEqual([...sticky.ints], [50001])
  })

  it('records SRC_IP only when addresses and ports match', () => {
    const sticky = new StickySet()
    assert.equal(matches(e, {...r1, from: '!HOME_NET', stickyDifferent: 'SRC_IP'}, sticky), false)
    assert.equal(sticky.size, 0)
    // ... but before the custom data check.
    assert.equal(matches(e, {...r1, customData1: 'nope', stickyDifferent: 'SRC_IP'}, sticky), false)
    assert.deepEqual([...sticky.strings], ['192.168.0.1'])
  })

  it('records CUSTOM_DATAn whether or not the custom data matched', () => {
    const sticky = new StickySet()
    assert.equal(matches(e, {...r1, customData3: 'foo', stickyDifferent: 'CUSTOM_DATA3'}, sticky), false)
    assert.deepEqual([...sticky.strings], ['custom'])
  })

  it('never records PLUGIN_SID or CUSTOM_DATAn on a TaxonomyRule, nor an unknown keyword', () => {
    for (const field of ['PLUGIN_SID', 'CUSTOM_DATA1', 'BOGUS', 'src_ip']) {
      const sticky = new StickySet()
      const rule = {...(field === 'BOGUS' || field === 'src_ip' ? r1 : r2), stickyDifferent: field}
      assert.equal(matches(e, rule, sticky), true, field)
      assert.equal(sticky.size, 0, field)
    }
  })
})

describe('directive pre-filter (TestQuickCheck, §2.3)', () => {
  // TestQuickCheck's rules have no name and occurrence 0.
  const quick = {name: '', occurrence: 0}
  const plugin = (pluginId: number, pluginSid: number[]): DirectiveRule =>
    rule({...quick, pluginId, pluginSid})
  const taxonomy = (product: string[], category: string): DirectiveRule =>
    rule({...quick, type: 'TaxonomyRule', pluginId: 0, pluginSid: undefined, product, category})
  const reached = (rules: DirectiveRule[], fields: Partial<NormalizedEvent>) => {
    const h = harness([directive(rules, {name: 'd'})], ASSETS)
    return h.engine.candidates(makeEvent(fields)).length === 1
  }

  it('filters by (plugin_id, plugin_sid) pairs', () => {
    const rules = [plugin(10, [1, 2]), plugin(10, [1, 2])]
    assert.equal(reached(rules, {pluginId: 10, pluginSid: 1}), true)
    assert.equal(reached(rules, {pluginId: 10, pluginSid: 3}), false)
    assert.equal(reached(rules, {pluginId: 9, pluginSid: 1}), false)
  })

  it('filters by (product, category) pairs', () => {
    const rules = [taxonomy(['P1', 'P2'], 'C1'), taxonomy(['P1', 'P2'], 'C1')]
    assert.equal(reached(rules, {product: 'P1', category: 'C1'}), true)
    assert.equal(reached(rules, {product: 'P1', category: 'C2'}), false)
    assert.equal(reached(rules, {product: 'P3', category: 'C1'}), false)
  })

  it('filters a mixed directive by its plugin pairs only', () => {
    const rules = [plugin(10, [1]), taxonomy(['P1'], 'C1')]
    assert.equal(reached(rules, {pluginId: 10, pluginSid: 1}), true)
    assert.equal(reached(rules, {product: 'P1', category: 'C1'}), false)
  })

  it('takes plugin pairs from any rule type that carries them', () => {
    const rules = [{...taxonomy(['P1'], 'C1'), pluginId: 7, pluginSid: [8]}, taxonomy(['P1'], 'C1')]
    assert.equal(reached(rules, {pluginId: 7, pluginSid: 8}), true)
    assert.equal(reached(rules, {product: 'P1', category: 'C1'}), false)
  })
})
