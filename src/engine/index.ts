// The engine's public surface: what roles and commands may import. Everything here is pure (no I/O,
// no timers); time comes from a Clock and results leave as effects.

export * from './alarm.js'
export * from './asset.js'
export * from './clock.js'
export * from './config-file.js'
export * from './directive.js'
export * from './directive-validate.js'
export * from './effects.js'
export * from './engine.js'
export * from './errors.js'
export * from './event.js'
export * from './ids.js'
export * from './replay.js'
export {EventMatchContext, compileRule, matchRule, StickySet, type CompiledRule} from './rule.js'
export {NetworkList, StringList, compileCustomData, splitList} from './list-match.js'
export {parseIp, parseCidr, networkContains, formatNetwork, isPrivateOrInvalidIp} from './ip.js'
export {
  JsonNumberLiteral,
  JsonSyntaxError,
  JsonTypeError,
  parseJson,
  goQuote,
  type JsonValue,
} from './go-json.js'
export * from './xcorrelator.js'
export * from './generator.js'
export * from './test-cases.js'
export * from './eps-limiter.js'
