// What a run of the engine produced, reduced to counts that can be compared exactly with the outcome
// expected from the generated stream: alarm-event lines (per stage), stage completions, alarm lines
// per risk class, final class of every alarm, backlogs completed. The counting sink is cheap enough
// to stay in the timed loop, so every timed repetition is checked, not just a separate verification.

import type {EffectSink, EngineStats, RiskClass} from '../../src/engine/index.js'

export interface Outcome {
  backlogsCreated: number
  /** Backlogs that completed their last stage (each ends with an alarm-removed effect). */
  backlogsCompleted: number
  /** Still open at the end (mid-way). */
  backlogsActive: number
  alarmsActive: number
  eventsWhitelisted: number
  /** siem_alarm_events lines, by stage (array position 1, 2, 3). */
  alarmEventsByStage: number[]
  /** Stage completions (each requests intel/vuln lookups). */
  stageCompletions: number
  /** siem_alarms lines (written only while risk ≠ 0), by risk class. */
  alarmLinesByClass: Record<RiskClass, number>
  /** Alarms (distinct ids with at least one line) by the class of their last line. */
  alarmsByFinalClass: Record<RiskClass, number>
  /** Warnings the engine logged (none expected: timestamps are valid and in order). */
  warnings: number
  overloadSignals: number
  /** Per directive id; only filled by a detailed sink (the warm-up runs), to keep timed runs lean. */
  perDirective?: Record<string, DirectiveOutcome>
}

export interface DirectiveOutcome {
  backlogs: number
  completed: number
  alarmEvents: number
  alarmLines: number
}

export function emptyDirectiveOutcome(): DirectiveOutcome {
  return {backlogs: 0, completed: 0, alarmEvents: 0, alarmLines: 0}
}

export function emptyOutcome(): Outcome {
  return {
    backlogsCreated: 0,
    backlogsCompleted: 0,
    backlogsActive: 0,
    alarmsActive: 0,
    eventsWhitelisted: 0,
    alarmEventsByStage: [0, 0, 0],
    stageCompletions: 0,
    alarmLinesByClass: {Low: 0, Medium: 0, High: 0},
    alarmsByFinalClass: {Low: 0, Medium: 0, High: 0},
    warnings: 0,
    overloadSignals: 0,
  }
}

export interface CountingSink {
  readonly emit: EffectSink
  /** Folds in the engine's final stats and returns the outcome. */
  finish(stats: EngineStats): Outcome
}

interface AlarmTally {
  directiveId: number
  alarmEvents: number
  alarmLines: number
  completed: boolean
}

/**
 * Counts effects. A detailed sink also tallies per alarm id (its directive is learnt from the lookup
 * effect every backlog emits when its first stage completes, just after its first alarm event).
 */
export function countingSink(detailed = false): CountingSink {
  const outcome = emptyOutcome()
  const finalClass = new Map<string, RiskClass>()
  const tallies = new Map<string, AlarmTally>()
  const tally = (alarmId: string): AlarmTally => {
    let t = tallies.get(alarmId)
    if (t === undefined)
      tallies.set(alarmId, (t = {directiveId: 0, alarmEvents: 0, alarmLines: 0, completed: false}))
    return t
  }
  const emit: EffectSink = (effect) => {
    switch (effect.kind) {
      case 'alarm-event':
        outcome.alarmEventsByStage[effect.stage - 1] = (outcome.alarmEventsByStage[effect.stage - 1] ?? 0) + 1
        if (detailed) tally(effect.alarmId).alarmEvents++
        break
      case 'alarm':
        outcome.alarmLinesByClass[effect.alarm.riskClass]++
        finalClass.set(effect.alarm.alarmId, effect.alarm.riskClass)
        if (detailed) tally(effect.alarm.alarmId).alarmLines++
        break
      case 'lookup':
        outcome.stageCompletions++
        if (detailed) tally(effect.alarm.alarmId).directiveId = effect.alarm.directiveId
        break
      case 'alarm-removed':
        outcome.backlogsCompleted++
        if (detailed) tally(effect.alarmId).completed = true
        break
      case 'overload':
        outcome.overloadSignals++
        break
      case 'log':
        if (effect.level === 'warn') outcome.warnings++
        break
    }
  }
  return {
    emit,
    finish(stats) {
      outcome.backlogsCreated = stats.backlogsCreated
      outcome.backlogsActive = stats.backlogsActive
      outcome.alarmsActive = stats.alarmsActive
      outcome.eventsWhitelisted = stats.eventsWhitelisted
      for (const riskClass of finalClass.values()) outcome.alarmsByFinalClass[riskClass]++
      if (detailed) {
        const perDirective: Record<string, DirectiveOutcome> = {}
        for (const t of tallies.values()) {
          const d = (perDirective[t.directiveId] ??= emptyDirectiveOutcome())
          d.backlogs++
          if (t.completed) d.completed++
          d.alarmEvents += t.alarmEvents
          d.alarmLines += t.alarmLines
        }
        outcome.perDirective = perDirective
      }
      return outcome
    },
  }
}

/**
 * Every field that differs, as "field: expected X, got Y". Per-directive counts are compared only
 * when the actual outcome has them (detailed sink).
 */
export function diffOutcomes(expectedOutcome: Outcome, actual: Outcome): string[] {
  const diffs: string[] = []
  const expected = {...expectedOutcome}
  if (actual.perDirective === undefined) delete expected.perDirective
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)])
      for (const key of keys) {
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`)
      }
      return
    }
    if (a !== b) diffs.push(`${path.slice(1)}: expected ${String(a)}, got ${String(b)}`)
  }
  walk(expected, actual, '')
  return diffs
}
