// One backend (`serve --role backend` over routed NATS) in a process of its own, for tests that crash it
// with SIGKILL: nothing in this process gets to say goodbye, exactly as in a real crash. Run as
// `node --import tsx test/helpers/backend-process.ts '<ServeConfig JSON>' <heartbeat ms>`; it logs
// JSON lines to stdout and stops gracefully on SIGTERM.

import {createBackendRole} from '../../src/roles/backend.js'
import {runServe} from '../../src/roles/index.js'
import type {ServeConfig} from '../../src/roles/serve-config.js'

const [configJson, heartbeat] = process.argv.slice(2)
if (configJson === undefined) throw new Error('usage: backend-process.ts <ServeConfig JSON> [heartbeat ms]')
const config = JSON.parse(configJson) as ServeConfig
await runServe(config, {
  logLevel: 'info',
  modules: {backend: createBackendRole({heartbeatMs: Number(heartbeat ?? 2000)})},
})
