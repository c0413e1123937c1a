// The in-run baseline: upstream's per-event fan-out. Upstream Dsiem copies every event to every
// directive's backlog manager, and each runs its quick check (does the event's plugin_id/plugin_sid
// match any of the directive's SID pairs, or — for a directive without any — its product/category
// match any taxonomy pair). This module does exactly that scan for every event, in load order; the
// driver then hands the event to the same engine, so backlog work is identical and the difference
// between the two runs is the cost of the scan that our index replaces. Goroutine and channel costs
// of the Go original are not modelled, so this baseline is a lower bound on upstream's per-event cost.

import type {Directive, NormalizedEvent} from '../../src/engine/index.js'

interface SidPair {
  readonly pluginId: number
  readonly sids: readonly number[]
}

interface TaxonomyPair {
  readonly products: readonly string[]
  readonly category: string
}

interface QuickCheck {
  readonly sidPairs: readonly SidPair[]
  readonly taxonomyPairs: readonly TaxonomyPair[]
}

/** One pair per rule, without de-duplication, as upstream builds them at start-up. */
function quickCheckOf(directive: Directive): QuickCheck {
  const sidPairs: SidPair[] = []
  const taxonomyPairs: TaxonomyPair[] = []
  for (const rule of directive.rules) {
    if (rule.pluginId !== 0 && rule.pluginSid !== undefined && rule.pluginSid.length > 0) {
      sidPairs.push({pluginId: rule.pluginId, sids: rule.pluginSid})
    }
    if (rule.product !== undefined && rule.product.length > 0 && rule.category !== '') {
      taxonomyPairs.push({products: rule.product, category: rule.category})
    }
  }
  return {sidPairs, taxonomyPairs}
}

function passes(check: QuickCheck, event: NormalizedEvent): boolean {
  if (check.sidPairs.length > 0) {
    for (const pair of check.sidPairs) {
      if (pair.pluginId === event.pluginId && pair.sids.includes(event.pluginSid)) return true
    }
    return false
  }
  for (const pair of check.taxonomyPairs) {
    if (pair.category === event.category && pair.products.includes(event.product)) return true
  }
  return false
}

export class UpstreamFanout {
  private readonly checks: readonly QuickCheck[]

  constructor(directives: readonly Directive[]) {
    this.checks = directives.map(quickCheckOf)
  }

  get directiveCount(): number {
    return this.checks.length
  }

  /** Runs every directive's quick check; returns how many passed (to prove the work was done). */
  scan(event: NormalizedEvent): number {
    let passed = 0
    const checks = this.checks
    for (let i = 0; i < checks.length; i++) if (passes(checks[i]!, event)) passed++
    return passed
  }
}
