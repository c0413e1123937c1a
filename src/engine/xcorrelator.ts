// Threat-intel and vulnerability cross-correlation (upstream's xcorrelator), the pure half: plugin
// interfaces, the intel_*.json / vuln_*.json decoders and plugin set-up, the response decoders of the
// built-in Wise and Nesd plugins, the candidate terms an alarm is checked for, and the result cache.
// The HTTP calls and the per-alarm scheduling live in roles (io/intel-plugins.ts, alarm-enricher.ts).

import {encodeLookupResults, type Alarm, type LookupResult} from './alarm.js'
import type {Clock} from './clock.js'
import {decodeConfigFile, type ConfigFile} from './config-file.js'
import type {DirectiveRule} from './directive.js'
import type {LogLevel} from './effects.js'
import {
  JsonNumberLiteral,
  JsonTypeError,
  decodeGoBool,
  decodeGoInt,
  decodeGoString,
  expectGoObject,
  forEachGoField,
  parseJson,
  type JsonObject,
  type JsonPath,
  type JsonValue,
} from './go-json.js'
import {isPrivateOrInvalidIp} from './ip.js'

export const INTEL_FILE_GLOB = 'intel_*.json'
export const VULN_FILE_GLOB = 'vuln_*.json'

/** What a plugin answers for one term; `results` is only meaningful when `found`. */
export interface CheckResult {
  readonly found: boolean
  readonly results: readonly LookupResult[]
}

/**
 * A threat-intel source (upstream's intel.Checker). `initialize` receives the source's `config` string
 * and throws if it cannot use it; `checkIp` rejects on failure (network, timeout, bad answer) and must
 * honour its own deadline: upstream gives every check 5 s.
 */
export interface IntelPlugin {
  initialize(config: string): void
  checkIp(ip: string): Promise<CheckResult>
}

/** A vulnerability-scan source (upstream's vuln.Checker); same contract as IntelPlugin. */
export interface VulnPlugin {
  initialize(config: string): void
  checkIpPort(ip: string, port: number): Promise<CheckResult>
}

/** Builds a fresh, uninitialised plugin instance. */
export type PluginFactory<P> = () => P
export type PluginRegistry<P> = ReadonlyMap<string, PluginFactory<P>>

/** An initialised plugin and the source entry it came from. */
export interface NamedPlugin<P> {
  /** The plugin name (upstream names checkers by plugin, e.g. in "Error received from intel checker Wise"). */
  readonly name: string
  /** The source's own `name` field. */
  readonly source: string
  readonly plugin: P
}

// ---------------------------------------------------------------------------------------------
// intel_*.json / vuln_*.json

export interface IntelSource {
  readonly name: string
  readonly type: string
  readonly enabled: boolean
  readonly plugin: string
  readonly config: string
}

export interface VulnSource extends IntelSource {
  /** Present in the format, unused by upstream. */
  readonly url: string
}

function expectGoArray(
  value: JsonValue,
  field: string,
  goType: string,
  path: JsonPath,
): JsonValue[] | undefined {
  if (value === null) return undefined
  if (Array.isArray(value)) return value
  throw new JsonTypeError(
    `cannot unmarshal ${describeJsonType(value)} into Go struct field ${field} of type ${goType}`,
    path,
  )
}

function decodeSource(value: JsonValue, struct: string, path: JsonPath, withUrl: boolean): VulnSource {
  const source = {name: '', type: '', enabled: false, plugin: '', config: '', url: ''}
  const object = expectGoObject(value, `xcorrelator.${struct}`, path)
  if (object === undefined) return source
  forEachGoField(object, (field, fieldValue, key) => {
    const at = [...path, key]
    const where = `${struct}.${field}`
    switch (field) {
      case 'name':
      case 'type':
      case 'plugin':
      case 'config':
        source[field] = decodeGoString(fieldValue, where, at) ?? ''
        break
      case 'url':
        if (withUrl) source.url = decodeGoString(fieldValue, where, at) ?? ''
        break
      case 'enabled':
        source.enabled = decodeGoBool(fieldValue, where, at) ?? false
        break
    }
  })
  return source
}

function decodeSourcesFile(root: JsonValue, listKey: string, struct: string, withUrl: boolean): VulnSource[] {
  const object = expectGoObject(root, `xcorrelator.${struct}s`, [])
  let sources: VulnSource[] = []
  if (object === undefined) return sources
  forEachGoField(object, (field, value, key) => {
    if (field !== listKey) return
    const list = expectGoArray(value, `${struct}s.${listKey}`, `[]xcorrelator.${struct}`, [key])
    sources = (list ?? []).map((element, i) => decodeSource(element, struct, [key, i], withUrl))
  })
  return sources
}

/** One intel_*.json file's sources (Go semantics: `config` must be a string, `enabled` a bool). */
export function decodeIntelFile(root: JsonValue): IntelSource[] {
  return decodeSourcesFile(root, 'intel_sources', 'IntelSource', false).map(
    ({name, type, enabled, plugin, config}) => ({name, type, enabled, plugin, config}),
  )
}

export function decodeVulnFile(root: JsonValue): VulnSource[] {
  return decodeSourcesFile(root, 'vuln_sources', 'VulnSource', true)
}

/** Every file's sources in file order; a JSON or type error anywhere aborts start-up (file:line:column). */
export function loadIntelSources(files: readonly ConfigFile[]): IntelSource[] {
  return files.flatMap((file) => decodeConfigFile(file, decodeIntelFile))
}

export function loadVulnSources(files: readonly ConfigFile[]): VulnSource[] {
  return files.flatMap((file) => decodeConfigFile(file, decodeVulnFile))
}

export interface PluginMessage {
  readonly level: LogLevel
  readonly message: string
}

export interface PluginSetup<P> {
  /** Initialised plugins in source order; lookups are enabled iff this is non-empty. */
  readonly plugins: NamedPlugin<P>[]
  /** Upstream's start-up log lines, in order. */
  readonly messages: PluginMessage[]
}

const KIND_TEXT = {
  intel: {noun: 'intel', loaded: 'threat intelligence sources.'},
  vuln: {noun: 'vuln', loaded: 'vulnerability scan result sources.'},
} as const

/**
 * Upstream's InitIntel/InitVuln after decoding: every enabled source whose plugin is known and
 * accepts its config becomes a checker; the others are skipped with a warning. Unlike upstream, each
 * source gets its own plugin instance (upstream re-initialises one shared instance per plugin name, so
 * a second Wise source silently redirects the first one to its URL).
 */
export function initializePlugins<P extends {initialize(config: string): void}>(
  kind: 'intel' | 'vuln',
  sources: readonly IntelSource[],
  registry: PluginRegistry<P>,
): PluginSetup<P> {
  const text = KIND_TEXT[kind]
  const plugins: NamedPlugin<P>[] = []
  const messages: PluginMessage[] = []
  for (const source of sources) {
    if (!source.enabled) continue
    const factory = registry.get(source.plugin)
    if (factory === undefined) {
      messages.push({level: 'warn', message: `Cannot find ${text.noun} plugin ${source.plugin}`})
      continue
    }
    const plugin = factory()
    try {
      plugin.initialize(source.config)
    } catch (error) {
      messages.push({
        level: 'warn',
        message: `Cannot initialize ${text.noun} plugin ${source.plugin}: ${(error as Error).message}`,
      })
      continue
    }
    messages.push({level: 'info', message: `Adding ${text.noun} plugin ${source.plugin}`})
    plugins.push({name: source.plugin, source: source.name, plugin})
  }
  messages.push({level: 'info', message: `Loaded ${plugins.length} ${text.loaded}`})
  return {plugins, messages}
}

// ---------------------------------------------------------------------------------------------
// The built-in plugins' config and response formats (Go encoding/json semantics)

function decodeGoStructList<T>(
  text: string,
  goType: string,
  decodeElement: (object: JsonObject, path: JsonPath) => T,
): T[] {
  const root = parseJson(text).value
  if (root === null) return []
  if (!Array.isArray(root)) {
    throw new JsonTypeError(
      `cannot unmarshal ${describeJsonType(root)} into Go value of type []${goType}`,
      [],
    )
  }
  return root.flatMap((element, i) => {
    const object = expectGoObject(element, goType, [i])
    // A null element decodes to the zero struct, which both plugins then ignore.
    return object === undefined ? [] : [decodeElement(object, [i])]
  })
}

function describeJsonType(value: JsonValue): string {
  if (typeof value === 'string') return 'string'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number' || value instanceof JsonNumberLiteral) return 'number'
  if (Array.isArray(value)) return 'array'
  return value === null ? 'null' : 'object'
}

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
  const term = `${ip}:${port}`
  const results: LookupResult[] = []
  for (const entry of entries) {
    if (!NESD_REPORTED_RISKS.has(entry.risk)) continue
    const result = `${entry.risk} - ${entry.name}` + (entry.cve === '' ? '' : ` (${entry.cve})`)
    results.push({provider: 'Nesd', term, result})
  }
  return {found: results.length > 0, results}
}

// ---------------------------------------------------------------------------------------------
// Candidate terms

/** Whether an alarm already holds a result for this term (upstream skips those). */
export function hasTerm(results: readonly LookupResult[], term: string): boolean {
  return results.some((r) => r.term === term)
}

/**
 * IPs to check for threat intel: unique src ∪ dst IPs (first-seen order; upstream's order is random),
 * without private or unparsable ones unless `checkPrivateIp` (`--intelPrivateIP`, which then lets
 * unparsable strings through too), and without IPs that already have a hit.
 */
export function intelCandidates(
  alarm: Pick<Alarm, 'srcIps' | 'dstIps' | 'intelHits'>,
  checkPrivateIp: boolean,
): string[] {
  const candidates: string[] = []
  for (const ip of new Set([...alarm.srcIps, ...alarm.dstIps])) {
    if (!checkPrivateIp && isPrivateOrInvalidIp(ip)) continue
    if (hasTerm(alarm.intelHits, ip)) continue
    candidates.push(ip)
  }
  return candidates
}

/** An (ip, port) pair as written in a rule: neither part is trimmed or validated yet. */
export interface VulnSearchTerm {
  readonly ip: string
  readonly port: string
}

type RuleAddresses = Pick<DirectiveRule, 'from' | 'to' | 'portFrom' | 'portTo'>

const NOT_AN_ADDRESS = new Set(['ANY', 'HOME_NET', '!HOME_NET'])

/** Go strings.Split + de-duplication: no trimming, empty items kept. */
function uniqueItems(list: string): string[] {
  return [...new Set(list.split(','))]
}

function addTerms(terms: VulnSearchTerm[], ips: string, ports: string, lastPort: number): void {
  const portList = uniqueItems(ports)
  const last = String(lastPort)
  for (const ip of uniqueItems(ips)) {
    if (NOT_AN_ADDRESS.has(ip) || ip.includes('/')) continue
    for (const port of portList) if (port !== 'ANY') terms.push({ip, port})
    // The last event's port is tried as well, unless it is 0.
    if (last !== '0') terms.push({ip, port: last})
  }
}

/**
 * Upstream's construcTerms over every alarm rule: each literal address in `from` paired with every
 * `port_from` entry and the last event's source port, then the same for `to`/`port_to`/destination
 * port; de-duplicated in first-seen order. Only IPs written in rules (or bound by references) count.
 */
export function buildVulnSearchTerms(
  rules: readonly RuleAddresses[],
  lastSrcPort: number,
  lastDstPort: number,
): VulnSearchTerm[] {
  const terms: VulnSearchTerm[] = []
  for (const rule of rules) {
    addTerms(terms, rule.from, rule.portFrom, lastSrcPort)
    addTerms(terms, rule.to, rule.portTo, lastDstPort)
  }
  const seen = new Set<string>()
  return terms.filter((t) => {
    const key = `${t.ip}\u0000${t.port}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

const INT64_MAX = 9223372036854775807n

/** Go strconv.Atoi: optional sign, decimal digits only, within int64. */
export function parseGoAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined
  const value = BigInt(s)
  if (value > INT64_MAX || value < -INT64_MAX - 1n) return undefined
  return Number(value)
}

export interface VulnCandidate {
  readonly ip: string
  readonly port: number
  /** `ip:port` as written in the rule; what an existing vulnerability's term is compared with. */
  readonly term: string
}

/** Search terms not yet holding a vulnerability and with an integer port, in upstream's check order. */
export function vulnCandidates(
  rules: readonly RuleAddresses[],
  lastSrcPort: number,
  lastDstPort: number,
  existing: readonly LookupResult[],
): VulnCandidate[] {
  const candidates: VulnCandidate[] = []
  for (const {ip, port} of buildVulnSearchTerms(rules, lastSrcPort, lastDstPort)) {
    const term = `${ip}:${port}`
    if (hasTerm(existing, term)) continue
    const portNumber = parseGoAtoi(port)
    if (portNumber === undefined) continue
    candidates.push({ip, port: portNumber, term})
  }
  return candidates
}

/** The cache key (and Nesd result term) of a vulnerability check: the port as Go's Itoa writes it. */
export function vulnCacheKey(ip: string, port: number): string {
  return `${ip}:${port}`
}

// ---------------------------------------------------------------------------------------------
// Cache

export const NOT_FOUND_MARKER = 'n/f'
export const DEFAULT_CACHE_MINUTES = 10

/**
 * Upstream's bigcache with a life window, as a plain TTL map keyed `ip` (intel) or `ip:port` (vuln).
 * Values are what upstream stores: the JSON result array or the not-found marker. Expired entries are
 * dropped when read and swept at most once per lifetime on write, so memory stays bounded.
 */
export class LookupCache {
  readonly lifetimeSeconds: number
  private readonly clock: Clock
  private readonly entries = new Map<string, {value: string; storedAt: number}>()
  private lastSweep: number

  /** `lifetimeMinutes` is `--cacheDuration`; 0 means 10 as upstream (negatives too, which upstream never checks). */
  constructor(lifetimeMinutes: number, clock: Clock) {
    this.lifetimeSeconds = (lifetimeMinutes > 0 ? lifetimeMinutes : DEFAULT_CACHE_MINUTES) * 60
    this.clock = clock
    this.lastSweep = clock.nowSeconds()
  }

  get size(): number {
    return this.entries.size
  }

  get(key: string): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (this.clock.nowSeconds() - entry.storedAt >= this.lifetimeSeconds) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: string): void {
    const now = this.clock.nowSeconds()
    if (now - this.lastSweep >= this.lifetimeSeconds) {
      for (const [k, entry] of this.entries) {
        if (now - entry.storedAt >= this.lifetimeSeconds) this.entries.delete(k)
      }
      this.lastSweep = now
    }
    this.entries.delete(key) // re-insert so the map stays in storage order
    this.entries.set(key, {value, storedAt: now})
  }
}

/** Go json.Unmarshal into []Result; throws on anything else. */
export function decodeLookupResults(text: string): LookupResult[] {
  return decodeGoStructList(text, 'intel.Result', (object, path) => {
    const result = {provider: '', term: '', result: ''}
    forEachGoField(object, (field, value, key) => {
      if (field === 'provider' || field === 'term' || field === 'result') {
        result[field] = decodeGoString(value, `Result.${field}`, [...path, key]) ?? ''
      }
    })
    return result
  })
}

export type CachedLookup =
  | {readonly kind: 'found'; readonly results: LookupResult[]}
  | {readonly kind: 'not-found'}
  | {readonly kind: 'miss'}
  /** An entry that does not decode: upstream logs it and queries the plugins as on a miss. */
  | {readonly kind: 'corrupt'}

export function readCachedLookup(cache: LookupCache, key: string): CachedLookup {
  const value = cache.get(key)
  if (value === undefined) return {kind: 'miss'}
  if (value === NOT_FOUND_MARKER) return {kind: 'not-found'}
  try {
    return {kind: 'found', results: decodeLookupResults(value)}
  } catch {
    return {kind: 'corrupt'}
  }
}

/** Stores a completed lookup (call only when at least one plugin answered). */
export function storeLookup(
  cache: LookupCache,
  key: string,
  found: boolean,
  results: readonly LookupResult[],
): void {
  cache.set(key, found ? encodeLookupResults(results) : NOT_FOUND_MARKER)
}
