// Upstream's S1 over real HTTP (handler_test.go and the recorded runs): the status codes and bodies of
// POST /events in upstream's order of checks, rcvd_time/conn_id stamping, the hand-off timeout (408),
// a closed bus (503), the EPS limiter (429), and the NDJSON bulk endpoint's per-line report.

import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {EventQueue} from '../../src/roles/backend/event-queue.js'
import {send, startFrontendHarness, type FrontendHarness} from '../helpers/frontend-harness.js'
import {S1_CASES, WITH_PLUGIN, WITH_TAXONOMY} from '../helpers/upstream-tables.js'

interface BulkSummary {
  accepted: number
  rejected: number
  errors: {line: number; status: number; error: string}[]
}

/** POST /events/bulk: the answer's status, its summary, and the summary's errors as [line, status]. */
async function postBulk(
  h: FrontendHarness,
  body: string,
): Promise<{status: number; summary: BulkSummary; errors: number[][]}> {
  const response = await send(h.base, 'POST', '/events/bulk', body)
  const summary = JSON.parse(response.body) as BulkSummary
  return {status: response.status, summary, errors: summary.errors.map((e) => [e.line, e.status])}
}

describe('POST /events (S1)', () => {
  let h: FrontendHarness
  before(async () => {
    h = await startFrontendHarness({frontend: {wallClockNs: () => 1_700_000_000_123_456_789n}})
  })
  after(async () => {
    await h.close()
  })

  for (const [name, body, status, text] of S1_CASES) {
    it(`${name} → ${status}`, async () => {
      const response = await send(h.base, 'POST', '/events', body, {'content-type': 'application/json'})
      assert.equal(response.status, status)
      assert.equal(response.body, text)
      assert.equal(response.headers['server'], 'dsiem')
    })
  }

  it('stamps rcvd_time and a rising conn_id on accepted events, which reach the bus', async () => {
    h.events.length = 0
    const first = await send(
      h.base,
      'POST',
      '/events',
      JSON.stringify({...WITH_PLUGIN, event_id: 'a', conn_id: 77}),
    )
    const second = await send(h.base, 'POST', '/events/', JSON.stringify({...WITH_TAXONOMY, event_id: 'b'}))
    assert.equal(first.status, 200)
    assert.equal(second.status, 200, 'POST /events/ is accepted directly (upstream: 307)')
    assert.deepEqual(
      h.events.map((e) => e.eventId),
      ['a', 'b'],
    )
    const [a, b] = h.events
    assert.equal(a!.rcvdTime, 1_700_000_000_123_456_789n)
    assert.ok(a!.connId !== 77, 'conn_id from the client is overwritten')
    assert.ok(b!.connId > a!.connId, `conn_id rises (${a!.connId} → ${b!.connId})`)
    assert.equal(a!.pluginId, 1001)
    assert.equal(b!.product, 'IDS')
  })

  it('every request, refused ones included, counts in conn_id (upstream increments before parsing)', async () => {
    h.events.length = 0
    await send(h.base, 'POST', '/events', JSON.stringify({...WITH_PLUGIN, event_id: 'x'}))
    await send(h.base, 'POST', '/events', 'garbage')
    await send(h.base, 'POST', '/events', JSON.stringify({...WITH_PLUGIN, event_id: 'y'}))
    const [x, y] = h.events
    assert.equal(y!.connId - x!.connId, 2)
  })

  it('counts outcomes by status in status() and in the metrics', async () => {
    const detail = h.frontend.status().detail as {byStatus: Record<string, number>; accepted: number}
    assert.ok((detail.byStatus['500'] ?? 0) >= 3, `500s counted: ${JSON.stringify(detail.byStatus)}`)
    assert.ok((detail.byStatus['418'] ?? 0) >= 3, `418s counted: ${JSON.stringify(detail.byStatus)}`)
    assert.equal(detail.accepted, detail.byStatus['200'])
    const text = await h.metrics.render()
    assert.match(text, /dsiem_events_received_total\{status="418",node="test-node"\} \d+/)
  })

  it('other methods on /events → 405, unknown paths → 404', async () => {
    assert.equal((await send(h.base, 'GET', '/events')).status, 405)
    assert.equal((await send(h.base, 'POST', '/nope')).status, 404)
  })
})

describe('POST /events hand-off to the bus', () => {
  it('a hand-off blocked past the timeout → 408; a closed bus → 503', async () => {
    const h = await startFrontendHarness({frontend: {publishTimeoutMs: 150}})
    try {
      let release: (() => void) | undefined
      h.setHandler(() => new Promise<void>((resolve) => (release = resolve)))
      const blocked = await send(h.base, 'POST', '/events', JSON.stringify(WITH_PLUGIN))
      assert.equal(blocked.status, 408)
      assert.equal(blocked.body, '')
      release?.()

      h.setHandler(() => Promise.resolve())
      const slowButInTime = await send(h.base, 'POST', '/events', JSON.stringify(WITH_PLUGIN))
      assert.equal(slowButInTime.status, 200, 'a back-pressured hand-off that completes in time → 200')

      await h.bus.close()
      const down = await send(h.base, 'POST', '/events', JSON.stringify(WITH_PLUGIN))
      assert.equal(down.status, 503)
      assert.ok(
        h.logs.messages('INFO').some((m) => m.startsWith('Error from message queue')),
        'the bus error is logged',
      )
    } finally {
      await h.close()
    }
  })
})

describe('a hand-off that times out is withdrawn (no duplicate when the client retries)', () => {
  /** The backend's real queue behind the bus: capacity 1, 'wait' when full, batches held until release. */
  async function withHeldQueue(
    run: (h: FrontendHarness, processed: string[], release: () => void) => Promise<void>,
  ): Promise<string[]> {
    const h = await startFrontendHarness({frontend: {publishTimeoutMs: 150}})
    const processed: string[] = []
    let gate: (() => void) | undefined
    const queue = new EventQueue({
      capacity: 1,
      whenFull: 'wait',
      batchSize: 1,
      handle: (event) => processed.push(event.eventId),
      afterBatch: () => new Promise<void>((resolve) => (gate = resolve)),
    })
    h.setHandler(queue.push)
    const release = (): void => {
      const open = gate
      gate = undefined
      open?.()
    }
    try {
      await run(h, processed, release)
      // Keep opening the gate until everything that was taken went through.
      const pump = setInterval(release, 5)
      const drained = await queue.drain(2000)
      clearInterval(pump)
      assert.equal(drained, true, 'the queue drains')
      return processed
    } finally {
      await h.close()
    }
  }
  const post = (h: FrontendHarness, id: string) =>
    send(h.base, 'POST', '/events', JSON.stringify({...WITH_PLUGIN, event_id: id}))

  it('POST /events: after a 408 the event is never processed; the retry is processed once', async () => {
    const processed = await withHeldQueue(async (h, _processed, release) => {
      assert.equal((await post(h, 'a')).status, 200, 'taken and processed; the next batch is held')
      assert.equal((await post(h, 'b')).status, 200, 'queued')
      assert.equal((await post(h, 'c')).status, 408, 'the queue is full past the timeout')
      release()
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.equal((await post(h, 'c')).status, 200, 'the client retries')
    })
    assert.deepEqual(processed, ['a', 'b', 'c'], 'c once: the timed-out hand-off was withdrawn')
  })

  it('POST /events/bulk: the line that timed out and the lines after it are never processed', async () => {
    const processed = await withHeldQueue(async (h, processed) => {
      assert.equal((await post(h, 'a')).status, 200)
      const body = ['b', 'c', 'd'].map((id) => JSON.stringify({...WITH_PLUGIN, event_id: id})).join('\n')
      const {summary, errors} = await postBulk(h, body)
      assert.equal(summary.accepted, 1)
      assert.deepEqual(errors, [
        [2, 408],
        [3, 408],
      ])
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.deepEqual(processed, ['a'], 'b still waits for its batch')
    })
    assert.deepEqual(processed, ['a', 'b'], 'once the queue moves: b, never c (cancelled) nor d (not sent)')
  })
})

describe('EPS limiter at the endpoint', () => {
  it('maxEps 5 / minEps 1 and 30 parallel posts → mostly 429, as many 200s as the bucket allows', async () => {
    const h = await startFrontendHarness({config: {maxEps: 5, minEps: 1}})
    try {
      const bodies = Array.from({length: 30}, (_, i) => JSON.stringify({...WITH_PLUGIN, event_id: `p${i}`}))
      const started = performance.now()
      const responses = await Promise.all(bodies.map((body) => send(h.base, 'POST', '/events', body)))
      const elapsed = performance.now() - started
      const ok = responses.filter((r) => r.status === 200).length
      const limited = responses.filter((r) => r.status === 429)
      assert.equal(ok + limited.length, 30, 'only 200 and 429')
      // Limit 3/s, burst 5: 5 at once plus 9 within the 3 s wait; a few more if arrivals spread out.
      const earned = Math.floor((elapsed / 1000) * 3)
      assert.ok(ok >= 14 && ok <= 14 + earned + 1, `accepted ${ok} in ${Math.round(elapsed)} ms`)
      assert.ok(limited.length > 15 - earned, `mostly 429 (${limited.length})`)
      assert.equal(limited[0]!.body, 'Too many requests\n')
      assert.equal(h.events.length, ok, 'every 200 reached the bus')
    } finally {
      await h.close()
    }
  })

  it('invalid requests spend tokens too (the limiter runs before parsing)', async () => {
    const h = await startFrontendHarness({config: {maxEps: 2, minEps: 1}, frontend: {limiterWaitMs: 0}})
    try {
      // Burst 2: two garbage posts use both tokens, the valid one finds none.
      assert.equal((await send(h.base, 'POST', '/events', 'garbage')).status, 500)
      assert.equal((await send(h.base, 'POST', '/events', '{}')).status, 418)
      assert.equal((await send(h.base, 'POST', '/events', JSON.stringify(WITH_PLUGIN))).status, 429)
    } finally {
      await h.close()
    }
  })
})

describe('POST /events/bulk', () => {
  const line = (id: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({...WITH_PLUGIN, event_id: id, ...extra})

  it('reports rejected lines by number and puts every good line on the bus in order', async () => {
    const h = await startFrontendHarness()
    try {
      const body = [
        line('b1'),
        'garbage',
        '',
        line('b2', {plugin_sid: 0}),
        line('b3') + '\r',
        '{}',
        line('b4'),
        '',
      ].join('\n')
      const {status, summary, errors} = await postBulk(h, body)
      assert.equal(status, 200)
      assert.equal(summary.accepted, 3)
      assert.equal(summary.rejected, 3)
      assert.deepEqual(errors, [
        [2, 500],
        [4, 418],
        [6, 418],
      ])
      assert.match(summary.errors[0]!.error, /^Cannot parse the submitted event: /)
      assert.deepEqual(
        h.events.map((e) => e.eventId),
        ['b1', 'b3', 'b4'],
      )
      const ids = h.events.map((e) => e.connId)
      assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `conn_ids rise: ${ids.join(',')}`)
      assert.ok(
        h.events.every((e) => e.rcvdTime > 0n),
        'rcvd_time set',
      )
      const detail = h.frontend.status().detail as {accepted: number; rejected: number}
      assert.equal(detail.accepted, 3)
      assert.equal(detail.rejected, 3)
    } finally {
      await h.close()
    }
  })

  it('spends one token per line: lines beyond the bucket are 429, none at all → 429', async () => {
    const h = await startFrontendHarness({config: {maxEps: 4, minEps: 2}, frontend: {limiterWaitMs: 0}})
    try {
      const body = Array.from({length: 6}, (_, i) => line(`t${i}`)).join('\n')
      const {status, summary, errors} = await postBulk(h, body)
      assert.equal(status, 200)
      assert.equal(summary.accepted, 4, 'burst 4')
      assert.deepEqual(errors, [
        [5, 429],
        [6, 429],
      ])
      const second = await send(h.base, 'POST', '/events/bulk', body)
      assert.equal(second.status, 429)
      assert.equal((JSON.parse(second.body) as {rejected: number}).rejected, 6)
    } finally {
      await h.close()
    }
  })

  it('bus down before anything was accepted → 503 with every line listed', async () => {
    const h = await startFrontendHarness()
    try {
      await h.bus.close()
      const {status, summary, errors} = await postBulk(h, [line('d1'), 'garbage', line('d2')].join('\n'))
      assert.equal(status, 503)
      assert.equal(summary.accepted, 0)
      assert.deepEqual(errors, [
        [1, 503],
        [2, 500],
        [3, 503],
      ])
    } finally {
      await h.close()
    }
  })

  it('a stalled hand-off marks that line and the later valid lines 408', async () => {
    const h = await startFrontendHarness({frontend: {publishTimeoutMs: 100}})
    try {
      let n = 0
      h.setHandler(() => (++n === 2 ? new Promise<void>(() => {}) : undefined))
      const {status, summary, errors} = await postBulk(h, [line('s1'), line('s2'), line('s3')].join('\n'))
      assert.equal(status, 200)
      assert.equal(summary.accepted, 1)
      assert.deepEqual(errors, [
        [2, 408],
        [3, 408],
      ])
    } finally {
      await h.close()
    }
  })

  it('an empty body is an empty report', async () => {
    const h = await startFrontendHarness()
    try {
      const response = await send(h.base, 'POST', '/events/bulk', '\n\n')
      assert.equal(response.status, 200)
      assert.deepEqual(JSON.parse(response.body), {accepted: 0, rejected: 0, errors: []})
    } finally {
      await h.close()
    }
  })
})
