// A clustered backend pulling its config from a frontend (a local node:http server plays it): only
// assets_, intel_, vuln_ and this node's directives_<node>_ files are downloaded; a non-200 answer or
// an unreachable frontend fails start-up with one line naming the URL, and nothing is written then.

import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {EnvironmentError} from '../../src/engine/index.js'
import {startBackend} from '../../src/roles/backend.js'
import {isConfigFileForNode, pullConfig} from '../../src/roles/backend/config-pull.js'
import {LAN_ASSETS, PING_FLOOD_DIRECTIVE} from '../helpers/config-fixtures.js'
import {logged, rig, serveConfig, tempDir} from './backend-rig.js'

interface Frontend {
  url: string
  files: Map<string, {status: number; body: string}>
  requests: string[]
  close(): Promise<void>
}

async function startFrontend(): Promise<Frontend> {
  const files = new Map<string, {status: number; body: string}>()
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const url = req.url ?? ''
    requests.push(url)
    if (url === '/config/') {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({files: [...files.keys()].map((filename) => ({filename}))}, null, 2))
      return
    }
    const file = files.get(decodeURIComponent(url.replace(/^\/config\//, '')))
    if (file === undefined) {
      res.writeHead(400)
      res.end('cannot open')
      return
    }
    res.writeHead(file.status)
    res.end(file.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const ok = (body: unknown) => ({status: 200, body: typeof body === 'string' ? body : JSON.stringify(body)})

describe('backend config pull', () => {
  let frontend: Frontend
  before(async () => {
    frontend = await startFrontend()
  })
  after(async () => {
    await frontend.close()
  })

  const clustered = (configDir: string, node = 'node1') =>
    serveConfig({
      configDir,
      dataDir: tempDir('dsiem-data-'),
      standalone: false,
      roles: ['backend'],
      node,
      frontend: frontend.url + '/',
    })

  it("downloads the shared files and this node's directives, then loads them", async () => {
    frontend.files.clear()
    frontend.files.set('assets_lan.json', ok(LAN_ASSETS))
    frontend.files.set('directives_node1_ping.json', ok({directives: [PING_FLOOD_DIRECTIVE]}))
    frontend.files.set('directives_node2_ping.json', ok({directives: [{...PING_FLOOD_DIRECTIVE, id: 9}]}))
    frontend.files.set('intel_none.json', ok({intel_sources: []}))
    frontend.files.set('vuln_none.json', ok({vuln_sources: []}))
    frontend.files.set('dsiem_config.json', ok({maxeps: 1000}))
    frontend.requests.length = 0

    const configDir = path.join(tempDir('dsiem-pull-'), 'configs')
    const r = rig(clustered(configDir))
    const backend = await startBackend(r.ctx)
    try {
      assert.deepEqual(readdirSync(configDir).sort(), [
        'assets_lan.json',
        'directives_node1_ping.json',
        'intel_none.json',
        'vuln_none.json',
      ])
      assert.deepEqual(JSON.parse(readFileSync(path.join(configDir, 'assets_lan.json'), 'utf8')), LAN_ASSETS)
      assert.ok(
        !frontend.requests.includes('/config/directives_node2_ping.json'),
        "another node's file is not fetched",
      )
      assert.deepEqual(
        backend.engine.directives.map((d) => d.id),
        [1],
      )
      assert.equal(logged(r.logs, `downloading ${frontend.url}/config/assets_lan.json`).length, 1)
    } finally {
      await backend.stop()
    }
  })

  it('fails start-up on a download that is not 200, naming the URL, and writes nothing', async () => {
    frontend.files.clear()
    frontend.files.set('assets_lan.json', ok(LAN_ASSETS))
    frontend.files.set('directives_node1_ping.json', {status: 404, body: 'not here'})
    const configDir = path.join(tempDir('dsiem-pull-'), 'configs')
    const r = rig(clustered(configDir))
    await assert.rejects(startBackend(r.ctx), (error: unknown) => {
      assert.ok(error instanceof EnvironmentError, `an EnvironmentError, got ${String(error)}`)
      assert.equal(
        error.message,
        `config pull failed: GET ${frontend.url}/config/directives_node1_ping.json answered HTTP 404`,
      )
      return true
    })
    assert.equal(existsSync(configDir), false, 'no file is saved when the pull fails')
  })

  it('fails start-up when the frontend cannot be reached', async () => {
    const gone = await startFrontend()
    await gone.close()
    const configDir = tempDir('dsiem-pull-')
    const r = rig(serveConfig({...clustered(configDir), frontend: gone.url}))
    await assert.rejects(startBackend(r.ctx), (error: unknown) => {
      assert.ok(error instanceof EnvironmentError, `an EnvironmentError, got ${String(error)}`)
      assert.match(error.message, new RegExp(`GET ${gone.url}/config/ failed`))
      return true
    })
  })

  it('refuses listed names that are not plain file names', async () => {
    frontend.files.clear()
    frontend.files.set('assets_../../escape.json', ok(LAN_ASSETS))
    const configDir = tempDir('dsiem-pull-')
    await assert.rejects(
      pullConfig({frontend: frontend.url, node: 'node1', configDir}),
      /listed "assets_\.\.\/\.\.\/escape\.json", not a file name/,
    )
  })

  it("selects files with upstream's prefixes", () => {
    assert.equal(isConfigFileForNode('assets_x.json', 'n'), true)
    assert.equal(isConfigFileForNode('intel_x.json', 'n'), true)
    assert.equal(isConfigFileForNode('vuln_x.json', 'n'), true)
    assert.equal(isConfigFileForNode('directives_n_x.json', 'n'), true)
    assert.equal(isConfigFileForNode('directives_nn_x.json', 'n'), false)
    assert.equal(isConfigFileForNode('directives_x.json', 'n'), false)
    assert.equal(isConfigFileForNode('dsiem_config.json', 'n'), false)
  })
})
