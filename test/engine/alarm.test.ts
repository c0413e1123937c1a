// S9 and §4–§5: risk arithmetic and classes, alarm upsert/merge, and the exact alarm and alarm-event
// line format (field order, omitempty, Go's HTML-safe escaping), produced through the engine.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AlarmTable,
  AssetTable,
  ConfigError,
  DEFAULT_RISK_BOUNDS,
  computeRisk,
  emptyRule,
  formatRfc3339,
  goQuote,
  riskClassOf,
  serializeAlarm,
  serializeAlarmEvent,
  serializeRule,
  validateRiskBounds,
  type Alarm,
  type AlarmUpdate,
  type Directive,
  type DirectiveRule,
} from '../../src/engine/index.js'
import {rule} from '../helpers/directive-builders.js'
import {event, harness, only} from '../helpers/engine-harness.js'

describe('risk bounds (alarm.Init)', () => {
  const valid: [number, number][] = [
    [3, 6],
    [2, 9],
    [2, 3],
    [9, 9 - 1],
    [5, 4],
  ]
  for (const [medRiskMin, medRiskMax] of valid) {
    it(`accepts ${medRiskMin}/${medRiskMax}`, () => {
      assert.deepEqual(validateRiskBounds({medRiskMin, medRiskMax}), {medRiskMin, medRiskMax})
    })
  }
  const invalid: [number, number][] = [
    [0, 6],
    [1, 6],
    [3, 10],
    [4, 4],
  ]
  for (const [medRiskMin, medRiskMax] of invalid) {
    it(`rejects ${medRiskMin}/${medRiskMax}`, () => {
      assert.throws(
        () => validateRiskBounds({medRiskMin, medRiskMax}),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message ===
            'Wrong value for medRiskMin or medRiskMax: medRiskMax should be between 3-10, medRiskMin should be between 2-9, and medRiskMin should be < mdRiskMax',
      )
    })
  }
})

describe('risk and risk class (§4.1, §4.2)', () => {
  it('classifies with the default bounds: Low 0–2, Medium 3–6, High 7+', () => {
    const classes = [0, 1, 2, 3, 6, 7, 10, 25].map((risk) => riskClassOf(risk, DEFAULT_RISK_BOUNDS))
    assert.deepEqual(classes, ['Low', 'Low', 'Low', 'Medium', 'Medium', 'High', 'High', 'High'])
  })

  it('classifies with custom bounds (inclusive medium range)', () => {
    const bounds = {medRiskMin: 4, medRiskMax: 5}
    assert.deepEqual(
      [3, 4, 5, 6].map((risk) => riskClassOf(risk, bounds)),
      ['Low', 'Medium', 'Medium', 'High'],
    )
  })

  it('computes priority × reliability × asset value / 25 in integer arithmetic', () => {
    assert.equal(computeRisk(3, 1, 5), 0)
    assert.equal(computeRisk(3, 6, 5), 3)
    assert.equal(computeRisk(3, 6, 2), 1)
    assert.equal(computeRisk(3, 10, 5), 6)
    assert.equal(computeRisk(5, 10, 5), 10)
    assert.equal(computeRisk(1, 2, 4), 0)
    // Asset values are not capped at 5.
    assert.equal(computeRisk(5, 10, 100), 200)
  })
})

function update(fields: Partial<AlarmUpdate> = {}): AlarmUpdate {
  return {
    alarmId: '12313',
    directiveId: 1,
    title: 'Attack to Someone',
    kingdom: 'Kingdom',
    category: 'Category',
    statusTime: 1000,
    risk: 1,
    srcIps: ['10.0.0.1'],
    dstIps: ['10.0.0.2'],
    customData: [],
    rules: [{...emptyRule(), name: 'Rule1', type: 'PluginRule', pluginId: 1001, pluginSid: [1, 2, 3]}],
    networks: ['10.0.0.0/8'],
    ...fields,
  }
}

describe('AlarmTable upsert (TestAlarm)', () => {
  it('upserts risk 1, 3, 7 on one id: Low, Medium, High, and one alarm', () => {
    const table = new AlarmTable({status: 'Open', tag: 'Identified Threat', bounds: DEFAULT_RISK_BOUNDS})
    const classes = [1, 3, 7].map((risk) => table.upsert(update({risk})).riskClass)
    assert.deepEqual(classes, ['Low', 'Medium', 'High'])
    assert.equal(table.size, 1)
    table.remove('12313')
    assert.equal(table.size, 0)
    assert.equal(table.get('12313'), undefined)
  })

  it('keeps status, tag and created_time from the first upsert, overwrites the rest, accumulates networks', () => {
    const table = new AlarmTable({status: 'Open', tag: 'Identified Threat', bounds: DEFAULT_RISK_BOUNDS})
    table.upsert(update({risk: 0, statusTime: 1000}))
    const alarm = table.upsert(
      update({
        risk: 4,
        statusTime: 2000,
        title: 'T2',
        srcIps: ['10.0.0.1', '192.168.1.1'],
        networks: ['192.168.0.0/16', '10.0.0.0/8'],
        customData: [{label: 'l', content: 'c'}],
      }),
    )
    assert.deepEqual(
      [alarm.status, alarm.tag, alarm.createdTime, alarm.updateTime, alarm.risk, alarm.title],
      ['Open', 'Identified Threat', 1000, 2000, 4, 'T2'],
    )
    assert.deepEqual(alarm.srcIps, ['10.0.0.1', '192.168.1.1'])
    assert.deepEqual([...alarm.networks].sort(), ['10.0.0.0/8', '192.168.0.0/16'])
    assert.deepEqual(alarm.customData, [{label: 'l', content: 'c'}])
  })

  it('snapshots: a later upsert does not change an alarm already handed out', () => {
    const table = new AlarmTable({status: 'Open', tag: 't', bounds: DEFAULT_RISK_BOUNDS})
    const rules = update().rules.map((r) => ({...r}))
    const srcIps = ['10.0.0.1']
    const first = table.upsert(update({rules, srcIps}))
    // The backlog replaces a rule it changes (rule objects are shared with the alarms it upserted).
    rules[0] = {...rules[0]!, status: 'finished'}
    srcIps.push('10.0.0.9')
    table.upsert(update({risk: 5}))
    assert.equal(first.rules[0]!.status, '')
    assert.deepEqual(first.srcIps, ['10.0.0.1'])
    assert.equal(first.risk, 1)
  })

  it('keeps lookup results across upserts', () => {
    const table = new AlarmTable({status: 'Open', tag: 't', bounds: DEFAULT_RISK_BOUNDS})
    table.upsert(update())
    const hit = {provider: 'Wise', term: '10.0.0.1', result: 'x'}
    assert.equal(table.addLookupResults('12313', 'intelHits', [])?.intelHits, undefined)
    assert.deepEqual(table.addLookupResults('12313', 'intelHits', [hit])!.intelHits, [hit])
    assert.deepEqual(table.upsert(update({risk: 2})).intelHits, [hit])
    assert.equal(table.addLookupResults('missing', 'intelHits', [hit]), undefined)
  })
})

describe('alarm line format (§5.1)', () => {
  const base: Alarm = {
    alarmId: 'a1',
    directiveId: 1,
    title: 't',
    status: 'Open',
    kingdom: 'k',
    category: 'c',
    createdTime: 1,
    updateTime: 2,
    risk: 3,
    riskClass: 'Medium',
    tag: 'Identified Threat',
    srcIps: [],
    dstIps: [],
    intelHits: [],
    vulnerabilities: [],
    customData: [],
    networks: [],
    rules: [],
  }

  it('writes every field in upstream order, [] for empty lists and omits empty optional lists', () => {
    assert.equal(
      serializeAlarm(base),
      '{"alarm_id":"a1","title":"t","status":"Open","kingdom":"k","category":"c","created_time":1,"update_time":2,"risk":3,"risk_class":"Medium","tag":"Identified Threat","src_ips":[],"dst_ips":[],"networks":[],"rules":[]}',
    )
  })

  it('places intel_hits, vulnerabilities and custom_data between dst_ips and networks', () => {
    const alarm: Alarm = {
      ...base,
      intelHits: [{provider: 'Wise', term: '1.2.3.4', result: 'alienvault.activity: Spamming'}],
      vulnerabilities: [{provider: 'Nesd', term: '1.2.3.4:80', result: 'High - x (CVE-1)'}],
      customData: [{label: 'user', content: 'alice'}],
    }
    assert.equal(
      serializeAlarm(alarm),
      '{"alarm_id":"a1","title":"t","status":"Open","kingdom":"k","category":"c","created_time":1,"update_time":2,"risk":3,"risk_class":"Medium","tag":"Identified Threat","src_ips":[],"dst_ips":[],' +
        '"intel_hits":[{"provider":"Wise","term":"1.2.3.4","result":"alienvault.activity: Spamming"}],' +
        '"vulnerabilities":[{"provider":"Nesd","term":"1.2.3.4:80","result":"High - x (CVE-1)"}],' +
        '"custom_data":[{"label":"user","content":"alice"}],"networks":[],"rules":[]}',
    )
  })

  it('writes rules in DirectiveRule field order with omitempty, plugin_sid null when absent', () => {
    const taxonomy: DirectiveRule = {
      ...emptyRule(),
      name: 'Dropped',
      stage: 1,
      product: ['Firewall'],
      category: 'Packet processing',
      subcategory: ['Drop'],
      occurrence: 1,
      from: 'HOME_NET',
      to: 'ANY',
      type: 'TaxonomyRule',
      portFrom: 'ANY',
      portTo: 'ANY',
      reliability: 1,
    }
    assert.equal(
      serializeRule(taxonomy),
      '{"name":"Dropped","stage":1,"plugin_id":0,"plugin_sid":null,"product":["Firewall"],"category":"Packet processing","subcategory":["Drop"],"occurrence":1,"from":"HOME_NET","to":"ANY","type":"TaxonomyRule","port_from":"ANY","port_to":"ANY","reliability":1,"timeout":0}',
    )
    const full: DirectiveRule = {
      ...taxonomy,
      type: 'PluginRule',
      pluginId: 7,
      pluginSid: [],
      product: [],
      category: '',
      subcategory: [],
      protocol: 'TCP',
      timeout: 60,
      startTime: 10,
      endTime: 20,
      rcvdTime: 1795263372882677522n,
      status: 'finished',
      stickyDifferent: 'SRC_IP',
      customData1: 'd1',
      customLabel1: 'l1',
      customData2: 'd2',
      customLabel2: 'l2',
      customData3: 'd3',
      customLabel3: 'l3',
    }
    assert.equal(
      serializeRule(full),
      '{"name":"Dropped","stage":1,"plugin_id":7,"plugin_sid":[],"occurrence":1,"from":"HOME_NET","to":"ANY","type":"PluginRule","port_from":"ANY","port_to":"ANY","protocol":"TCP","reliability":1,"timeout":60,"start_time":10,"end_time":20,"rcvd_time":1795263372882677522,"status":"finished","sticky_different":"SRC_IP","custom_data1":"d1","custom_label1":"l1","custom_data2":"d2","custom_label2":"l2","custom_data3":"d3","custom_label3":"l3"}',
    )
  })

  it("escapes like Go's encoder: HTML-safe, U+2028/9, control characters, lone surrogates", () => {
    assert.equal(goQuote('a&b<c>d'), '"a\\u0026b\\u003cc\\u003ed"')
    assert.equal(goQuote('q"\\/'), '"q\\"\\\\/"')
    assert.equal(goQuote('\n\r\t\u0001\u001f'), '"\\n\\r\\t\\u0001\\u001f"')
    assert.equal(goQuote('\u2028\u2029'), '"\\u2028\\u2029"')
    assert.equal(goQuote('é😀'), '"é😀"')
    assert.equal(goQuote('x\ud800y'), '"x\\ufffdy"')
    assert.equal(goQuote('\udc00'), '"\\ufffd"')
    assert.equal(serializeAlarm({...base, title: 'A & B'}).includes('"title":"A \\u0026 B"'), true)
  })

  it('writes alarm-event lines as {alarm_id, stage, event_id}', () => {
    assert.equal(serializeAlarmEvent('b1', 2, 'e&1'), '{"alarm_id":"b1","stage":2,"event_id":"e\\u00261"}')
  })
})

describe('alarm lines produced by the engine (§3.4, §5)', () => {
  const NOW = 1_700_000_000
  const ASSETS = AssetTable.fromEntries([
    {name: 'Firewall', cidr: '192.168.0.1/32', value: 5, whitelisted: false},
    {name: '192-168-Net', cidr: '192.168.0.0/16', value: 2, whitelisted: false},
  ])
  const ping = (fields: Partial<DirectiveRule>): DirectiveRule =>
    rule({name: 'ICMP Ping', pluginId: 1001, pluginSid: [2100384], from: ':1', protocol: 'ICMP', ...fields})
  const directive: Directive = {
    id: 9,
    name: 'Ping & <Flood> from SRC_IP',
    priority: 3,
    disabled: false,
    allRulesAlwaysActive: false,
    kingdom: 'Recon & Probing',
    category: 'Misc Activity',
    rules: [
      ping({stage: 1, occurrence: 1, from: 'HOME_NET', reliability: 1, timeout: 0}),
      ping({stage: 2, occurrence: 2, reliability: 6, timeout: 600}),
      ping({stage: 3, occurrence: 10000, reliability: 10, timeout: 3600}),
    ],
  }
  const RCVD = 1699999990123456789n
  const e = event({
    eventId: 'e1',
    pluginId: 1001,
    pluginSid: 2100384,
    srcIp: '192.168.0.1',
    dstIp: '8.8.8.8',
    customLabel1: 'user',
    customData1: 'a&b',
    rcvdTime: RCVD,
  })

  it('writes the exact upstream line, only once risk is non-zero, keeping the first created_time', () => {
    const h = harness([directive], ASSETS, {now: NOW})
    h.engine.process({...e, timestamp: formatRfc3339(NOW - 30)})
    // Stage 1: risk 3×1×5/25 = 0 → no alarm line, but the alarm-event line and a lookup request.
    assert.equal(h.of('alarm').length, 0)
    assert.equal(h.of('lookup').length, 1)
    h.clock.set(NOW + 5)
    h.engine.process({...e, eventId: 'e2', timestamp: formatRfc3339(NOW - 20)})
    assert.equal(h.of('alarm').length, 0)
    h.clock.set(NOW + 9)
    h.engine.process({...e, eventId: 'e3', timestamp: formatRfc3339(NOW - 10)})
    assert.deepEqual(
      h.of('alarm-event').map((x) => serializeAlarmEvent(x.alarmId, x.stage, x.eventId)),
      [
        '{"alarm_id":"b000001","stage":1,"event_id":"e1"}',
        '{"alarm_id":"b000001","stage":2,"event_id":"e2"}',
        '{"alarm_id":"b000001","stage":2,"event_id":"e3"}',
      ],
    )
    const line = serializeAlarm(only(h.of('alarm')).alarm)
    const rule = (stage: number, occurrence: number, from: string, reliability: number, timeout: number) =>
      `{"name":"ICMP Ping","stage":${stage},"plugin_id":1001,"plugin_sid":[2100384],"occurrence":${occurrence},"from":"${from}","to":"ANY","type":"PluginRule","port_from":"ANY","port_to":"ANY","protocol":"ICMP","reliability":${reliability},"timeout":${timeout}`
    assert.equal(
      line,
      '{"alarm_id":"b000001","title":"Ping \\u0026 \\u003cFlood\\u003e from Firewall","status":"Open",' +
        `"kingdom":"Recon \\u0026 Probing","category":"Misc Activity","created_time":${NOW},"update_time":${NOW + 9},` +
        '"risk":3,"risk_class":"Medium","tag":"Identified Threat","src_ips":["192.168.0.1"],"dst_ips":["8.8.8.8"],' +
        '"custom_data":[{"label":"user","content":"a\\u0026b"}],"networks":["192.168.0.0/16"],"rules":[' +
        `${rule(1, 1, 'HOME_NET', 1, 0)},"start_time":${NOW - 30},"end_time":${NOW - 30},"rcvd_time":${RCVD},"status":"finished"},` +
        `${rule(2, 2, '192.168.0.1', 6, 600)},"start_time":${NOW - 30},"end_time":${NOW - 10},"status":"finished"},` +
        `${rule(3, 10000, '192.168.0.1', 10, 3600)},"start_time":${NOW - 10}}]}`,
    )
  })

  it('uses configured status and tag and custom risk bounds', () => {
    const h = harness([directive], ASSETS, {
      now: NOW,
      defaultStatus: 'In-Progress',
      defaultTag: 'Valid Threat',
      riskBounds: {medRiskMin: 4, medRiskMax: 6},
    })
    for (const id of ['e1', 'e2', 'e3']) h.engine.process({...e, eventId: id, timestamp: formatRfc3339(NOW)})
    const alarm = only(h.of('alarm')).alarm
    assert.deepEqual(
      [alarm.status, alarm.tag, alarm.risk, alarm.riskClass],
      ['In-Progress', 'Valid Threat', 3, 'Low'],
    )
  })

  it('omits custom_data when events carry none (or only a label or only content)', () => {
    const h = harness([directive], ASSETS, {now: NOW})
    for (const [id, label, data] of [
      ['e1', '', 'x'],
      ['e2', 'l', ''],
      ['e3', '', ''],
    ] as const) {
      h.engine.process({
        ...e,
        eventId: id,
        customLabel1: label,
        customData1: data,
        timestamp: formatRfc3339(NOW),
      })
    }
    assert.ok(
      !serializeAlarm(only(h.of('alarm')).alarm).includes('custom_data'),
      'no custom_data key without custom data',
    )
  })

  it('removes 0.0.0.0 from the address lists unless it is the only entry', () => {
    const anyDirective: Directive = {
      ...directive,
      rules: [
        ping({stage: 1, occurrence: 1, from: 'ANY', reliability: 5}),
        ping({stage: 2, occurrence: 3, from: 'ANY', reliability: 5, timeout: 600}),
        ping({stage: 3, occurrence: 1, from: 'ANY', reliability: 5, timeout: 600}),
      ],
    }
    const h = harness([anyDirective], ASSETS, {now: NOW})
    const ts = formatRfc3339(NOW)
    h.engine.process({...e, eventId: 'e1', srcIp: '0.0.0.0', dstIp: '192.168.0.1', timestamp: ts})
    const backlog = only(h.engine.backlogs())
    assert.deepEqual(backlog.srcIps, ['0.0.0.0'])
    h.engine.process({...e, eventId: 'e2', srcIp: '10.0.0.1', dstIp: '192.168.0.1', timestamp: ts})
    assert.deepEqual(backlog.srcIps, ['10.0.0.1'])
    h.engine.process({...e, eventId: 'e3', srcIp: '0.0.0.0', dstIp: '0.0.0.0', timestamp: ts})
    assert.deepEqual(backlog.srcIps, ['10.0.0.1'])
    assert.deepEqual(backlog.dstIps, ['192.168.0.1'])
  })

  it('takes the highest value among all src and dst IPs and all containing assets', () => {
    const assets = AssetTable.fromEntries([
      {name: 'small', cidr: '10.0.0.0/24', value: 1, whitelisted: false},
      {name: 'big', cidr: '10.0.0.0/8', value: 4, whitelisted: false},
    ])
    const anyDirective: Directive = {
      ...directive,
      priority: 5,
      rules: [
        ping({stage: 1, occurrence: 1, from: 'ANY', reliability: 5}),
        ping({stage: 2, occurrence: 0, timeout: 60}),
      ],
    }
    const h = harness([anyDirective], assets, {now: NOW})
    h.engine.process({...e, srcIp: '8.8.8.8', dstIp: '10.0.0.7', timestamp: formatRfc3339(NOW)})
    // Not the most specific entry (value 1): the highest, 4 → 5×5×4/25 = 4.
    assert.equal(only(h.of('alarm')).alarm.risk, 4)
  })
})
