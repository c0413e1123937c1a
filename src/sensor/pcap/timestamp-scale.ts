// pcapng timestamps are 64-bit counts of an interface-specific unit (if_tsresol). Splitting one
// into seconds and a remainder is done in 16-bit steps of long division on doubles, which stays
// exact while every intermediate value is below 2^53; that covers every decimal resolution up to
// 10^-11 and binary ones up to 2^-37. Finer units take the (slow) BigInt path.

const TWO_POW_32 = 4294967296
/** Below this high word the whole 64-bit count is an exact double. */
const EXACT_HIGH_LIMIT = 0x200000
/** Largest divisor for which the 16-bit long division stays exact. */
const LONG_DIVISION_LIMIT = 2 ** 37

/**
 * Reads an if_tsresol option value: the low 7 bits are a negative power of 10, or of 2 when the top
 * bit is set. Returns the number of units per second.
 */
export function unitsPerSecond(tsresol: number): number {
  const exponent = tsresol & 0x7f
  return (tsresol & 0x80) !== 0 ? 2 ** exponent : 10 ** exponent
}

/** Converts an interface's timestamps; `sec`, `rem` and `nsec` hold the result of the last `split`. */
export class TimestampScale {
  readonly unitsPerSec: number
  /** Whole seconds of the last split. */
  sec = 0
  /** Units within the second of the last split. */
  rem = 0
  /** `rem` in nanoseconds (rounded down). */
  nsec = 0
  /**
   * nsec = floor(rem * nsecMul / nsecDiv). 10^-k: 10^(9-k) / 1, or 1 / 10^(k-9) below the
   * nanosecond; 2^-k: 5^9 / 2^(k-9), since 10^9 = 5^9 * 2^9. Exact for decimal units down to
   * 10^-15 and binary ones down to 2^-32.
   */
  private readonly nsecMul: number
  private readonly nsecDiv: number
  private readonly unitsPerSecBig: bigint | undefined
  /**
   * `high * 2^32` as seconds and units for the last high word seen; at nanosecond resolution it
   * changes only every 4.3 s of capture time, so most packets skip the long division.
   */
  private cachedHigh = -1
  private cachedSec = 0
  private cachedRem = 0

  constructor(tsresol: number) {
    const exponent = tsresol & 0x7f
    const binary = (tsresol & 0x80) !== 0
    this.unitsPerSec = unitsPerSecond(tsresol)
    if (binary) {
      this.nsecMul = 1953125
      this.nsecDiv = 2 ** (exponent - 9)
    } else {
      this.nsecMul = exponent <= 9 ? 10 ** (9 - exponent) : 1
      this.nsecDiv = exponent <= 9 ? 1 : 10 ** (exponent - 9)
    }
    this.unitsPerSecBig =
      this.unitsPerSec > LONG_DIVISION_LIMIT
        ? binary
          ? 1n << BigInt(exponent)
          : 10n ** BigInt(exponent)
        : undefined
  }

  /** Splits the count `high * 2^32 + low` (both unsigned 32-bit). */
  split(high: number, low: number): void {
    const divisor = this.unitsPerSec
    if (high < EXACT_HIGH_LIMIT) {
      const total = high * TWO_POW_32 + low
      let sec = Math.floor(total / divisor)
      let rem = total - sec * divisor
      // The quotient was rounded as a double and may be one off either way.
      if (rem < 0) {
        sec -= 1
        rem += divisor
      } else if (rem >= divisor) {
        sec += 1
        rem -= divisor
      }
      this.sec = sec
      this.rem = rem
    } else if (this.unitsPerSecBig === undefined) {
      if (high !== this.cachedHigh) {
        this.divideLong(high, 0, divisor)
        this.cachedHigh = high
        this.cachedSec = this.sec
        this.cachedRem = this.rem
      }
      // cachedRem < divisor <= 2^37, so the sum is exact.
      const units = this.cachedRem + low
      const carry = Math.floor(units / divisor)
      this.sec = this.cachedSec + carry
      this.rem = units - carry * divisor
    } else {
      this.divideBig(high, low, this.unitsPerSecBig)
    }
    this.nsec = Math.floor((this.rem * this.nsecMul) / this.nsecDiv)
  }

  private divideLong(high: number, low: number, divisor: number): void {
    let quotient = 0
    let rem = 0
    for (let digit = 0; digit < 4; digit++) {
      const word = digit < 2 ? high : low
      const part = (digit & 1) === 0 ? word >>> 16 : word & 0xffff
      const current = rem * 65536 + part
      let q = Math.floor(current / divisor)
      rem = current - q * divisor
      if (rem < 0) {
        q -= 1
        rem += divisor
      } else if (rem >= divisor) {
        q += 1
        rem -= divisor
      }
      quotient = quotient * 65536 + q
    }
    this.sec = quotient
    this.rem = rem
  }

  private divideBig(high: number, low: number, divisor: bigint): void {
    const total = (BigInt(high) << 32n) | BigInt(low)
    this.sec = Number(total / divisor)
    this.rem = Number(total % divisor)
  }
}
