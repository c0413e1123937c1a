// conn.log's history string: one letter per notable event, upper case for the originator, lower case
// for the responder. Some letters are written once per direction (a bitmask remembers which), some
// on a logarithmic scale so a storm of retransmissions shows as t, tt, ttt rather than a novel.

/** Bits of the "seen" mask (Zeek's HIST_* values); the responder's are these shifted left by 16. */
export const HIST = {
  SYN: 0x1,
  FIN: 0x2,
  RST: 0x4,
  FIN_RST: 0x8,
  DATA: 0x10,
  ACK: 0x20,
  MULTI_FLAG: 0x40,
} as const

export class History {
  text = ''
  private seen = 0

  /**
   * Writes `letter` (upper case as given; lower-cased for the responder) the first time `mask` occurs
   * in this direction. True when it had occurred before (Zeek's CheckHistory).
   */
  once(isOrig: boolean, mask: number, letter: string): boolean {
    const bit = isOrig ? mask : mask << 16
    if ((this.seen & bit) !== 0) return true
    this.seen |= bit
    this.text += isOrig ? letter : letter.toLowerCase()
    return false
  }

  add(isOrig: boolean, letter: string): void {
    this.text += isOrig ? letter : letter.toLowerCase()
  }

  /** The `^` that marks a connection whose roles the heuristics flipped. */
  flipped(): void {
    this.text += '^'
  }
}

/**
 * Counts occurrences and says when one crosses 1, 10, 100, … (Zeek's ScaledHistoryEntry), so the
 * letter is repeated once per order of magnitude.
 */
export class ScaledCounter {
  count = 0
  private threshold = 1

  hit(): boolean {
    if (++this.count !== this.threshold) return false
    const next = this.threshold * 10
    // Zeek's 32-bit threshold cannot grow past 2^32; it restarts counting instead.
    if (next > 0xffffffff) this.count = 0
    else this.threshold = next
    return true
  }
}
