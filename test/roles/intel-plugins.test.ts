// The built-in Wise and Nesd plugins against a real local HTTP server playing WISE and nesd (upstream's
// wise_test.go / nesd_test.go cases, including their broken-URL fixture entries), a server slower than
// the deadline, and loading intel_*.json / vuln_*.json from a config dir.

import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {
  ConfigError,
  EnvironmentError,
  loadIntelSources,
  loadVulnSources,
  parseJson,
  type CheckResult,
  type IntelPlugin,
  type VulnPlugin,
} from '../../src/engine/index.js'
import {NesdPlugin, WisePlugin} from '../../src/roles/io/intel-plugins.js'
import {loadXcorrelatorPlugins} from '../../src/roles/io/xcorrelator-config.js'
import {startIntelServer, type IntelServer} from '../helpers/intel-server.js'
import {skipWithoutUpstreamFixtures, upstream} from '../helpers/paths.js'

/** Upstream's fixture config entries, pointed at the test server instead of localhost:808x. */
function fixtureConfigs(kind: 'wise' | 'nesd', base: string): string[] {
  if (kind === 'wise') {
    const name = upstream('internal/pkg/plugin/wise/fixtures/intel_wise.json')
    return loadIntelSources([{name, text: readFileSync(name, 'utf8')}]).map((s) =>
      s.config.replace('http://localhost:8082', base),
    )
  }
  const name = upstream('internal/pkg/plugin/nesd/fixtures/vuln_nessus.json')
  return loadVulnSources([{name, text: readFileSync(name, 'utf8')}]).map((s) =>
    s.config.replace('http://localhost:8081', base),
  )
}

describe('Wise and Nesd plugins', {skip: skipWithoutUpstreamFixtures('intel plugin tests')}, () => {
  let server: IntelServer
  before(async () => {
    server = await startIntelServer()
  })
  after(async () => {
    await server.close()
  })

  it('Wise: upstream TestIntel cases', async () => {
    const [config] = fixtureConfigs('wise', server.base)
    const wise = new WisePlugin()
    wise.initialize(config!)
    assert.deepEqual(await wise.checkIp('10.0.0.1'), {found: false, results: []})
    assert.deepEqual(await wise.checkIp('8.8.8.8'), {
      found: true,
      results: [{provider: 'Wise', term: '8.8.8.8', result: 'alienvault.activity: Spamming'}],
    })
    const tor = await wise.checkIp('8.8.4.4')
    assert.equal(tor.found, true)
    assert.deepEqual(
      tor.results.map((r) => r.result),
      [
        'criticalstack.type: Intel::ADDR',
        'criticalstack.source: from https://www.dan.me.uk/torlist/ via intel.criticalstack.com',
      ],
    )
    assert.ok(server.requests.includes('/ip/8.8.8.8'), server.requests.join(' '))
  })

  it('Wise: the fixture entries with an empty or wrong URL initialise, then fail every check', async () => {
    const [, empty, wrongPath] = fixtureConfigs('wise', server.base)
    const noUrl = new WisePlugin()
    noUrl.initialize(empty!)
    await assert.rejects(noUrl.checkIp('8.8.8.8'), (error: unknown) => {
      assert.ok(error instanceof EnvironmentError, String(error))
      assert.match(error.message, /^GET {2}failed: /)
      return true
    })
    const notWise = new WisePlugin()
    notWise.initialize(wrongPath!)
    await assert.rejects(
      notWise.checkIp('8.8.8.8'),
      /GET http:\/\/127\.0\.0\.1:\d+\/foo returned an unusable answer \(HTTP 404\): invalid/,
    )
  })

  it('Wise: a config that is not a JSON object is rejected at initialisation', () => {
    assert.throws(() => new WisePlugin().initialize('N/A'), /invalid character 'N'/)
    assert.throws(() => new WisePlugin().initialize('{"url": 1}'), /Config\.url of type string/)
  })

  it('Nesd: upstream TestNesd cases against nesd answers for nessus_example.csv', async () => {
    const [config, empty, noParams] = fixtureConfigs('nesd', server.base)
    const nesd = new NesdPlugin()
    nesd.initialize(config!)
    assert.deepEqual(await nesd.checkIpPort('10.0.0.1', 80), {found: false, results: []})
    const web = await nesd.checkIpPort('192.168.225.196', 80)
    assert.equal(web.found, true)
    assert.deepEqual(web.results[0], {
      provider: 'Nesd',
      term: '192.168.225.196:80',
      result: 'Medium - HTTP TRACE / TRACK Methods Allowed (CVE-2003-1567)',
    })
    assert.ok(
      web.results.some(
        (r) => r.result === 'High - PHP 5.4.x < 5.4.18 Multiple Vulnerabilities (CVE-2013-4113)',
      ),
      'the High PHP finding on port 80',
    )
    assert.ok(
      web.results.every((r) => /^(Medium|High|Critical) - /.test(r.result)),
      'only Medium/High/Critical findings',
    )
    // Port 22 only has Low findings.
    assert.deepEqual(await nesd.checkIpPort('192.168.225.196', 22), {found: false, results: []})
    assert.ok(server.requests.includes('/?ip=192.168.225.196&port=22'), server.requests.join(' '))

    const noUrl = new NesdPlugin()
    noUrl.initialize(empty!)
    await assert.rejects(noUrl.checkIpPort('10.0.0.1', 80), EnvironmentError)
    const broken = new NesdPlugin()
    broken.initialize(noParams!)
    // nesd answers 400 "requires ip and port parameter", which is not JSON.
    await assert.rejects(broken.checkIpPort('10.0.0.1', 80), /unusable answer \(HTTP 400\)/)
  })

  it('gives up on a server slower than the deadline', async () => {
    const wise = new WisePlugin({timeoutMs: 100})
    wise.initialize(JSON.stringify({url: `${server.base}/slow/\${ip}`}))
    const started = Date.now()
    await assert.rejects(wise.checkIp('8.8.8.8'), /timed out after 100 ms/)
    assert.ok(Date.now() - started < 2_000, 'the deadline cut the request short')
    const nesd = new NesdPlugin({timeoutMs: 100})
    nesd.initialize(JSON.stringify({url: `${server.base}/slow/?ip=\${ip}&port=\${port}`}))
    await assert.rejects(nesd.checkIpPort('1.2.3.4', 80), /timed out after 100 ms/)
  })
})

class Dummy implements IntelPlugin, VulnPlugin {
  initialize(config: string): void {
    const value = parseJson(config).value
    if (value !== null && (typeof value !== 'object' || Array.isArray(value)))
      throw new Error('not an object')
  }
  async checkIp(): Promise<CheckResult> {
    return {found: false, results: []}
  }
  async checkIpPort(): Promise<CheckResult> {
    return {found: false, results: []}
  }
}

const DUMMIES = {
  intelPlugins: new Map([['Dummy', () => new Dummy() as IntelPlugin]]),
  vulnPlugins: new Map([['DummyV', () => new Dummy() as VulnPlugin]]),
}

describe(
  'loading intel/vuln sources from a config dir',
  {skip: skipWithoutUpstreamFixtures('xcorrelator config tests')},
  () => {
    const fixtures = (name: string): string => upstream('internal/pkg/dsiem/xcorrelator/fixtures', name)

    it('plugin1 stops start-up with the file, line and column', () => {
      assert.throws(
        () => loadXcorrelatorPlugins(fixtures('plugin1'), DUMMIES),
        (error: unknown) =>
          error instanceof ConfigError && /plugin1\/intel_dummy\.json:8:17: /.test(error.message),
      )
    })

    it('plugin2 only warns, plugin3 loads both kinds', () => {
      const warned = loadXcorrelatorPlugins(fixtures('plugin2'), DUMMIES)
      assert.equal(warned.intel.length + warned.vuln.length, 0)
      assert.deepEqual(warned.warnings, [
        "Cannot initialize intel plugin Dummy: invalid character 'N' looking for beginning of value",
        'Cannot find intel plugin NoWhere',
        "Cannot initialize vuln plugin DummyV: invalid character 'N' looking for beginning of value",
        'Cannot find vuln plugin NoWhere',
      ])
      const loaded = loadXcorrelatorPlugins(fixtures('plugin3'), DUMMIES)
      assert.equal(loaded.intel.length, 1)
      assert.equal(loaded.vuln.length, 1)
      assert.deepEqual(loaded.warnings, [])
      assert.deepEqual(
        loaded.messages.filter((m) => m.message.startsWith('Loaded')).map((m) => m.message),
        ['Loaded 1 threat intelligence sources.', 'Loaded 1 vulnerability scan result sources.'],
      )
    })

    it('uses the built-in Wise and Nesd by default; unknown plugin names only warn', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dsiem-xc-'))
      writeFileSync(
        path.join(dir, 'intel_wise.json'),
        readFileSync(upstream('internal/pkg/plugin/wise/fixtures/intel_wise.json')),
      )
      writeFileSync(path.join(dir, 'vuln_nessus.json'), readFileSync(upstream('configs/vuln_nessus.json')))
      writeFileSync(
        path.join(dir, 'vuln_other.json'),
        JSON.stringify({vuln_sources: [{name: 'x', plugin: 'Qualys', enabled: true, config: '{}'}]}),
      )
      const result = loadXcorrelatorPlugins(dir)
      // All three Wise fixture entries have a decodable config; their URLs only fail when used.
      assert.deepEqual(
        result.intel.map((p) => [p.name, p.source]),
        [
          ['Wise', 'Wise'],
          ['Wise', 'Wise-Error'],
          ['Wise', 'Wise-Error'],
        ],
      )
      assert.ok(result.intel[0]!.plugin instanceof WisePlugin, 'Wise is built in')
      assert.ok(result.vuln[0]!.plugin instanceof NesdPlugin, 'Nesd is built in')
      assert.deepEqual(result.warnings, ['Cannot find vuln plugin Qualys'])
      assert.deepEqual(
        result.files.map((f) => path.basename(f)),
        ['intel_wise.json', 'vuln_nessus.json', 'vuln_other.json'],
      )
    })

    it('a missing directory has no sources', () => {
      const result = loadXcorrelatorPlugins(path.join(tmpdir(), 'dsiem-no-such-dir-xc'))
      assert.equal(result.intel.length + result.vuln.length, 0)
      assert.deepEqual(
        result.messages.map((m) => m.message),
        ['Loaded 0 threat intelligence sources.', 'Loaded 0 vulnerability scan result sources.'],
      )
    })
  },
)
