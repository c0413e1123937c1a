// The traffic source of `bench:capture`, a child process of its own (pinned to the other CPU than the
// consumers): builds one traffic set, then on each `go` sends it a number of repetitions out of the
// veth's sending end with injectFrames(). A `go` with flow control sends repetition k only after the
// parent granted credit for it (the consumer has worked off all but a window of repetitions), so an
// analysis run measures what the consumer sustains instead of how far a faster sender overruns it.
//
// Protocol (IPC): → {type: 'ready', …} once built; ← {type: 'go', repetitions, flowControl};
// ← {type: 'credit', repetitions}; → {type: 'done', …}; ← {type: 'exit'}.

import {injectFrames} from '../../src/roles/io/capture.js'
import {buildTrafficSet, type TrafficSetName} from './capture-traffic.js'
import {monotonicMs} from './serve-proc.js'

export interface SenderConfig {
  iface: string
  set: TrafficSetName
}

export interface SenderReady {
  type: 'ready'
  framesPerRepetition: number
  bytesPerRepetition: number
  maxRepetitions: number
  description: string
}

export interface SenderGo {
  type: 'go'
  repetitions: number
  flowControl: boolean
  /** Repetitions that may go out before the first credit message (flow control). */
  credit?: number
}

export interface SenderDone {
  type: 'done'
  sent: number
  startMs: number
  endMs: number
  cpuSeconds: number
  /** Milliseconds spent waiting for credit (flow control). */
  waitedMs: number
}

type ParentMessage = SenderGo | {type: 'credit'; repetitions: number} | {type: 'exit'}

const config = JSON.parse(process.argv[2] ?? '{}') as SenderConfig
const set = buildTrafficSet(config.set)
/** Repetitions per injectFrames() call when nothing needs doing between them (fewer crossings into C++). */
const UNPATCHED_CHUNK = 10

let credit = 0
let creditWaiter: (() => void) | undefined
let exitRequested = false

function send(message: SenderReady | SenderDone): void {
  if (process.connected) process.send?.(message)
}

async function run(go: SenderGo): Promise<void> {
  const chunk = go.flowControl || set.name !== 'udp64' ? 1 : UNPATCHED_CHUNK
  const cpuBefore = process.cpuUsage()
  const startMs = monotonicMs()
  let waitedMs = 0
  let sent = 0
  let r = 0
  while (r < go.repetitions && !exitRequested) {
    if (go.flowControl && r >= credit) {
      const waitStart = monotonicMs()
      await new Promise<void>((resolve) => (creditWaiter = resolve))
      waitedMs += monotonicMs() - waitStart
      continue
    }
    set.forRepetition(r)
    const repeat = Math.min(chunk, go.repetitions - r)
    sent += injectFrames(config.iface, set.frames, repeat)
    r += repeat
  }
  const endMs = monotonicMs()
  const cpu = process.cpuUsage(cpuBefore)
  send({type: 'done', sent, startMs, endMs, cpuSeconds: (cpu.user + cpu.system) / 1e6, waitedMs})
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'go':
      credit = message.credit ?? 0
      void run(message).catch((error: unknown) => {
        process.stderr.write(`sender: ${(error as Error).stack ?? String(error)}\n`)
        process.exit(1)
      })
      break
    case 'credit':
      credit = Math.max(credit, message.repetitions)
      creditWaiter?.()
      creditWaiter = undefined
      break
    case 'exit':
      exitRequested = true
      creditWaiter?.()
      process.disconnect?.()
      break
  }
})

send({
  type: 'ready',
  framesPerRepetition: set.frames.length,
  bytesPerRepetition: set.bytesPerRepetition,
  maxRepetitions: set.maxRepetitions,
  description: set.description,
})
