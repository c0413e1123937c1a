// The generator's injected random source and the values drawn straight from it, so a seed reproduces
// a run: a seedable PRNG, bounded integers and UUIDs.

/** Uniform in [0, 1), like Math.random. */
export type RandomSource = () => number

/** mulberry32: small, fast and good enough to make test data reproducible from a 32-bit seed. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Inclusive on both ends. */
export function randomInt(random: RandomSource, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

/** A version-4 UUID drawn from the injected source (the Logstash pipeline stamps events with UUIDs). */
export function randomUuid(random: RandomSource): string {
  const bytes = Array.from({length: 16}, () => Math.floor(random() * 256))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
