// `dsiem directive test --generate` as a user runs it: in-process it checks that every directive reaches
// its last stage (exit 1 when one cannot), and with --target it POSTs the events to a frontend, here a
// local node:http server that counts them and refuses some first tries to exercise the retry.

import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {writeConfigDir} from '../helpers/config-fixtures.js'
import {runCli, runCliAsync} from '../helpers/run-cli.js'

type RuleSpec = Record<string, unknown>

function rule(directive: number, stage: number, fields: RuleSpec): RuleSpec {
  return {
    name: `d${directive} s${stage}`,
    type: 'PluginRule',
    stage,
    plugin_id: 1000 + directive,
    plugin_sid: [directive * 10],
    occurrence: 1,
    from: 'ANY',
    to: 'ANY',
    port_from: 'ANY',
    port_to: 'ANY',
    reliability: stage * 3,
    timeout: stage === 1 ? 0 : 600,
    ...fields,
  }
}

const taxonomy = (product: string[], fields: RuleSpec = {}): RuleSpec => ({
  type: 'TaxonomyRule',
  plugin_id: 0,
  plugin_sid: undefined,
  product,
  category: 'Packet processing',
  ...fields,
})

const DIRECTIVES = [
  {
    id: 1,
    name: 'Ping Flood from SRC_IP',
    rules: [
      rule(1, 1, {from: 'HOME_NET'}),
      rule(1, 2, {from: ':1', to: ':1', occurrence: 3}),
      rule(1, 3, {from: ':1', occurrence: 5}),
    ],
  },
  {
    id: 2,
    name: 'Firewall scan to DST_IP',
    rules: [
      rule(2, 1, taxonomy(['Firewall'], {subcategory: ['drop'], to: 'HOME_NET'})),
      rule(2, 2, taxonomy(['Firewall'], {to: ':1', occurrence: 4, sticky_different: 'SRC_IP'})),
    ],
  },
  {
    id: 3,
    name: 'Brute force',
    rules: [
      rule(3, 1, {plugin_sid: [1, 2, 3], custom_data1: 'ANY', custom_label1: 'user', custom_data2: '!root'}),
      rule(3, 2, {
        plugin_sid: [1, 2, 3],
        from: ':1',
        custom_data1: ':1',
        occurrence: 3,
        sticky_different: 'PLUGIN_SID',
      }),
      rule(3, 3, {
        plugin_sid: [2],
        from: ':1',
        custom_data3: 'ssh, telnet',
        occurrence: 2,
        sticky_different: 'CUSTOM_DATA2',
      }),
    ],
  },
].map((d) => ({kingdom: 'Testing', category: 'Testing', priority: 4, ...d}))

function configDir(directives: unknown[] = DIRECTIVES): string {
  return writeConfigDir({
    directives,
    directivesFile: 'directives_generated.json',
    assetsFile: 'assets_lan.json',
  })
}

interface GenerateReport {
  seed: number
  events: number
  passed: boolean
  directives: {
    id: number
    status?: string
    reached_stage?: number
    events_per_stage: number[]
    limit?: {kind: string; message: string}
  }[]
  send?: {
    events: number
    accepted: number
    rejected: number
    retries: number
    failures: Record<string, number>
  }
}

interface Frontend {
  url: string
  /** Accepted events, in the order they were accepted. */
  accepted: {event_id: string; title: string; plugin_id?: number; timestamp: string}[]
  tries: Map<string, number>
  paths: Set<string>
}

/** A stand-in frontend: `answer(eventId, try)` decides the status of each POST. */
async function startFrontend(
  answer: (eventId: string, attempt: number) => number,
): Promise<Frontend & {server: Server}> {
  const frontend: Frontend = {url: '', accepted: [], tries: new Map(), paths: new Set()}
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      frontend.paths.add(`${request.method} ${request.url}`)
      const event = JSON.parse(body) as Frontend['accepted'][number]
      const attempt = (frontend.tries.get(event.event_id) ?? 0) + 1
      frontend.tries.set(event.event_id, attempt)
      const status = answer(event.event_id, attempt)
      if (status === 200) frontend.accepted.push(event)
      response.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  frontend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return Object.assign(frontend, {server})
}

describe('dsiem directive test --generate (in-process)', () => {
  it('walks every directive to its last stage, with references, HOME_NET, taxonomy, sticky and custom data', () => {
    const result = runCli(['directive', 'test', '--generate', '-c', configDir(), '--seed', '11'])
    assert.equal(result.status, 0, result.stdout + result.stderr)
    const lines = result.stdout.split('\n')
    assert.match(lines[0]!, /^seed 11 \(rerun with --seed 11 for the same events\); 3 directives, 20 events$/)
    assert.ok(
      lines.includes('✓ directive 1 "Ping Flood from SRC_IP": stage 3/3 complete (9 events)'),
      result.stdout,
    )
    assert.ok(
      lines.includes('✓ directive 2 "Firewall scan to DST_IP": stage 2/2 complete (5 events)'),
      result.stdout,
    )
    assert.ok(lines.includes('✓ directive 3 "Brute force": stage 3/3 complete (6 events)'), result.stdout)
    assert.match(result.stdout, /3 directives: 3 complete, 0 limited by --max, 0 failed/)
  })

  it('says when --max stops a directive short of its last stage, without failing', () => {
    const result = runCli(['directive', 'test', '--generate', '-c', configDir(), '--max', '2', '--json'])
    assert.equal(result.status, 0, result.stderr)
    const report = JSON.parse(result.stdout) as GenerateReport
    const ping = report.directives.find((d) => d.id === 1)!
    // Stage 3's events fit stage 2's rule too, so they carry the backlog past the capped stage.
    assert.deepEqual([ping.status, ping.reached_stage, ping.events_per_stage], ['partial', 3, [1, 2, 2]])
    assert.equal(ping.limit?.message, 'stage 2 needs 3 events but at most 2 are generated per rule')
    const text = runCli(['directive', 'test', '--generate', '-c', configDir(), '--max', '2'])
    assert.match(
      text.stdout,
      /~ directive 1 "Ping Flood from SRC_IP": stage 3\/3 reached \(5 events\); cannot complete: stage 2 needs 3 events but at most 2 are generated per rule \(raise --max\)/,
    )
  })

  it('fails (exit 1) when a directive can never complete, saying why', () => {
    const stuck = {
      ...DIRECTIVES[0],
      id: 9,
      name: 'stuck',
      rules: [rule(9, 1, {}), rule(9, 2, {from: ':1', occurrence: 3, sticky_different: 'SRC_IP'})],
    }
    const result = runCli(['directive', 'test', '--generate', '-c', configDir([...DIRECTIVES, stuck])])
    assert.equal(result.status, 1)
    assert.match(
      result.stdout,
      /✗ directive 9 "stuck": stage 2\/2 \(1 events\); stage 2: sticky_different SRC_IP needs 3 distinct values, but only 1 satisfy the rule/,
    )
    assert.match(result.stdout, /4 directives: 3 complete, 0 limited by --max, 1 failed/)
  })

  it('refuses a --homenet outside the assets in one line', () => {
    const result = runCli(['directive', 'test', '--generate', '-c', configDir(), '--homenet', '10.1.1.1'])
    assert.equal(result.status, 2)
    assert.match(
      result.stderr.trim(),
      /^dsiem: error: HOME_NET address 10\.1\.1\.1 is not inside a non-whitelisted asset/,
    )
    assert.equal(result.stderr.trim().split('\n').length, 1)
  })

  it('is reproducible with --seed, and its written events replay with --events', () => {
    const dir = configDir()
    const write = (file: string) =>
      runCli(
        [
          'directive',
          'test',
          '--generate',
          '-c',
          dir,
          '--now',
          '2026-01-01T00:00:00Z',
          '--write-events',
          path.join(dir, file),
        ],
        {
          env: {DSIEM_SEED: '5'},
        },
      )
    assert.equal(write('a.ndjson').status, 0)
    assert.equal(write('b.ndjson').status, 0)
    const events = readFileSync(path.join(dir, 'a.ndjson'), 'utf8')
    assert.equal(events, readFileSync(path.join(dir, 'b.ndjson'), 'utf8'))
    assert.equal(events.trim().split('\n').length, 20)
    const replay = runCli([
      'directive',
      'test',
      '-c',
      dir,
      '--events',
      path.join(dir, 'a.ndjson'),
      '--now',
      '2026-01-01T00:00:00Z',
      '--json',
    ])
    assert.equal(replay.status, 0, replay.stderr)
    // Brute force runs between public addresses (no asset value, risk 0): it completes without an alarm.
    const {alarms} = JSON.parse(replay.stdout) as {alarms: {title: string; rules: {status?: string}[]}[]}
    assert.deepEqual(alarms.map((a) => [a.title, a.rules.every((r) => r.status === 'finished')]).sort(), [
      ['Firewall scan to Firewall', true],
      ['Ping Flood from Firewall', true],
    ])
  })
})

describe('dsiem directive test --generate --target', () => {
  const servers: Server[] = []
  after(() => {
    for (const server of servers) server.close()
  })

  it('POSTs every event to <target>/events, retrying refused first tries, stages in order', async () => {
    // Every third event is refused (500) on its first try.
    let seen = 0
    const refusedOnce = new Set<string>()
    const frontend = await startFrontend((id, attempt) => {
      if (attempt === 1 && seen++ % 3 === 0) {
        refusedOnce.add(id)
        return 500
      }
      return 200
    })
    servers.push(frontend.server)
    const result = await runCliAsync(
      ['directive', 'test', '--generate', '-c', configDir(), '--target', frontend.url + '/', '--json'],
      {env: {DSIEM_RETRY_DELAY: '20', DSIEM_RPS: '2000', DSIEM_CONCURRENCY: '4'}},
    )
    assert.equal(result.status, 0, result.stdout + result.stderr)
    const report = JSON.parse(result.stdout) as GenerateReport
    assert.equal(report.events, 20)
    assert.deepEqual(
      report.send && [report.send.events, report.send.accepted, report.send.rejected],
      [20, 20, 0],
    )
    assert.equal(report.send!.retries, refusedOnce.size)
    assert.ok(refusedOnce.size >= 7, `only ${refusedOnce.size} first tries refused`)
    assert.deepEqual([...frontend.paths], ['POST /events'])
    assert.equal(new Set(frontend.accepted.map((e) => e.event_id)).size, 20)
    // Waves: no event of stage k+1 is accepted before every event of stage k.
    const stages = frontend.accepted.map((e) => Number(/ s(\d+)$/.exec(e.title)![1]))
    assert.deepEqual(
      stages,
      [...stages].sort((a, b) => a - b),
    )
    // Stamped at send time, as dtester does (no --now given).
    const sent = frontend.accepted.map((e) => Date.parse(e.timestamp))
    assert.ok(
      sent.every((t) => Math.abs(t - Date.now()) < 120_000),
      'events stamped at send time',
    )
  })

  it('exits 1 with a summary when the frontend keeps refusing some events', async () => {
    const frontend = await startFrontend((id) => (id.endsWith('0') || id.endsWith('1') ? 418 : 200))
    servers.push(frontend.server)
    const result = await runCliAsync([
      'directive',
      'test',
      '--generate',
      '-c',
      configDir(),
      '--target',
      frontend.url,
      '--retry-delay',
      '5',
      '--max-tries',
      '3',
      '--seed',
      '3',
    ])
    assert.equal(result.status, 1, result.stdout + result.stderr)
    const refused = [...frontend.tries.entries()].filter(([id]) => id.endsWith('0') || id.endsWith('1'))
    assert.ok(refused.length > 0, 'the seed should produce some refused ids')
    assert.ok(
      refused.every(([, tries]) => tries === 3),
      `tries per refused id: ${JSON.stringify(refused)}`,
    )
    assert.match(
      result.stdout,
      new RegExp(
        `sent 20 events to ${frontend.url}/events: ${20 - refused.length} accepted, ${refused.length} rejected \\(HTTP 418: ${refused.length}\\); ${20 + 2 * refused.length} attempts, ${2 * refused.length} retries`,
      ),
    )
  })

  it('reports a frontend that is not there', async () => {
    const frontend = await startFrontend(() => 200)
    await new Promise<void>((resolve) => frontend.server.close(() => resolve()))
    const result = await runCliAsync(
      ['directive', 'test', '--generate', '-c', configDir(), '--target', frontend.url, '--max-tries', '1'],
      {env: {DSIEM_RETRY_DELAY: '0'}},
    )
    assert.equal(result.status, 1)
    assert.match(result.stdout, /0 accepted, 20 rejected \(connection error: 20\)/)
    assert.match(result.stdout, /first connection error: POST http:\/\/127\.0\.0\.1:\d+\/events failed: /)
  })

  it('rejects a target that is not an http URL', () => {
    const result = runCli(['directive', 'test', '--generate', '-c', configDir(), '--target', 'ftp://x'])
    assert.equal(result.status, 2)
    assert.match(result.stderr, /--target: "ftp:\/\/x" must be an http:\/\/ or https:\/\/ URL/)
    const misplaced = runCli(['directive', 'test', '--events', 'x.ndjson', '--target', 'http://x'])
    assert.match(misplaced.stderr, /--target needs --generate/)
  })
})
