// A small harness around the engine for tests: builds events from partial fields, runs them through a
// CorrelationEngine with a manual clock and sequential ids, and keeps every effect for assertions.

import assert from 'node:assert/strict'
import {
  AssetTable,
  CorrelationEngine,
  ManualClock,
  emptyEvent,
  sequentialIds,
  type AssetEntry,
  type Directive,
  type EngineEffect,
  type EngineOptions,
  type NormalizedEvent,
} from '../../src/engine/index.js'

export function event(fields: Partial<NormalizedEvent>): NormalizedEvent {
  return {...emptyEvent(), sensor: 'sensor1', ...fields}
}

export interface Harness {
  engine: CorrelationEngine
  clock: ManualClock
  effects: EngineEffect[]
  of<K extends EngineEffect['kind']>(kind: K): Extract<EngineEffect, {kind: K}>[]
  logs(): string[]
}

export function harness(
  directives: readonly Directive[],
  assets: AssetTable | readonly AssetEntry[],
  options: Partial<EngineOptions> & {now?: number} = {},
): Harness {
  const effects: EngineEffect[] = []
  const clock = new ManualClock(options.now ?? Math.floor(Date.now() / 1000))
  const engine = new CorrelationEngine({
    directives,
    assets: assets instanceof AssetTable ? assets : AssetTable.fromEntries(assets),
    clock,
    newId: sequentialIds(),
    emit: (effect) => effects.push(effect),
    debug: true,
    ...options,
  })
  return {
    engine,
    clock,
    effects,
    of: (kind) => effects.filter((e) => e.kind === kind) as never,
    logs: () => effects.flatMap((e) => (e.kind === 'log' ? [e.message] : [])),
  }
}

/** The single element of `list`, failing the test when there are none or several. */
export function only<T>(list: readonly T[]): T {
  assert.equal(list.length, 1, `expected exactly one, got ${list.length}`)
  return list[0]!
}
