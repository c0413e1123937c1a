// The backend's event queue and its overload signal: bounded capacity, back-pressure promises when
// full ('wait'), counted drops with their reason ('drop'), unbounded mode, order, lag, batches held by
// the outputs, shutdown; then upstream's overload hold semantics (initial false, one true per
// overloaded period, false after holdDuration without overload).

import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {describe, it} from 'node:test'
import {emptyEvent, type NormalizedEvent} from '../../src/engine/index.js'
import {EventQueue, type DropReason, type EventQueueOptions} from '../../src/roles/backend/event-queue.js'
import {HandOffCancelledError, type PendingHandOff} from '../../src/roles/bus.js'
import {OverloadSignal} from '../../src/roles/backend/overload-signal.js'
import {FakeTimers} from './backend-rig.js'

/** One turn of the event loop's check phase: batches scheduled before this have run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function ev(id: number, rcvdMs = 0): NormalizedEvent {
  return {...emptyEvent(), eventId: String(id), rcvdTime: BigInt(rcvdMs) * 1_000_000n}
}

function queueOf(options: Partial<EventQueueOptions> & Pick<EventQueueOptions, 'capacity' | 'whenFull'>) {
  const seen: string[] = []
  const drops: [DropReason, number][] = []
  const queue = new EventQueue({
    handle: (event) => seen.push(event.eventId),
    onDrop: (reason, count) => drops.push([reason, count]),
    ...options,
  })
  return {queue, seen, drops}
}

describe('EventQueue', () => {
  it("drops and counts events beyond the capacity under 'drop', keeping order", async () => {
    const {queue, seen, drops} = queueOf({capacity: 4, whenFull: 'drop'})
    for (let i = 1; i <= 6; i++) assert.equal(queue.push(ev(i)), undefined)
    assert.equal(queue.depth, 4)
    assert.ok(queue.full, 'the queue reports full')
    assert.deepEqual(drops, [
      ['queue_full', 1],
      ['queue_full', 1],
    ])
    assert.deepEqual(queue.droppedBy(), {queue_full: 2, invalid: 0, shutdown: 0})
    assert.equal(await queue.drain(1000), true)
    assert.deepEqual(seen, ['1', '2', '3', '4'])
    assert.equal(queue.processed, 4)
    assert.equal(queue.depth, 0)
  })

  it("makes the sender wait when full under 'wait', then takes every event in order", async () => {
    const {queue, seen, drops} = queueOf({capacity: 2, whenFull: 'wait', batchSize: 1})
    const results = Array.from({length: 6}, (_, i) => queue.push(ev(i + 1)))
    assert.equal(results[0], undefined)
    assert.equal(results[1], undefined)
    for (const result of results.slice(2))
      assert.ok(result instanceof Promise, 'a full queue answers a promise')
    assert.equal(queue.depth, 2, 'never more than the capacity queued')
    assert.equal(queue.waiting, 4)

    let settled = 0
    for (const result of results.slice(2)) void (result as Promise<void>).then(() => settled++)
    await turn()
    await turn()
    assert.ok(queue.depth <= 2, `depth ${queue.depth} stays within the capacity`)
    assert.ok(settled >= 1, 'room made by a batch lets a waiting sender go on')
    await Promise.all(results)
    assert.equal(await queue.drain(1000), true)
    assert.deepEqual(seen, ['1', '2', '3', '4', '5', '6'])
    assert.deepEqual(drops, [])
  })

  it('is unbounded when the capacity is 0 (maxQueue 0), as upstream', async () => {
    const {queue, seen} = queueOf({capacity: 0, whenFull: 'drop'})
    for (let i = 0; i < 5000; i++) assert.equal(queue.push(ev(i)), undefined)
    assert.equal(queue.depth, 5000)
    assert.equal(queue.capacity, Infinity)
    assert.equal(await queue.drain(5000), true)
    assert.equal(seen.length, 5000)
    assert.ok(
      seen.every((id, i) => id === String(i)),
      'events come out in the order they went in',
    )
    assert.equal(queue.droppedTotal, 0)
  })

  it('reports the lag of the oldest queued event and of the last processed one', async () => {
    let now = 1_000_000
    const {queue} = queueOf({capacity: 10, whenFull: 'drop', nowMs: () => now})
    queue.push(ev(1, now - 4000))
    queue.push(ev(2, now - 1000))
    queue.push(ev(3)) // no rcvd_time: aged from when it was queued
    assert.equal(queue.oldestAgeMs(), 4000)
    assert.equal(queue.lagMs(), 4000)
    now += 500
    assert.equal(queue.oldestAgeMs(), 4500)
    await queue.drain(1000)
    assert.equal(queue.oldestAgeMs(), 0)
    assert.equal(queue.lastProcessedLagMs, 500, 'the last event had waited 500 ms since it was queued')

    queue.push(ev(4, now - 2500))
    await queue.drain(1000)
    assert.equal(queue.lastProcessedLagMs, 2500)
    assert.equal(queue.lagMs(), 2500, 'an empty queue reports the last processed lag')
  })

  it('holds the next batch while afterBatch waits (outputs catching up)', async () => {
    let release!: () => void
    const batches: number[] = []
    const {queue, seen} = queueOf({
      capacity: 100,
      whenFull: 'drop',
      batchSize: 2,
      afterBatch: (count) => {
        batches.push(count)
        return batches.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : undefined
      },
    })
    for (let i = 1; i <= 5; i++) queue.push(ev(i))
    for (let i = 0; i < 5; i++) await turn()
    assert.deepEqual(seen, ['1', '2'], 'the second batch waits for the first one’s afterBatch')
    release()
    assert.equal(await queue.drain(1000), true)
    assert.deepEqual(seen, ['1', '2', '3', '4', '5'])
    assert.deepEqual(batches, [2, 2, 1])
  })

  it('keeps going when an event throws, counting it as failed', async () => {
    const errors: string[] = []
    const seen: string[] = []
    const queue = new EventQueue({
      capacity: 10,
      whenFull: 'drop',
      handle: (event) => {
        if (event.eventId === '2') throw new Error('boom')
        seen.push(event.eventId)
      },
      onError: (event, error) => errors.push(`${event.eventId}: ${(error as Error).message}`),
    })
    for (let i = 1; i <= 3; i++) queue.push(ev(i))
    await queue.drain(1000)
    assert.deepEqual(seen, ['1', '3'])
    assert.deepEqual(errors, ['2: boom'])
    assert.equal(queue.failed, 1)
    assert.equal(queue.processed, 3)
  })

  it('takes back a waiting event on cancel (never processed), and ignores cancel once it was taken', async () => {
    let release!: () => void
    const seen: string[] = []
    const queue = new EventQueue({
      capacity: 1,
      whenFull: 'wait',
      batchSize: 1,
      handle: (event) => seen.push(event.eventId),
      afterBatch: () => new Promise<void>((resolve) => (release = resolve)),
    })
    assert.equal(queue.push(ev(1)), undefined)
    await turn() // 1 processed, the next batch held
    assert.equal(queue.push(ev(2)), undefined, 'room for one')
    const third = queue.push(ev(3)) as PendingHandOff
    const fourth = queue.push(ev(4)) as PendingHandOff
    assert.equal(typeof third.cancel, 'function', 'a waiting push can be cancelled')
    assert.equal(queue.waiting, 2)
    third.cancel()
    third.cancel() // twice is harmless
    await assert.rejects(third, HandOffCancelledError)
    assert.equal(queue.waiting, 1, 'the cancelled event no longer waits')

    release()
    await fourth // admitted: too late to cancel now
    fourth.cancel()
    for (let i = 0; i < 20 && seen.length < 3; i++) {
      await turn()
      release()
    }
    assert.equal(await queue.drain(1000), true, 'a cancelled waiter does not hold up the drain')
    assert.deepEqual(seen, ['1', '2', '4'], 'the cancelled event never reached the handler')
    assert.deepEqual(queue.droppedBy(), {queue_full: 0, invalid: 0, shutdown: 0}, 'cancelled is not dropped')
  })

  it('counts events refused after close, and those given up on after a drain timeout', async () => {
    const {queue, drops} = queueOf({capacity: 2, whenFull: 'wait'})
    queue.close()
    queue.push(ev(1))
    assert.deepEqual(drops, [['shutdown', 1]])

    let release!: () => void
    const held = new EventQueue({
      capacity: 2,
      whenFull: 'wait',
      batchSize: 1,
      handle: () => {},
      afterBatch: () => new Promise<void>((resolve) => (release = resolve)),
    })
    const pending = [1, 2, 3, 4].map((i) => held.push(ev(i)))
    assert.equal(await held.drain(20), false, 'the drain times out while a batch is held')
    assert.equal(held.discardRemaining('shutdown'), 3, 'one queued after the first batch, two waiting')
    assert.deepEqual(held.droppedBy(), {queue_full: 0, invalid: 0, shutdown: 3})
    await Promise.all(pending) // waiting senders are released, not left hanging
    release()
  })
})

describe('OverloadSignal', () => {
  it('sends false at start, true once per overloaded period, false after holdDuration without overload', () => {
    const sent: boolean[] = []
    const timers = new FakeTimers()
    const signal = new OverloadSignal({holdMs: 10_000, publish: (v) => sent.push(v), timers})
    signal.start()
    assert.deepEqual(sent, [false])

    signal.trigger()
    signal.trigger()
    timers.advance(4000)
    signal.trigger()
    assert.deepEqual(sent, [false, true], 'repeated overloads send true only once')
    timers.advance(9000)
    assert.deepEqual(sent, [false, true], 'the window restarts at every overload')
    timers.advance(1000)
    assert.deepEqual(sent, [false, true, false], 'false once holdDuration passed without overload')
    assert.equal(signal.overloaded, false)
    assert.equal(timers.pending, 0)

    signal.trigger()
    assert.deepEqual(sent, [false, true, false, true])
    signal.stop()
    timers.advance(60_000)
    assert.deepEqual(sent, [false, true, false, true], 'nothing is sent after stop')
  })

  it('works with real timers and a short hold', async () => {
    const sent: boolean[] = []
    const signal = new OverloadSignal({holdMs: 200, publish: (v) => sent.push(v)})
    signal.start()
    signal.trigger()
    await sleep(120)
    signal.trigger()
    await sleep(100)
    assert.deepEqual(sent, [false, true], 'still overloaded: the second trigger restarted the hold')
    await sleep(300)
    assert.deepEqual(sent, [false, true, false])
    signal.stop()
  })
})
