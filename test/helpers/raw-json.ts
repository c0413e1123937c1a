// Reading JSON as raw text, where JSON.parse would lose what the tests pin: the order of an object's keys
// as written (upstream's Go struct order) and the raw text of nested objects.

import assert from 'node:assert/strict'

/** An event's JSON keys in upstream's Go struct order (the order serializeEvent writes them in). */
export const EVENT_JSON_KEYS: readonly string[] = [
  'conn_id',
  'event_id',
  'timestamp',
  'title',
  'sensor',
  'plugin_id',
  'plugin_sid',
  'product',
  'category',
  'subcategory',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'protocol',
  'custom_data1',
  'custom_label1',
  'custom_data2',
  'custom_label2',
  'custom_data3',
  'custom_label3',
  'rcvd_time',
  'trace_parent',
  'trace_state',
]

/** Keys of the JSON object starting at `start` (a "{"), in the order they appear in the raw text. */
export function rawKeys(text: string, start: number): {keys: string[]; end: number} {
  assert.equal(text[start], '{')
  const keys: string[] = []
  let depth = 0
  let expectKey = false
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string)
      expectKey = false
      i = j
    } else if (c === '{' || c === '[') {
      depth++
      expectKey = c === '{' && depth === 1
    } else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) return {keys, end: i}
    } else if (c === ',' && depth === 1) {
      expectKey = true
    }
  }
  throw new Error('unterminated object')
}

/** Raw text of each element of the array that follows `"key":` at depth 1 of `text`. */
export function rawObjects(text: string, key: string): string[] {
  const at = text.indexOf(`"${key}":[`)
  assert.notEqual(at, -1, `no ${key} array in output`)
  const objects: string[] = []
  let i = at + key.length + 4
  while (text[i] === '{') {
    const {end} = rawKeys(text, i)
    objects.push(text.slice(i, end + 1))
    i = end + 1
    if (text[i] === ',') i++
  }
  return objects
}

/** Keys of an alarm line in upstream's order (`custom_data`, `intel_hits`... are left out when empty). */
export const ALARM_KEYS = [
  'alarm_id',
  'title',
  'status',
  'kingdom',
  'category',
  'created_time',
  'update_time',
  'risk',
  'risk_class',
  'tag',
  'src_ips',
  'dst_ips',
  'custom_data',
  'networks',
  'rules',
] as const

/** Keys every rule of an alarm line starts with, in upstream's order; times and status follow. */
export const RULE_KEYS = [
  'name',
  'stage',
  'plugin_id',
  'plugin_sid',
  'occurrence',
  'from',
  'to',
  'type',
  'port_from',
  'port_to',
  'protocol',
  'reliability',
  'timeout',
] as const
