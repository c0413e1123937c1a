// The event generator behind `dsiem directive test --generate`: upstream dtester's idea (for every rule
// of every directive, min(occurrence, max) copies of one template event) made correct by construction.
// dtester picks values without looking at what the rule accepts, fires stages concurrently and ignores
// sticky_different and custom data, so its directives often stall. Here every value is chosen from what
// the rule (with references resolved against the first event, exactly as a backlog resolves them)
// accepts, each event is checked with the engine's own matcher, sticky_different stages get pairwise
// distinct values, and stage k's events are stamped one second after stage k-1's. Where no such events
// exist (or `max` caps an occurrence) the plan says so instead of failing silently.
// Pure: the random source and the start time are injected, so a seed reproduces a run.
// This file is the public face; the jobs live in ./generator/.

export {seededRandom, randomUuid, type RandomSource} from './generator/random.js'
export {GENERATOR_SENSOR} from './generator/rule-events.js'
export * from './generator/plan.js'
export * from './generator/check.js'
