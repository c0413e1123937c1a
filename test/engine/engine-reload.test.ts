// Hot reload of directives and assets (CorrelationEngine.reload): unchanged directives keep their live
// backlogs, changed and removed ones lose theirs (alarm-removed, no alarm line), new ones start empty,
// the pre-filter index answers for the new keys only, and live backlogs use the new asset table.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {AssetTable, formatRfc3339, type Directive, type NormalizedEvent} from '../../src/engine/index.js'
import {directive, plugin} from '../helpers/directive-builders.js'
import {event, harness, only} from '../helpers/engine-harness.js'

const LAN = [{name: 'lan', cidr: '192.168.0.0/16', value: 5, whitelisted: false}]

/** Three stages on (pluginId, sid): one event opens it, two more complete stage 2, one more stage 3. */
function threeStage(id: number, sid: number, fields: Partial<Directive> = {}): Directive {
  return directive(
    [
      plugin({stage: 1, pluginId: 10, pluginSid: [sid], from: 'HOME_NET'}),
      plugin({stage: 2, pluginId: 10, pluginSid: [sid], from: ':1', occurrence: 2, reliability: 5}),
      plugin({stage: 3, pluginId: 10, pluginSid: [sid], from: ':1', occurrence: 1, reliability: 10}),
    ],
    {id, name: `D${id}`, priority: 3, ...fields},
  )
}

function taxonomy(id: number, category: string, product: string): Directive {
  const rule = (stage: number) =>
    plugin({
      stage,
      type: 'TaxonomyRule',
      pluginId: 0,
      pluginSid: undefined,
      category,
      product: [product],
      from: stage === 1 ? 'HOME_NET' : ':1',
    })
  return directive([rule(1), rule(2)], {id, name: `T${id}`})
}

function ev(id: string, sid: number, now: number, fields: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return event({
    eventId: id,
    pluginId: 10,
    pluginSid: sid,
    srcIp: '192.168.0.7',
    dstIp: '10.1.1.1',
    timestamp: formatRfc3339(now - 60),
    ...fields,
  })
}

describe('CorrelationEngine.reload', () => {
  it('keeps a live backlog of an unchanged directive, which completes after the reload', () => {
    const h = harness([threeStage(1, 100), threeStage(2, 200)], LAN)
    const now = h.clock.nowSeconds()
    h.engine.process(ev('a1', 100, now))
    const before = only(h.engine.backlogs())
    assert.equal(before.currentStage, 2)

    const summary = h.engine.reload([threeStage(1, 100), threeStage(2, 200)], AssetTable.fromEntries(LAN))
    assert.deepEqual(summary, {kept: 2, added: [], changed: [], removed: [], backlogsDiscarded: 0})
    assert.equal(only(h.engine.backlogs()), before, 'the same backlog object survives')
    assert.deepEqual(h.of('alarm-removed'), [])

    h.effects.length = 0
    for (const id of ['a2', 'a3', 'a4']) h.engine.process(ev(id, 100, now))
    assert.deepEqual(
      h.of('alarm-event').map((e) => [e.alarmId, e.stage, e.eventId]),
      [
        [before.id, 2, 'a2'],
        [before.id, 2, 'a3'],
        [before.id, 3, 'a4'],
      ],
    )
    const finalAlarm = h.of('alarm').at(-1)!.alarm
    assert.equal(finalAlarm.alarmId, before.id)
    assert.equal(finalAlarm.rules[2]!.status, 'finished')
    assert.equal(h.engine.backlogs().length, 0, 'the completed backlog is deleted')
  })

  it('drops the backlogs of a changed directive and starts it empty', () => {
    const h = harness([threeStage(1, 100), threeStage(2, 200)], LAN)
    const now = h.clock.nowSeconds()
    h.engine.process(ev('a1', 100, now))
    h.engine.process(ev('b1', 200, now))
    h.engine.process(ev('b2', 200, now))
    h.engine.process(ev('b3', 200, now))
    const [kept, changed] = h.engine.backlogs()
    assert.equal(changed!.directive.id, 2)
    assert.ok(h.engine.alarm(changed!.id) !== undefined, 'directive 2 has an alarm before the reload')
    h.effects.length = 0

    const summary = h.engine.reload(
      [threeStage(1, 100), threeStage(2, 200, {priority: 5})],
      AssetTable.fromEntries(LAN),
    )
    assert.deepEqual(summary, {kept: 1, added: [], changed: [2], removed: [], backlogsDiscarded: 1})
    assert.deepEqual(
      h.engine.backlogs().map((b) => b.id),
      [kept!.id],
    )
    assert.deepEqual(h.of('alarm-removed'), [{kind: 'alarm-removed', alarmId: changed!.id}])
    assert.equal(h.engine.alarm(changed!.id), undefined, 'the dropped alarm is forgotten')
    assert.deepEqual(h.of('alarm'), [], 'a discarded backlog writes no alarm line')
    assert.ok(
      h.logs().some((m) => m.includes('discarded 1 backlog')),
      `a log line says how many were discarded: ${h.logs().join(' | ')}`,
    )

    // The changed directive starts afresh with its new definition.
    h.engine.process(ev('b4', 200, now))
    const fresh = h.engine.backlogs().find((b) => b.directive.id === 2)
    assert.ok(fresh !== undefined, 'a new backlog opens for the changed directive')
    assert.notEqual(fresh.id, changed!.id)
    assert.equal(fresh.directive.priority, 5)
  })

  it('removes directives, adds new ones and rebuilds the index for the new keys', () => {
    const h = harness([threeStage(1, 100), threeStage(2, 200)], LAN)
    const now = h.clock.nowSeconds()
    h.engine.process(ev('b1', 200, now))
    assert.equal(h.engine.candidates(ev('x', 200, now)).length, 1)
    h.effects.length = 0

    const summary = h.engine.reload(
      [threeStage(1, 100), threeStage(3, 300), taxonomy(4, 'Malware', 'IDS')],
      AssetTable.fromEntries(LAN),
    )
    assert.deepEqual(summary, {kept: 1, added: [3, 4], changed: [], removed: [2], backlogsDiscarded: 1})
    assert.equal(only(h.of('alarm-removed')).alarmId, 'b000001')
    assert.equal(h.engine.candidates(ev('x', 200, now)).length, 0, 'the removed sid no longer routes')
    assert.deepEqual(
      h.engine.candidates(ev('x', 300, now)).map((r) => r.directive.id),
      [3],
    )
    const taxonomyEvent = ev('t1', 0, now, {pluginId: 0, category: 'Malware', product: 'IDS'})
    assert.deepEqual(
      h.engine.candidates(taxonomyEvent).map((r) => r.directive.id),
      [4],
    )
    assert.deepEqual(h.engine.preFilterKeys(), {
      sids: [
        [10, 100],
        [10, 300],
      ],
      taxonomies: [['Malware', 'IDS']],
    })
    assert.deepEqual(
      h.engine.directives.map((d) => d.id),
      [1, 3, 4],
    )

    h.engine.process(ev('c1', 300, now))
    h.engine.process(taxonomyEvent)
    assert.deepEqual(
      h.engine.backlogs().map((b) => b.directive.id),
      [3, 4],
    )
  })

  it('gives live backlogs the new asset table', () => {
    const h = harness([threeStage(1, 100)], LAN)
    const now = h.clock.nowSeconds()
    h.engine.process(ev('a1', 100, now))
    h.engine.reload(
      [threeStage(1, 100)],
      AssetTable.fromEntries([{name: 'lan', cidr: '192.168.0.0/16', value: 1, whitelisted: false}]),
    )
    h.engine.process(ev('a2', 100, now))
    h.engine.process(ev('a3', 100, now))
    // priority 3 × reliability 5 × value 1 / 25 = 0 with the new table (value 5 would give 3).
    assert.deepEqual(h.of('alarm'), [])
    assert.equal(only(h.engine.backlogs()).risk, 0)
  })

  it('counts directives in use', () => {
    const h = harness([threeStage(1, 100), threeStage(2, 200)], LAN)
    h.engine.process(ev('a1', 100, h.clock.nowSeconds()))
    const stats = h.engine.stats()
    assert.equal(stats.directives, 2)
    assert.equal(stats.directivesInUse, 1)
  })
})
