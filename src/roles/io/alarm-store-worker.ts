// The alarm store's writer thread (started by alarm-store-thread.ts): owns the server's SQLite
// connection, applies each batch of upserts in order and commits it as one transaction, and answers
// every batch with the store's counts. A failed write stays queued in the store, which retries it
// with a growing delay and reports through onError, as on the main thread.

import {parentPort, workerData} from 'node:worker_threads'
import type {FromWriter, ToWriter, WriterData} from './alarm-store-thread.js'
import {messageOf} from '../../engine/index.js'
import {openAlarmStore} from './state.js'

const port = parentPort
if (port === null) throw new Error('alarm-store-worker.ts runs as a worker thread only')
const send = (message: FromWriter): void => port.postMessage(message)
const {file, options} = workerData as WriterData
const store = openAlarmStore(file, {
  ...options,
  onError: (error) => send({kind: 'error', message: error.message, code: error.code}),
})

port.on('message', (message: ToWriter) => {
  if (message.kind === 'upsert') {
    for (const alarm of message.alarms) store.upsert(alarm)
    let error: string | undefined
    try {
      store.flush()
    } catch (failure) {
      error = messageOf(failure)
    }
    send({kind: 'written', seq: message.seq, stats: store.stats(), error})
    return
  }
  let error: string | undefined
  try {
    store.close()
  } catch (failure) {
    error = messageOf(failure)
  }
  send({kind: 'closed', stats: store.stats(), error})
  port.close()
})
