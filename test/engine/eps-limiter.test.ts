// The EPS limiter keeps upstream's arithmetic (limiter_test.go TestNew/TestModif) and
// golang.org/x/time/rate's token bucket: starts full at burst = maxEPS, refills at the limit, hands out
// reservations up to the wait deadline and refuses (taking nothing) beyond it.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {ConfigError} from '../../src/engine/errors.js'
import {EpsLimiter} from '../../src/engine/eps-limiter.js'

function limiter(max: number, min: number, now = 0): EpsLimiter {
  const created = EpsLimiter.create(max, min, now)
  assert.ok(created !== undefined, `a limiter for max ${max} min ${min}`)
  return created
}

describe('EpsLimiter', () => {
  it('is created only when both bounds are non-zero; min > max is a config error (TestNew)', () => {
    assert.equal(EpsLimiter.create(0, 0, 0), undefined)
    assert.equal(EpsLimiter.create(1000, 0, 0), undefined)
    assert.throws(() => EpsLimiter.create(0, 1, 0), ConfigError)
    assert.throws(() => EpsLimiter.create(5, 6, 0), /MinEPS cannot be larger than MaxEPS/)
    assert.throws(() => EpsLimiter.create(-1, -2, 0), ConfigError)
    assert.equal(limiter(1, 1).limit(), 1)
  })

  it('starts at max − floor((max − min)/2) with burst max', () => {
    assert.equal(limiter(1000, 100).limit(), 550)
    assert.equal(limiter(5, 1).limit(), 3)
    assert.equal(limiter(5, 1).burst, 5)
  })

  it('TestModif: 300, lower → 260, raise → 264, ≥100 lowers → 100, ≥100 raises → 500', () => {
    const l = limiter(500, 100)
    assert.equal(l.limit(), 300)
    assert.equal(l.lower(0), 260)
    assert.equal(l.raise(0), 264)
    for (let i = 0; i <= 100; i++) l.lower(0)
    assert.equal(l.limit(), 100)
    for (let i = 0; i <= 100; i++) l.raise(0)
    assert.equal(l.limit(), 500)
  })

  it('adjust() lowers while overloaded and raises otherwise, reporting the change', () => {
    const l = limiter(1000, 100)
    assert.deepEqual(l.adjust(false, 0), {overloaded: false, from: 550, to: 559})
    assert.deepEqual(l.adjust(true, 0), {overloaded: true, from: 559, to: 469})
  })

  it('hands out the full burst at once, then one token per 1/limit s', () => {
    const l = limiter(5, 1) // limit 3/s, burst 5
    for (let i = 0; i < 5; i++) assert.equal(l.reserve(0, 0), 0, `burst token ${i}`)
    assert.equal(l.reserve(0, 0), undefined, 'no token without waiting')
    assert.ok(Math.abs(l.availableInMs(0) - 1000 / 3) < 1e-6, 'next token in 1/3 s')
    assert.equal(l.reserve(400, 0), 0, 'refilled after 400 ms')
    assert.equal(l.reserve(400, 0), undefined, 'only one token refilled')
  })

  it('reserves ahead up to the deadline and refuses beyond it without taking anything', () => {
    const l = limiter(5, 1) // limit 3/s, burst 5: 5 now + 9 within 3 s
    let granted = 0
    let refused = 0
    let lastWait = 0
    for (let i = 0; i < 30; i++) {
      const wait = l.reserve(0, 3000)
      if (wait === undefined) refused++
      else {
        granted++
        lastWait = wait
      }
    }
    assert.equal(granted, 14)
    assert.equal(refused, 16)
    assert.ok(Math.abs(lastWait - 3000) < 1e-6, `the last token is due in 3 s (${lastWait})`)
    // Refusals took nothing: after 3 s the debt is paid and exactly one more second refills 3 tokens.
    assert.equal(l.reserveUpTo(10, 4000, 0).granted, 3)
  })

  it('reserveUpTo grants as many tokens as the deadline allows, like repeated reserve()', () => {
    const a = limiter(500, 100) // 300/s, burst 500
    const b = limiter(500, 100)
    const bulk = a.reserveUpTo(2000, 0, 3000)
    let single = 0
    let wait = 0
    for (let i = 0; i < 2000; i++) {
      const w = b.reserve(0, 3000)
      if (w !== undefined) {
        single++
        wait = w
      }
    }
    assert.equal(bulk.granted, 1400)
    assert.equal(single, 1400)
    assert.ok(Math.abs(bulk.waitMs - wait) < 1e-6, 'same wait for the last token')
  })

  it('a new limit applies from now; tokens earned at the old rate are kept', () => {
    const l = limiter(500, 100)
    l.reserveUpTo(500, 0, 0) // empty the bucket
    l.lower(1000) // 1 s at 300/s earned 300 tokens, then 260/s
    assert.equal(l.reserveUpTo(1000, 1000, 0).granted, 300)
    assert.equal(l.reserveUpTo(1000, 2000, 0).granted, 260)
  })
})
