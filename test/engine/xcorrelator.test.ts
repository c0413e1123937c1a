// The pure half of intel/vuln cross-correlation: config decoding (upstream's plugin1..3 fixtures),
// plugin set-up messages, the Wise/Nesd answer formats, candidate terms with upstream's own examples,
// and the TTL cache with its not-found marker and corrupt entries.

import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {
  ConfigError,
  LookupCache,
  ManualClock,
  NOT_FOUND_MARKER,
  buildVulnSearchTerms,
  decodeLookupResults,
  decodeNesdResponse,
  decodeUrlConfig,
  decodeWiseResponse,
  encodeLookupResults,
  initializePlugins,
  intelCandidates,
  loadIntelSources,
  loadVulnSources,
  parseGoAtoi,
  parseJson,
  readCachedLookup,
  storeLookup,
  substitutePlaceholder,
  vulnCandidates,
  type CheckResult,
  type ConfigFile,
  type IntelPlugin,
  type LookupResult,
  type VulnPlugin,
} from '../../src/engine/index.js'
import {skipWithoutUpstreamFixtures, upstream} from '../helpers/paths.js'

const XC_FIXTURES = 'internal/pkg/dsiem/xcorrelator/fixtures'

function fixture(...parts: string[]): ConfigFile {
  const name = upstream(...parts)
  return {name, text: readFileSync(name, 'utf8')}
}

function file(text: string, name = 'intel_test.json'): ConfigFile {
  return {name, text}
}

/** Upstream's test plugin: its config must be a JSON object ({"api_key": ...}). */
class Dummy implements IntelPlugin, VulnPlugin {
  initialize(config: string): void {
    const value = parseJson(config).value
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      throw new Error('cannot unmarshal config into Go value of type config')
    }
  }
  async checkIp(ip: string): Promise<CheckResult> {
    return {found: true, results: [{provider: 'Dummy', term: ip, result: 'Detected in DB'}]}
  }
  async checkIpPort(ip: string, port: number): Promise<CheckResult> {
    return {found: true, results: [{provider: 'Dummy', term: `${ip}:${port}`, result: 'Detected in DB'}]}
  }
}

const DUMMY_INTEL = new Map([['Dummy', () => new Dummy() as IntelPlugin]])
const DUMMY_VULN = new Map([['DummyV', () => new Dummy() as VulnPlugin]])

describe(
  'intel_*.json / vuln_*.json (upstream xcorrelator fixtures)',
  {skip: skipWithoutUpstreamFixtures('xcorrelator fixtures')},
  () => {
    it('plugin1: a number as config fails start-up with file:line:column', () => {
      const intel = fixture(XC_FIXTURES, 'plugin1', 'intel_dummy.json')
      assert.throws(
        () => loadIntelSources([intel]),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error))
          assert.match(
            error.message,
            /plugin1\/intel_dummy\.json:8:17: cannot unmarshal number 123 into Go struct field IntelSource\.config of type string \(at intel_sources\[0\]\.config\)$/,
          )
          return true
        },
      )
      const vuln = fixture(XC_FIXTURES, 'plugin1', 'vuln_dummy.json')
      assert.throws(
        () => loadVulnSources([vuln]),
        /vuln_dummy\.json:8:17: .*VulnSource\.config of type string/,
      )
    })

    it('plugin2: an unknown plugin and a config the plugin rejects only warn', () => {
      const intel = initializePlugins(
        'intel',
        loadIntelSources([fixture(XC_FIXTURES, 'plugin2', 'intel_dummy.json')]),
        DUMMY_INTEL,
      )
      assert.equal(intel.plugins.length, 0)
      assert.deepEqual(intel.messages, [
        {
          level: 'warn',
          message:
            "Cannot initialize intel plugin Dummy: invalid character 'N' looking for beginning of value",
        },
        {level: 'warn', message: 'Cannot find intel plugin NoWhere'},
        {level: 'info', message: 'Loaded 0 threat intelligence sources.'},
      ])
      // The DummyV registered by upstream's vuln test accepts any config, so only NoWhere is skipped.
      const acceptsAnything = new Map([
        ['DummyV', () => ({initialize() {}, checkIpPort: new Dummy().checkIpPort}) as VulnPlugin],
      ])
      const vuln = initializePlugins(
        'vuln',
        loadVulnSources([fixture(XC_FIXTURES, 'plugin2', 'vuln_dummy.json')]),
        acceptsAnything,
      )
      assert.deepEqual(vuln.messages, [
        {level: 'info', message: 'Adding vuln plugin DummyV'},
        {level: 'warn', message: 'Cannot find vuln plugin NoWhere'},
        {level: 'info', message: 'Loaded 1 vulnerability scan result sources.'},
      ])
    })

    it('plugin3: valid configs load one source each', () => {
      const intelSources = loadIntelSources([fixture(XC_FIXTURES, 'plugin3', 'intel_dummy.json')])
      assert.deepEqual(intelSources, [
        {name: 'Dummy', type: 'IP', enabled: true, plugin: 'Dummy', config: '{ "api_key":"testapikey" }'},
      ])
      const intel = initializePlugins('intel', intelSources, DUMMY_INTEL)
      assert.equal(intel.plugins.length, 1)
      assert.equal(intel.plugins[0]!.name, 'Dummy')
      assert.equal(intel.messages.at(-1)!.message, 'Loaded 1 threat intelligence sources.')
      const vuln = initializePlugins(
        'vuln',
        loadVulnSources([fixture(XC_FIXTURES, 'plugin3', 'vuln_dummy.json')]),
        DUMMY_VULN,
      )
      assert.deepEqual(
        vuln.messages.map((m) => m.message),
        ['Adding vuln plugin DummyV', 'Loaded 1 vulnerability scan result sources.'],
      )
    })

    it('decodes the shipped configs/intel_wise.json and configs/vuln_nessus.json', () => {
      const [wise] = loadIntelSources([fixture('configs', 'intel_wise.json')])
      assert.equal(wise!.plugin, 'Wise')
      assert.equal(decodeUrlConfig(wise!.config), 'http://wise:8081/ip/${ip}')
      const [nesd] = loadVulnSources([fixture('configs', 'vuln_nessus.json')])
      assert.equal(nesd!.plugin, 'Nesd')
      assert.equal(decodeUrlConfig(nesd!.config), 'http://dsiem-nesd:8081/?ip=${ip}&port=${port}')
    })
  },
)

describe('source decoding (Go encoding/json semantics)', () => {
  it('merges files in order, matches keys case-insensitively and skips disabled sources at set-up', () => {
    const sources = loadIntelSources([
      file('{"Intel_Sources":[{"NAME":"a","plugin":"Dummy","enabled":true,"config":"{}"}]}'),
      file(
        '{"intel_sources":[{"name":"b","plugin":"Dummy","enabled":false,"config":"{}"},{"name":"c","plugin":"Dummy","enabled":true,"config":null,"extra":1}]}',
      ),
    ])
    assert.deepEqual(
      sources.map((s) => [s.name, s.enabled, s.config]),
      [
        ['a', true, '{}'],
        ['b', false, '{}'],
        ['c', true, ''],
      ],
    )
    const setup = initializePlugins('intel', sources, DUMMY_INTEL)
    assert.deepEqual(
      setup.plugins.map((p) => p.source),
      ['a'],
    )
    // c's empty config is not JSON; b is disabled and never initialised.
    assert.match(
      setup.messages[1]!.message,
      /^Cannot initialize intel plugin Dummy: unexpected end of JSON input$/,
    )
  })

  it('gives each source its own plugin instance', () => {
    const sources = loadIntelSources([
      file(
        '{"intel_sources":[{"name":"a","plugin":"Dummy","enabled":true,"config":"{}"},{"name":"b","plugin":"Dummy","enabled":true,"config":"{}"}]}',
      ),
    ])
    const setup = initializePlugins('intel', sources, DUMMY_INTEL)
    assert.equal(setup.plugins.length, 2)
    assert.notEqual(setup.plugins[0]!.plugin, setup.plugins[1]!.plugin)
  })

  it('rejects wrong JSON types and syntax with the position', () => {
    assert.throws(
      () => loadIntelSources([file('{"intel_sources":[{"enabled":"true"}]}')]),
      /intel_test\.json:1:30: cannot unmarshal string into Go struct field IntelSource\.enabled of type bool/,
    )
    assert.throws(
      () => loadIntelSources([file('{"intel_sources":{}}')]),
      /:1:18: cannot unmarshal object into Go struct field IntelSources\.intel_sources of type \[\]xcorrelator\.IntelSource/,
    )
    assert.throws(
      () => loadIntelSources([file('[]')]),
      /:1:1: cannot unmarshal array into Go value of type xcorrelator\.IntelSources/,
    )
    assert.throws(
      () => loadVulnSources([file('{"vuln_sources":[{"url":5}]}', 'vuln_x.json')]),
      /vuln_x\.json:1:25: .*VulnSource\.url of type string/,
    )
    assert.throws(
      () => loadIntelSources([file('{"intel_sources":[\n  {"name": "x",}\n]}')]),
      /intel_test\.json:2:16: invalid character '}' looking for beginning of object key string/,
    )
    assert.deepEqual(loadIntelSources([file('null')]), [])
    assert.deepEqual(loadIntelSources([file('{"intel_sources":null}')]), [])
  })
})

describe('plugin configs and answers', () => {
  it('decodes {"url": ...} like Go', () => {
    assert.equal(decodeUrlConfig('{ "url" : "http://x/${ip}", "other": 1 }'), 'http://x/${ip}')
    assert.equal(decodeUrlConfig('{"URL":"u"}'), 'u')
    assert.equal(decodeUrlConfig('{ "api_key":"testapikey" }'), '')
    assert.equal(decodeUrlConfig('null'), '')
    assert.throws(() => decodeUrlConfig('N/A'), /invalid character 'N' looking for beginning of value/)
    assert.throws(
      () => decodeUrlConfig('{"url": 5}'),
      /cannot unmarshal number 5 into Go struct field Config\.url of type string/,
    )
    assert.throws(() => decodeUrlConfig('[]'), /cannot unmarshal array/)
  })

  it('substitutes only the first placeholder, literally', () => {
    assert.equal(substitutePlaceholder('/${ip}/${ip}', 'ip', '1.2.3.4'), '/1.2.3.4/${ip}')
    assert.equal(substitutePlaceholder('/${ip}', 'ip', "$&$'"), "/$&$'")
  })

  it('reads a WISE object-literal answer, skipping entries with len < 5', () => {
    const body =
      '[{field: "alienvault.id", len: 3, value: "12"},\n{field: "alienvault.activity", len: 9, value: "Spamming"}]\n'
    assert.deepEqual(decodeWiseResponse(body, '8.8.8.8'), {
      found: true,
      results: [{provider: 'Wise', term: '8.8.8.8', result: 'alienvault.activity: Spamming'}],
    })
    // Already-quoted JSON passes through the key quoting unchanged (upstream's own mock sends that).
    assert.equal(
      decodeWiseResponse('[{"field": "a.b", "len": 12, "value": "Intel::ADDR"}]', '1.1.1.1').results[0]!
        .result,
      'a.b: Intel::ADDR',
    )
    assert.deepEqual(decodeWiseResponse('[]\n', '1.1.1.1'), {found: false, results: []})
    assert.deepEqual(decodeWiseResponse('null', '1.1.1.1'), {found: false, results: []})
    assert.deepEqual(decodeWiseResponse('[{field: "x", len: 4, value: "y"}]', '1.1.1.1'), {
      found: false,
      results: [],
    })
  })

  it('fails on WISE answers Go cannot decode', () => {
    assert.throws(() => decodeWiseResponse('404 page not found\n', '1.1.1.1'), /invalid character/)
    assert.throws(
      () => decodeWiseResponse('{}', '1.1.1.1'),
      /cannot unmarshal object into Go value of type \[\]wise\.wiseResult/,
    )
    assert.throws(
      () => decodeWiseResponse('[{field: "x", len: "9", value: "y"}]', '1.1.1.1'),
      /wiseResult\.len of type int/,
    )
    assert.throws(
      () => decodeWiseResponse('[{field: "x", len: 9.0, value: "y"}]', '1.1.1.1'),
      /wiseResult\.len of type int/,
    )
    // Upstream quotes `value:` wherever it appears, even inside a value, and then cannot decode it.
    assert.throws(
      () => decodeWiseResponse('[{field: "x", len: 9, value: "a value: b"}]', '1.1.1.1'),
      /invalid character/,
    )
  })

  it('reads nesd answers, keeping Medium/High/Critical only', () => {
    assert.deepEqual(decodeNesdResponse('no vulnerability found\n', '10.0.0.1', 80), {
      found: false,
      results: [],
    })
    const body = JSON.stringify([
      {cve: 'CVE-2003-1567', risk: 'Medium', name: 'HTTP TRACE / TRACK Methods Allowed'},
      {cve: 'CVE-2008-5161', risk: 'Low', name: 'SSH Server CBC Mode Ciphers Enabled'},
      {cve: '', risk: 'Critical', name: 'Something'},
      {cve: 'CVE-1999-0524', risk: 'None', name: 'ICMP'},
    ])
    assert.deepEqual(decodeNesdResponse(body, '192.168.225.196', 80), {
      found: true,
      results: [
        {
          provider: 'Nesd',
          term: '192.168.225.196:80',
          result: 'Medium - HTTP TRACE / TRACK Methods Allowed (CVE-2003-1567)',
        },
        {provider: 'Nesd', term: '192.168.225.196:80', result: 'Critical - Something'},
      ],
    })
    assert.deepEqual(decodeNesdResponse('[{"risk":"Low","name":"x"}]', '1.1.1.1', 22), {
      found: false,
      results: [],
    })
    // Only the exact text means "not found"; anything else must be JSON.
    assert.throws(
      () => decodeNesdResponse('no vulnerability found', '1.1.1.1', 22),
      /invalid character 'o' in literal null|invalid literal/,
    )
    assert.throws(
      () => decodeNesdResponse('requires ip and port parameter\n', '1.1.1.1', 22),
      /invalid character/,
    )
  })
})

describe('intel candidates', () => {
  it('checks public IPs of src ∪ dst once each (upstream TestAsyncIntelCheck)', () => {
    assert.deepEqual(intelCandidates({srcIps: ['10.0.0.2'], dstIps: ['8.8.4.4'], intelHits: []}, false), [
      '8.8.4.4',
    ])
    assert.deepEqual(
      intelCandidates(
        {srcIps: ['8.8.8.8', '1.1.1.1'], dstIps: ['1.1.1.1', '8.8.4.4', '8.8.8.8'], intelHits: []},
        false,
      ),
      ['8.8.8.8', '1.1.1.1', '8.8.4.4'],
    )
  })

  it('skips private and unparsable IPs unless intelPrivateIP, and IPs that already have a hit', () => {
    const alarm = {
      srcIps: [
        '10.0.0.2',
        '172.16.3.4',
        '192.168.1.1',
        '127.0.0.1',
        '169.254.1.1',
        'fe80::1',
        'fd00::1',
        '::1',
        'not-an-ip',
      ],
      dstIps: ['8.8.8.8', '8.8.4.4', '2001:db8::1'],
      intelHits: [{provider: 'Dummy', term: '8.8.8.8', result: 'Detected in DB'}],
    }
    assert.deepEqual(intelCandidates(alarm, false), ['8.8.4.4', '2001:db8::1'])
    assert.deepEqual(intelCandidates(alarm, true), [...alarm.srcIps, '8.8.4.4', '2001:db8::1'])
  })
})

describe('vulnerability search terms (upstream construcTerms / UniqStringSlice)', () => {
  const rule = {
    from: '8.8.8.8,ANY',
    to: '10.0.0.4,10.0.0.4,ANY',
    portFrom: 'ANY,40004,400TYPO',
    portTo: 'ANY,80,80TYPO',
  }

  it('pairs literal addresses with listed ports and the last event ports (upstream TestAsyncVulnCheck)', () => {
    assert.deepEqual(buildVulnSearchTerms([rule], 31337, 80), [
      {ip: '8.8.8.8', port: '40004'},
      {ip: '8.8.8.8', port: '400TYPO'},
      {ip: '8.8.8.8', port: '31337'},
      {ip: '10.0.0.4', port: '80'},
      {ip: '10.0.0.4', port: '80TYPO'},
    ])
    assert.deepEqual(
      vulnCandidates([rule], 31337, 80, []).map((c) => c.term),
      ['8.8.8.8:40004', '8.8.8.8:31337', '10.0.0.4:80'],
    )
    const matching = {...rule, to: '10.0.0.2'}
    assert.deepEqual(vulnCandidates([matching], 31337, 80, []).at(-1), {
      ip: '10.0.0.2',
      port: 80,
      term: '10.0.0.2:80',
    })
    const existing = [{provider: 'Dummy', term: '10.0.0.2:80', result: 'Detected in DB'}]
    assert.deepEqual(
      vulnCandidates([matching], 31337, 80, existing).map((c) => c.term),
      ['8.8.8.8:40004', '8.8.8.8:31337'],
    )
  })

  it('skips ANY, HOME_NET, !HOME_NET and CIDRs; neither trims nor validates addresses', () => {
    const rules = [
      {from: 'HOME_NET', to: '!HOME_NET', portFrom: '22', portTo: '22'},
      {from: '10.0.0.0/8,192.168.1.1/32', to: 'ANY', portFrom: '22', portTo: '22'},
      {from: '1.1.1.1, 2.2.2.2', to: '!3.3.3.3', portFrom: 'ANY', portTo: ' 443'},
    ]
    // ANY ports are skipped, and a last-event port of 0 adds nothing.
    assert.deepEqual(buildVulnSearchTerms(rules, 0, 0), [{ip: '!3.3.3.3', port: ' 443'}])
    assert.deepEqual(buildVulnSearchTerms(rules, 1024, 0), [
      {ip: '1.1.1.1', port: '1024'},
      {ip: ' 2.2.2.2', port: '1024'},
      {ip: '!3.3.3.3', port: ' 443'},
    ])
    // ' 443' is not an integer for Go's Atoi.
    assert.deepEqual(
      vulnCandidates(rules, 1024, 0, []).map((c) => c.term),
      ['1.1.1.1:1024', ' 2.2.2.2:1024'],
    )
  })

  it('de-duplicates across rules and keeps the order of first appearance', () => {
    const rules = [
      {from: '1.1.1.1', to: '2.2.2.2', portFrom: 'ANY', portTo: '80'},
      {from: '1.1.1.1', to: '2.2.2.2', portFrom: 'ANY', portTo: '80,443'},
    ]
    assert.deepEqual(
      buildVulnSearchTerms(rules, 5000, 80).map((t) => `${t.ip}:${t.port}`),
      ['1.1.1.1:5000', '2.2.2.2:80', '2.2.2.2:443'],
    )
  })

  it('parses ports with Go Atoi: sign and leading zeros allowed, the term keeps the text', () => {
    assert.equal(parseGoAtoi('80'), 80)
    assert.equal(parseGoAtoi('+80'), 80)
    assert.equal(parseGoAtoi('080'), 80)
    assert.equal(parseGoAtoi('-1'), -1)
    for (const bad of ['', ' 80', '80 ', '8O', '0x50', '1e3', '9223372036854775808'])
      assert.equal(parseGoAtoi(bad), undefined, bad)
    assert.equal(parseGoAtoi('9223372036854775807'), Number(9223372036854775807n))
    assert.deepEqual(
      vulnCandidates([{from: '1.1.1.1', to: 'ANY', portFrom: '080', portTo: 'ANY'}], 0, 0, []),
      [{ip: '1.1.1.1', port: 80, term: '1.1.1.1:080'}],
    )
  })
})

describe('lookup cache', () => {
  const hit: LookupResult[] = [{provider: 'Wise', term: '8.8.8.8', result: 'a <b> & "c"'}]

  it('stores found results as Go JSON and not-found as the marker', () => {
    const cache = new LookupCache(10, new ManualClock(1000))
    storeLookup(cache, '8.8.8.8', true, hit)
    assert.equal(
      cache.get('8.8.8.8'),
      '[{"provider":"Wise","term":"8.8.8.8","result":"a \\u003cb\\u003e \\u0026 \\"c\\""}]',
    )
    assert.deepEqual(readCachedLookup(cache, '8.8.8.8'), {kind: 'found', results: hit})
    storeLookup(cache, '10.0.0.1:80', false, [])
    assert.equal(cache.get('10.0.0.1:80'), NOT_FOUND_MARKER)
    assert.deepEqual(readCachedLookup(cache, '10.0.0.1:80'), {kind: 'not-found'})
    assert.deepEqual(readCachedLookup(cache, '1.1.1.1'), {kind: 'miss'})
  })

  it('treats undecodable entries as corrupt (upstream then asks the plugins again)', () => {
    const cache = new LookupCache(10, new ManualClock(1000))
    cache.set('10.0.0.1', 'foo')
    assert.deepEqual(readCachedLookup(cache, '10.0.0.1'), {kind: 'corrupt'})
    cache.set('10.0.0.2', '{"provider":"x"}')
    assert.deepEqual(readCachedLookup(cache, '10.0.0.2'), {kind: 'corrupt'})
    cache.set('10.0.0.3', 'null')
    assert.deepEqual(readCachedLookup(cache, '10.0.0.3'), {kind: 'found', results: []})
  })

  it('expires entries after cacheDuration minutes (0 means 10)', () => {
    const clock = new ManualClock(1000)
    const cache = new LookupCache(0, clock)
    assert.equal(cache.lifetimeSeconds, 600)
    storeLookup(cache, 'a', false, [])
    clock.advance(599)
    assert.deepEqual(readCachedLookup(cache, 'a'), {kind: 'not-found'})
    clock.advance(1)
    assert.deepEqual(readCachedLookup(cache, 'a'), {kind: 'miss'})
    assert.equal(cache.size, 0)

    const short = new LookupCache(1, clock)
    storeLookup(short, 'b', true, hit)
    clock.advance(59)
    assert.equal(readCachedLookup(short, 'b').kind, 'found')
    clock.advance(1)
    assert.equal(readCachedLookup(short, 'b').kind, 'miss')
  })

  it('sweeps expired entries on write so the map stays bounded', () => {
    const clock = new ManualClock(0)
    const cache = new LookupCache(1, clock)
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, NOT_FOUND_MARKER)
    assert.equal(cache.size, 100)
    clock.advance(60)
    cache.set('fresh', NOT_FOUND_MARKER)
    assert.equal(cache.size, 1)
  })

  it('round-trips results through the encoder and decoder', () => {
    const results = [
      ...hit,
      {provider: 'Nesd', term: '1.2.3.4:80', result: 'High - PHP 5.4.x < 5.4.18 (CVE-2013-4113)'},
    ]
    assert.deepEqual(decodeLookupResults(encodeLookupResults(results)), results)
    assert.throws(() => decodeLookupResults('[{"term": 1}]'), /Result\.term of type string/)
  })
})
