// The backend thread of the standalone server: the same backend role (engine, queue, alarm files,
// alarm store, overload signal, reload) as in a backend process, on a thread of its own so the HTTP
// thread only parses, validates and hands over. The main thread (backend/threaded.ts) posts event
// batches; here they go onto an in-memory bus the backend subscribes to, exactly as in-process. Log
// records, overload signals and the credit of events the engine took go back; status, metrics,
// reload, settle and stop are requests.

import {parentPort, workerData} from 'node:worker_threads'
import {systemClock} from '../../engine/index.js'
import {startBackend, type InProcessBackend} from '../backend.js'
import {MemoryBus} from '../bus.js'
import type {RoleContext} from '../context.js'
import {HttpRouter} from '../http/router.js'
import {alarmStoreThreadOpener} from '../io/alarm-store-thread.js'
import {bigintSafe, createRecordLogger, type LogFields} from '../io/log.js'
import {createMetrics} from '../io/metrics.js'
import {
  serializeError,
  type BackendThreadData,
  type FromBackendThread,
  type ThreadLogRecord,
  type ThreadReplies,
  type ThreadRequest,
  type ToBackendThread,
} from './thread-protocol.js'

/** Longest a credit report waits to be merged with later ones. */
const CREDIT_DELAY_MS = 20

const port = parentPort
if (port === null) throw new Error('thread-entry.ts runs only as the backend thread')
const data = workerData as BackendThreadData
const post = (message: FromBackendThread): void => port.postMessage(message)

// ---- logs: info and debug lines gathered for up to 20 ms, warnings and errors sent at the end of the
// loop turn. A message per loop turn woke the HTTP thread several hundred times a second under load
// for the backend's info lines (one per completed backlog, as upstream logs them).
const LOG_GATHER_MS = 20
let records: ThreadLogRecord[] = []
let logTimer: NodeJS.Timeout | undefined
let logSoon = false
const flushLogs = (): void => {
  if (logTimer !== undefined) clearTimeout(logTimer)
  logTimer = undefined
  logSoon = false
  if (records.length === 0) return
  const batch = records
  records = []
  try {
    post({kind: 'logs', records: batch})
  } catch {
    // A field that cannot be cloned (a function, say) must not cost the line.
    post({kind: 'logs', records: batch.map((record) => ({...record, fields: plainFields(record.fields)}))})
  }
}
const log = createRecordLogger(data.logLevel, (level, message, fields) => {
  records.push({level, message, fields, at: Date.now()})
  if (level === 'warn' || level === 'error') {
    if (!logSoon) setImmediate(flushLogs)
    logSoon = true
  } else {
    logTimer ??= setTimeout(flushLogs, LOG_GATHER_MS)
  }
})

function plainFields(fields: LogFields): LogFields {
  return JSON.parse(JSON.stringify(fields, bigintSafe)) as LogFields
}

// ---- credit: how many events the engine took, merged up to an eighth of the queue or 20 ms
const capacity = data.config.maxQueue > 0 ? data.config.maxQueue * 2 : Infinity
const creditEvery = Number.isFinite(capacity) ? Math.max(1, Math.floor(capacity / 8)) : Infinity
let taken = 0
let creditTimer: NodeJS.Timeout | undefined
const sendCredit = (): void => {
  if (creditTimer !== undefined) clearTimeout(creditTimer)
  creditTimer = undefined
  if (taken === 0) return
  post({kind: 'taken', count: taken})
  taken = 0
}
const onBatch = (count: number): void => {
  taken += count
  if (taken >= creditEvery) sendCredit()
  else creditTimer ??= setTimeout(sendCredit, CREDIT_DELAY_MS)
}

// ---- the backend on an in-memory bus
const bus = new MemoryBus()
bus.subscribeOverload((overloaded) => post({kind: 'overload', overloaded}))
const ctx: RoleContext = {
  config: data.config,
  log,
  clock: systemClock,
  bus,
  metrics: createMetrics(data.node, {processMetrics: false}),
  http: new HttpRouter(),
}

const ignoreRejection = (): void => {}

const answer = async (backend: InProcessBackend, request: ThreadRequest): Promise<unknown> => {
  switch (request.op) {
    case 'status':
      return backend.status() satisfies ThreadReplies['status']
    case 'metrics':
      return (await ctx.metrics.render()) satisfies ThreadReplies['metrics']
    case 'reload': {
      const result = await backend.reload()
      const reply: ThreadReplies['reload'] = result.ok
        ? result
        : {ok: false, message: result.message, error: serializeError(result.error)}
      return reply
    }
    case 'settle':
      await backend.settle()
      sendCredit()
      return null
    case 'stop':
      await backend.stop()
      sendCredit()
      return null
  }
}

const start = async (): Promise<void> => {
  let backend: InProcessBackend
  try {
    backend = await startBackend(ctx, {
      openAlarmStore: alarmStoreThreadOpener(log),
      onBatch,
      ...(data.tickIntervalMs === undefined ? {} : {tickIntervalMs: data.tickIntervalMs}),
      ...(data.drainTimeoutMs === undefined ? {} : {drainTimeoutMs: data.drainTimeoutMs}),
    })
  } catch (error) {
    flushLogs()
    post({kind: 'start-failed', error: serializeError(error)})
    return
  }
  port.on('message', (message: ToBackendThread) => {
    if (message.kind === 'events') {
      // The main thread sends only what fits the queue, so this never waits; if it did, the event
      // would still be queued once there is room.
      for (const event of message.events) {
        const wait = bus.publishEvent(event)
        if (wait !== undefined) wait.catch(ignoreRejection)
      }
      return
    }
    answer(backend, message.request).then(
      (value) => {
        flushLogs()
        post({kind: 'reply', id: message.id, value})
      },
      (error: unknown) => {
        flushLogs()
        post({kind: 'reply-failed', id: message.id, error: serializeError(error)})
      },
    )
  })
  flushLogs()
  post({kind: 'started'})
}

void start()
