// The outcome the generated stream must produce, derived from how it was generated and not from the
// engine: events of one (directive, internal source) pair drive one backlog at a time through
// 1 + k + m events (occurrences of stages 1, 2, 3); the next event of the pair opens a new backlog.
// Risk at each stage completion is priority × that stage's reliability × the highest asset value
// among the backlog's addresses so far / 25 (integer), and a line is written when it is non-zero.
// Near-misses (external source) and noise change nothing; the scanner's events are dropped.

import type {RiskClass} from '../../src/engine/index.js'
import {assetValue, inHomeNet, isWhitelisted} from './bench-assets.js'
import type {DirectiveSpec} from './directive-set.js'
import {EVENT_KIND, type EventStream} from './event-stream.js'
import {emptyDirectiveOutcome, emptyOutcome, type DirectiveOutcome, type Outcome} from './outcome.js'

/** Upstream's defaults: Low below 3, Medium 3..6, High above 6. */
function riskClass(risk: number): RiskClass {
  return risk < 3 ? 'Low' : risk <= 6 ? 'Medium' : 'High'
}

interface PairState {
  /** Array index of the stage being filled (1 or 2 once the backlog exists). */
  stage: number
  count: number
  maxValue: number
  lastClass: RiskClass | undefined
}

export interface ExpectedOutcome {
  readonly outcome: Outcome
  /** Events that pass the pre-filter of exactly one directive (what the engine offers). */
  readonly directiveOffers: number
}

export function expectedOutcome(stream: EventStream, specs: readonly DirectiveSpec[]): ExpectedOutcome {
  const byId = new Map(specs.map((s) => [s.id, s]))
  const outcome = emptyOutcome()
  const pairs = new Map<string, PairState>()
  const perDirective: Record<string, DirectiveOutcome> = {}
  let directiveOffers = 0

  const complete = (spec: DirectiveSpec, state: PairState, stage: number): void => {
    outcome.stageCompletions++
    const risk = Math.trunc((spec.priority * spec.reliability[stage]! * state.maxValue) / 25)
    if (risk !== 0) {
      state.lastClass = riskClass(risk)
      outcome.alarmLinesByClass[state.lastClass]++
      perDirective[spec.id]!.alarmLines++
    }
  }
  const close = (state: PairState): void => {
    if (state.lastClass !== undefined) outcome.alarmsByFinalClass[state.lastClass]++
  }

  for (let i = 0; i < stream.events.length; i++) {
    const kind = stream.kinds[i]!
    if (kind === EVENT_KIND.noise) continue
    const spec = byId.get(stream.directiveIds[i]!)
    if (spec === undefined)
      throw new Error(`bench: stream uses directive ${stream.directiveIds[i]} not in the set`)
    const event = stream.events[i]!
    if (kind === EVENT_KIND.whitelisted) {
      if (!isWhitelisted(event.srcIp)) throw new Error(`bench: scanner event ${i} not from the scanner`)
      outcome.eventsWhitelisted++
      continue
    }
    directiveOffers++
    if (kind === EVENT_KIND.nearMiss) {
      if (inHomeNet(event.srcIp)) throw new Error(`bench: near-miss event ${i} comes from HOME_NET`)
      continue
    }
    if (!inHomeNet(event.srcIp) || isWhitelisted(event.srcIp)) {
      throw new Error(`bench: directive event ${i} does not come from a HOME_NET host`)
    }
    const key = `${spec.id} ${event.srcIp}`
    const tally = (perDirective[spec.id] ??= emptyDirectiveOutcome())
    let state = pairs.get(key)
    if (state === undefined) {
      state = {stage: 0, count: 0, maxValue: assetValue(event.srcIp), lastClass: undefined}
      pairs.set(key, state)
      outcome.backlogsCreated++
      tally.backlogs++
    }
    state.maxValue = Math.max(state.maxValue, assetValue(event.dstIp))
    state.count++
    outcome.alarmEventsByStage[state.stage]!++
    tally.alarmEvents++
    if (state.count < spec.occurrence[state.stage]!) continue
    complete(spec, state, state.stage)
    if (state.stage === 2) {
      outcome.backlogsCompleted++
      tally.completed++
      close(state)
      pairs.delete(key)
    } else {
      state.stage++
      state.count = 0
    }
  }
  for (const state of pairs.values()) close(state)
  outcome.backlogsActive = pairs.size
  // Every live backlog was upserted when its first stage completed, whatever its risk.
  outcome.alarmsActive = pairs.size
  return {outcome: {...outcome, perDirective}, directiveOffers}
}
