// parseEvent's JSON.parse fast path against the reference decoder (our Go-semantics parser): over many
// generated and mutated event texts — random key cases and Go's non-ASCII folds, repeated keys,
// numbers written every way, escapes (lone and paired surrogates, escaped quotes and colons), nested
// values, blanks, truncations and byte edits — both must give the same event, or the same error
// (class, message, offset). The fast path must also actually be taken for ordinary events.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {isDeepStrictEqual} from 'node:util'
import {
  EventDecodeError,
  emptyEvent,
  parseEvent,
  parseEventFast,
  parseEventGoJson,
  serializeEvent,
  type NormalizedEvent,
} from '../../src/engine/index.js'
import {Prng} from '../../bench/lib/prng.js'
import {EVENT_JSON_KEYS} from '../helpers/raw-json.js'

/** The benchmarks' seeded PRNG (mulberry32), so a failure reproduces; plus a coin toss. */
class Rng extends Prng {
  chance(p: number): boolean {
    return this.next() < p
  }
}

type Outcome =
  | {readonly ok: NormalizedEvent}
  | {readonly error: string; readonly message: string; readonly offset: number | undefined}

function outcomeOf(decode: (text: string) => NormalizedEvent, text: string): Outcome {
  try {
    return {ok: decode(text)}
  } catch (error) {
    const e = error as Error
    return {
      error: e.constructor.name,
      message: e.message,
      offset: error instanceof EventDecodeError ? error.offset : undefined,
    }
  }
}

let fastTaken = 0
let compared = 0

function assertSame(text: string): void {
  compared++
  const reference = outcomeOf(parseEventGoJson, text)
  const actual = outcomeOf(parseEvent, text)
  if (!isDeepStrictEqual(actual, reference)) {
    assert.deepStrictEqual(
      actual,
      reference,
      `parseEvent differs from the reference for ${JSON.stringify(text)}`,
    )
  }
  const fast = parseEventFast(text)
  if (fast !== undefined) {
    fastTaken++
    if (!('ok' in reference) || !isDeepStrictEqual(fast, reference.ok)) {
      assert.deepStrictEqual({ok: fast}, reference, `fast path differs for ${JSON.stringify(text)}`)
    }
  }
}

const INT_FIELDS = ['conn_id', 'plugin_id', 'plugin_sid', 'src_port', 'dst_port', 'rcvd_time']
const STRING_FIELDS = EVENT_JSON_KEYS.filter((key) => !INT_FIELDS.includes(key))
const ALL_FIELDS = [...STRING_FIELDS, ...INT_FIELDS]
const UNKNOWN_KEYS = [
  'unknown',
  'src_ipx',
  'kingdom',
  '__proto__',
  'constructor',
  '0',
  '123',
  '',
  'tags',
  'a:b',
]

/** A key as text (without quotes): the field's name in some case, folded twin or escaped spelling. */
function keyText(rng: Rng, name: string): string {
  let key = ''
  for (const ch of name) {
    const r = rng.next()
    if (r < 0.1) key += ch.toUpperCase()
    else if (r < 0.12 && ch === 's') key += '\u017f'
    else if (r < 0.14 && ch === 'k') key += '\u212a'
    else if (r < 0.16) key += '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0')
    else if (r < 0.17 && ch === 'i') key += '\u0130'
    else key += ch
  }
  return key
}

const STRING_PIECES = [
  'abc',
  '10.0.0.1',
  '2026-03-01T10:00:00Z',
  '2026-03-01T10:00:00.123Z',
  'fe80::1',
  'http://x:80/a',
  ' ',
  ',',
  ':',
  '\\"',
  '\\":1.5',
  '\\": 12',
  '\\"src_port\\":1.0',
  '\\\\',
  '\\/',
  '\\n',
  '\\t',
  '\\u0041',
  '\\u00e9',
  '\\u003c',
  '\\ud83d\\ude00',
  '\\ud83d',
  '\\ude00',
  '\\ud83d\\u0041',
  '\\ud83d\ude00',
  '\ud83d',
  '\ude00',
  '\ud83d\ude00',
  'é',
  '\u2028',
  '\\\\ud800',
  '"src_port":1',
  '{',
  '}',
  '[',
  'rcvd_time',
]

function stringText(rng: Rng): string {
  let s = ''
  const n = rng.int(0, 4)
  for (let i = 0; i < n; i++) s += rng.pick(STRING_PIECES)
  return s.replaceAll('"src_port":1', '\\"src_port\\":1')
}

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '80',
  '65535',
  '1001',
  '2100042',
  '1.0',
  '1.5',
  '-0.0',
  '1e3',
  '1E3',
  '1e+2',
  '1e-2',
  '10E-1',
  '9007199254740991',
  '-9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '1795263372882677522',
  '-1795263372882677522',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '123456789012345678901234567890',
  '1000000000000000',
  '1e400',
  '1.0000000000000000001',
  '01',
  '-',
  '1.',
  '.5',
  '+1',
]

function valueText(rng: Rng, field: string | undefined): string {
  const r = rng.next()
  const integerField = field !== undefined && INT_FIELDS.includes(field)
  if (r < 0.45) {
    // Mostly the right type for the field.
    if (integerField) {
      if (field === 'rcvd_time' && rng.chance(0.5))
        return String(1_700_000_000_000_000_000n + BigInt(rng.int(0, 1e9)))
      return rng.chance(0.7) ? String(rng.int(0, 70000)) : rng.pick(NUMBERS)
    }
    return `"${stringText(rng)}"`
  }
  if (r < 0.65) return rng.pick(NUMBERS)
  if (r < 0.85) return `"${stringText(rng)}"`
  if (r < 0.9) return 'null'
  if (r < 0.93) return rng.pick(['true', 'false'])
  if (r < 0.96) return rng.pick(['[]', '{}', '[1,2]', '{"a":[1,{"b":null}]}', '{"sensor":"x"}', '["x"]'])
  return rng.pick(['nul', 'tru', '"', "'x'", 'NaN', 'Infinity', 'undefined'])
}

const BLANKS = ['', '', '', '', ' ', '  ', '\n', '\t', '\r\n', '\u00a0', '\ufeff']

function blank(rng: Rng): string {
  return rng.chance(0.9) ? '' : rng.pick(BLANKS)
}

/** A random event-like object text, valid or nearly so. */
function randomEventText(rng: Rng): string {
  const members: string[] = []
  const n = rng.int(0, 14)
  const used: string[] = []
  for (let i = 0; i < n; i++) {
    let name: string | undefined
    let key: string
    if (used.length > 0 && rng.chance(0.08)) {
      // A repeat: the same spelling, or the same field in another case.
      name = rng.pick(used)
      key = rng.chance(0.5) ? name : keyText(rng, name)
    } else if (rng.chance(0.8)) {
      name = rng.pick(ALL_FIELDS)
      key = rng.chance(0.7) ? name : keyText(rng, name)
    } else {
      key = rng.pick(UNKNOWN_KEYS)
    }
    if (name !== undefined) used.push(name)
    members.push(`${blank(rng)}"${key}"${blank(rng)}:${blank(rng)}${valueText(rng, name)}${blank(rng)}`)
  }
  return `${blank(rng)}{${members.join(',')}}${blank(rng)}`
}

/** A realistic event, as shippers send it (compact or with blanks), sometimes with frontend fields. */
function realisticEventText(rng: Rng): string {
  const event = emptyEvent()
  event.eventId = `${rng.int(0, 1e9).toString(16)}-${rng.int(0, 1e9).toString(16)}`
  event.timestamp = rng.chance(0.5) ? '2026-03-01T10:00:00Z' : '2026-03-01T10:00:00.123456Z'
  event.title = rng.pick(['ET alert 2100042', 'firewall: connection', 'web "access" log', 'a\\b', 'x<y&z'])
  event.sensor = rng.pick(['suricata-dmz-01', 'ossec'])
  event.pluginId = rng.pick([0, 1001, 7001])
  event.pluginSid = rng.int(0, 2_200_000)
  event.product = rng.pick(['', 'nginx'])
  event.category = rng.pick(['', 'Web Access'])
  event.srcIp = rng.pick(['10.1.2.3', '192.168.0.1', 'fe80::1'])
  event.srcPort = rng.int(0, 65535)
  event.dstIp = '8.8.8.8'
  event.dstPort = rng.pick([22, 80, 443])
  event.protocol = 'TCP'
  event.customData1 = rng.pick(['', 'root', 'C:\\Windows\\system32', 'k=v: 1.5', '😀'])
  event.customLabel1 = event.customData1 === '' ? '' : 'user'
  if (rng.chance(0.5)) {
    event.connId = rng.int(1, 1e6)
    event.rcvdTime = 1_790_000_000_000_000_000n + BigInt(rng.int(0, 1e9))
  }
  const text = serializeEvent(event)
  if (rng.chance(0.7)) return text
  // The same through JSON.stringify with blanks (a Python/jq style shipper).
  return JSON.stringify(JSON.parse(text) as unknown, null, rng.pick([1, 2, '\t'])).replace(
    /"rcvd_time": \d+(\.\d+)?(e\+\d+)?/,
    `"rcvd_time": ${event.rcvdTime}`,
  )
}

function mutate(rng: Rng, text: string): string {
  if (text.length === 0) return rng.pick(['{', '}', ' ', 'x'])
  const at = rng.int(0, text.length)
  switch (rng.int(0, 6)) {
    case 0:
      return text.slice(0, at) // truncation
    case 1:
      return text.slice(0, at) + text.slice(at + 1) // deletion
    case 2:
      return (
        text.slice(0, at) +
        rng.pick(['"', ',', ':', '\\', '.', 'e', '-', '0', '{', '}', ' ', '\u0000']) +
        text.slice(at)
      )
    case 3: {
      // Repeat a member.
      const m = /"[^"\\]*"\s*:\s*("[^"\\]*"|[-\d.eE+]+|null|true|false)/.exec(text.slice(at))
      if (m === null) return text
      return text.replace(/}\s*$/, `,${m[0]}}`)
    }
    case 4:
      return text.replace(/(\d)(?=[,}\s])/, rng.pick(['$1.0', '$1e0', '$1.5', '$1E-0']))
    case 5:
      return text.replace(
        /"([a-z_]+\d?)"(\s*:)/,
        (_m, k: string, colon: string) => `"${keyText(rng, k)}"${colon}`,
      )
    default:
      return text.slice(0, at) + text.slice(at).replace(/[a-z]/, (c) => c.toUpperCase())
  }
}

describe('parseEvent fast path (JSON.parse) against the reference decoder', () => {
  it('agrees on hand-picked texts where JSON.parse and Go differ', () => {
    for (const text of [
      '{"plugin_id":1,"plugin_id":2}',
      '{"plugin_id":"1","plugin_id":1}',
      '{"sensor":"a","Sensor":"b"}',
      '{"sensor":"a","ſensor":"b"}',
      '{"ſrc_ip":"1.1.1.1"}',
      '{"sen\\u0073or":"a","sensor":"b"}',
      '{"plugin_id":1.0}',
      '{"plugin_id":1e3}',
      '{"src_port":-0}',
      '{"src_port":-0.0}',
      '{"plugin_id":9007199254740993}',
      '{"src_ip":9007199254740993}',
      '{"rcvd_time":1795263372882677522}',
      '{"rcvd_time":1795263372882677522,"x":1795263372882677523}',
      '{"rcvd_time":9223372036854775808}',
      '{"rcvd_time" : 1795263372882677522 , "title":"\\\\"}',
      '{"title":"\\ud83d"}',
      '{"title":"\\ud83d\\ude00"}',
      '{"title":"\\ud83d\ude00"}',
      '{"title":"\\":1.5","src_port":1}',
      '{"title":"\\"","title":"x"}',
      '{"__proto__":{"sensor":"x"}}',
      '{"__proto__":1,"sensor":"x"}',
      '{"x":' + '['.repeat(20000) + ']'.repeat(20000) + '}',
      '{"conn_id":-1}',
      '{"plugin_id":true}',
      '{"sensor":null}',
      'null',
      '[]',
      '{}',
      ' {} ',
      '',
    ]) {
      assertSame(text)
    }
  })

  it('agrees on realistic events, and takes the fast path for them', () => {
    const rng = new Rng(1)
    const before = fastTaken
    const n = 3000
    let clean = 0
    for (let i = 0; i < n; i++) {
      const text = realisticEventText(rng)
      assertSame(text)
      if (!text.includes('\\')) clean++
    }
    // Every realistic event without a backslash must go the fast way; most others too.
    assert.ok(
      fastTaken - before >= clean,
      `fast path taken ${fastTaken - before} times of ${n} (${clean} clean)`,
    )
  })

  it('agrees on random event-like texts', () => {
    const rng = new Rng(2)
    for (let i = 0; i < 20_000; i++) assertSame(randomEventText(rng))
  })

  it('agrees on mutated texts (truncations, edits, repeated members, number spellings, key cases)', () => {
    const rng = new Rng(3)
    for (let i = 0; i < 20_000; i++) {
      let text = rng.chance(0.5) ? realisticEventText(rng) : randomEventText(rng)
      const rounds = rng.int(1, 3)
      for (let k = 0; k < rounds; k++) text = mutate(rng, text)
      assertSame(text)
    }
  })

  it('exercised both paths', () => {
    assert.ok(compared > 40_000)
    assert.ok(fastTaken > compared / 8, `fast path taken ${fastTaken} of ${compared}`)
    assert.ok(fastTaken < compared, 'no text fell back')
  })
})
