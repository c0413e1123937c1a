// S8 and §3.3–§3.6: what a live backlog does with an offered event (sticky, timestamp, out-of-order
// and back-pressure checks, all_rules_always_active absorption), stage completion, expiry and
// deletion. Upstream's backlog_test.go (directive4) first, then inline directives.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AssetTable,
  formatRfc3339,
  serializeAlarm,
  type Directive,
  type DirectiveRule,
  type NormalizedEvent,
} from '../../src/engine/index.js'
import type {Backlog} from '../../src/engine/backlog.js'
import {directive, plugin} from '../helpers/directive-builders.js'
import {event, harness, only} from '../helpers/engine-harness.js'
import {skipWithoutUpstreamFixtures} from '../helpers/paths.js'
import {upstreamAssetFixture, upstreamDirectiveFixture} from './upstream-data.js'

const NS = 1_000_000_000n

const skipBackLog = skipWithoutUpstreamFixtures('TestBackLog')

describe(
  'TestBackLog (directive4 all_rules_always_active, asset1, maxDelay 100)',
  {skip: skipBackLog},
  () => {
    it('walks under-pressure, previous-rule, out-of-order, bad-timestamp and final-stage paths', () => {
      const set = upstreamDirectiveFixture('directive4')
      const h = harness(set.directives, upstreamAssetFixture('asset1'), {maxDelaySeconds: 100})
      const now = h.clock.nowSeconds()
      const e = event({
        eventId: '1',
        srcIp: '10.0.0.1',
        dstIp: '192.168.0.1',
        title: 'ICMP Ping',
        protocol: 'ICMP',
        pluginId: 1001,
        pluginSid: 2100384,
        timestamp: formatRfc3339(now),
        rcvdTime: BigInt(now) * NS,
      })
      const step = (fields: Partial<NormalizedEvent>) => {
        h.effects.length = 0
        h.engine.process({...e, ...fields})
      }

      step({})
      const backlog = only(h.engine.backlogs())
      assert.equal(backlog.currentStage, 2)
      // all_rules_always_active pins the first rule to the first event's addresses.
      assert.deepEqual([backlog.rules[0]!.from, backlog.rules[0]!.to], ['10.0.0.1', '192.168.0.1'])

      step({eventId: '2', pluginSid: 2100385, rcvdTime: BigInt(now - 700) * NS})
      assert.ok(h.logs().includes('backlog is under pressure'), h.logs().join('\n'))
      assert.equal(h.of('overload').length, 1)
      assert.equal(backlog.currentStage, 3)

      step({eventId: '3'})
      assert.deepEqual(h.logs(), ['backlog previous rule 0 consumes matching event'])
      assert.deepEqual(
        h.of('alarm-event').map((l) => [l.stage, l.eventId]),
        [[1, '3']],
      )
      assert.deepEqual(backlog.events[0], ['1', '3'])
      assert.equal(h.engine.backlogs().length, 1)
      // Absorption re-upserts the alarm (risk 3×6×5/25 = 3) without requesting lookups.
      assert.equal(h.of('alarm').length, 1)
      assert.equal(h.of('lookup').length, 0)

      step({eventId: '4', pluginSid: 2100385, timestamp: formatRfc3339(now - 300)})
      assert.deepEqual(h.logs(), ['event timestamp out of order, discarding it'])
      assert.deepEqual(h.of('alarm-event'), [])

      step({eventId: '5', pluginSid: 2100385, timestamp: '#'})
      assert.deepEqual(h.logs(), ['cannot parse event timestamp, discarding it'])
      assert.deepEqual(h.of('alarm-event'), [])

      step({eventId: '7', pluginSid: 2100385})
      assert.ok(h.logs().includes('reached max stage and occurrence, deleting.'), h.logs().join('\n'))
      assert.equal(backlog.deleted, true)
      assert.equal(h.engine.backlogs().length, 0)
      assert.deepEqual(
        h.of('alarm-removed').map((r) => r.alarmId),
        [backlog.id],
      )
      assert.equal(h.engine.alarm(backlog.id), undefined)
      // The final upsert happened before the removal and asked for lookups.
      assert.deepEqual(
        h.effects.filter((x) => x.kind !== 'log').map((x) => x.kind),
        ['alarm-event', 'alarm', 'lookup', 'alarm-removed'],
      )
    })
  },
)

// Inline directives

const ASSETS = AssetTable.fromEntries([
  {name: 'Firewall', cidr: '192.168.0.1/32', value: 5, whitelisted: false},
  {name: 'home', cidr: '192.168.0.0/16', value: 2, whitelisted: false},
])

/** This file's directive: id 3, priority 5. */
const DIRECTIVE = {id: 3, priority: 5}

const NOW = 1_700_000_000

function start(rules: DirectiveRule[], fields: Partial<Directive> = {}, options = {}) {
  const h = harness([directive(rules, {...DIRECTIVE, ...fields})], ASSETS, {now: NOW, ...options})
  const e = event({
    eventId: 'e1',
    pluginId: 1,
    pluginSid: 1,
    srcIp: '192.168.0.1',
    dstIp: '8.8.8.8',
    timestamp: formatRfc3339(NOW),
    rcvdTime: BigInt(NOW) * NS,
  })
  h.engine.process(e)
  const backlog: Backlog = only(h.engine.backlogs())
  return {h, e, backlog}
}

describe('offered events (§3.3)', () => {
  it('tolerates events up to 5 s older than the previous stage completion, not more', () => {
    const {h, e, backlog} = start([plugin({stage: 1}), plugin({stage: 2, occurrence: 10})])
    h.engine.process({...e, eventId: 'ok', timestamp: formatRfc3339(NOW - 4)})
    h.engine.process({...e, eventId: 'late', timestamp: formatRfc3339(NOW - 5)})
    assert.deepEqual(backlog.events[1], ['ok'])
    assert.ok(h.logs().includes('event timestamp out of order, discarding it'), h.logs().join('\n'))
  })

  it('answers "found" for a discarded current-stage match, so no new backlog opens', () => {
    const {h, e} = start([plugin({stage: 1}), plugin({stage: 2, occurrence: 10})])
    h.engine.process({...e, eventId: 'bad', timestamp: 'yesterday'})
    assert.equal(h.engine.backlogs().length, 1)
  })

  it('ignores a sticky duplicate but still counts it as consumed', () => {
    const {h, e, backlog} = start([
      plugin({stage: 1}),
      plugin({stage: 2, occurrence: 3, stickyDifferent: 'DST_PORT'}),
    ])
    h.engine.process({...e, eventId: 'p1', dstPort: 22})
    h.engine.process({...e, eventId: 'p1b', dstPort: 22})
    h.engine.process({...e, eventId: 'p2', dstPort: 23})
    assert.deepEqual(backlog.events[1], ['p1', 'p2'])
    assert.equal(h.engine.backlogs().length, 1)
  })

  it('remembers a sticky value from an event that failed the rule, rejecting a later match', () => {
    const rules = [
      plugin({stage: 1, pluginSid: [1, 2, 3]}),
      plugin({stage: 2, occurrence: 3, from: ':1', pluginSid: [1, 2, 3], stickyDifferent: 'PLUGIN_SID'}),
    ]
    const {h, e, backlog} = start(rules)
    // From another source: fails stage 2's address check (and opens its own backlog), but sid 2 is
    // recorded in the first backlog's stage-2 set before that check.
    h.engine.process({...e, eventId: 'other-src', srcIp: '192.168.9.9', pluginSid: 2})
    h.engine.process({...e, eventId: 'sid2', pluginSid: 2})
    h.engine.process({...e, eventId: 'sid3', pluginSid: 3})
    assert.deepEqual(backlog.events[1], ['sid3'])
  })

  it("does not pre-seed a stage's sticky set with earlier stages' values", () => {
    const {backlog, h, e} = start([
      plugin({stage: 1}),
      plugin({stage: 2, occurrence: 2, stickyDifferent: 'SRC_IP'}),
    ])
    h.engine.process({...e, eventId: 'same-src'})
    assert.deepEqual(backlog.events[1], ['same-src'])
  })

  it('an unknown sticky keyword freezes the stage: matches are consumed, never counted', () => {
    const {h, e, backlog} = start([plugin({stage: 1}), plugin({stage: 2, stickyDifferent: 'SRC_MAC'})])
    h.engine.process({...e, eventId: 'x'})
    assert.deepEqual(backlog.events[1], [])
    assert.equal(h.engine.backlogs().length, 1)
  })

  it('signals overload only past maxDelay, and only when maxDelay is on', () => {
    const rules = [plugin({stage: 1}), plugin({stage: 2, occurrence: 10})]
    for (const [maxDelaySeconds, age, expected] of [
      [100, 100, 0],
      [100, 101, 1],
      [0, 100_000, 0],
    ] as const) {
      const {h, e} = start(rules, {}, {maxDelaySeconds})
      h.engine.process({...e, eventId: 'late', rcvdTime: BigInt(NOW - age) * NS + 999_999_999n})
      assert.equal(h.of('overload').length, expected, `maxDelay ${maxDelaySeconds}, age ${age}`)
    }
  })

  it('without all_rules_always_active an earlier-stage event opens a new backlog', () => {
    const rules = [plugin({stage: 1, pluginSid: [1]}), plugin({stage: 2, pluginSid: [2], occurrence: 5})]
    const {h, e} = start(rules)
    h.engine.process({...e, eventId: 'again'})
    assert.equal(h.engine.backlogs().length, 2)
  })

  it('with all_rules_always_active earlier stages absorb events of their own src/dst pair only', () => {
    const rules = [plugin({stage: 1, pluginSid: [1]}), plugin({stage: 2, pluginSid: [2], occurrence: 5})]
    const {h, e, backlog} = start(rules, {allRulesAlwaysActive: true})
    h.engine.process({...e, eventId: 'again'})
    assert.equal(h.engine.backlogs().length, 1)
    assert.deepEqual(backlog.events[0], ['e1', 'again'])
    assert.equal(backlog.currentStage, 2)
    h.engine.process({...e, eventId: 'other-pair', dstIp: '9.9.9.9'})
    assert.equal(h.engine.backlogs().length, 2)
  })
})

describe('stage completion and expiry (§3.4, §3.6)', () => {
  it('sets status, end_time and the next start_time from event time, status_time from the clock', () => {
    const {h, e, backlog} = start([plugin({stage: 1}), plugin({stage: 2, occurrence: 2}), plugin({stage: 3})])
    h.clock.set(NOW + 100)
    h.engine.process({...e, eventId: 'a', timestamp: formatRfc3339(NOW + 7)})
    h.engine.process({...e, eventId: 'b', timestamp: formatRfc3339(NOW + 9)})
    const [r1, r2, r3] = backlog.rules
    assert.deepEqual(
      [r1!.status, r1!.startTime, r1!.endTime, r1!.rcvdTime],
      ['finished', NOW, NOW, BigInt(NOW) * NS],
    )
    assert.deepEqual([r2!.status, r2!.startTime, r2!.endTime, r2!.rcvdTime], ['finished', NOW, NOW + 9, 0n])
    assert.deepEqual([r3!.status, r3!.startTime, r3!.endTime], ['', NOW + 9, 0])
    assert.equal(backlog.statusTime, NOW + 100)
  })

  it('an alarm already emitted keeps its rules as they were when later stages finish', () => {
    const {h, e} = start([plugin({stage: 1}), plugin({stage: 2, occurrence: 2}), plugin({stage: 3})], {
      priority: 5,
    })
    h.engine.process({...e, eventId: 'a', timestamp: formatRfc3339(NOW + 7)})
    h.engine.process({...e, eventId: 'b', timestamp: formatRfc3339(NOW + 9)})
    const statuses = h.of('alarm').map((effect) => effect.alarm.rules.map((r) => r.status))
    assert.deepEqual(statuses, [
      ['finished', '', ''],
      ['finished', 'finished', ''],
    ])
  })

  it('expires when stage start + timeout < now − minAlarmLifetime (strictly)', () => {
    for (const [minutes, elapsed, expired] of [
      [0, 600, false],
      [0, 601, true],
      [1, 660, false],
      [1, 661, true],
    ] as const) {
      const {h} = start(
        [plugin({stage: 1}), plugin({stage: 2, timeout: 600})],
        {},
        {minAlarmLifetimeMinutes: minutes},
      )
      h.clock.set(NOW + elapsed)
      h.engine.tick()
      assert.equal(h.engine.backlogs().length, expired ? 0 : 1, `lifetime ${minutes} min, ${elapsed} s`)
    }
  })

  it("never uses the first rule's timeout", () => {
    const {h} = start([plugin({stage: 1, timeout: 1}), plugin({stage: 2, timeout: 600})])
    h.clock.set(NOW + 30)
    h.engine.tick()
    assert.equal(h.engine.backlogs().length, 1)
  })

  it('S10 expiry variant: High alarm at creation, then the same alarm with stage 2 "timeout"', () => {
    const {h, backlog} = start([plugin({stage: 1, reliability: 10}), plugin({stage: 2, timeout: 5})], {
      priority: 5,
    })
    const first = only(h.of('alarm')).alarm
    assert.deepEqual([first.risk, first.riskClass], [10, 'High'])
    h.clock.set(NOW + 10)
    h.engine.tick()
    const lines = h.of('alarm').map((x) => JSON.parse(serializeAlarm(x.alarm)) as Record<string, unknown>)
    assert.equal(lines.length, 2)
    const [before, after] = lines as [{rules: Record<string, unknown>[]}, {rules: Record<string, unknown>[]}]
    assert.equal(after.rules[1]!['status'], 'timeout')
    delete after.rules[1]!['status']
    assert.deepEqual(after, before)
    assert.ok(h.logs().includes('backlog expired, deleting it'), h.logs().join('\n'))
    assert.deepEqual(
      h.of('alarm-removed').map((x) => x.alarmId),
      [backlog.id],
    )
    // Expiry asks for no lookups; deletion is final.
    assert.equal(h.of('lookup').length, 1)
    h.clock.advance(100)
    h.engine.tick()
    assert.equal(h.of('alarm').length, 2)
  })

  it('writes no alarm line on expiry while risk is 0', () => {
    const {h} = start([plugin({stage: 1, reliability: 0}), plugin({stage: 2, timeout: 5})])
    h.clock.set(NOW + 10)
    h.engine.tick()
    assert.equal(h.of('alarm').length, 0)
    assert.equal(h.of('alarm-removed').length, 1)
  })

  it('completes and deletes a single-stage directive (--allow-single-stage) on its first event', () => {
    const h = harness([directive([plugin({stage: 1, reliability: 10})], DIRECTIVE)], ASSETS, {now: NOW})
    h.engine.process(
      event({
        eventId: 'only',
        pluginId: 1,
        pluginSid: 1,
        srcIp: '192.168.0.1',
        dstIp: '8.8.8.8',
        timestamp: formatRfc3339(NOW),
      }),
    )
    assert.deepEqual(
      h.effects.filter((x) => x.kind !== 'log').map((x) => x.kind),
      ['alarm-event', 'alarm', 'lookup', 'alarm-removed'],
    )
    assert.equal(only(h.of('alarm')).alarm.rules[0]!.status, 'finished')
    assert.equal(h.engine.backlogs().length, 0)
    assert.equal(h.engine.stats().backlogsCreated, 1)
  })

  it('stops offering events to a deleted backlog', () => {
    const {h, e} = start([plugin({stage: 1, pluginSid: [1]}), plugin({stage: 2, pluginSid: [2], from: ':1'})])
    h.engine.process({...e, eventId: 'done', pluginSid: 2})
    assert.equal(h.engine.backlogs().length, 0)
    h.effects.length = 0
    h.engine.process({...e, eventId: 'after', pluginSid: 2})
    assert.deepEqual(h.effects, [])
  })
})
