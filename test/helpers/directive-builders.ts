// Builders for the engine's own directive types (not upstream JSON: see config-fixtures.ts for that).
// Every field not named falls back to emptyRule() or to the defaults below.

import {emptyRule, type Directive, type DirectiveRule} from '../../src/engine/index.js'

/**
 * The smallest valid stage-1 PluginRule: plugin 1, sid 1, occurrence 1, ANY to ANY on any port.
 * Reliability and timeout stay 0, as in emptyRule().
 */
export function rule(fields: Partial<DirectiveRule> = {}): DirectiveRule {
  return {
    ...emptyRule(),
    name: 'r',
    type: 'PluginRule',
    stage: 1,
    pluginId: 1,
    pluginSid: [1],
    occurrence: 1,
    from: 'ANY',
    to: 'ANY',
    portFrom: 'ANY',
    portTo: 'ANY',
    ...fields,
  }
}

/** A rule() for running through the engine: reliability 1 (so assets give risk) and a 3600 s timeout. */
export function plugin(fields: Partial<DirectiveRule>): DirectiveRule {
  return rule({reliability: 1, timeout: 3600, ...fields})
}

/** An enabled directive (id 1, "D", priority 1, kingdom "k", category "c") over the given rules. */
export function directive(rules: DirectiveRule[], fields: Partial<Directive> = {}): Directive {
  return {
    id: 1,
    name: 'D',
    priority: 1,
    disabled: false,
    allRulesAlwaysActive: false,
    kingdom: 'k',
    category: 'c',
    rules,
    ...fields,
  }
}
