// Connection uids as Zeek writes them: 'C' followed by 96 random bits in base 62. Zeek keeps the bits
// as a 32-bit and a 64-bit word and prints each with its uitoa_n (least significant digit first, digits
// 0-9A-Za-z), which is why uids vary in length; we do the same so ours look like Zeek's.

import {randomFillSync} from 'node:crypto'

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const TWO_32 = 4294967296
const POOL_WORDS = 1024

/** Base 62 of the 64-bit value hi·2³² + lo (both unsigned 32-bit), least significant digit first. */
function base62(hi: number, lo: number): string {
  let out = ''
  do {
    // Long division by 62 in two 32-bit halves keeps every intermediate below 2^38, exact in a double.
    const hiRest = hi % 62
    hi = (hi - hiRest) / 62
    const low = hiRest * TWO_32 + lo
    const digit = low % 62
    lo = (low - digit) / 62
    out += DIGITS[digit]
  } while (hi !== 0 || lo !== 0)
  return out
}

type WordSource = () => number

/** xoshiro128** seeded through splitmix32: deterministic, well mixed, 32-bit arithmetic only. */
function seededWords(seed: number): WordSource {
  let x = seed >>> 0
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let s0 = splitmix()
  let s1 = splitmix()
  let s2 = splitmix()
  let s3 = splitmix()
  return () => {
    const m = Math.imul(s1, 5)
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << 11) | (s3 >>> 21)
    return result
  }
}

/** Words from the OS random source, fetched in blocks so a uid costs no system call. */
function randomWords(): WordSource {
  const pool = new Uint32Array(POOL_WORDS)
  let next = POOL_WORDS
  return () => {
    if (next === POOL_WORDS) {
      randomFillSync(pool)
      next = 0
    }
    return pool[next++]!
  }
}

/** A uid generator; with a seed the sequence is the same on every run (Zeek's --seed). */
export function createUidSource(seed?: number): () => string {
  const word = seed === undefined ? randomWords() : seededWords(seed)
  return () => {
    const short = word()
    const hi = word()
    const lo = word()
    return 'C' + base62(0, short) + base62(hi, lo)
  }
}
