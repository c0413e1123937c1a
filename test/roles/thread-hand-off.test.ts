// The main thread's hand-off to the standalone backend thread: one message per loop turn, credit-based
// back-pressure that keeps the queue's 'wait' promise (resolved = handed over, cancel = never handed
// over), release at stop, and failure once the thread is gone.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {NormalizedEvent} from '../../src/engine/index.js'
import {ThreadHandOff} from '../../src/roles/backend/thread-hand-off.js'
import {BusUnavailableError, HandOffCancelledError, type PendingHandOff} from '../../src/roles/bus.js'
import {event} from '../helpers/engine-harness.js'

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A hand-off whose batches go at the end of each loop turn (batchDelayMs 0), unless told otherwise. */
function handOff(
  capacity: number,
  options: {batchDelayMs?: number; maxBatch?: number} = {},
): {hand: ThreadHandOff; batches: string[][]} {
  const batches: string[][] = []
  const hand = new ThreadHandOff({
    capacity,
    send: (events: NormalizedEvent[]) => batches.push(events.map((e) => e.eventId)),
    batchDelayMs: 0,
    ...options,
  })
  return {hand, batches}
}

function mustWait(result: void | PendingHandOff, what: string): PendingHandOff {
  assert.ok(result !== undefined, `${what} must wait for room`)
  return result
}

describe('ThreadHandOff', () => {
  it('sends the events of one loop turn as one batch, in order', async () => {
    const {hand, batches} = handOff(Infinity)
    for (const id of ['a', 'b', 'c']) assert.equal(hand.offer(event({eventId: id})), undefined)
    assert.deepEqual(batches, [], 'nothing is posted before the turn ends')
    await turn()
    hand.offer(event({eventId: 'd'}))
    await turn()
    assert.deepEqual(batches, [['a', 'b', 'c'], ['d']])
    assert.equal(hand.outstanding, 4)
  })

  it('gathers events for batchDelayMs across loop turns, and sends a full batch at once', async () => {
    const {hand, batches} = handOff(Infinity, {batchDelayMs: 50, maxBatch: 3})
    hand.offer(event({eventId: 'a'}))
    await turn()
    hand.offer(event({eventId: 'b'}))
    assert.deepEqual(batches, [], 'a loop turn later, still gathering')
    await new Promise((resolve) => setTimeout(resolve, 80))
    assert.deepEqual(batches, [['a', 'b']], 'sent once the delay is over')
    for (const id of ['c', 'd', 'e']) hand.offer(event({eventId: id}))
    assert.deepEqual(
      batches,
      [
        ['a', 'b'],
        ['c', 'd', 'e'],
      ],
      'a full batch goes without waiting',
    )
    hand.offer(event({eventId: 'f'}))
    hand.flush()
    assert.deepEqual(batches.at(-1), ['f'], 'flush() sends what was gathered at once')
  })

  it('holds what does not fit the credit, and hands it over in order as the engine takes events', async () => {
    const {hand, batches} = handOff(2)
    hand.offer(event({eventId: 'a'}))
    hand.offer(event({eventId: 'b'}))
    assert.equal(hand.full, true)
    const settled: string[] = []
    const c = mustWait(hand.offer(event({eventId: 'c'})), 'c')
    const d = mustWait(hand.offer(event({eventId: 'd'})), 'd')
    void c.then(() => settled.push('c'))
    void d.then(() => settled.push('d'))
    assert.equal(hand.waiting, 2)
    await turn()
    assert.deepEqual(batches, [['a', 'b']])
    hand.taken(1)
    await turn()
    assert.deepEqual(settled, ['c'], 'one credit back: the first waiter goes, the second still waits')
    assert.deepEqual(batches, [['a', 'b'], ['c']])
    hand.taken(2)
    await turn()
    assert.deepEqual(settled, ['c', 'd'])
    assert.deepEqual(batches, [['a', 'b'], ['c'], ['d']])
    assert.equal(hand.waiting, 0)
    assert.equal(hand.outstanding, 1)
  })

  it('a new event queues behind waiting ones even when a credit came back meanwhile', async () => {
    const {hand, batches} = handOff(1)
    hand.offer(event({eventId: 'a'}))
    const b = mustWait(hand.offer(event({eventId: 'b'})), 'b')
    hand.taken(1)
    await b
    mustWait(hand.offer(event({eventId: 'c'})), 'c behind b, which took the credit')
    await turn()
    assert.deepEqual(batches, [['a', 'b']])
  })

  it('cancel() before the hand-over takes the event back for good; after it, cancel does nothing', async () => {
    const {hand, batches} = handOff(1)
    hand.offer(event({eventId: 'a'}))
    const b = mustWait(hand.offer(event({eventId: 'b'})), 'b')
    const c = mustWait(hand.offer(event({eventId: 'c'})), 'c')
    b.cancel()
    await assert.rejects(b, HandOffCancelledError)
    assert.equal(hand.waiting, 1)
    hand.taken(1)
    await c
    c.cancel()
    await turn()
    assert.deepEqual(batches, [['a', 'c']], 'the cancelled event never reaches the thread')
  })

  it('release() hands over everything still waiting, room or not (stop: the thread drains it)', async () => {
    const {hand, batches} = handOff(1)
    hand.offer(event({eventId: 'a'}))
    const b = mustWait(hand.offer(event({eventId: 'b'})), 'b')
    const c = mustWait(hand.offer(event({eventId: 'c'})), 'c')
    hand.release()
    await Promise.all([b, c])
    assert.deepEqual(batches, [['a', 'b', 'c']], 'posted at once, not at the end of the turn')
  })

  it('fail(): waiting senders and later offers hear BusUnavailableError; events in flight are reported lost', async () => {
    const {hand, batches} = handOff(2)
    hand.offer(event({eventId: 'a'}))
    hand.offer(event({eventId: 'b'}))
    await turn()
    const c = mustWait(hand.offer(event({eventId: 'c'})), 'c')
    hand.taken(1)
    await c
    const d = mustWait(hand.offer(event({eventId: 'd'})), 'd')
    assert.equal(hand.fail('the backend thread exited (code 1)'), 2, 'b and c were handed over, not taken')
    await assert.rejects(d, BusUnavailableError)
    assert.throws(() => hand.offer(event({eventId: 'e'})), /the backend thread exited \(code 1\)/)
    await turn()
    assert.deepEqual(batches, [['a', 'b']], 'c was batched when the thread went: never posted')
  })
})
