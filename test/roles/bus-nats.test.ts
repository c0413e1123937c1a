// The NATS event bus against real nats-server processes: upstream's legacy wire format byte for byte
// (a raw nats.js client plays the upstream Go frontend/backend), routed subjects with awkward taxonomy
// values and exactly-once delivery, garbage on the subjects, NATS down at start / mid-run, ordered
// back-pressure, and the refusals that keep one bad event from killing the connection.

import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'
import type {NatsConnection} from '@nats-io/transport-node'
import {emptyEvent, serializeEvent, type NormalizedEvent} from '../../src/engine/index.js'
import {ConfigError, InputError} from '../../src/engine/errors.js'
import {BusUnavailableError, type EventBus} from '../../src/roles/bus.js'
import {connectNatsBus, parseNatsUrl, type NatsBusOptions} from '../../src/roles/io/bus.js'
import {createLogger, silentLogger} from '../../src/roles/io/log.js'
import {createMetrics} from '../../src/roles/io/metrics.js'
import {startNatsServer} from '../../src/roles/io/nats-server.js'
import {LEGACY_SUBJECTS, SUBJECTS, routedEventSubject} from '../../src/roles/io/subjects.js'
import {TEST_RETRY_MS, freePort, rawConnect, useNatsServer, waitFor, waitForStatus} from '../helpers/nats.js'
import {EVENT_JSON_KEYS} from '../helpers/raw-json.js'

function event(id: string, fields: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return {
    ...emptyEvent(),
    eventId: id,
    timestamp: '2018-10-08T07:16:50Z',
    sensor: 'sensor1',
    srcIp: '10.0.0.1',
    dstIp: '8.8.8.8',
    pluginId: 1001,
    pluginSid: 2,
    ...fields,
  }
}

function capturingLogger(): {log: ReturnType<typeof createLogger>; messages: () => string[]} {
  const lines: string[] = []
  return {
    log: createLogger({level: 'debug', write: (line) => lines.push(line)}),
    messages: () => lines.map((line) => (JSON.parse(line) as {msg: string}).msg),
  }
}

/** Buses opened by a test, closed after it even when it fails. */
function busPool(): {
  open(url: string, mode: 'routed' | 'legacy', extra?: Partial<NatsBusOptions>): Promise<EventBus>
  raw(url: string): Promise<NatsConnection>
  closeAll(): Promise<void>
} {
  const buses: EventBus[] = []
  const raws: NatsConnection[] = []
  return {
    async open(url, mode, extra = {}) {
      const bus = await connectNatsBus({
        url,
        mode,
        name: 'test',
        log: silentLogger,
        retryWaitMs: TEST_RETRY_MS,
        ...extra,
      })
      buses.push(bus)
      return bus
    },
    async raw(url) {
      const nc = await rawConnect(url)
      raws.push(nc)
      return nc
    },
    async closeAll() {
      await Promise.all(buses.splice(0).map((bus) => bus.close()))
      await Promise.all(raws.splice(0).map((nc) => nc.close()))
    },
  }
}

/** Collects what a raw subscriber sees on a subject, as text. */
function rawCollect(nc: NatsConnection, subject: string): {subject: string; text: string}[] {
  const seen: {subject: string; text: string}[] = []
  nc.subscribe(subject, {
    callback: (_error, msg) => void seen.push({subject: msg.subject, text: msg.string()}),
  })
  return seen
}

describe('NATS bus: legacy mode speaks upstream Dsiem', () => {
  const nats = useNatsServer()
  const pool = busPool()
  after(() => pool.closeAll())

  it('publishes Go json.Marshal bytes of the event on dsiem_events, in upstream key order', async () => {
    const observer = await pool.raw(nats.server.url)
    const seen = rawCollect(observer, LEGACY_SUBJECTS.events)
    await observer.flush()
    const bus = await pool.open(nats.server.url, 'legacy')
    await waitForStatus(bus, true)

    const golden = event('1001', {pluginId: 0, pluginSid: 0})
    const full = event('full', {
      connId: 42,
      title: 'SSH "brute" <force> & more',
      product: 'OpenSSH',
      category: 'Authentication',
      subcategory: 'Failed',
      srcPort: 51000,
      dstPort: 22,
      protocol: 'TCP',
      customData1: 'ü日本',
      customLabel1: 'user',
      customData2: 'd2',
      customLabel2: 'l2',
      customData3: 'd3',
      customLabel3: 'l3',
      rcvdTime: 1539000000123456789n,
      traceParent: '00-abc-def-01',
      traceState: 'x=y',
    })
    bus.publishEvent(golden)
    bus.publishEvent(full)
    await bus.flush()
    await waitFor(() => seen.length === 2, 'two events on dsiem_events')

    assert.equal(
      seen[0]!.text,
      '{"event_id":"1001","timestamp":"2018-10-08T07:16:50Z","sensor":"sensor1","src_ip":"10.0.0.1","src_port":0,"dst_ip":"8.8.8.8","dst_port":0,"protocol":""}',
      'upstream event.golden bytes',
    )
    assert.equal(seen[1]!.text, serializeEvent(full))
    const keys = [...seen[1]!.text.matchAll(/"([a-z_0-9]+)":/g)].map((m) => m[1])
    assert.deepEqual(keys, EVENT_JSON_KEYS)
    assert.match(seen[1]!.text, /"rcvd_time":1539000000123456789,/)
    assert.match(
      seen[1]!.text,
      /"title":"SSH \\"brute\\" \\u003cforce\\u003e \\u0026 more"/,
      'Go escapes <, > and &',
    )
    assert.ok(
      seen.every((s) => s.subject === 'dsiem_events'),
      'legacy events travel on dsiem_events only',
    )
  })

  it('publishes overload signals as the JSON literals true and false on dsiem_overload_signals', async () => {
    const observer = await pool.raw(nats.server.url)
    const seen = rawCollect(observer, LEGACY_SUBJECTS.overload)
    await observer.flush()
    const bus = await pool.open(nats.server.url, 'legacy')
    await waitForStatus(bus, true)
    bus.publishOverload(true)
    bus.publishOverload(false)
    await bus.flush()
    await waitFor(() => seen.length === 2, 'two overload signals')
    assert.deepEqual(
      seen.map((s) => s.text),
      ['true', 'false'],
    )
  })

  it('understands what an upstream Go frontend and backend publish', async () => {
    const bus = await pool.open(nats.server.url, 'legacy')
    await waitForStatus(bus, true)
    const events: NormalizedEvent[] = []
    const signals: boolean[] = []
    const invalid: string[] = []
    bus.subscribeEvents(
      {kind: 'all'},
      (e) => void events.push(e),
      (reason) => invalid.push(reason),
    )
    bus.subscribeOverload((overloaded) => signals.push(overloaded))
    await bus.flush()

    const upstreamNode = await pool.raw(nats.server.url)
    // What upstream's frontend sends: conn_id and rcvd_time set, Go's escaping.
    const fromGo =
      '{"conn_id":3,"event_id":"e-1","timestamp":"2018-10-08T07:16:50Z","title":"a \\u003cb\\u003e","sensor":"s","plugin_id":1001,"plugin_sid":50001,"src_ip":"192.168.0.1","src_port":0,"dst_ip":"10.0.0.2","dst_port":80,"protocol":"TCP","rcvd_time":1539000000123456789}'
    upstreamNode.publish(LEGACY_SUBJECTS.events, fromGo)
    upstreamNode.publish(LEGACY_SUBJECTS.overload, 'true')
    upstreamNode.publish(LEGACY_SUBJECTS.overload, ' false\n')
    await upstreamNode.flush()
    await waitFor(() => events.length === 1 && signals.length === 2, 'the upstream event and both signals')

    assert.deepEqual(invalid, [])
    const got = events[0]!
    assert.equal(got.connId, 3)
    assert.equal(got.eventId, 'e-1')
    assert.equal(got.title, 'a <b>')
    assert.equal(got.pluginSid, 50001)
    assert.equal(got.rcvdTime, 1539000000123456789n, 'nanoseconds survive exactly')
    assert.equal(serializeEvent(got), fromGo, 'and re-encode to the same bytes')
    assert.deepEqual(signals, [true, false])
  })

  it('ignores malformed overload signals with a logged reason', async () => {
    const {log, messages} = capturingLogger()
    const metrics = createMetrics('test', {processMetrics: false})
    const bus = await pool.open(nats.server.url, 'legacy', {log, metrics})
    await waitForStatus(bus, true)
    const signals: boolean[] = []
    bus.subscribeOverload((overloaded) => signals.push(overloaded))
    await bus.flush()
    const peer = await pool.raw(nats.server.url)
    for (const payload of ['yes', '"true"', '1', 'null', '', 'true'])
      peer.publish(LEGACY_SUBJECTS.overload, payload)
    await peer.flush()
    await waitFor(() => signals.length === 1, 'the one good signal')
    assert.deepEqual(signals, [true])
    const ignored = messages().filter((m) =>
      m.startsWith('ignoring malformed overload signal on dsiem_overload_signals'),
    )
    assert.equal(ignored.length, 5, messages().join('\n'))
    assert.match(await metrics.render(), /dsiem_bus_overload_signals_invalid_total\{node="test"\} 5/)
  })

  it('hands a routed interest only the events its route accepts (every backend still gets all of dsiem_events)', async () => {
    const bus = await pool.open(nats.server.url, 'legacy')
    await waitForStatus(bus, true)
    const got: string[] = []
    bus.subscribeEvents(
      {kind: 'routed', route: {sids: [[1001, 2]], taxonomies: [['c', 'p']]}},
      (e) => void got.push(e.eventId),
    )
    await bus.flush()
    bus.publishEvent(event('sid'))
    bus.publishEvent(event('other', {pluginSid: 3}))
    bus.publishEvent(event('tax', {pluginId: 0, pluginSid: 0, category: 'c', product: 'p'}))
    bus.publishEvent(event('end'))
    await bus.flush()
    await waitFor(() => got.includes('end'), 'the last event')
    assert.deepEqual(got, ['sid', 'tax', 'end'])
  })
})

describe('NATS bus: routed mode', () => {
  const nats = useNatsServer()
  const pool = busPool()
  after(() => pool.closeAll())

  const awkward = ['a.b.c', 'with space', '*', '>', 'Ünïcode 日本', 'tab\there', '.', '']

  it('publishes on dsiem.events.<plugin_id>.<plugin_sid>.<cat>.<prod>', async () => {
    const observer = await pool.raw(nats.server.url)
    const seen = rawCollect(observer, `${SUBJECTS.eventsPrefix}.>`)
    await observer.flush()
    const bus = await pool.open(nats.server.url, 'routed')
    await waitForStatus(bus, true)
    const sent = awkward.map((value, i) =>
      event(`e${i}`, {pluginId: 7, pluginSid: i + 1, category: value, product: `p ${value}`}),
    )
    for (const e of sent) bus.publishEvent(e)
    await bus.flush()
    await waitFor(() => seen.length === sent.length, 'every routed event')
    assert.deepEqual(
      seen,
      sent.map((e) => ({
        subject: routedEventSubject(e.pluginId, e.pluginSid, e.category, e.product),
        text: serializeEvent(e),
      })),
    )
  })

  it('delivers to a route only its keys, once each, and everything to {kind: all}', async () => {
    const publisher = await pool.open(nats.server.url, 'routed')
    const backend = await pool.open(nats.server.url, 'routed')
    const everything = await pool.open(nats.server.url, 'routed')
    await Promise.all([
      waitForStatus(publisher, true),
      waitForStatus(backend, true),
      waitForStatus(everything, true),
    ])

    const route = {
      sids: [
        [1001, 2],
        [1001, 2], // duplicates in a route must not double deliveries either
        [7, 7],
      ] as const,
      taxonomies: [
        ['a.b.c', 'with space'],
        ['*', '>'],
        ['Ünïcode 日本', 'tab\there'],
        ['Web', 'Apache'],
      ] as const,
    }
    const got: string[] = []
    const all: string[] = []
    backend.subscribeEvents({kind: 'routed', route}, (e) => void got.push(e.eventId))
    everything.subscribeEvents({kind: 'all'}, (e) => void all.push(e.eventId))
    await Promise.all([backend.flush(), everything.flush()])

    const cases: [NormalizedEvent, boolean][] = [
      [event('sid-match'), true],
      [event('sid-other', {pluginSid: 3}), false],
      [event('sid-and-taxonomy', {category: 'Web', product: 'Apache'}), true],
      [event('sid2-and-taxonomy', {pluginId: 7, pluginSid: 7, category: '*', product: '>'}), true],
      [event('tax-dots', {pluginId: 0, pluginSid: 0, category: 'a.b.c', product: 'with space'}), true],
      [event('tax-wildcards', {pluginId: 9, pluginSid: 9, category: '*', product: '>'}), true],
      [
        event('tax-unicode', {pluginId: 0, pluginSid: 0, category: 'Ünïcode 日本', product: 'tab\there'}),
        true,
      ],
      // A literal '*' or '>' in the data must not act as a wildcard.
      [event('not-wildcard', {pluginId: 9, pluginSid: 9, category: 'x', product: 'y'}), false],
      [event('half-taxonomy', {pluginId: 0, pluginSid: 0, category: 'a.b.c', product: 'other'}), false],
      [event('swapped', {pluginId: 0, pluginSid: 0, category: 'with space', product: 'a.b.c'}), false],
      [event('case', {pluginId: 0, pluginSid: 0, category: 'web', product: 'apache'}), false],
    ]
    for (const [e] of cases) publisher.publishEvent(e)
    publisher.publishEvent(event('end'))
    await publisher.flush()
    await waitFor(() => got.includes('end') && all.includes('end'), 'the end marker on both subscribers')
    // One publisher connection: both subscribers see its messages in publish order.
    assert.deepEqual(got, [...cases.filter(([, wanted]) => wanted).map(([e]) => e.eventId), 'end'])
    assert.deepEqual(all, [...cases.map(([e]) => e.eventId), 'end'])
  })

  it('carries overload signals on dsiem.overload and still hears upstream backends on the legacy subject', async () => {
    const observer = await pool.raw(nats.server.url)
    const seen = rawCollect(observer, SUBJECTS.overload)
    await observer.flush()
    const backend = await pool.open(nats.server.url, 'routed')
    const frontend = await pool.open(nats.server.url, 'routed')
    await Promise.all([waitForStatus(backend, true), waitForStatus(frontend, true)])
    const signals: boolean[] = []
    frontend.subscribeOverload((overloaded) => signals.push(overloaded))
    await frontend.flush()
    backend.publishOverload(true)
    await backend.flush()
    await waitFor(() => signals.length === 1, 'the routed signal')
    observer.publish(LEGACY_SUBJECTS.overload, 'false')
    await observer.flush()
    await waitFor(() => signals.length === 2, 'the legacy signal')
    assert.deepEqual(signals, [true, false])
    assert.deepEqual(
      seen.map((s) => s.text),
      ['true'],
    )
  })

  it('refuses an event it cannot publish without killing the connection; long keys travel hashed', async () => {
    const bus = await pool.open(nats.server.url, 'routed')
    await waitForStatus(bus, true)
    const got: string[] = []
    bus.subscribeEvents({kind: 'all'}, (e) => void got.push(e.eventId))
    const longCategory = 'x'.repeat(4000)
    const longKeyed: string[] = []
    bus.subscribeEvents(
      {kind: 'routed', route: {sids: [], taxonomies: [[longCategory, 'p']]}},
      (e) => void longKeyed.push(e.eventId),
    )
    await bus.flush()
    // A 4000-byte category would make a subject the server drops the connection for; its token is a
    // hash, so the event travels and reaches the directive keyed by it.
    bus.publishEvent(event('long', {pluginId: 0, pluginSid: 0, category: longCategory, product: 'p'}))
    // A payload above max_payload (1 MiB).
    assert.throws(() => bus.publishEvent(event('big', {customData1: 'x'.repeat(1100 * 1024)})), InputError)
    bus.publishEvent(event('after'))
    await bus.flush()
    await waitFor(() => longKeyed.length === 1, 'the event keyed by a long category')
    await waitFor(() => got.length === 2, 'the events around the refusal')
    assert.deepEqual(got, ['long', 'after'])
    assert.deepEqual(longKeyed, ['long'])
    assert.equal(bus.status().connected, true)
  })
})

describe('NATS bus: garbage on event subjects', () => {
  const nats = useNatsServer()
  const pool = busPool()
  after(() => pool.closeAll())

  const garbage = [
    'not json at all',
    '{"event_id": "unterminated',
    '[1,2,3]',
    '"a string"',
    '{"some":"object"}',
    'null',
    '{"event_id":"x","timestamp":"t","sensor":"s","src_ip":"1.1.1.1","plugin_id":1,"plugin_sid":1}',
    '{"event_id":"x","timestamp":"t","sensor":"s","src_ip":"1.1.1.1","dst_ip":"2.2.2.2","plugin_id":"1001","plugin_sid":1}',
    '\u00ff\u00fe binary-ish',
  ]

  for (const mode of ['legacy', 'routed'] as const) {
    it(`${mode}: reports each bad payload to onInvalid and keeps delivering`, async () => {
      const metrics = createMetrics('test', {processMetrics: false})
      const bus = await pool.open(nats.server.url, mode, {metrics})
      await waitForStatus(bus, true)
      const got: string[] = []
      const invalid: {reason: string; payload: string}[] = []
      const interest =
        mode === 'legacy'
          ? ({kind: 'all'} as const)
          : ({kind: 'routed', route: {sids: [[1001, 2]], taxonomies: []}} as const)
      bus.subscribeEvents(
        interest,
        (e) => void got.push(e.eventId),
        (reason, payload) => invalid.push({reason, payload}),
      )
      await bus.flush()

      const peer = await pool.raw(nats.server.url)
      const subject = mode === 'legacy' ? LEGACY_SUBJECTS.events : routedEventSubject(1001, 2, 'c', 'p')
      peer.publish(subject, serializeEvent(event('before')))
      for (const payload of garbage) peer.publish(subject, payload)
      peer.publish(subject, serializeEvent(event('after')))
      await peer.flush()
      await waitFor(() => got.includes('after'), 'the good event after the garbage')

      assert.deepEqual(got, ['before', 'after'])
      assert.deepEqual(
        invalid.map((i) => i.payload),
        garbage,
      )
      assert.ok(
        invalid.every((i) => i.reason.length > 0),
        'every invalid payload comes with a reason',
      )
      assert.match(invalid[7]!.reason, /plugin_id|int/, 'a string where Go wants an int is named')
      assert.equal(bus.status().connected, true)
      assert.match(
        await metrics.render(),
        new RegExp(`dsiem_bus_events_invalid_total\\{node="test"\\} ${garbage.length}`),
      )
      assert.match(await metrics.render(), /dsiem_bus_events_received_total\{node="test"\} 2/)
    })
  }

  it('survives handlers that throw or reject', async () => {
    const {log, messages} = capturingLogger()
    const bus = await pool.open(nats.server.url, 'legacy', {log})
    await waitForStatus(bus, true)
    const got: string[] = []
    bus.subscribeEvents({kind: 'all'}, (e) => {
      got.push(e.eventId)
      if (e.eventId === 'throw') throw new Error('boom')
      if (e.eventId === 'reject') return Promise.reject(new Error('async boom'))
      return undefined
    })
    await bus.flush()
    for (const id of ['throw', 'reject', 'fine']) bus.publishEvent(event(id))
    await bus.flush()
    await waitFor(() => got.includes('fine'), 'the event after the failures')
    assert.deepEqual(got, ['throw', 'reject', 'fine'])
    await waitFor(
      () => messages().filter((m) => m === 'event handler failed').length === 2,
      'two logged failures',
    )
  })
})

describe('NATS bus: NATS down at start, stopped and restarted mid-run', () => {
  const pool = busPool()
  after(() => pool.closeAll())

  it('starts without NATS, connects when it appears, refuses events while it is away, recovers', async () => {
    const port = await freePort()
    const url = `nats://127.0.0.1:${port}`
    const {log, messages} = capturingLogger()
    const metrics = createMetrics('test', {processMetrics: false})
    const publisher = await pool.open(url, 'routed', {log, metrics})
    const subscriber = await pool.open(url, 'routed')
    const statuses: boolean[] = []
    publisher.onStatusChange((status) => statuses.push(status.connected))

    assert.equal(publisher.status().connected, false)
    assert.equal(publisher.status().server, url)
    assert.throws(() => publisher.publishEvent(event('too-early')), BusUnavailableError)
    await assert.rejects(publisher.flush(), BusUnavailableError)
    // Subscriptions and overload state set up before the first connection take effect once it exists.
    const got: string[] = []
    const signals: boolean[] = []
    subscriber.subscribeEvents({kind: 'all'}, (e) => void got.push(e.eventId))
    subscriber.subscribeOverload((overloaded) => signals.push(overloaded))
    publisher.publishOverload(true)
    await waitFor(
      () => messages().some((m) => m.startsWith(`NATS not reachable at ${url}`)),
      'the unreachable line',
    )
    assert.match(await metrics.render(), /dsiem_bus_connected\{node="test"\} 0/)

    let server = await startNatsServer({port})
    try {
      await Promise.all([waitForStatus(publisher, true), waitForStatus(subscriber, true)])
      await subscriber.flush()
      assert.match(await metrics.render(), /dsiem_bus_connected\{node="test"\} 1/)
      assert.ok(messages().includes(`NATS connected to ${url}`), messages().join('\n'))
      // The overload level set while disconnected is sent on connect (a frontend must hear it).
      publisher.publishOverload(true)
      await publisher.flush()
      await waitFor(() => signals.length >= 1, 'the overload level')
      assert.ok(
        signals.every((s) => s),
        'only true was ever signalled',
      )

      publisher.publishEvent(event('first'))
      await publisher.flush()
      await waitFor(() => got.includes('first'), 'the first event')

      await server.stop()
      await waitForStatus(publisher, false)
      assert.throws(() => publisher.publishEvent(event('while-down')), BusUnavailableError)
      assert.ok(
        messages().some((m) => m.startsWith(`NATS disconnected from ${url}: `)),
        messages().join('\n'),
      )

      server = await startNatsServer({port})
      await Promise.all([waitForStatus(publisher, true), waitForStatus(subscriber, true)])
      await subscriber.flush()
      assert.ok(messages().includes(`NATS reconnected to ${url}`), messages().join('\n'))
      publisher.publishEvent(event('second'))
      await publisher.flush()
      await waitFor(() => got.includes('second'), 'the event after the restart')
      assert.deepEqual(got, ['first', 'second'])
      assert.deepEqual(
        statuses.filter((connected, i) => i === 0 || connected !== statuses[i - 1]),
        [false, true, false, true],
      )
    } finally {
      await pool.closeAll()
      await server.stop()
    }
  })

  it('closes promptly while NATS is unreachable, and close is idempotent', async () => {
    const port = await freePort()
    const bus = await connectNatsBus({
      url: `127.0.0.1:${port}`,
      mode: 'legacy',
      name: 'test',
      log: silentLogger,
      retryWaitMs: 60_000,
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const started = Date.now()
    await Promise.all([bus.close(), bus.close()])
    await bus.close()
    assert.ok(Date.now() - started < 1000, 'close does not wait for the retry timer')
    assert.equal(bus.status().connected, false)
    assert.throws(() => bus.publishEvent(event('closed')), BusUnavailableError)
  })
})

describe('NATS bus: back-pressure', () => {
  const nats = useNatsServer()
  const pool = busPool()
  after(() => pool.closeAll())

  it('waits for a slow handler before the next event, in order, without holding up other subscriptions', async () => {
    const bus = await pool.open(nats.server.url, 'legacy')
    await waitForStatus(bus, true)
    const slow: string[] = []
    const fast: string[] = []
    let inFlight = 0
    let maxInFlight = 0
    bus.subscribeEvents({kind: 'all'}, async (e) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 15))
      slow.push(e.eventId)
      inFlight--
    })
    bus.subscribeEvents({kind: 'all'}, (e) => void fast.push(e.eventId))
    await bus.flush()
    const ids = Array.from({length: 20}, (_, i) => `e${i}`)
    for (const id of ids) bus.publishEvent(event(id))
    await bus.flush()
    await waitFor(() => fast.length === ids.length, 'the fast subscriber')
    assert.ok(
      slow.length < ids.length / 2,
      `the fast subscriber did not wait for the slow one (slow had ${slow.length})`,
    )
    await waitFor(() => slow.length === ids.length, 'the slow subscriber', 10_000)
    assert.deepEqual(slow, ids)
    assert.deepEqual(fast, ids)
    assert.equal(maxInFlight, 1)
  })

  it('stops delivering queued events once unsubscribed', async () => {
    const bus = await pool.open(nats.server.url, 'legacy')
    await waitForStatus(bus, true)
    const got: string[] = []
    let release: () => void = () => {}
    const subscription = bus.subscribeEvents({kind: 'all'}, (e) => {
      got.push(e.eventId)
      return new Promise<void>((resolve) => (release = resolve))
    })
    await bus.flush()
    for (const id of ['a', 'b', 'c']) bus.publishEvent(event(id))
    await bus.flush()
    await waitFor(() => got.length === 1, 'the first event')
    await new Promise((resolve) => setTimeout(resolve, 50))
    subscription.unsubscribe()
    release()
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(got, ['a'])
  })
})

describe('NATS bus: configuration', () => {
  it('accepts upstream --nats-url forms', () => {
    assert.deepEqual(parseNatsUrl('nats://localhost:4222').servers, ['localhost:4222'])
    assert.deepEqual(parseNatsUrl('nats://dsiem-nats').servers, ['dsiem-nats:4222'])
    assert.deepEqual(parseNatsUrl('10.0.0.1:4223, nats://10.0.0.2:4224').servers, [
      '10.0.0.1:4223',
      '10.0.0.2:4224',
    ])
    const withUser = parseNatsUrl('nats://alice:s3cret@host:4222')
    assert.deepEqual(withUser.auth, {user: 'alice', pass: 's3cret'})
    assert.equal(withUser.display, 'nats://host:4222', 'credentials stay out of logs')
    assert.deepEqual(parseNatsUrl('nats://tok@host').auth, {token: 'tok'})
    assert.equal(parseNatsUrl('tls://host:4443').tls, true)
  })

  it('rejects an unusable --nats-url with a ConfigError naming the flag', async () => {
    for (const url of [
      '',
      'http://host:4222',
      'nats://',
      'nats://host:99999',
      'nats://host:4222/path',
      'nats://[::1',
    ]) {
      await assert.rejects(
        connectNatsBus({url, mode: 'routed', name: 'test', log: silentLogger}),
        (error: unknown) => error instanceof ConfigError && error.message.includes('--nats-url'),
        url,
      )
    }
  })
})

describe('NATS bus: worker log batches', () => {
  const nats = useNatsServer()
  const pool = busPool()
  after(() => pool.closeAll())

  it('publishes each stream on dsiem.logs.<stream>, readable by a plain subscriber and by subscribeLogBatches', async () => {
    const observer = await pool.raw(nats.server.url)
    const raw = rawCollect(observer, 'dsiem.logs.conn')
    await observer.flush()
    const listener = await pool.open(nats.server.url, 'routed')
    await waitForStatus(listener, true)
    const heard: [string, string][] = []
    listener.subscribeLogBatches((stream, lines) => void heard.push([stream, lines]))
    await listener.flush()
    const worker = await pool.open(nats.server.url, 'routed')
    await waitForStatus(worker, true)
    worker.publishLogBatch('conn', '{"uid":"C1"}\n{"uid":"C2"}')
    worker.publishLogBatch('dns', '{"uid":"C3"}')
    await worker.flush()
    await waitFor(() => raw.length === 1 && heard.length === 2, 'both deliveries')
    assert.deepEqual(raw, [{subject: 'dsiem.logs.conn', text: '{"uid":"C1"}\n{"uid":"C2"}'}])
    assert.deepEqual(heard.sort(), [
      ['conn', '{"uid":"C1"}\n{"uid":"C2"}'],
      ['dns', '{"uid":"C3"}'],
    ])
  })
})
