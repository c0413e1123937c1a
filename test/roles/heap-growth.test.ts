import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {heapGrowthIsOurs, tuneHeapGrowthForBackend} from '../../src/roles/backend/heap-growth.js'

describe('backend heap growth', () => {
  it('is left to a node command line that sets the growing factor, in either spelling', () => {
    assert.equal(heapGrowthIsOurs(['--heap-growing-percent=50']), false)
    assert.equal(heapGrowthIsOurs(['--enable-source-maps', '--heap_growing_percent=0']), false)
    assert.equal(heapGrowthIsOurs(['--heap-growing-percent']), false)
  })

  it('is ours otherwise, including with unrelated heap flags', () => {
    assert.equal(heapGrowthIsOurs([]), true)
    assert.equal(heapGrowthIsOurs(['--max-old-space-size=4096', '--heap-growing-percentage-x']), true)
  })

  it('applies the flag only when it is ours', () => {
    assert.equal(tuneHeapGrowthForBackend(['--heap-growing-percent=10']), false)
    assert.equal(tuneHeapGrowthForBackend([]), true)
  })
})
