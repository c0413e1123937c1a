// Finding and running nats-server: the search order (DSIEM_NATS_SERVER, PATH, the install locations),
// the one-line instruction when it is missing, and a launcher that waits for a real listening server
// and fails with the server's own words when it cannot start.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {EnvironmentError} from '../../src/engine/errors.js'
import {
  NATS_SERVER_INSTRUCTION,
  findNatsServer,
  startNatsServer,
  type RunningNatsServer,
} from '../../src/roles/io/nats-server.js'
import {rawConnect} from '../helpers/nats.js'
import {REPO_ROOT} from '../helpers/paths.js'

describe('findNatsServer', () => {
  let dir: string
  let fake: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dsiem-find-nats-'))
    fake = path.join(dir, 'nats-server')
    writeFileSync(fake, '#!/bin/sh\nexit 0\n')
    chmodSync(fake, 0o755)
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  const empty = (): string => mkdtempSync(path.join(dir, 'empty-'))

  it('honours DSIEM_NATS_SERVER before PATH', () => {
    const other = path.join(dir, 'custom-nats')
    writeFileSync(other, '#!/bin/sh\n')
    chmodSync(other, 0o755)
    assert.equal(findNatsServer({env: {DSIEM_NATS_SERVER: other, PATH: dir}, fallbackPaths: []}), other)
  })

  it('rejects a DSIEM_NATS_SERVER that is not an executable file', () => {
    const notExecutable = path.join(dir, 'plain-file')
    writeFileSync(notExecutable, '')
    for (const value of [path.join(dir, 'missing'), notExecutable, dir]) {
      assert.throws(
        () => findNatsServer({env: {DSIEM_NATS_SERVER: value, PATH: dir}}),
        (error: unknown) => error instanceof EnvironmentError && error.message.includes('DSIEM_NATS_SERVER'),
        value,
      )
    }
  })

  it('searches PATH, then the install locations', () => {
    assert.equal(findNatsServer({env: {PATH: `${empty()}${path.delimiter}${dir}`}, fallbackPaths: []}), fake)
    assert.equal(
      findNatsServer({env: {PATH: empty()}, fallbackPaths: ['/nonexistent/nats-server', fake]}),
      fake,
    )
  })

  it('says how to install it when nothing is found', () => {
    assert.throws(
      () => findNatsServer({env: {PATH: empty()}, fallbackPaths: [path.join(dir, 'none')]}),
      (error: unknown) =>
        error instanceof EnvironmentError &&
        error.message === NATS_SERVER_INSTRUCTION &&
        error.message ===
          'nats-server not found: install it (apt-get install nats-server) or set DSIEM_NATS_SERVER',
    )
  })
})

describe('scripts/ensure-nats-server.sh', () => {
  const script = path.join(REPO_ROOT, 'scripts/ensure-nats-server.sh')
  const run = (env: NodeJS.ProcessEnv): {status: number | null; stderr: string} => {
    const result = spawnSync('sh', [script], {env: {...process.env, ...env}, encoding: 'utf8'})
    return {status: result.status, stderr: result.stderr}
  }

  it('succeeds quietly when DSIEM_NATS_SERVER names a binary', () => {
    assert.deepEqual(run({DSIEM_NATS_SERVER: findNatsServer()}), {status: 0, stderr: ''})
  })

  it('fails on a DSIEM_NATS_SERVER that does not exist, without installing anything', () => {
    const result = run({DSIEM_NATS_SERVER: path.join(tmpdir(), 'no-such-nats-server')})
    assert.equal(result.status, 1)
    assert.match(result.stderr, /DSIEM_NATS_SERVER=.* is not an executable file/)
  })
})

describe('startNatsServer', () => {
  let first: RunningNatsServer | undefined
  before(async () => {
    first = await startNatsServer()
  })
  after(async () => {
    await first?.stop()
  })

  it('starts on a random loopback port that accepts clients', async () => {
    assert.match(first!.url, /^nats:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(first!.url, `nats://127.0.0.1:${first!.port}`)
    assert.ok(first!.pid > 0, 'a pid')
    const nc = await rawConnect(first!.url)
    await nc.flush()
    await nc.close()
  })

  it('fails with the server’s own words when it exits early', async () => {
    await assert.rejects(startNatsServer({port: first!.port}), (error: unknown) => {
      assert.ok(error instanceof EnvironmentError, 'an EnvironmentError')
      assert.match(error.message, /exited .*before accepting connections/)
      assert.match(error.message, /address already in use/)
      return true
    })
  })

  it('fails clearly when the binary cannot be run', async () => {
    await assert.rejects(
      startNatsServer({binary: path.join(tmpdir(), 'no-such-nats-server')}),
      (error: unknown) =>
        error instanceof EnvironmentError && /could not be started|exited/.test(error.message),
    )
  })

  it('stops: the port closes and stop() is idempotent', async () => {
    const server = await startNatsServer()
    await server.stop()
    await server.stop()
    await assert.rejects(rawConnect(server.url), 'nobody listens any more')
  })

  it('runs with JetStream in a given store dir, and keeps that dir', async () => {
    const storeDir = mkdtempSync(path.join(tmpdir(), 'dsiem-js-'))
    const server = await startNatsServer({storeDir})
    try {
      const nc = await rawConnect(server.url)
      const reply = await nc.request('$JS.API.INFO', '', {timeout: 2000})
      assert.match(reply.string(), /"type":"io.nats.jetstream.api.v1.account_info_response"/)
      await nc.close()
    } finally {
      await server.stop()
    }
    assert.ok(existsSync(path.join(storeDir, 'jetstream')), 'the store dir is used and kept')
    rmSync(storeDir, {recursive: true, force: true})
  })
})
