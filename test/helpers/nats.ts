// Real nats-server processes for suites that test NATS behaviour, plus raw nats.js connections that
// play an upstream Go node (tests may import @nats-io/* directly; src may not).

import {connect, type NatsConnection} from '@nats-io/transport-node'
import {after, before} from 'node:test'
import type {BusStatus, EventBus} from '../../src/roles/bus.js'
import {
  startNatsServer,
  type NatsServerOptions,
  type RunningNatsServer,
} from '../../src/roles/io/nats-server.js'

/** Reconnect wait the tests give connectNatsBus, so a restarted server is picked up quickly. */
export const TEST_RETRY_MS = 250

/** Starts one nats-server before the suite's tests and stops it after them. */
export function useNatsServer(options: NatsServerOptions = {}): {readonly server: RunningNatsServer} {
  let server: RunningNatsServer | undefined
  before(async () => {
    server = await startNatsServer(options)
  })
  after(async () => {
    await server?.stop()
  })
  return {
    get server(): RunningNatsServer {
      if (server === undefined) throw new Error('nats-server not started yet (use it inside a test)')
      return server
    },
  }
}

/** A plain nats.js connection (an upstream peer, or a wire-level observer). */
export function rawConnect(url: string): Promise<NatsConnection> {
  return connect({servers: url, reconnect: false})
}

/** A loopback port nobody listens on right now (for "server not started yet" tests): the bench's. */
export {freePort} from '../../bench/lib/serve-proc.js'

/** Resolves when `predicate` holds, polling every 10 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves with the bus status once it reports `connected`. */
export function waitForStatus(bus: EventBus, connected: boolean, timeoutMs = 5000): Promise<BusStatus> {
  return new Promise((resolve, reject) => {
    if (bus.status().connected === connected) {
      resolve(bus.status())
      return
    }
    const timer = setTimeout(() => {
      subscription.unsubscribe()
      reject(
        new Error(`bus did not become ${connected ? 'connected' : 'disconnected'} within ${timeoutMs} ms`),
      )
    }, timeoutMs)
    const subscription = bus.onStatusChange((status) => {
      if (status.connected !== connected) return
      clearTimeout(timer)
      subscription.unsubscribe()
      resolve(status)
    })
  })
}
