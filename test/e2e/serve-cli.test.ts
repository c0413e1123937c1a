// `dsiem serve` as a user runs it: child processes of the built CLI configured by DSIEM_* variables
// alone, stopped by SIGTERM; `dsiem directive reload` picking up a new directive file without a restart
// while a live backlog of an unchanged directive carries on; and the start-up refusals, each one line.

import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type AddressInfo} from 'node:net'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {pidFilePath} from '../../src/roles/io/process-files.js'
import {
  LAN_ASSETS,
  PING_FLOOD_DIRECTIVE,
  twoStagePluginDirective,
  writeConfigDir,
} from '../helpers/config-fixtures.js'
import {
  Cleanup,
  eventBody,
  freePort,
  postAll,
  send,
  serveArgs,
  spawnCli,
  spawnStandalone,
  started,
  waitFor,
  waitForStatusCode,
} from '../helpers/e2e.js'
import {runCliAsync} from '../helpers/run-cli.js'
import {alarmFiles, readLines} from '../roles/backend-rig.js'

const cleanup = new Cleanup()
after(() => cleanup.run())

/** A second directive for the reload: SSH login failures (plugin 2001), from HOME_NET. */
const SSH_DIRECTIVE = twoStagePluginDirective({
  id: 2,
  name: 'SSH Brute Force from SRC_IP',
  kingdom: 'Delivery & Attack',
  category: 'Brute Force',
  priority: 4,
  rule: 'SSH Login Failure',
  pluginId: 2001,
  pluginSids: [1],
  occurrence: [1, 2],
  reliability: [1, 5],
})

describe('dsiem serve as a user runs it', {concurrency: true}, () => {
  it('starts from DSIEM_* variables alone, takes an event, and exits 0 on SIGTERM removing its pid file', async () => {
    const configDir = writeConfigDir({
      dir: cleanup.dir('dsiem-e2e-env-config-'),
      directives: [PING_FLOOD_DIRECTIVE],
      assets: LAN_ASSETS,
    })
    const dataDir = cleanup.dir('dsiem-e2e-env-data-')
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const server = spawnCli(cleanup, ['serve', '--role', 'standalone'], {
      DSIEM_PORT: String(port),
      DSIEM_CONFIG_DIR: configDir,
      DSIEM_DATA_DIR: dataDir,
      DSIEM_MAXEPS: '500',
      // Comma-separated with a space inside a value: upstream's env form (split on whitespace) cannot.
      DSIEM_STATUS: 'Open,In Progress,Closed',
    })
    await started(server)
    const pidFile = pidFilePath(dataDir)
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.pid), 'the pid file names the server')

    const health = await waitForStatusCode(base, '/health', 200)
    const frontend = (
      JSON.parse(health.body) as {roles: {role: string; detail: Record<string, unknown>}[]}
    ).roles.find((r) => r.role === 'frontend')
    assert.equal(frontend?.detail['maxEps'], 500, 'DSIEM_MAXEPS')
    assert.equal(frontend?.detail['epsLimit'], 300, '500 − floor((500 − 100)/2)')
    const effective = JSON.parse(readFileSync(path.join(configDir, 'dsiem_config.json'), 'utf8')) as Record<
      string,
      unknown
    >
    assert.deepEqual(
      effective['status'],
      ['Open', 'In Progress', 'Closed'],
      'DSIEM_STATUS split on commas only',
    )
    assert.equal(effective['port'], port, 'DSIEM_PORT')
    assert.equal(effective['maxeps'], 500)

    await postAll(
      base,
      [0, 1, 2, 3, 4].map((i) => eventBody(`env-${i}`, {offset: i})),
    )
    const files = alarmFiles(dataDir)
    await waitFor(() => readLines(files.alarms).length === 1, 'the alarm line in DSIEM_DATA_DIR')
    assert.equal((JSON.parse(readLines(files.alarms)[0]!) as {status: string}).status, 'Open')

    assert.equal(await server.stop('SIGTERM'), 0, `exit code${server.stderr()}`)
    assert.equal(existsSync(pidFile), false, 'pid file removed')
    assert.ok(
      server.lines.some((l) => l.msg === 'dsiem serve stopped'),
      'a clean stop is logged',
    )
    assert.equal(server.stderr(), '', 'nothing on stderr')
  })

  it('`dsiem directive reload` adds a new directive without a restart; a live backlog of an unchanged one survives', async () => {
    const configDir = writeConfigDir({
      dir: cleanup.dir('dsiem-e2e-reload-config-'),
      directives: [PING_FLOOD_DIRECTIVE],
      directivesFile: 'directives_ping.json',
      assets: LAN_ASSETS,
    })
    const dataDir = cleanup.dir('dsiem-e2e-reload-data-')
    const {server, base} = await spawnStandalone(cleanup, configDir, dataDir)
    const files = alarmFiles(dataDir)
    const ssh = (id: string, offset: number) =>
      eventBody(id, {pluginId: 2001, pluginSid: 1, srcIp: '192.168.0.9', dstIp: '10.0.0.5', offset})

    await postAll(base, [eventBody('ping-0'), ssh('ssh-before', 0)])
    await waitFor(() => readLines(files.events).length === 1, 'the Ping Flood backlog')

    writeConfigDir({dir: configDir, directives: [SSH_DIRECTIVE], directivesFile: 'directives_ssh.json'})
    const reload = await runCliAsync(['directive', 'reload', '--data-dir', dataDir])
    assert.equal(reload.status, 0, reload.stderr)
    const reloaded = await server.waitForLog((l) => l.msg.startsWith('reloaded '), 'the reload summary')
    assert.match(
      reloaded.msg,
      /^reloaded 2 directives from directives_\*\.json: 1 unchanged, 1 added \[2\], 0 changed/,
    )
    assert.match(reloaded.msg, /0 backlogs discarded/)

    await postAll(base, [
      ...[1, 2, 3].map((i) => eventBody(`ping-${i}`, {offset: i})),
      ...[1, 2, 3].map((i) => ssh(`ssh-${i}`, i)),
    ])
    await waitFor(() => readLines(files.events).length === 7, 'seven alarm-event lines')
    const lines = readLines(files.events).map(
      (l) => JSON.parse(l) as {alarm_id: string; stage: number; event_id: string},
    )
    const ping = lines.filter((l) => l.event_id.startsWith('ping-'))
    assert.deepEqual(
      ping.map((l) => [l.event_id, l.stage]),
      [
        ['ping-0', 1],
        ['ping-1', 2],
        ['ping-2', 2],
        ['ping-3', 2],
      ],
    )
    assert.equal(new Set(ping.map((l) => l.alarm_id)).size, 1, 'the pre-reload backlog went on')
    assert.deepEqual(
      lines.filter((l) => l.event_id.startsWith('ssh-')).map((l) => [l.event_id, l.stage]),
      [
        ['ssh-1', 1],
        ['ssh-2', 2],
        ['ssh-3', 2],
      ],
      'the new directive correlates (the event before the reload was nobody’s)',
    )
    assert.equal(
      server.lines.filter((l) => l.msg.startsWith('dsiem serve started')).length,
      1,
      'no restart: one process, started once',
    )
    assert.equal(await server.stop(), 0)
  })

  it('a SIGTERM while starting up stops the server once it is up: exit 0, not killed half-way', async () => {
    const server = spawnCli(
      cleanup,
      serveArgs(
        await freePort(),
        writeConfigDir({dir: cleanup.dir('dsiem-e2e-early-config-'), directives: [PING_FLOOD_DIRECTIVE]}),
        cleanup.dir('dsiem-e2e-early-data-'),
      ),
    )
    // The backend's first line comes while the frontend and the HTTP server are still to start.
    await server.waitForLog((l) => l.msg.startsWith('Loaded 1 directives'), 'the directives loaded')
    assert.equal(await server.stop(), 0, server.stderr())
    assert.ok(
      server.lines.some((l) => l.msg === 'dsiem serve stopped'),
      'the stop ran its course after start-up',
    )
  })

  it('--pprof: one warning line in the log, and the server runs', async () => {
    const port = await freePort()
    const server = spawnCli(
      cleanup,
      serveArgs(
        port,
        writeConfigDir({dir: cleanup.dir('dsiem-e2e-pprof-config-'), directives: [PING_FLOOD_DIRECTIVE]}),
        cleanup.dir('dsiem-e2e-pprof-data-'),
        '--pprof',
      ),
    )
    await started(server)
    const warnings = server.lines.filter((l) => l.level === 'WARN')
    assert.deepEqual(
      warnings.map((l) => l.msg),
      ['--pprof is an upstream Go option with no effect in dsiem; ignoring it'],
    )
    assert.equal((await waitForStatusCode(`http://127.0.0.1:${port}`, '/health', 200)).status, 200)
    assert.equal(
      (await send(`http://127.0.0.1:${port}`, 'GET', '/debug/pprof/')).status,
      404,
      'no pprof routes',
    )
    assert.equal(await server.stop(), 0)
  })

  describe('start-up refusals: one clear line on stderr, non-zero exit, nothing started', () => {
    const refusals: [name: string, args: string[], code: number, line: RegExp][] = [
      [
        'upstream --mode cluster-frontend without --node',
        ['--mode', 'cluster-frontend'],
        3,
        /^dsiem: error: --node is required for frontend and backend roles outside standalone$/,
      ],
      [
        '--role proxy',
        ['--role', 'proxy'],
        3,
        /^dsiem: error: --role: proxy not available in this build yet; available: standalone, backend, frontend, worker$/,
      ],
      [
        '--role worker without a packet source',
        ['--role', 'worker'],
        3,
        /^dsiem: error: --role worker needs exactly one packet source: --interface IFACE or --pcap FILE$/,
      ],
      [
        '--role worker with both sources',
        ['--role', 'worker', '--interface', 'lo', '--pcap', 'x.pcap'],
        3,
        /^dsiem: error: --role worker needs exactly one packet source: --interface IFACE or --pcap FILE$/,
      ],
      [
        'minEPS > maxEPS',
        ['--maxEPS', '100', '--minEPS', '200'],
        3,
        /^dsiem: error: MinEPS cannot be larger than MaxEPS$/,
      ],
      [
        '--mode bogus',
        ['--mode', 'bogus'],
        3,
        /^dsiem: error: --mode: invalid mode "bogus"; valid modes: standalone, cluster-frontend, cluster-backend$/,
      ],
      [
        'a bad --address',
        ['--address', '300.1.2.3'],
        3,
        /^dsiem: error: --address: 300\.1\.2\.3 is not a valid IP address$/,
      ],
    ]
    for (const [name, args, code, line] of refusals) {
      it(name, async () => {
        const dir = cleanup.dir('dsiem-e2e-refuse-')
        // Somewhere harmless to start from if the refusal were missing: a free port, an empty config dir.
        const port = String(await freePort())
        const result = await runCliAsync([
          'serve',
          '--port',
          port,
          '--config-dir',
          path.join(dir, 'configs'),
          '--data-dir',
          dir,
          ...args,
        ])
        const lines = result.stderr.trimEnd().split('\n')
        assert.equal(lines.length, 1, `one line:\n${result.stderr}`)
        assert.match(lines[0]!, line)
        assert.equal(result.status, code, result.stderr)
        assert.equal(result.stdout, '', 'nothing on stdout: no server was started')
        assert.equal(existsSync(pidFilePath(dir)), false, 'no pid file')
      })
    }
  })
})

describe(
  'start-up failures of the environment: one line, exit 4, nothing left running',
  {concurrency: true},
  () => {
    it('a port already in use', async () => {
      const blocker = createServer()
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
      cleanup.add(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
      const port = (blocker.address() as AddressInfo).port
      const dir = cleanup.dir('dsiem-e2e-inuse-')
      const result = await runCliAsync([
        'serve',
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--config-dir',
        writeConfigDir({dir: path.join(dir, 'configs'), directives: [PING_FLOOD_DIRECTIVE]}),
        '--data-dir',
        dir,
      ])
      const lines = result.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, `one line:\n${result.stderr}`)
      assert.match(
        lines[0]!,
        new RegExp(`^dsiem: error: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
      )
      assert.equal(result.status, 4, result.stderr)
      assert.equal(existsSync(pidFilePath(dir)), false, 'no pid file')
    })

    it('a data dir that cannot hold the pid file (`--role frontend`, NATS not even up)', async () => {
      const dir = cleanup.dir('dsiem-e2e-badpid-')
      const notADir = path.join(dir, 'a-file')
      writeFileSync(notADir, '')
      const port = await freePort()
      const result = await runCliAsync([
        'serve',
        '--role',
        'frontend',
        '--node',
        'fe',
        '--nats-url',
        `nats://127.0.0.1:${await freePort()}`,
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--config-dir',
        dir,
        '--data-dir',
        notADir,
      ])
      const lines = result.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, `one line:\n${result.stderr}`)
      assert.match(lines[0]!, /^dsiem: error: cannot write the pid file .*a-file\/dsiem\.pid: /)
      assert.equal(result.status, 4, result.stderr)
      assert.ok(
        result.stdout.split('\n').every((l) => !l.includes('dsiem serve started')),
        `never announced as started:\n${result.stdout}`,
      )
    })

    it('a data dir another running server uses; a stale pid file is taken over', async () => {
      const configDir = writeConfigDir({
        dir: cleanup.dir('dsiem-e2e-shared-config-'),
        directives: [PING_FLOOD_DIRECTIVE],
      })
      const dataDir = cleanup.dir('dsiem-e2e-shared-data-')
      const {server} = await spawnStandalone(cleanup, configDir, dataDir)
      const second = await runCliAsync(serveArgs(await freePort(), configDir, dataDir))
      assert.equal(second.status, 4, second.stderr)
      const escaped = dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      assert.match(
        second.stderr,
        new RegExp(
          `^dsiem: error: data dir ${escaped} is in use by another dsiem serve \\(pid ${server.pid}\\) \\(stop that one`,
        ),
      )
      assert.equal(
        readFileSync(pidFilePath(dataDir), 'utf8').trim(),
        String(server.pid),
        'the first keeps its pid file',
      )
      assert.equal(await server.stop(), 0)

      // A pid file left by a process that is gone (a crash, a kill -9) does not block the next start.
      writeFileSync(pidFilePath(dataDir), '999999999\n')
      const {server: third} = await spawnStandalone(cleanup, configDir, dataDir)
      assert.equal(readFileSync(pidFilePath(dataDir), 'utf8').trim(), String(third.pid))
      assert.equal(await third.stop(), 0)
    })
  },
)
