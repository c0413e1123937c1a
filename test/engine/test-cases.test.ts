// Test-case files (`directive test --cases`): validation names the offending field, inline events get
// their defaults and Go's decoding, and expected alarms are matched to actual ones per directive,
// order-insensitively, best fit first.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AssetTable,
  CaseFileError,
  compareAlarms,
  evaluateCase,
  loadDirectiveSet,
  parseRfc3339Seconds,
  validateCaseFile,
  type ActualAlarm,
  type ExpectedAlarm,
} from '../../src/engine/index.js'
import {LAN_ASSETS, PING_FLOOD_DIRECTIVE} from '../helpers/config-fixtures.js'

const PING = loadDirectiveSet([
  {name: 'directives_ping.json', text: JSON.stringify({directives: [PING_FLOOD_DIRECTIVE]})},
]).directives
const ASSETS = AssetTable.fromEntries(LAN_ASSETS.assets.map((asset) => ({...asset, whitelisted: false})))

const ping = {plugin_id: 1001, plugin_sid: 2100384, src_ip: '192.168.0.1', dst_ip: '8.8.8.8'}

function caseFile(overrides: Record<string, unknown> = {}, alarms: unknown[] = [{directive_id: 1}]): unknown {
  return {
    now: '2026-01-01T00:00:00Z',
    cases: [{name: 'ping', events: [ping, ping, ping, ping], expect: {alarms}, ...overrides}],
  }
}

describe('validateCaseFile', () => {
  it('reads the file-level settings and fills event defaults (event_id, sensor, timestamp from now)', () => {
    const file = validateCaseFile({
      config_dir: 'configs',
      file_pattern: 'directives_*.json',
      ...(caseFile() as object),
    })
    assert.equal(file.configDir, 'configs')
    assert.equal(file.filePattern, 'directives_*.json')
    assert.equal(file.now, parseRfc3339Seconds('2026-01-01T00:00:00Z'))
    const [first] = file.cases
    assert.equal(first!.name, 'ping')
    assert.deepEqual(
      first!.events!.map((e) => [e.eventId, e.sensor, e.timestamp, e.pluginSid]),
      [1, 2, 3, 4].map((n) => [`1-${n}`, 'dsiem-test', '2026-01-01T00:00:00Z', 2100384]),
    )
    assert.deepEqual(first!.expect.alarms, [{directiveId: 1}])
  })

  it('decodes events with Go rules: case-insensitive keys, explicit values kept', () => {
    const file = validateCaseFile({
      cases: [
        {
          events: [{EVENT_ID: 'x', Sensor: 's', timestamp: '2026-01-01T00:00:05Z', ...ping}],
          expect: {alarms: []},
        },
      ],
    })
    const event = file.cases[0]!.events![0]!
    assert.deepEqual([event.eventId, event.sensor, event.timestamp], ['x', 's', '2026-01-01T00:00:05Z'])
    assert.equal(file.cases[0]!.name, 'case 1')
  })

  const invalid: [string, unknown, string][] = [
    ['not a mapping', [1, 2], '(top level): must be a mapping (with a cases list)'],
    ['no cases', {cases: []}, 'cases: must be a non-empty list of test cases'],
    [
      'an unknown top-level key',
      {cases: [], configdir: 'x'},
      'configdir: unknown field (expected one of config_dir, file_pattern, now, cases)',
    ],
    [
      'a bad now',
      {now: 'tomorrow', cases: []},
      'now: must be an RFC 3339 time like 2026-01-01T00:00:00Z, not "tomorrow"',
    ],
    [
      'events and events_file',
      caseFile({events_file: 'e.ndjson'}),
      'cases[0]: needs exactly one of events (a list of events) or events_file (an NDJSON file)',
    ],
    ['neither events nor events_file', {cases: [{expect: {alarms: []}}]}, 'cases[0]: needs exactly one of'],
    ['no expect', {cases: [{events: []}]}, 'cases[0].expect: is required'],
    ['expect without alarms', {cases: [{events: [], expect: {}}]}, 'cases[0].expect.alarms: must be a list'],
    [
      'an invalid event',
      {cases: [{events: [{plugin_id: 1, src_ip: '1.1.1.1'}], expect: {alarms: []}}]},
      'cases[0].events[0]: not a valid event: missing timestamp, dst_ip',
    ],
    [
      'an event field of the wrong type',
      caseFile({events: [{...ping, plugin_id: '1001'}]}),
      'cases[0].events[0]: cannot decode event: cannot unmarshal string into Go struct field NormalizedEvent.plugin_id of type int',
    ],
    [
      'a bad risk class',
      caseFile({}, [{directive_id: 1, risk_class: 'Severe'}]),
      'cases[0].expect.alarms[0].risk_class: must be Low, Medium or High',
    ],
    [
      'a missing directive id',
      caseFile({}, [{stage: 2}]),
      'cases[0].expect.alarms[0].directive_id: is required',
    ],
    [
      'a stage of 0',
      caseFile({}, [{directive_id: 1, stage: 0}]),
      'cases[0].expect.alarms[0].stage: must be a stage number (1 or more)',
    ],
    [
      'a risk that is not an integer',
      caseFile({}, [{directive_id: 1, risk: 2.5}]),
      'cases[0].expect.alarms[0].risk: must be a positive integer',
    ],
    [
      'src_ips not a list',
      caseFile({}, [{directive_id: 1, src_ips: '1.2.3.4'}]),
      'cases[0].expect.alarms[0].src_ips: must be a list of IP addresses (strings)',
    ],
    [
      'a misspelt alarm field',
      caseFile({}, [{directive_id: 1, riskclass: 'Low'}]),
      'cases[0].expect.alarms[0].riskclass: unknown field',
    ],
  ]
  for (const [what, value, message] of invalid) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(
        () => validateCaseFile(value),
        (error: unknown) => {
          assert.ok(error instanceof CaseFileError, String(error))
          assert.ok(error.message.startsWith(message), `${error.message}\n  does not start with\n${message}`)
          return true
        },
      )
    })
  }

  it('gives the path of the bad field for line lookup', () => {
    try {
      validateCaseFile(caseFile({}, [{directive_id: 1}, {directive_id: 1, risk_class: 'x'}]))
      assert.fail('no error')
    } catch (error) {
      assert.ok(error instanceof CaseFileError, String(error))
      assert.deepEqual(error.path, ['cases', 0, 'expect', 'alarms', 1, 'risk_class'])
    }
  })
})

function actual(fields: Partial<ActualAlarm> & {alarmId: string}): ActualAlarm {
  return {
    directiveId: 1,
    title: 't',
    stage: 2,
    stages: 3,
    risk: 3,
    riskClass: 'Medium',
    srcIps: ['10.0.0.1'],
    dstIps: ['8.8.8.8'],
    ...fields,
  }
}

describe('compareAlarms', () => {
  it('matches order-insensitively by directive id, then by fewest differences', () => {
    const expected: ExpectedAlarm[] = [
      {directiveId: 1, stage: 3, risk: 6},
      {directiveId: 2},
      {directiveId: 1, stage: 2, risk: 3},
    ]
    const alarms = [
      actual({alarmId: 'a'}),
      actual({alarmId: 'b', directiveId: 2}),
      actual({alarmId: 'c', stage: 3, risk: 6}),
    ]
    assert.deepEqual(compareAlarms(expected, alarms), [])
  })

  it('reports differing fields, missing and unexpected alarms', () => {
    const expected: ExpectedAlarm[] = [
      {directiveId: 1, stage: 3, risk: 6, riskClass: 'Medium', srcIps: ['10.0.0.1']},
      {directiveId: 3, stage: 2},
    ]
    const alarms = [actual({alarmId: 'a', stage: 2, risk: 3}), actual({alarmId: 'b', directiveId: 4})]
    assert.deepEqual(compareAlarms(expected, alarms), [
      {
        kind: 'different',
        expectedIndex: 0,
        expected: expected[0],
        actual: alarms[0],
        differences: [
          {field: 'stage', expected: 3, actual: 2},
          {field: 'risk', expected: 6, actual: 3},
        ],
      },
      {kind: 'missing', expectedIndex: 1, expected: expected[1]},
      {kind: 'unexpected', actual: alarms[1]},
    ])
  })

  it('compares IP lists as sets', () => {
    const alarm = actual({alarmId: 'a', srcIps: ['10.0.0.2', '10.0.0.1']})
    assert.deepEqual(compareAlarms([{directiveId: 1, srcIps: ['10.0.0.1', '10.0.0.2']}], [alarm]), [])
    const [mismatch] = compareAlarms([{directiveId: 1, srcIps: ['10.0.0.1'], dstIps: ['8.8.8.8']}], [alarm])
    assert.equal(mismatch?.kind, 'different')
    assert.deepEqual(mismatch?.kind === 'different' && mismatch.differences.map((d) => d.field), ['src_ips'])
  })
})

describe('evaluateCase', () => {
  it('runs the events on a fresh engine and passes when the alarms are as expected', () => {
    const file = validateCaseFile(
      caseFile({}, [
        {
          directive_id: 1,
          stage: 3,
          risk: 3,
          risk_class: 'Medium',
          title: 'Ping Flood from Firewall',
          src_ips: ['192.168.0.1'],
          dst_ips: ['8.8.8.8'],
        },
      ]),
    )
    const run = () =>
      evaluateCase(file.cases[0]!, file.cases[0]!.events!, {directives: PING, assets: ASSETS, now: file.now!})
    const result = run()
    assert.deepEqual(result.mismatches, [])
    assert.equal(result.passed, true)
    assert.equal(result.alarms[0]!.alarmId, 'b000001')
    // A fresh engine per case: ids (and everything else) start over.
    assert.equal(run().alarms[0]!.alarmId, 'b000001')
  })

  it('fails with the differences when the alarm is not as expected', () => {
    const file = validateCaseFile(caseFile({}, [{directive_id: 1, stage: 2, risk_class: 'High'}]))
    const result = evaluateCase(file.cases[0]!, file.cases[0]!.events!, {directives: PING, assets: ASSETS})
    assert.equal(result.passed, false)
    assert.deepEqual(
      result.mismatches.flatMap((m) => (m.kind === 'different' ? m.differences : [])),
      [
        {field: 'stage', expected: 2, actual: 3},
        {field: 'risk_class', expected: 'High', actual: 'Medium'},
      ],
    )
  })

  it('fixes the clock at the case now, else the run-wide now, else follows event timestamps', () => {
    // Stage 2 (timeout 600 s) gets its events 20 minutes late. Following event time, the jump expires the
    // backlog before they arrive; with a fixed clock nothing expires and the directive reaches stage 3.
    const late = (minute: number) => ({
      ...ping,
      timestamp: `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`,
    })
    const events = [late(0), late(20), late(20), late(20)]
    const file = validateCaseFile({
      cases: [
        {events, expect: {alarms: []}},
        {now: '2026-01-01T00:00:00Z', events, expect: {alarms: []}},
      ],
    })
    const [followingEvents, fixed] = file.cases
    const stages = (testCase: typeof fixed, now?: number) =>
      evaluateCase(testCase!, testCase!.events!, {
        directives: PING,
        assets: ASSETS,
        ...(now === undefined ? {} : {now}),
      }).alarms.map((a) => a.stage)
    assert.deepEqual(stages(followingEvents), [])
    assert.deepEqual(stages(followingEvents, parseRfc3339Seconds('2026-01-01T00:00:00Z')), [3])
    assert.deepEqual(stages(fixed), [3])
    assert.deepEqual(stages(fixed, parseRfc3339Seconds('2026-01-01T12:00:00Z')), [3])
  })
})
