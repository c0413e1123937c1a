// Checking generated events against the engine: each directive's plan replayed through its own
// correlation engine, and how far it got (complete, partial as far as `max` allowed, or failed and why).

import type {AssetTable} from '../asset.js'
import {ManualClock} from '../clock.js'
import {CorrelationEngine} from '../engine.js'
import {sequentialIds} from '../ids.js'
import {planEvents, type DirectivePlan} from './plan.js'

export type DirectiveCheckStatus = 'complete' | 'partial' | 'failed'

export interface DirectiveCheck {
  readonly directiveId: number
  readonly name: string
  readonly stages: number
  readonly events: number
  /** Highest stage (array position) any backlog of the directive reached; 0 = none was opened. */
  readonly reachedStage: number
  /** Some backlog completed the last stage. */
  readonly completed: boolean
  /** complete: finished; partial: went as far as `max` allowed; failed: anything else. */
  readonly status: DirectiveCheckStatus
  readonly message: string | undefined
}

/**
 * Replays each directive's generated events through its own engine (so directives sharing plugin SIDs
 * cannot disturb one another) with the wall clock fixed at `now`, and reports how far it got. With the
 * clock fixed no backlog expires: this checks matching and stage progression, not timeouts.
 */
export function checkGeneratedEvents(
  plans: readonly DirectivePlan[],
  assets: AssetTable,
  now: number,
): DirectiveCheck[] {
  return plans.map((plan) => {
    const directive = plan.directive
    let reachedStage = 0
    let completed = false
    let lastWarning: string | undefined
    const engine = new CorrelationEngine({
      directives: [directive],
      assets,
      clock: new ManualClock(now),
      newId: sequentialIds(),
      emit: (effect) => {
        // Lookups are requested at every stage completion whatever the risk, unlike alarm lines.
        if (effect.kind === 'lookup') {
          const rules = effect.alarm.rules
          let reached = 0
          rules.forEach((rule, i) => {
            if (rule.startTime !== 0) reached = i + 1
          })
          reachedStage = Math.max(reachedStage, reached)
          if (rules.every((rule) => rule.status === 'finished')) completed = true
        } else if (effect.kind === 'log' && effect.level === 'warn') {
          lastWarning = effect.message
        }
      },
    })
    const events = planEvents(plan)
    for (const event of events) engine.process(event)
    for (const backlog of engine.backlogs()) reachedStage = Math.max(reachedStage, backlog.currentStage)

    const stages = directive.rules.length
    const limit = plan.limit
    let status: DirectiveCheckStatus
    let message: string | undefined
    if (completed) {
      status = 'complete'
    } else if (limit?.kind === 'max' && reachedStage >= limit.ruleIndex + 1) {
      status = 'partial'
      message = limit.message
    } else {
      status = 'failed'
      message =
        limit?.kind === 'impossible'
          ? limit.message
          : `reached stage ${reachedStage} of ${stages}${lastWarning === undefined ? '' : ` (engine: ${lastWarning})`}`
    }
    return {
      directiveId: directive.id,
      name: directive.name,
      stages,
      events: events.length,
      reachedStage,
      completed,
      status,
      message,
    }
  })
}
