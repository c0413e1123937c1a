// The standalone server's backend on a thread of its own. Profiles of the single-thread server showed
// the engine batches, the output hand-over and their garbage taking about a quarter of the HTTP
// thread's time per event when requests arrive one at a time, and every event waiting behind them:
// that queueing was the event→alarm tail. Here the main thread keeps HTTP, parsing and validation;
// the backend role itself (thread-entry.ts) runs unchanged on the thread, behind the same bus contract
// ('wait' back-pressure with cancel, 408 after 10 s, overload signals to the frontend). Its logs come
// back here and are written by this thread's logger; /health and /metrics ask it; SIGHUP reaches it
// through reload().

import {hostname} from 'node:os'
import type {Worker} from 'node:worker_threads'
import {EnvironmentError, messageOf} from '../../engine/index.js'
import type {BackendRoleModule, ReloadResult, RunningBackend} from '../backend.js'
import type {RoleContext} from '../context.js'
import {siblingModule, startModuleWorker} from '../io/module-worker.js'
import type {RoleStatus} from '../types.js'
import {ThreadHandOff} from './thread-hand-off.js'
import {
  deserializeError,
  type BackendThreadData,
  type FromBackendThread,
  type ThreadReplies,
  type ThreadRequest,
  type ToBackendThread,
} from './thread-protocol.js'

export interface ThreadedBackendOptions {
  /** Engine tick period on the thread (tests), default 1000 ms. */
  tickIntervalMs?: number
  /** How long stop() may take to work off the queue, default 10 s. */
  drainTimeoutMs?: number
  /** The thread's module (tests run a failing one); default thread-entry beside this file. */
  entry?: URL
}

interface Pending {
  resolve(value: unknown): void
  reject(error: Error): void
}

export function createThreadedBackendRole(options: ThreadedBackendOptions = {}): BackendRoleModule {
  return {name: 'backend', start: (ctx) => startThreadedBackend(ctx, options)}
}

async function startThreadedBackend(
  ctx: RoleContext,
  options: ThreadedBackendOptions,
): Promise<RunningBackend> {
  const {config, log} = ctx
  const data: BackendThreadData = {
    config,
    node: config.node !== '' ? config.node : hostname(),
    logLevel: log.level,
    ...(options.tickIntervalMs === undefined ? {} : {tickIntervalMs: options.tickIntervalMs}),
    ...(options.drainTimeoutMs === undefined ? {} : {drainTimeoutMs: options.drainTimeoutMs}),
  }
  const worker: Worker = startModuleWorker(options.entry ?? siblingModule(import.meta.url, 'thread-entry'), {
    workerData: data,
  })
  const post = (message: ToBackendThread): void => worker.postMessage(message)
  const lostTotal = ctx.metrics.counter(
    'dsiem_backend_thread_events_lost_total',
    'Accepted events the backend thread had not reported processed when it died (lost, or processed unreported)',
  )

  const handOff = new ThreadHandOff({
    capacity: config.maxQueue > 0 ? config.maxQueue * 2 : Infinity,
    send: (events) => post({kind: 'events', events}),
  })
  const pending = new Map<number, Pending>()
  let nextId = 0
  /** Why the thread is gone (undefined while it runs). */
  let gone: string | undefined
  let stopping = false
  let lastStatus: RoleStatus = {role: 'backend', healthy: false, detail: {}}

  let startup!: Pending
  const started = new Promise<unknown>((resolve, reject) => (startup = {resolve, reject}))

  const request = <K extends ThreadRequest['op']>(op: K): Promise<ThreadReplies[K]> => {
    if (gone !== undefined) return Promise.reject(new EnvironmentError(gone, 'DSIEM_E_BACKEND_THREAD'))
    const id = ++nextId
    return new Promise<ThreadReplies[K]>((resolve, reject) => {
      pending.set(id, {resolve: resolve as (value: unknown) => void, reject})
      post({kind: 'request', id, request: {op} as ThreadRequest})
    })
  }

  const settleRequest = (id: number, settle: (entry: Pending) => void): void => {
    const entry = pending.get(id)
    if (entry === undefined) return
    pending.delete(id)
    settle(entry)
  }

  worker.on('message', (message: FromBackendThread) => {
    switch (message.kind) {
      case 'taken':
        handOff.taken(message.count)
        return
      case 'logs':
        // The record's own time: a `ts` field takes the place of the logger's (see log.ts).
        for (const record of message.records) {
          log[record.level](record.message, {...record.fields, ts: new Date(record.at).toISOString()})
        }
        return
      case 'overload':
        ctx.bus.publishOverload(message.overloaded)
        return
      case 'started':
        startup.resolve(undefined)
        return
      case 'start-failed':
        startup.reject(deserializeError(message.error))
        return
      case 'reply':
        settleRequest(message.id, (entry) => entry.resolve(message.value))
        return
      case 'reply-failed':
        settleRequest(message.id, (entry) => entry.reject(deserializeError(message.error)))
        return
    }
  })

  /** The thread ended: expected at stop, else a failure every sender and waiting request hears about. */
  const ended = (reason: string): void => {
    if (gone !== undefined) return
    gone = reason
    const error = new EnvironmentError(reason, 'DSIEM_E_BACKEND_THREAD')
    startup.reject(error)
    for (const entry of pending.values()) entry.reject(error)
    pending.clear()
    const lost = handOff.fail(reason)
    if (stopping) return
    lostTotal.inc(lost)
    // Credit is reported in batches, so some of these may have been processed: an upper bound.
    log.error(
      `${reason}; up to ${lost} accepted events it had not reported processed are lost, new events get 503`,
    )
  }
  worker.on('error', (error) => ended(`the backend thread failed: ${error.stack ?? messageOf(error)}`))
  worker.on('exit', (code) => ended(`the backend thread exited (code ${code})`))

  try {
    await started
  } catch (error) {
    stopping = true
    await worker.terminate()
    throw error
  }

  const subscription = ctx.bus.subscribeEvents({kind: 'all'}, handOff.offer)
  // A thread that is gone has no metrics of its own; this thread's (the loss counter) still render.
  const removeMetrics = ctx.metrics.addSource(() => request('metrics').catch(() => ''))

  const status = async (): Promise<RoleStatus> => {
    if (gone === undefined) {
      try {
        lastStatus = await request('status')
      } catch {
        // Gone meanwhile: fall through to the last status, unhealthy.
      }
    }
    const waiting = handOff.waiting
    const healthy = gone === undefined && lastStatus.healthy && waiting === 0 && !handOff.full
    return {
      role: 'backend',
      healthy,
      detail: {
        ...lastStatus.detail,
        queueWaiting: waiting,
        ...(gone === undefined || stopping ? {} : {error: gone}),
      },
    }
  }

  const reload = async (): Promise<ReloadResult> => {
    try {
      const result = await request('reload')
      return result.ok ? result : {ok: false, message: result.message, error: deserializeError(result.error)}
    } catch (error) {
      return {ok: false, error: error as Error, message: messageOf(error)}
    }
  }

  const settle = async (): Promise<void> => {
    // The thread reports its credit before it answers, so waiters admitted by it are in a new batch
    // by the time the answer arrives: settle again until nothing waits here.
    do {
      handOff.flush()
      await request('settle')
    } while (handOff.waiting > 0)
  }

  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      subscription.unsubscribe()
      removeMetrics()
      // What still waits for room is handed over: the thread's drain decides its fate, as in-process.
      handOff.release()
      if (gone === undefined) {
        try {
          await request('stop')
        } catch (error) {
          log.error(`stopping the backend thread failed: ${messageOf(error)}`)
        }
      }
      stopping = true
      await worker.terminate()
    })())

  return {name: 'backend', status, stop, reload, settle}
}
