// S6/S7: the per-directive backlog manager, driven through the engine with upstream's own fixtures
// (backlogmgr_test.go TestBacklogMgr and TestBacklogManagerCustomData), plus inline directives for
// reference binding and the duplicate-event guard so those always run.

import assert from 'node:assert/strict'
import {before, describe, it} from 'node:test'
import {AssetTable, formatRfc3339, type NormalizedEvent} from '../../src/engine/index.js'
import type {Backlog} from '../../src/engine/backlog.js'
import {directive, plugin} from '../helpers/directive-builders.js'
import {event, harness, only, type Harness} from '../helpers/engine-harness.js'
import {skipWithoutUpstreamFixtures} from '../helpers/paths.js'
import {upstreamAssetFixture, upstreamDirectiveFixture} from './upstream-data.js'

function backlogsOf(h: Harness, directiveId: number): Backlog[] {
  return h.engine.backlogs().filter((b) => b.directive.id === directiveId)
}

describe(
  'TestBacklogMgr (directive1 + asset1)',
  {skip: skipWithoutUpstreamFixtures('TestBacklogMgr')},
  () => {
    let h: Harness
    before(() => {
      h = harness(upstreamDirectiveFixture('directive1').directives, upstreamAssetFixture('asset1'))
    })
    const ts = () => formatRfc3339(h.clock.nowSeconds() - 300)
    let e: NormalizedEvent
    let first: Backlog

    it('(a) a matching event without a parsable timestamp creates no backlog', () => {
      e = event({
        eventId: '1',
        srcIp: '10.0.0.1',
        dstIp: '8.8.8.8',
        title: 'ICMP Ping',
        protocol: 'ICMP',
        pluginId: 1001,
        pluginSid: 2100384,
        customData1: 'test-1',
        customData2: 'test-2',
        customData3: 'test-3',
        rcvdTime: BigInt(h.clock.nowSeconds()) * 1_000_000_000n,
        timestamp: '',
      })
      h.engine.process(e)
      assert.equal(h.engine.backlogs().length, 0)
      assert.ok(h.logs().includes('Fail to create new backlog'), h.logs().join('\n'))
    })

    it('(b) a source outside HOME_NET creates no backlog', () => {
      h.effects.length = 0
      e = {...e, timestamp: ts(), srcIp: '8.8.8.8'}
      h.engine.process(e)
      assert.equal(h.engine.backlogs().length, 0)
      assert.deepEqual(h.of('alarm-event'), [])
    })

    it('(c) the first matching event creates a backlog at stage 2 with references bound to it', () => {
      e = {...e, srcIp: '10.0.0.1'}
      h.engine.process(e)
      first = only(backlogsOf(h, 1))
      assert.equal(first.currentStage, 2)
      assert.equal(first.title, 'Correct Rule, Attack from 10.0.0.1 to 8.8.8.8')
      const [, stage2, stage3, stage4, stage5] = first.rules
      assert.deepEqual(
        [
          stage2!.from,
          stage2!.to,
          stage2!.portFrom,
          stage2!.portTo,
          stage2!.customData1,
          stage2!.customData3,
        ],
        ['10.0.0.1', '8.8.8.8', '0', 'ANY', 'test-1', 'test-3'],
      )
      assert.deepEqual(
        [stage3!.from, stage3!.to, stage3!.portFrom, stage3!.portTo, stage3!.customData2],
        ['192.168.0.2', '192.168.0.1', '!345, 123', '!345, 124', 'test-2'],
      )
      assert.deepEqual(
        [stage4!.from, stage4!.to, stage4!.portFrom, stage4!.portTo],
        ['10.0.0.1', '8.8.8.8', '0', '0'],
      )
      // :3 copies stage 3's literals, not the event's values.
      assert.deepEqual(
        [stage5!.from, stage5!.to, stage5!.portFrom, stage5!.portTo],
        ['192.168.0.2', '192.168.0.1', '!345, 123', '!345, 124'],
      )
      assert.deepEqual(
        h.of('alarm-event').map((l) => [l.alarmId, l.stage, l.eventId]),
        [[first.id, 1, '1']],
      )
    })

    it('(d) the next two events count towards stage 2', () => {
      for (const [id, count] of [
        ['2', 1],
        ['3', 2],
      ] as const) {
        h.engine.process({...e, eventId: id})
        assert.equal(first.currentStage, 2)
        assert.equal(first.events[1]!.length, count)
      }
      assert.deepEqual(h.of('alarm'), [])
    })

    it('(e) the fourth completes stage 2: risk 3×6×2/25 = 1, a Low alarm', () => {
      h.engine.process({...e, eventId: '4'})
      assert.equal(first.currentStage, 3)
      assert.equal(first.risk, 1)
      const alarm = only(h.of('alarm')).alarm
      assert.deepEqual([alarm.alarmId, alarm.risk, alarm.riskClass], [first.id, 1, 'Low'])
      assert.deepEqual(alarm.networks, ['10.0.0.0/8'])
    })

    let second: Backlog
    it('(f) an event from another source opens a second backlog', () => {
      h.engine.process({...e, eventId: '5', srcIp: '192.168.0.1', dstIp: '192.168.0.3'})
      const backlogs = backlogsOf(h, 1)
      assert.equal(backlogs.length, 2)
      second = backlogs.find((b) => b !== first)!
      assert.equal(second.currentStage, 2)
      assert.equal(second.title, 'Correct Rule, Attack from firewall to server')
    })

    it('(g) an event id already held by a backlog cannot open another one', () => {
      h.effects.length = 0
      h.engine.process({...e, eventId: '5', srcIp: '192.168.0.100', dstIp: '192.168.0.1'})
      assert.equal(backlogsOf(h, 1).length, 2)
      assert.deepEqual(h.logs(), [
        `skipping backlog creation for event 5, it's already used in backlog ${second.id}`,
      ])
      assert.deepEqual(h.of('alarm-event'), [])
    })

    it('(h) a plugin_sid outside the directive is ignored by the pre-filter', () => {
      h.effects.length = 0
      h.engine.process({...e, eventId: '7', pluginSid: 31337})
      assert.deepEqual(h.effects, [])
      assert.equal(h.engine.backlogs().length, 2)
    })

    it('(i) taxonomy directive: unknown product ignored, sticky SRC_IP admits one event per source', () => {
      const taxonomy = {
        ...e,
        pluginSid: 0,
        product: 'Non existant product',
        category: 'Random category',
        subcategory: 'Random subcat',
        srcIp: '192.168.0.100',
        dstIp: '192.168.0.1',
      }
      h.effects.length = 0
      h.engine.process({...taxonomy, eventId: '8'})
      assert.deepEqual(h.effects, [])

      const drop = {...taxonomy, product: 'Firewall', category: 'Packet processing', subcategory: 'Drop'}
      h.engine.process({...drop, eventId: '9'})
      const third = only(backlogsOf(h, 2))
      assert.equal(third.currentStage, 2)

      h.engine.process({...drop, eventId: '10'})
      assert.deepEqual(third.events[1], ['10'])

      h.effects.length = 0
      h.engine.process({...drop, eventId: '11'})
      assert.deepEqual(third.events[1], ['10'])
      assert.deepEqual(h.logs(), ["backlog can't find new unique value in stickydiff field SRC_IP"])
      assert.deepEqual(h.of('alarm-event'), [])

      // A new source is a new sticky value.
      h.engine.process({...drop, eventId: '12', srcIp: '192.168.0.101'})
      assert.deepEqual(third.events[1], ['10', '12'])
      assert.equal(h.engine.stats().backlogsActive, 3)
    })
  },
)

describe(
  'TestBacklogManagerCustomData (directive5 + asset1)',
  {skip: skipWithoutUpstreamFixtures('TestBacklogManagerCustomData')},
  () => {
    it("binds custom-data references to each backlog's first event", () => {
      const set = upstreamDirectiveFixture('directive5')
      assert.equal(set.directives.length, 1)
      const h = harness(set.directives, upstreamAssetFixture('asset1'))
      const timestamp = formatRfc3339(h.clock.nowSeconds() - 300)
      const ev = event({
        eventId: '1',
        srcIp: '1.1.1.1',
        dstIp: '2.2.2.2',
        title: 'Test Event',
        protocol: 'TEST',
        pluginId: 1337,
        pluginSid: 1,
        customLabel1: 'fsoo',
        customData1: 'bar',
        timestamp,
      })
      const send = (fields: Partial<NormalizedEvent>) => h.engine.process({...ev, ...fields})
      const stages = () => h.engine.backlogs().map((b) => b.currentStage)

      send({})
      const a = only(h.engine.backlogs())
      assert.deepEqual(stages(), [2])
      send({eventId: '2', customLabel2: 'foo2', customData2: 'bar2'})
      assert.deepEqual(stages(), [2])
      send({eventId: '3', customLabel2: 'foo2', customData2: 'bar2'})
      assert.deepEqual(stages(), [3])
      // Stage 3's :2 references resolved to the first event's (empty) data2/data3: no constraint.
      assert.deepEqual(
        [a.rules[2]!.customData1, a.rules[2]!.customData2, a.rules[2]!.customData3],
        ['bar', '', ''],
      )
      send({eventId: '4', customLabel2: 'foo2', customData2: 'bar2', customData3: 'bar3'})
      assert.deepEqual(stages(), [3])
      assert.equal(a.events[2]!.length, 1)

      const ev5 = {
        customLabel1: 'aaa',
        customData1: 'bbb',
        customLabel2: 'foo2',
        customData2: 'bar2',
        customData3: 'bar3',
      }
      send({eventId: '5', ...ev5})
      assert.deepEqual(stages(), [3, 2])
      const b = h.engine.backlogs()[1]!
      assert.deepEqual(
        [b.rules[2]!.customData1, b.rules[2]!.customData2, b.rules[2]!.customData3],
        ['bbb', 'bar2', 'bar3'],
      )
      send({eventId: '6', ...ev5})
      assert.deepEqual(stages(), [3, 2])
      send({eventId: '7', ...ev5})
      assert.deepEqual(stages(), [3, 3])

      const ev8 = {customLabel1: '', customData1: ''}
      send({eventId: '8', ...ev8})
      assert.deepEqual(stages(), [3, 3, 2])
      const c = h.engine.backlogs()[2]!
      assert.equal(c.lastEventId, '8')
      send({eventId: '9', ...ev8})
      assert.deepEqual(stages(), [3, 3, 2])
      assert.equal(c.lastEventId, '9')

      // ev10 repeats ev5's data: B takes it, and so does C, whose references bound to "no constraint".
      send({eventId: '10', ...ev5})
      assert.equal(b.currentStage, 3)
      assert.equal(b.lastEventId, '10')
      assert.equal(c.lastEventId, '10')
      assert.equal(c.currentStage, 3)
      assert.equal(a.lastEventId, '4')
      assert.equal(h.engine.backlogs().length, 3)
      // 1.1.1.1 and 2.2.2.2 are no assets: risk stays 0, so no alarm line is ever written.
      assert.deepEqual(h.of('alarm'), [])
      assert.equal(h.of('alarm-event').length, 11)
    })
  },
)

// Inline directives: the same mechanics without upstream's files.

const ASSETS = AssetTable.fromEntries([
  {name: 'Firewall', cidr: '192.168.0.1/32', value: 5, whitelisted: false},
  {name: 'Scanner', cidr: '192.168.0.2/32', value: 5, whitelisted: true},
  {name: 'home', cidr: '192.168.0.0/16', value: 2, whitelisted: false},
])

/** This file's directive: id 7, titled from its addresses. */
const DIRECTIVE = {id: 7, name: 'D from SRC_IP to DST_IP'}

describe('backlog creation and reference binding (inline)', () => {
  const base = (h: Harness) =>
    event({
      eventId: 'e1',
      pluginId: 1,
      pluginSid: 1,
      srcIp: '10.1.1.1',
      dstIp: '10.2.2.2',
      srcPort: 1234,
      dstPort: 80,
      timestamp: formatRfc3339(h.clock.nowSeconds() - 60),
    })

  it('binds :N to the first event even when stage N was completed by other events', () => {
    const rules = [
      plugin({stage: 1, from: 'ANY', to: 'ANY'}),
      plugin({stage: 2, occurrence: 1, from: 'ANY', to: 'ANY'}),
      plugin({stage: 3, occurrence: 2, from: ':2', to: ':2', portFrom: ':1', portTo: ':1'}),
    ]
    const h = harness([directive(rules, DIRECTIVE)], ASSETS)
    const e = base(h)
    h.engine.process(e)
    h.engine.process({...e, eventId: 'e2', srcIp: '10.9.9.9', dstIp: '10.8.8.8', srcPort: 5})
    const backlog = only(h.engine.backlogs())
    assert.equal(backlog.currentStage, 3)
    assert.deepEqual(
      [backlog.rules[2]!.from, backlog.rules[2]!.to, backlog.rules[2]!.portFrom, backlog.rules[2]!.portTo],
      ['10.1.1.1', '10.2.2.2', '1234', '80'],
    )
    // The template directive is untouched.
    assert.equal(h.engine.directives[0]!.rules[2]!.from, ':2')
  })

  it('copies a literal referenced value verbatim (IP list, port list, custom data)', () => {
    const rules = [
      plugin({
        stage: 1,
        from: '10.0.0.0/8, !10.3.0.0/16',
        portFrom: '!22, 1234',
        customData1: 'ANY',
        customData2: 'x,y',
      }),
      plugin({stage: 2, from: ':1', portFrom: ':1', customData1: ':1', customData2: ':1', customData3: ':1'}),
    ]
    const h = harness([directive(rules, DIRECTIVE)], ASSETS)
    h.engine.process({...base(h), customData1: 'alice', customData2: 'x', customData3: 'ignored'})
    const stage2 = only(h.engine.backlogs()).rules[1]!
    assert.deepEqual(
      [stage2.from, stage2.portFrom, stage2.customData1, stage2.customData2, stage2.customData3],
      ['10.0.0.0/8, !10.3.0.0/16', '!22, 1234', 'alice', 'x,y', ''],
    )
  })

  it('rewrites SRC_IP/DST_IP in the title with /32 asset names, else the address', () => {
    const h = harness([directive([plugin({stage: 1}), plugin({stage: 2})], DIRECTIVE)], ASSETS)
    h.engine.process({...base(h), srcIp: '192.168.0.1', dstIp: '192.168.7.7'})
    assert.equal(only(h.engine.backlogs()).title, 'D from Firewall to 192.168.7.7')
  })

  it('drops events from whitelisted sources before any directive (src only)', () => {
    const h = harness([directive([plugin({stage: 1}), plugin({stage: 2})], DIRECTIVE)], ASSETS)
    h.engine.process({...base(h), srcIp: '192.168.0.2'})
    assert.equal(h.engine.backlogs().length, 0)
    assert.equal(h.engine.stats().eventsWhitelisted, 1)
    h.engine.process({...base(h), dstIp: '192.168.0.2'})
    assert.equal(h.engine.backlogs().length, 1)
  })

  it('opens a backlog per distinct bound value and routes later events to the one that binds it', () => {
    const rules = [
      plugin({stage: 1, customData1: 'ANY'}),
      plugin({stage: 2, occurrence: 5, customData1: ':1'}),
    ]
    const h = harness([directive(rules, DIRECTIVE)], ASSETS)
    const e = base(h)
    h.engine.process({...e, eventId: 'a', customData1: 'u1'})
    h.engine.process({...e, eventId: 'b', customData1: 'u2'})
    assert.equal(h.engine.backlogs().length, 2)
    h.engine.process({...e, eventId: 'c', customData1: 'u3'})
    assert.equal(h.engine.backlogs().length, 3)
    h.engine.process({...e, eventId: 'd', customData1: 'u1'})
    assert.equal(h.engine.backlogs().length, 3)
    assert.deepEqual(
      h.engine.backlogs().map((b) => b.events[1]!.length),
      [1, 0, 0],
    )
  })

  it('releases the duplicate guard when the backlog holding the event is deleted', () => {
    const rules = [plugin({stage: 1}), plugin({stage: 2, from: ':1', timeout: 10})]
    const h = harness([directive(rules, DIRECTIVE)], ASSETS)
    const e = base(h)
    h.engine.process(e)
    h.engine.process({...e, srcIp: '10.5.5.5'})
    assert.ok(
      h.logs().some((m) => m.startsWith('skipping backlog creation for event e1')),
      h.logs().join('\n'),
    )
    h.clock.advance(3600)
    h.engine.tick()
    assert.equal(h.engine.backlogs().length, 0)
    h.engine.process({...e, srcIp: '10.5.5.5', timestamp: formatRfc3339(h.clock.nowSeconds())})
    assert.equal(h.engine.backlogs().length, 1)
  })

  it('an event held by two backlogs stays guarded until the second one is deleted too', () => {
    const rules = [
      plugin({stage: 1, pluginSid: [1]}),
      plugin({stage: 2, pluginSid: [2], from: 'ANY', to: 'ANY', occurrence: 2}),
      plugin({stage: 3, pluginSid: [3], from: ':1'}),
    ]
    const h = harness([directive(rules, DIRECTIVE)], ASSETS)
    const e = base(h)
    const skipped = (eventId: string) =>
      h.logs().filter((m) => m.startsWith(`skipping backlog creation for event ${eventId},`)).length
    h.engine.process({...e, eventId: 'a'})
    h.engine.process({...e, eventId: 'b', srcIp: '10.1.1.2'})
    // Both backlogs are at stage 2, which takes any address: each takes both events.
    h.engine.process({...e, eventId: 'shared', pluginSid: 2, srcIp: '10.9.9.9'})
    h.engine.process({...e, eventId: 'more', pluginSid: 2, srcIp: '10.9.9.9'})
    const [first, second] = h.engine.backlogs()
    assert.deepEqual(
      [first!.events[1], second!.events[1]],
      [
        ['shared', 'more'],
        ['shared', 'more'],
      ],
    )
    assert.deepEqual([first!.currentStage, second!.currentStage], [3, 3])

    // The first one finishes: the second still holds "shared", which may not open a backlog.
    h.engine.process({...e, eventId: 'end-a', pluginSid: 3})
    assert.equal(first!.deleted, true)
    h.engine.process({...e, eventId: 'shared', srcIp: '10.7.7.7'})
    assert.equal(skipped('shared'), 1)
    assert.equal(h.engine.backlogs().length, 1)

    // Once the second one is gone as well, the id is free.
    h.engine.process({...e, eventId: 'end-b', pluginSid: 3, srcIp: '10.1.1.2'})
    assert.equal(h.engine.backlogs().length, 0)
    h.engine.process({...e, eventId: 'shared', srcIp: '10.7.7.7'})
    assert.equal(skipped('shared'), 1)
    assert.equal(h.engine.backlogs().length, 1)
  })
})
