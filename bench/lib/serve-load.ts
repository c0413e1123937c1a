// The load generator of `bench:serve`, run as a child process of its own (so it shares the machine's
// cores with the system under test, as a shipper on the same box would). It reads the NDJSON event
// file and the lane file, opens one keep-alive HTTP/1.1 connection per lane (http-lane.ts: raw
// socket, no pipelining) and sends every event on the lane of its source address, in file order per lane:
//
// - single: closed loop, one event per POST /events per connection, until the time is up;
// - bulk:   closed loop, NDJSON batches (lines of one lane) per POST /events/bulk;
// - open:   open loop at a fixed rate, one event per POST /events, event i due at start + i / rate;
//           each event's send time (monotonic clock, shared by every process on the machine) goes to
//           a file for the latency measurement.
//
// Usage: node --import tsx bench/lib/serve-load.ts '<LoadConfig as JSON>'; prints `RESULT <json>`.

import {readFileSync, writeFileSync} from 'node:fs'
import {HttpLane, PostEncoder} from './http-lane.js'
import {monotonicMs} from './serve-proc.js'

export interface LoadConfig {
  readonly url: string
  readonly eventsFile: string
  readonly lanesFile: string
  readonly mode: 'single' | 'bulk' | 'open'
  readonly connections: number
  /** Lines per bulk request. */
  readonly batchLines: number
  /** Sending before the measured part: JIT, connections, first-use costs of the server. */
  readonly warmupMs: number
  /** The measured part, after the warm-up. */
  readonly durationMs: number
  /** Events of the file to use at most (open: exactly these, at `rate`). */
  readonly maxEvents: number
  /** Open loop: events per second offered. */
  readonly rate: number
  /** Open loop: where send times go (Float64 ms per event of the file, NaN = not sent). */
  readonly sendTimesFile: string
  /** Path of the single-event endpoint (upstream dsiem: /events). */
  readonly singlePath: string
}

export interface LoadResult {
  readonly mode: LoadConfig['mode']
  readonly connections: number
  /** Events sent (requests for single/open, lines for bulk). */
  readonly sent: number
  /** Events answered 200 (bulk: counted from each answer's `accepted`). */
  readonly accepted: number
  readonly byStatus: Record<string, number>
  readonly transportErrors: number
  readonly firstError: string | undefined
  /** From the first request to the last answer. */
  readonly elapsedSeconds: number
  readonly startMs: number
  /** When the warm-up ended, and how many events had been accepted by then. */
  readonly warmupEndMs: number
  readonly warmupAccepted: number
  readonly endMs: number
  /** Per lane: how many of its events (in lane order) were sent. */
  readonly laneSent: number[]
  /** Open loop: how late events went out against their schedule. */
  readonly scheduleLagMs: {p50: number; p99: number; max: number} | undefined
  /** Open loop, after the warm-up: send → HTTP answer (how long the frontend took to accept). */
  readonly responseMs: {p50: number; p99: number; p999: number; max: number} | undefined
  /** CPU of the sending (from the first request). */
  readonly cpuSeconds: number
  /** CPU of the whole generator process, start-up (loading the event file) included. */
  readonly processCpuSeconds: number
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

async function main(config: LoadConfig): Promise<LoadResult> {
  const file = readFileSync(config.eventsFile)
  const hashes = new Uint32Array(new Uint8Array(readFileSync(config.lanesFile)).buffer)
  // Line i is file[starts[i], starts[i + 1]) (newline included).
  const total = Math.min(config.maxEvents, hashes.length)
  const starts = new Uint32Array(total + 1)
  let pos = 0
  for (let i = 0; i < total; i++) {
    starts[i] = pos
    const newline = file.indexOf(10, pos)
    if (newline < 0) throw new Error(`events file has fewer than ${total} lines`)
    pos = newline + 1
  }
  starts[total] = pos

  const laneCount = config.connections
  const laneEvents: number[][] = Array.from({length: laneCount}, () => [])
  for (let i = 0; i < total; i++) laneEvents[hashes[i]! % laneCount]!.push(i)
  const laneSent = new Array<number>(laneCount).fill(0)

  const url = new URL(config.url)
  const lanes = Array.from({length: laneCount}, () => new HttpLane(url.hostname, Number(url.port || 80)))
  await Promise.all(lanes.map((lane) => lane.connected()))
  const singleRequests = new PostEncoder(url.host, config.singlePath, 'application/json')
  const bulkRequests = new PostEncoder(url.host, '/events/bulk', 'application/x-ndjson')
  const byStatus: Record<string, number> = {}
  let sent = 0
  let accepted = 0
  let transportErrors = 0
  let firstError: string | undefined
  const noteError = (message: string): void => {
    firstError ??= message
  }
  const countStatus = (status: number, n = 1): void => {
    byStatus[status] = (byStatus[status] ?? 0) + n
  }
  const line = (i: number): Buffer => file.subarray(starts[i]!, starts[i + 1]! - 1)

  /** Sends event i alone; `then` learns whether it was answered 200. */
  const postOne = (lane: HttpLane, i: number, then: (ok: boolean) => void): void => {
    lane.send(singleRequests.encode(line(i)), false, (status, _body, error) => {
      if (error !== undefined) {
        transportErrors++
        noteError(`event ${i}: ${error.message}`)
        return then(false)
      }
      countStatus(status)
      if (status === 200) {
        accepted++
        return then(true)
      }
      noteError(`HTTP ${status} for event ${i}`)
      then(false)
    })
  }

  const cpuStart = process.cpuUsage()
  const startMs = monotonicMs()
  const warmupEndMs = startMs + config.warmupMs
  const deadline = warmupEndMs + config.durationMs
  let warmupAccepted = 0
  const warmupTimer = setTimeout(() => (warmupAccepted = accepted), config.warmupMs)
  let scheduleLagMs: LoadResult['scheduleLagMs']
  let responseMs: LoadResult['responseMs']

  if (config.mode === 'single') {
    await Promise.all(
      lanes.map(
        (client, lane) =>
          new Promise<void>((resolve) => {
            const events = laneEvents[lane]!
            let k = 0
            const next = (ok: boolean): void => {
              if (!ok || k >= events.length || monotonicMs() >= deadline) return resolve()
              sent++
              laneSent[lane]!++
              postOne(client, events[k++]!, next)
            }
            next(true)
          }),
      ),
    )
  } else if (config.mode === 'bulk') {
    const postBatch = (lane: HttpLane, batch: readonly number[]): Promise<boolean> =>
      new Promise((resolve) => {
        const body = bulkRequests.encode(batch.map((i) => file.subarray(starts[i]!, starts[i + 1]!)))
        lane.send(body, true, (status, answerBody, error) => {
          if (error !== undefined) {
            transportErrors++
            noteError(`bulk: ${error.message}`)
            return resolve(false)
          }
          countStatus(status, batch.length)
          const text = answerBody?.toString('utf8') ?? ''
          let answer: {accepted?: number}
          try {
            answer = JSON.parse(text) as {accepted?: number}
          } catch {
            answer = {}
          }
          accepted += answer.accepted ?? 0
          if (status !== 200 || answer.accepted !== batch.length) {
            noteError(`bulk HTTP ${status}: ${text.slice(0, 300)}`)
            return resolve(false)
          }
          resolve(true)
        })
      })
    await Promise.all(
      lanes.map(async (client, lane) => {
        const events = laneEvents[lane]!
        for (let k = 0; k < events.length && monotonicMs() < deadline; k += config.batchLines) {
          const batch = events.slice(k, k + config.batchLines)
          sent += batch.length
          laneSent[lane]! += batch.length
          if (!(await postBatch(client, batch))) return
        }
      }),
    )
  } else {
    // Open loop: issue every due event, then sleep ~1 ms. A lane's client queues requests in order.
    const sendTimes = new Float64Array(hashes.length).fill(Number.NaN)
    const lags = new Float64Array(total)
    const intervalMs = 1000 / config.rate
    const responseTimes: number[] = []
    let answered = 0
    let allAnswered = (): void => {}
    let next = 0
    while (next < total) {
      const now = monotonicMs()
      while (next < total && startMs + next * intervalMs <= now) {
        const i = next++
        const lane = hashes[i]! % laneCount
        const at = monotonicMs()
        sendTimes[i] = at
        lags[i] = at - (startMs + i * intervalMs)
        sent++
        laneSent[lane]!++
        postOne(lanes[lane]!, i, () => {
          if (at >= warmupEndMs) responseTimes.push(monotonicMs() - at)
          if (++answered === total) allAnswered()
        })
      }
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    if (answered < total) await new Promise<void>((resolve) => (allAnswered = resolve))
    writeFileSync(config.sendTimesFile, new Uint8Array(sendTimes.buffer))
    const sorted = lags.slice(0, sent).sort()
    scheduleLagMs = {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
    }
    const responses = Float64Array.from(responseTimes).sort()
    responseMs = {
      p50: percentile(responses, 0.5),
      p99: percentile(responses, 0.99),
      p999: percentile(responses, 0.999),
      max: responses.length > 0 ? responses[responses.length - 1]! : 0,
    }
  }
  const endMs = monotonicMs()
  clearTimeout(warmupTimer)
  const cpu = process.cpuUsage(cpuStart)
  for (const lane of lanes) lane.close()
  return {
    mode: config.mode,
    connections: laneCount,
    sent,
    accepted,
    byStatus,
    transportErrors,
    firstError,
    elapsedSeconds: (endMs - startMs) / 1000,
    startMs,
    warmupEndMs,
    warmupAccepted,
    endMs,
    laneSent,
    scheduleLagMs,
    responseMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    processCpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  }
}

// Only ever run as a script (bench/serve.ts imports nothing but types from here).
main(JSON.parse(process.argv[2] ?? '{}') as LoadConfig).then(
  (result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`load generator failed: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
