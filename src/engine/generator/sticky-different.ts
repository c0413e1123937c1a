// sticky_different on generated stages: whether the engine records the field for the rule's type at
// all (if not, upstream's engine ignores every later event of the stage, so the stage can never
// complete), and the pairwise distinct values a stage of several events needs.

import type {DirectiveRule} from '../directive.js'
import type {NormalizedEvent} from '../event.js'
import {CUSTOM_DATA} from './custom-data.js'
import {pickDistinct, type FieldSource} from './field-source.js'

/** The field sources a stage's events were built from, one per field sticky_different can name. */
export interface StickySources {
  readonly srcIp: FieldSource<string>
  readonly dstIp: FieldSource<string>
  readonly srcPort: FieldSource<number>
  readonly dstPort: FieldSource<number>
  readonly pluginSid: FieldSource<number>
  /** custom_data1..3 in slot order. */
  readonly customData: readonly FieldSource<string>[]
}

/** The field every event of the stage gets its own value of, in event order. */
export interface StickyVariants {
  readonly key: keyof NormalizedEvent
  readonly values: readonly (string | number)[]
}

/**
 * The variants for a stage of `count` events of `rule` (at array position `ruleIndex`): undefined
 * when the stage needs none, or the problem that makes the stage impossible.
 */
export function planStickyVariants(
  rule: DirectiveRule,
  ruleIndex: number,
  count: number,
  sources: StickySources,
): {variants: StickyVariants | undefined; problem: string | undefined} {
  const plugin = rule.type === 'PluginRule'
  const sticky = rule.stickyDifferent
  const recorded =
    sticky === '' ||
    ['SRC_IP', 'DST_IP', 'SRC_PORT', 'DST_PORT'].includes(sticky) ||
    (plugin && ['PLUGIN_SID', 'CUSTOM_DATA1', 'CUSTOM_DATA2', 'CUSTOM_DATA3'].includes(sticky))
  // The first event of a backlog is processed without sticky state, so only later ones are affected.
  if (!recorded && (ruleIndex > 0 || count > 1)) {
    return {
      variants: undefined,
      problem: `sticky_different ${JSON.stringify(sticky)} is never recorded for a ${rule.type}, so the engine ignores every event of this stage (as upstream does)`,
    }
  }
  if (sticky === '' || count <= 1) return {variants: undefined, problem: undefined}
  const custom = CUSTOM_DATA.findIndex((field) => field.sticky === sticky)
  const [key, source]: [keyof NormalizedEvent, FieldSource<string> | FieldSource<number>] =
    sticky === 'SRC_IP'
      ? ['srcIp', sources.srcIp]
      : sticky === 'DST_IP'
        ? ['dstIp', sources.dstIp]
        : sticky === 'SRC_PORT'
          ? ['srcPort', sources.srcPort]
          : sticky === 'DST_PORT'
            ? ['dstPort', sources.dstPort]
            : sticky === 'PLUGIN_SID'
              ? ['pluginSid', sources.pluginSid]
              : [CUSTOM_DATA[custom]!.data, sources.customData[custom]!]
  const values = pickDistinct<string | number>(source as FieldSource<string | number>, count)
  if (values.length < count) {
    return {
      variants: undefined,
      problem: `sticky_different ${sticky} needs ${count} distinct values, but only ${values.length} satisfy the rule`,
    }
  }
  return {variants: {key, values}, problem: undefined}
}
