// A bounded fuzz run in every test suite run: mutated and random frames through the whole sensor, and
// mutated capture files through the readers. No crash, no hang; malformed input becomes weird records
// or a typed input error. `npm run fuzz` runs the same harness for longer.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {fuzzSensor} from '../helpers/sensor-fuzz.js'

describe('sensor fuzzing (bounded)', () => {
  it('survives mutated and random frames and capture files', {timeout: 120_000}, () => {
    const stats = fuzzSensor(20261121, 300)
    assert.ok(stats.frames > 10_000, `frames pushed through the pipeline (${stats.frames})`)
    assert.ok(stats.records > 1000, `records still written from what was valid (${stats.records})`)
    assert.equal(
      stats.files + stats.typedFileErrors,
      300,
      'every mutated file read or refused with a typed error',
    )
  })
})
