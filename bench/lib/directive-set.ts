// Generated directive sets in upstream's `directives_*.json` format: N three-stage PluginRule directives
// (stage 1 occurrence 1 HOME_NET → ANY; stages 2 and 3 bound to the first event's source with `:1`),
// each on its own Suricata SID. The specs are drawn once for the largest set, so the 100-directive set
// is the first 100 directives of the 1000-directive one, and the same events mean the same thing to
// both.

import {loadDirectiveSet, type Directive} from '../../src/engine/index.js'
import {Prng} from './prng.js'

/** Suricata in the reference Logstash pipelines. */
export const BENCH_PLUGIN_ID = 1001
/** Directive i (1-based) watches SID BENCH_SID_BASE + i. */
export const BENCH_SID_BASE = 2_100_000

export interface DirectiveSpec {
  readonly id: number
  readonly sid: number
  readonly priority: number
  /** Per stage, in array order. */
  readonly occurrence: readonly [1, number, number]
  readonly reliability: readonly [number, number, number]
  readonly timeout: readonly [number, number, number]
}

const PRIORITY_WEIGHTS = [1, 3, 4, 2, 1] // priorities 1..5, mostly 2-3 as in upstream's examples

const NAMES = [
  'ET SCAN suspicious inbound',
  'ET POLICY outbound connection',
  'ET TROJAN beacon',
  'ET WEB_SERVER attack',
  'ET DOS flood',
  'GPL ICMP probe',
]

export function directiveSpecs(count: number, seed: number): DirectiveSpec[] {
  const rng = new Prng(seed)
  const specs: DirectiveSpec[] = []
  for (let i = 1; i <= count; i++) {
    specs.push({
      id: i,
      sid: BENCH_SID_BASE + i,
      priority: 1 + rng.weighted(PRIORITY_WEIGHTS),
      occurrence: [1, rng.int(2, 5), rng.int(5, 20)],
      reliability: [rng.int(1, 2), rng.int(3, 6), rng.int(7, 10)],
      // Longer than any benchmark stream, so expiry never competes with completion.
      timeout: [0, 3600, 7200],
    })
  }
  return specs
}

function ruleJson(spec: DirectiveSpec, index: 0 | 1 | 2, name: string): Record<string, unknown> {
  return {
    name,
    type: 'PluginRule',
    stage: index + 1,
    plugin_id: BENCH_PLUGIN_ID,
    plugin_sid: [spec.sid],
    occurrence: spec.occurrence[index],
    from: index === 0 ? 'HOME_NET' : ':1',
    to: 'ANY',
    port_from: 'ANY',
    port_to: 'ANY',
    protocol: 'TCP',
    reliability: spec.reliability[index],
    timeout: spec.timeout[index],
  }
}

/** The file text, exactly as an operator would write it. */
export function directiveFileText(specs: readonly DirectiveSpec[]): string {
  const directives = specs.map((spec) => {
    const name = `${NAMES[spec.id % NAMES.length]!} ${spec.sid}`
    return {
      id: spec.id,
      name: `${name} from SRC_IP`,
      priority: spec.priority,
      kingdom: 'Reconnaissance & Probing',
      category: 'Misc Activity',
      rules: [ruleJson(spec, 0, name), ruleJson(spec, 1, name), ruleJson(spec, 2, name)],
    }
  })
  return JSON.stringify({directives}, null, 1)
}

/** Loads the set through the engine's loader, so validation and clamping run as in production. */
export function loadBenchDirectives(specs: readonly DirectiveSpec[]): Directive[] {
  const name = `directives_bench_${specs.length}.json`
  const set = loadDirectiveSet([{name, text: directiveFileText(specs)}])
  if (set.skipped.length > 0 || set.directives.length !== specs.length) {
    const reasons = set.skipped.map((s) => s.message).join('; ')
    throw new Error(`bench: ${set.directives.length}/${specs.length} directives loaded: ${reasons}`)
  }
  return set.directives
}
