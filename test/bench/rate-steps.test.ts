import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {searchSustainedRate, stepVerdict, type StepFigures} from '../../bench/lib/rate-steps.js'

const healthy: StepFigures = {
  offeredRate: 10_000,
  eventsAccepted: 400_000,
  elapsedSeconds: 40.1,
  answerP99Ms: 12,
  backendLagMaxSeconds: 0.05,
  drainSeconds: 0.1,
  complete: true,
}

describe('open-loop step verdict (performance notes §7.1)', () => {
  it('passes a step that kept up with what was offered', () => {
    assert.deepEqual(stepVerdict(healthy), {passed: true, reasons: []}, 'a healthy step passes')
  })

  it('fails a step whose answers came in more than 1% late', () => {
    const verdict = stepVerdict({...healthy, elapsedSeconds: 40.5})
    assert.equal(verdict.passed, false, '400,000 events in 40.5 s is 98.8% of 10,000/s')
    assert.match(verdict.reasons.join(), /accepted 98\.8%/, 'the reason names the share')
  })

  it('fails on a second of lag in front of the server, in its queue or in its drain', () => {
    for (const [change, pattern] of [
      [{answerP99Ms: 1000}, /HTTP answer p99 1000 ms/],
      [{backendLagMaxSeconds: 1.2}, /backend lag reached 1\.20 s/],
      [{drainSeconds: 1}, /needed 1\.00 s/],
      [{complete: false}, /incomplete/],
    ] as const) {
      const verdict = stepVerdict({...healthy, ...change})
      assert.equal(verdict.passed, false, `${JSON.stringify(change)} fails the step`)
      assert.match(verdict.reasons.join(), pattern, `${JSON.stringify(change)} is named`)
    }
  })

  it('does not fail for a backend lag never sampled (the peer has no lag metric)', () => {
    assert.equal(stepVerdict({...healthy, backendLagMaxSeconds: undefined}).passed, true, 'no lag figure')
  })
})

describe('sustained-rate search', () => {
  const search = async (limit: number): Promise<{rate: number | undefined; tried: number[]}> => {
    const tried: number[] = []
    const rate = await searchSustainedRate(30_000, async (offered) => {
      tried.push(offered)
      return {passed: offered <= limit, reasons: []}
    })
    return {rate, tried}
  }

  it('steps up by a tenth of the closed-loop rate until a step fails', async () => {
    assert.deepEqual(
      await search(25_000),
      {rate: 24_000, tried: [18_000, 21_000, 24_000, 27_000]},
      'the last passing step is the rate',
    )
  })

  it('stops at the closed-loop rate', async () => {
    assert.deepEqual(
      await search(50_000),
      {rate: 30_000, tried: [18_000, 21_000, 24_000, 27_000, 30_000]},
      'no step above the closed loop',
    )
  })

  it('steps down when the first step fails, and reports none when nothing passes', async () => {
    assert.deepEqual(await search(10_000), {rate: 9_000, tried: [18_000, 15_000, 12_000, 9_000]}, 'down')
    const none = await search(1_000)
    assert.equal(none.rate, undefined, 'no passing step')
    assert.equal(none.tried.at(-1), 3_000, 'tried down to a tenth')
  })
})
