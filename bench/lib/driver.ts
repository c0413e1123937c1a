// Feeds the pre-built stream through a fresh engine, the way the backend would: the wall clock follows
// event time and expiry ticks run every 10 s of it (upstream's backlog ticker), then once at the end.
// Only the feeding loop is timed; building the engine (and compiling its directives) is timed apart.

import {
  AssetTable,
  CorrelationEngine,
  ManualClock,
  sequentialIds,
  type AssetEntry,
  type Directive,
} from '../../src/engine/index.js'
import type {EventStream} from './event-stream.js'
import {countingSink, type Outcome} from './outcome.js'
import type {UpstreamFanout} from './upstream-fanout.js'

const TICK_SECONDS = 10

export interface RunResult {
  /** Wall-clock seconds of the feeding loop. */
  readonly seconds: number
  /** CPU seconds the process used in the loop (all threads: main plus GC helpers). */
  readonly cpuSeconds: number
  readonly setupSeconds: number
  readonly outcome: Outcome
  /** Directive offers the engine made (its own stats). */
  readonly directiveOffers: number
  /** Quick checks passed in the fan-out (baseline only). */
  readonly fanoutPassed: number
  /** Heap in use right after the timed loop, engine still alive. */
  readonly heapUsedAfter: number
  /** Keeps the engine reachable for a retained-heap measurement. */
  readonly engine: CorrelationEngine
}

export function runStream(
  directives: readonly Directive[],
  assetEntries: readonly AssetEntry[],
  stream: EventStream,
  fanout?: UpstreamFanout,
  detailed = false,
): RunResult {
  const setupStart = performance.now()
  const assets = AssetTable.fromEntries(assetEntries)
  const clock = new ManualClock(stream.seconds[0] ?? 0)
  const sink = countingSink(detailed)
  const engine = new CorrelationEngine({directives, assets, clock, emit: sink.emit, newId: sequentialIds()})
  const setupSeconds = (performance.now() - setupStart) / 1000

  const events = stream.events
  const times = stream.seconds
  const count = events.length
  let now = clock.nowSeconds()
  let lastTick = now
  let fanoutPassed = 0
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  if (fanout === undefined) {
    for (let i = 0; i < count; i++) {
      const t = times[i]!
      if (t > now) {
        clock.set((now = t))
        if (now - lastTick >= TICK_SECONDS) {
          engine.tick()
          lastTick = now
        }
      }
      engine.process(events[i]!)
    }
  } else {
    for (let i = 0; i < count; i++) {
      const t = times[i]!
      if (t > now) {
        clock.set((now = t))
        if (now - lastTick >= TICK_SECONDS) {
          engine.tick()
          lastTick = now
        }
      }
      const event = events[i]!
      // Upstream drops whitelisted sources before the fan-out.
      if (!assets.isWhitelisted(event.srcIp)) fanoutPassed += fanout.scan(event)
      engine.process(event)
    }
  }
  engine.tick()
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  const heapUsedAfter = process.memoryUsage().heapUsed
  const stats = engine.stats()
  return {
    seconds,
    cpuSeconds,
    setupSeconds,
    outcome: sink.finish(stats),
    directiveOffers: stats.directiveOffers,
    fanoutPassed,
    heapUsedAfter,
    engine,
  }
}
