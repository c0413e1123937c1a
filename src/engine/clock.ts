// Wall-clock time for the engine, injected so tests and `directive test` drive it deterministically.
// Event time (stage start/end, ordering) comes from event timestamps; wall-clock time decides
// status/created/update times, expiry and the maxDelay probe, exactly as upstream splits them.

export interface Clock {
  /** Unix time in whole seconds. */
  nowSeconds(): number
}

export const systemClock: Clock = {
  nowSeconds: () => Math.floor(Date.now() / 1000),
}

/** A clock that only moves when told to (tests, replays). */
export class ManualClock implements Clock {
  private seconds: number

  constructor(seconds: number) {
    this.seconds = seconds
  }

  nowSeconds(): number {
    return this.seconds
  }

  set(seconds: number): void {
    this.seconds = seconds
  }

  advance(seconds: number): void {
    this.seconds += seconds
  }
}
