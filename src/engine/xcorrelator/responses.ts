// The built-in Wise and Nesd plugins' config and answer formats, decoded as upstream does (Go
// encoding/json semantics, including upstream's text rewriting of WISE answers). The HTTP calls
// themselves live in roles (io/intel-plugins.ts).

import type {LookupResult} from '../alarm.js'
import {decodeGoInt, decodeGoString, expectGoObject, forEachGoField, parseJson} from '../go-json.js'
import {decodeGoStructList} from './go-slices.js'
import type {CheckResult} from './plugins.js'
import {vulnCacheKey} from './terms.js'

/** `{"url": "..."}`, the config of Wise and Nesd; like Go, unknown keys are ignored and `null` is empty. */
export function decodeUrlConfig(config: string): string {
  const object = expectGoObject(parseJson(config).value, 'Config', [])
  let url = ''
  if (object === undefined) return url
  forEachGoField(object, (field, value, key) => {
    if (field === 'url') url = decodeGoString(value, 'Config.url', [key]) ?? ''
  })
  return url
}

/** Replaces the first `${name}` only, as Go's strings.Replace(s, old, new, 1); `$` in the value is literal. */
export function substitutePlaceholder(template: string, name: string, value: string): string {
  return template.replace('${' + name + '}', () => value)
}

/**
 * A WISE answer: a JavaScript object-literal array (`[{field: "x", len: 9, value: "y"}]`). Upstream
 * quotes every `field:`, `len:` and `value:` (wherever they occur, even inside values) and decodes
 * the result as JSON; entries with len < 5 are ids or metadata, not findings.
 */
export function decodeWiseResponse(body: string, ip: string): CheckResult {
  const json = body
    .replaceAll('field:', '"field":')
    .replaceAll('len:', '"len":')
    .replaceAll('value:', '"value":')
  const entries = decodeGoStructList(json, 'wise.wiseResult', (object, path) => {
    const entry = {field: '', len: 0, value: ''}
    forEachGoField(object, (field, value, key) => {
      const at = [...path, key]
      if (field === 'field') entry.field = decodeGoString(value, 'wiseResult.field', at) ?? ''
      else if (field === 'len') entry.len = decodeGoInt(value, 'wiseResult.len', at) ?? 0
      else if (field === 'value') entry.value = decodeGoString(value, 'wiseResult.value', at) ?? ''
    })
    return entry
  })
  const results: LookupResult[] = []
  for (const entry of entries) {
    if (entry.len < 5) continue
    results.push({provider: 'Wise', term: ip, result: `${entry.field}: ${entry.value}`})
  }
  return {found: results.length > 0, results}
}

export const NESD_NOT_FOUND = 'no vulnerability found\n'
const NESD_REPORTED_RISKS = new Set(['Medium', 'High', 'Critical'])

/** A nesd answer: the not-found text, or a JSON array of {cve, risk, name}; Low/None are dropped. */
export function decodeNesdResponse(body: string, ip: string, port: number): CheckResult {
  if (body === NESD_NOT_FOUND) return {found: false, results: []}
  const entries = decodeGoStructList(body, 'nesd.nesdResult', (object, path) => {
    const entry = {cve: '', risk: '', name: ''}
    forEachGoField(object, (field, value, key) => {
      if (field === 'cve' || field === 'risk' || field === 'name') {
        entry[field] = decodeGoString(value, `nesdResult.${field}`, [...path, key]) ?? ''
      }
    })
    return entry
  })
  const term = vulnCacheKey(ip, port)
  const results: LookupResult[] = []
  for (const entry of entries) {
    if (!NESD_REPORTED_RISKS.has(entry.risk)) continue
    const result = `${entry.risk} - ${entry.name}` + (entry.cve === '' ? '' : ` (${entry.cve})`)
    results.push({provider: 'Nesd', term, result})
  }
  return {found: results.length > 0, results}
}
