// The directive event generator (`directive test --generate`): events built from the rules walk every
// stage of every directive (references, HOME_NET, taxonomy rules, sticky_different, custom data), the
// same seed gives the same events, and what cannot be completed is reported rather than hidden.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AssetTable,
  checkGeneratedEvents,
  eventWaves,
  generateEvents,
  InputError,
  isValidEvent,
  loadDirectiveSet,
  parseRfc3339Seconds,
  planEvents,
  randomUuid,
  seededRandom,
  serializeEvent,
  type Directive,
  type DirectivePlan,
  type GenerateOptions,
} from '../../src/engine/index.js'

const START = parseRfc3339Seconds('2026-01-01T00:00:00Z')

const ASSETS = AssetTable.fromEntries([
  {name: 'Firewall', cidr: '192.168.0.1/32', value: 5, whitelisted: false},
  {name: 'lan', cidr: '192.168.0.0/24', value: 2, whitelisted: false},
  {name: 'Scanner', cidr: '192.168.0.2/32', value: 5, whitelisted: true},
])

type RuleSpec = Record<string, unknown>

function rule(stage: number, fields: RuleSpec): RuleSpec {
  return {
    name: `rule ${stage}`,
    type: 'PluginRule',
    stage,
    plugin_id: 1001,
    plugin_sid: [2100384],
    occurrence: 1,
    from: 'ANY',
    to: 'ANY',
    port_from: 'ANY',
    port_to: 'ANY',
    reliability: stage * 2,
    timeout: stage === 1 ? 0 : 600,
    ...fields,
  }
}

function directives(...specs: {id: number; rules: RuleSpec[]; [key: string]: unknown}[]): Directive[] {
  const text = JSON.stringify({
    directives: specs.map((spec) => ({
      name: `directive ${spec.id}`,
      kingdom: 'Testing',
      category: 'Testing',
      priority: 3,
      ...spec,
    })),
  })
  const set = loadDirectiveSet([{name: 'directives_test.json', text}])
  assert.deepEqual(
    set.skipped.map((s) => s.message),
    [],
  )
  return set.directives
}

function options(list: Directive[], overrides: Partial<GenerateOptions> = {}): GenerateOptions {
  return {
    directives: list,
    assets: ASSETS,
    homeNet: '192.168.0.1',
    maxPerRule: 1000,
    random: seededRandom(42),
    startTime: START,
    ...overrides,
  }
}

/** One directive for each feature the generator must satisfy. */
const FEATURES = directives(
  {
    id: 1,
    name: 'Ping Flood from SRC_IP (HOME_NET and references)',
    rules: [
      rule(1, {from: 'HOME_NET'}),
      rule(2, {from: ':1', to: ':1', port_to: ':1', occurrence: 3}),
      rule(3, {from: ':1', to: ':2', occurrence: 5}),
    ],
  },
  {
    id: 2,
    name: 'taxonomy scan to DST_IP',
    rules: [
      rule(1, {
        type: 'TaxonomyRule',
        plugin_id: 0,
        plugin_sid: undefined,
        product: ['Firewall', 'IDS'],
        category: 'Packet processing',
        subcategory: ['drop', 'reject'],
        to: 'HOME_NET',
        port_to: '22, 80',
      }),
      rule(2, {
        type: 'TaxonomyRule',
        plugin_id: 0,
        plugin_sid: undefined,
        product: ['Firewall'],
        category: 'Packet processing',
        to: ':1',
        occurrence: 6,
        sticky_different: 'SRC_IP',
      }),
      rule(3, {
        type: 'TaxonomyRule',
        plugin_id: 0,
        plugin_sid: undefined,
        product: ['IDS'],
        category: 'Packet processing',
        subcategory: ['ANY'],
        from: '!HOME_NET',
        to: ':1',
        port_from: '1024, 2048, 4096',
        occurrence: 3,
        sticky_different: 'SRC_PORT',
      }),
    ],
  },
  {
    id: 3,
    name: 'custom data and sticky PLUGIN_SID',
    rules: [
      rule(1, {
        plugin_id: 7,
        plugin_sid: [1, 2, 3],
        to: '192.168.0.0/24',
        custom_data1: 'ANY',
        custom_label1: 'user',
        custom_data2: '!root',
      }),
      rule(2, {
        plugin_id: 7,
        plugin_sid: [1, 2, 3],
        from: ':1',
        to: ':1',
        custom_data1: ':1',
        custom_data3: 'ssh, telnet',
        occurrence: 3,
        sticky_different: 'PLUGIN_SID',
      }),
      rule(3, {
        plugin_id: 7,
        plugin_sid: [2],
        from: ':1',
        custom_data2: 'Network Command Shell',
        occurrence: 4,
        sticky_different: 'CUSTOM_DATA3',
      }),
      rule(4, {
        plugin_id: 7,
        plugin_sid: [3],
        from: ':1',
        occurrence: 3,
        sticky_different: 'DST_IP',
        to: '!HOME_NET',
      }),
    ],
  },
  {
    id: 4,
    name: 'plugin and taxonomy rules mixed',
    rules: [
      rule(1, {plugin_id: 9, plugin_sid: [90]}),
      rule(2, {
        type: 'TaxonomyRule',
        plugin_id: 0,
        plugin_sid: undefined,
        product: ['Proxy'],
        category: 'Web',
        from: ':1',
        occurrence: 2,
      }),
    ],
  },
  {
    id: 5,
    name: 'all rules always active',
    all_rules_always_active: true,
    rules: [rule(1, {}), rule(2, {occurrence: 4, sticky_different: 'DST_PORT'}), rule(3, {occurrence: 2})],
  },
)

function stageEvents(plan: DirectivePlan, index: number) {
  return plan.rules[index]!
}

describe('generateEvents + checkGeneratedEvents', () => {
  const plans = generateEvents(options(FEATURES))

  it('walks every directive to its last stage', () => {
    const checks = checkGeneratedEvents(plans, ASSETS, START)
    assert.deepEqual(
      checks.map((c) => [c.directiveId, c.status, c.reachedStage, c.stages, c.message]),
      FEATURES.map((d) => [d.id, 'complete', d.rules.length, d.rules.length, undefined]),
    )
  })

  it('builds min(occurrence, max) valid dtester events per rule, stage k stamped k seconds later', () => {
    for (const plan of plans) {
      assert.equal(plan.limit, undefined)
      plan.directive.rules.forEach((r, i) => {
        const events = stageEvents(plan, i)
        assert.equal(events.length, r.occurrence, `directive ${plan.directive.id} stage ${i + 1}`)
        for (const event of events) {
          assert.ok(isValidEvent(event), serializeEvent(event))
          assert.equal(event.sensor, 'dtester')
          assert.equal(parseRfc3339Seconds(event.timestamp), START + i)
          assert.match(event.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        }
      })
    }
    const ids = plans.flatMap(planEvents).map((e) => e.eventId)
    assert.equal(new Set(ids).size, ids.length)
  })

  it('uses the HOME_NET address and follows references to the first event', () => {
    const [ping] = plans
    const first = stageEvents(ping!, 0)[0]!
    assert.equal(first.srcIp, '192.168.0.1')
    for (const event of [...stageEvents(ping!, 1), ...stageEvents(ping!, 2)]) {
      assert.equal(event.srcIp, first.srcIp)
      assert.equal(event.dstIp, first.dstIp)
    }
    assert.ok(
      stageEvents(ping!, 1).every((e) => e.dstPort === first.dstPort),
      "stage 2 reuses the first event's dst port",
    )
  })

  it('gives sticky_different stages pairwise distinct values of their field', () => {
    const distinct = (values: readonly (string | number)[]) => new Set(values).size === values.length
    const scan = plans[1]!
    assert.ok(distinct(stageEvents(scan, 1).map((e) => e.srcIp)), 'stage 2 src IPs are pairwise distinct')
    assert.ok(
      stageEvents(scan, 1).every((e) => !ASSETS.isWhitelisted(e.srcIp)),
      'no stage 2 src IP is whitelisted',
    )
    assert.deepEqual(
      stageEvents(scan, 2)
        .map((e) => e.srcPort)
        .sort(),
      [1024, 2048, 4096],
    )
    const custom = plans[2]!
    assert.deepEqual(
      stageEvents(custom, 1)
        .map((e) => e.pluginSid)
        .sort(),
      [1, 2, 3],
    )
    assert.ok(
      distinct(stageEvents(custom, 2).map((e) => e.customData3)),
      'stage 3 custom_data3 values are pairwise distinct',
    )
    assert.ok(distinct(stageEvents(custom, 3).map((e) => e.dstIp)), 'stage 4 dst IPs are pairwise distinct')
    assert.ok(
      distinct(stageEvents(plans[4]!, 1).map((e) => e.dstPort)),
      'directive 5 stage 2 dst ports are pairwise distinct',
    )
  })

  it('fills taxonomy fields from the rule, and custom data that satisfies each condition', () => {
    const scan = plans[1]!
    const first = stageEvents(scan, 0)[0]!
    assert.ok(['Firewall', 'IDS'].includes(first.product), `product ${first.product}`)
    assert.equal(first.category, 'Packet processing')
    assert.ok(['drop', 'reject'].includes(first.subcategory), `subcategory ${first.subcategory}`)
    assert.ok([22, 80].includes(first.dstPort), `dst port ${first.dstPort}`)
    assert.equal(first.dstIp, '192.168.0.1')
    const custom = plans[2]!
    const opening = stageEvents(custom, 0)[0]!
    assert.notEqual(opening.customData1, '', 'referenced later, so the first event carries a value')
    assert.notEqual(opening.customData2.toLowerCase(), 'root')
    assert.ok(
      stageEvents(custom, 1).every((e) => e.customData1 === opening.customData1),
      "stage 2 carries the first event's custom_data1",
    )
    assert.ok(
      stageEvents(custom, 1).every((e) => ['ssh', 'telnet'].includes(e.customData3)),
      'stage 2 custom_data3 is ssh or telnet',
    )
    assert.ok(
      stageEvents(custom, 2).every((e) => e.customData2 === 'Network Command Shell' && e.pluginSid === 2),
      'stage 3 is Network Command Shell with plugin_sid 2',
    )
  })

  it('gives taxonomy events of a mixed directive a plugin pair, or the quick check would drop them', () => {
    const mixed = plans[3]!
    for (const event of stageEvents(mixed, 1)) {
      assert.deepEqual(
        [event.pluginId, event.pluginSid, event.product, event.category],
        [9, 90, 'Proxy', 'Web'],
      )
    }
  })

  it('is reproducible from the seed', () => {
    const again = generateEvents(options(FEATURES)).flatMap(planEvents).map(serializeEvent)
    assert.deepEqual(again, plans.flatMap(planEvents).map(serializeEvent))
    const other = generateEvents(options(FEATURES, {random: seededRandom(43)}))
      .flatMap(planEvents)
      .map(serializeEvent)
    assert.notDeepEqual(other, again)
  })

  it('groups events into waves by rule position, so each directive stays in stage order', () => {
    const waves = eventWaves(plans)
    assert.equal(waves.length, 4)
    assert.equal(waves[0]!.length, FEATURES.length)
    waves.forEach((wave, k) =>
      assert.ok(
        wave.every((e) => parseRfc3339Seconds(e.timestamp) === START + k),
        `wave ${k} stamped START + ${k}`,
      ),
    )
    assert.equal(waves.flat().length, plans.flatMap(planEvents).length)
  })

  it('reports a directive whose events do not walk it as failed', () => {
    // Drop the last stage's events: the check must notice, or it proves nothing.
    const truncated = plans.map((plan) => ({...plan, rules: plan.rules.slice(0, -1)}))
    const checks = checkGeneratedEvents(truncated, ASSETS, START)
    assert.ok(
      checks.every((c) => c.status === 'failed'),
      'every truncated directive fails',
    )
    assert.deepEqual(
      checks.map((c) => c.reachedStage),
      FEATURES.map((d) => d.rules.length),
    )
    assert.match(checks[0]!.message!, /reached stage 3 of 3/)
  })
})

describe('generator limits', () => {
  it('says when max is below an occurrence, and checks the directive got that far', () => {
    const list = directives({
      id: 1,
      rules: [rule(1, {}), rule(2, {occurrence: 3}), rule(3, {occurrence: 10000})],
    })
    const [plan] = generateEvents(options(list, {maxPerRule: 50}))
    assert.deepEqual(plan!.limit, {
      kind: 'max',
      ruleIndex: 2,
      message: 'stage 3 needs 10000 events but at most 50 are generated per rule',
    })
    assert.equal(stageEvents(plan!, 2).length, 50)
    const [check] = checkGeneratedEvents([plan!], ASSETS, START)
    assert.deepEqual([check!.status, check!.reachedStage, check!.completed], ['partial', 3, false])
  })

  const impossible: [string, RuleSpec, RegExp][] = [
    [
      'sticky_different on an address bound to the first event',
      rule(2, {from: ':1', occurrence: 3, sticky_different: 'SRC_IP'}),
      /stage 2: sticky_different SRC_IP needs 3 distinct values, but only 1 satisfy the rule/,
    ],
    [
      'sticky_different PLUGIN_SID on a taxonomy rule',
      rule(2, {
        type: 'TaxonomyRule',
        plugin_id: 0,
        plugin_sid: undefined,
        product: ['p'],
        category: 'c',
        sticky_different: 'PLUGIN_SID',
      }),
      /stage 2: sticky_different "PLUGIN_SID" is never recorded for a TaxonomyRule/,
    ],
    ['an empty port list', rule(2, {port_from: ''}), /stage 2: no source port satisfies port_from ""/],
    ['an unknown sticky keyword', rule(2, {sticky_different: 'USERNAME'}), /"USERNAME" is never recorded/],
  ]
  for (const [what, second, message] of impossible) {
    it(`fails a directive that cannot complete: ${what}`, () => {
      const list = directives({id: 1, rules: [rule(1, {}), second]})
      const [plan] = generateEvents(options(list))
      assert.equal(plan!.limit?.kind, 'impossible')
      const [check] = checkGeneratedEvents([plan!], ASSETS, START)
      assert.equal(check!.status, 'failed')
      assert.match(check!.message!, message)
    })
  }

  it('refuses a HOME_NET address outside the assets when a rule needs HOME_NET', () => {
    const list = directives({id: 1, rules: [rule(1, {from: 'HOME_NET'}), rule(2, {})]})
    assert.throws(
      () => generateEvents(options(list, {homeNet: '10.9.9.9'})),
      (error: unknown) => error instanceof InputError && /HOME_NET address 10\.9\.9\.9/.test(error.message),
    )
    assert.throws(() => generateEvents(options(list, {homeNet: '192.168.0.2'})), InputError, 'whitelisted')
    const noHomeNet = directives({id: 1, rules: [rule(1, {}), rule(2, {})]})
    assert.equal(generateEvents(options(noHomeNet, {homeNet: '10.9.9.9'})).length, 1)
  })
})

describe('seededRandom and randomUuid', () => {
  it('are deterministic per seed and produce version-4 UUIDs', () => {
    const a = seededRandom(7)
    const b = seededRandom(7)
    const xs = Array.from({length: 5}, () => a())
    assert.deepEqual(
      xs,
      Array.from({length: 5}, () => b()),
    )
    assert.ok(
      xs.every((x) => x >= 0 && x < 1),
      'every value in [0, 1)',
    )
    assert.match(
      randomUuid(seededRandom(1)),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    assert.equal(randomUuid(seededRandom(1)), randomUuid(seededRandom(1)))
  })
})
