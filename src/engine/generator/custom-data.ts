// The three custom_dataN slots of generated events: their field names on events, rules and in JSON,
// and the source of values that satisfy a rule's custom_dataN condition.

import {compileCustomData} from '../list-match.js'
import {positiveTokens, RANDOM_CANDIDATES, rotated, type FieldSource} from './field-source.js'
import type {RandomSource} from './random.js'

export const CUSTOM_DATA = [
  {data: 'customData1', label: 'customLabel1', json: 'custom_data1', sticky: 'CUSTOM_DATA1'},
  {data: 'customData2', label: 'customLabel2', json: 'custom_data2', sticky: 'CUSTOM_DATA2'},
  {data: 'customData3', label: 'customLabel3', json: 'custom_data3', sticky: 'CUSTOM_DATA3'},
] as const

function randomToken(random: RandomSource): string {
  return `dtester-${Math.floor(random() * 0x100000000)
    .toString(16)
    .padStart(8, '0')}`
}

/** `wanted`: a later rule references the field or the stage is sticky_different on it, so '' will not do. */
export function customDataSource(
  condition: string,
  wanted: boolean,
  random: RandomSource,
): FieldSource<string> {
  const compiled = compileCustomData(condition)
  return {
    accepts: (value) => compiled === null || compiled.matches(value),
    *candidates() {
      if (compiled === null) {
        if (!wanted) yield ''
      } else if (condition.includes(',')) {
        yield* rotated(positiveTokens(condition), random)
      } else if (!condition.startsWith('!')) {
        yield condition.trim()
      }
      for (let i = 0; i < RANDOM_CANDIDATES; i++) yield randomToken(random)
    },
  }
}
