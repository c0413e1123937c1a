// The sustained single-event rate as the performance notes (§7.1) define it: open-loop load at fixed
// offered rates, stepping up until a step fails; a system sustains the highest offered rate at which
// (a) it accepted at least 99% of what was offered, (b) nothing fell a second or more behind — neither
// the requests waiting for their answer nor the backend's queue (its lag metric) — and (c) its outputs
// were complete. A closed loop measures something else: how much a server takes when the next
// request waits for the last answer, so a stall slows the senders down instead of piling work up.

/** What one open-loop step measured. */
export interface StepFigures {
  readonly offeredRate: number
  readonly eventsAccepted: number
  /** From the first request to the last answer (warm-up included: its events were offered too). */
  readonly elapsedSeconds: number
  /** Send → HTTP answer, after the warm-up: how long requests waited in front of the server. */
  readonly answerP99Ms: number
  /** The highest lag the backend reported while the step ran (undefined: never sampled). */
  readonly backendLagMaxSeconds: number | undefined
  /** From the last answer until the backend had processed every accepted event. */
  readonly drainSeconds: number
  /** Every event answered 200 and the outputs exactly as expected. */
  readonly complete: boolean
}

export interface StepVerdict {
  readonly passed: boolean
  /** Why the step failed (empty when it passed). */
  readonly reasons: readonly string[]
}

export const MIN_ACCEPTED_SHARE = 0.99
export const MAX_LAG_SECONDS = 1

export function stepVerdict(step: StepFigures): StepVerdict {
  const reasons: string[] = []
  const acceptedShare = step.eventsAccepted / (step.offeredRate * step.elapsedSeconds)
  if (!(acceptedShare >= MIN_ACCEPTED_SHARE)) {
    reasons.push(
      `accepted ${(100 * acceptedShare).toFixed(1)}% of the offered rate (< ${100 * MIN_ACCEPTED_SHARE}%)`,
    )
  }
  if (!(step.answerP99Ms < MAX_LAG_SECONDS * 1000)) {
    reasons.push(
      `HTTP answer p99 ${Math.round(step.answerP99Ms)} ms (requests queued ≥ ${MAX_LAG_SECONDS} s)`,
    )
  }
  if (step.backendLagMaxSeconds !== undefined && !(step.backendLagMaxSeconds < MAX_LAG_SECONDS)) {
    reasons.push(`backend lag reached ${step.backendLagMaxSeconds.toFixed(2)} s`)
  }
  if (!(step.drainSeconds < MAX_LAG_SECONDS)) {
    reasons.push(`the backend needed ${step.drainSeconds.toFixed(2)} s after the last answer`)
  }
  if (!step.complete) reasons.push('incomplete')
  return {passed: reasons.length === 0, reasons}
}

/** The ladder, in tenths of the closed-loop rate: the first step, and the highest tried. */
export const FIRST_STEP_TENTHS = 6
export const TOP_STEP_TENTHS = 10

/**
 * Steps up from 0.6 × `closedLoopRate` by 0.1 × until a step fails or 1.0 × passed (a closed loop with
 * every connection busy is already the most the server takes in); when the first step fails, steps
 * down instead until one passes. Returns the highest passing rate, if any.
 */
export async function searchSustainedRate(
  closedLoopRate: number,
  runStep: (offeredRate: number) => Promise<StepVerdict>,
): Promise<number | undefined> {
  const rateAt = (tenths: number): number => Math.round((closedLoopRate * tenths) / 10)
  if (!(await runStep(rateAt(FIRST_STEP_TENTHS))).passed) {
    for (let tenths = FIRST_STEP_TENTHS - 1; tenths >= 1; tenths--) {
      if ((await runStep(rateAt(tenths))).passed) return rateAt(tenths)
    }
    return undefined
  }
  let best = rateAt(FIRST_STEP_TENTHS)
  for (let tenths = FIRST_STEP_TENTHS + 1; tenths <= TOP_STEP_TENTHS; tenths++) {
    if (!(await runStep(rateAt(tenths))).passed) break
    best = rateAt(tenths)
  }
  return best
}
