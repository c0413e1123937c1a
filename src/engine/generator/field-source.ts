// How the generator picks an event field's value: a FieldSource lists candidates in order of
// preference and says what the rule accepts; pickers take the first (or N distinct) accepted ones.
// Also the source of plain list fields (plugin SIDs, products, subcategories).

import {splitList} from '../list-match.js'
import {randomInt, type RandomSource} from './random.js'

/** How many random candidates a source offers after the ones the rule names. */
export const RANDOM_CANDIDATES = 512

/** A field's possible values in order of preference, and what the rule accepts. */
export interface FieldSource<T> {
  candidates(): Iterable<T>
  accepts(value: T): boolean
}

export function pickFirst<T>(source: FieldSource<T>): T | undefined {
  for (const value of source.candidates()) if (source.accepts(value)) return value
  return undefined
}

export function pickDistinct<T>(source: FieldSource<T>, count: number): T[] {
  const seen = new Set<T>()
  for (const value of source.candidates()) {
    if (seen.size >= count) break
    if (!seen.has(value) && source.accepts(value)) seen.add(value)
  }
  return [...seen]
}

/** Starts a list at a random element so repeated runs cover the whole list, not just its head. */
export function* rotated<T>(list: readonly T[], random: RandomSource): Generator<T> {
  if (list.length === 0) return
  const start = randomInt(random, 0, list.length - 1)
  for (let i = 0; i < list.length; i++) yield list[(start + i) % list.length]!
}

/** The items of a rule list that name a value (negated `!x` items only exclude). */
export function positiveTokens(list: string): string[] {
  return splitList(list).filter((token) => !token.startsWith('!'))
}

export function listSource<T>(values: readonly T[], random: RandomSource): FieldSource<T> {
  return {accepts: (value) => values.includes(value), candidates: () => rotated(values, random)}
}
