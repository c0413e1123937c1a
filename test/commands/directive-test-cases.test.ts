// `dsiem directive test --cases` as a user runs it in CI: a YAML case file passes (exit 0), a wrong
// expectation fails (exit 1) with a diff naming the field, --junit writes a report CI can read, and a
// malformed case file gives one line naming file, line and field.

import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, it} from 'node:test'
import {PING_FLOOD_DIRECTIVE, pingEventLine, writeConfigDir} from '../helpers/config-fixtures.js'
import {runCli} from '../helpers/run-cli.js'

/** A project layout: configs/ with the directives, tests/ with the case files. */
function project(): {root: string; cases: string} {
  const root = mkdtempSync(path.join(tmpdir(), 'dsiem-cases-'))
  writeConfigDir({
    dir: path.join(root, 'configs'),
    directives: [PING_FLOOD_DIRECTIVE],
    directivesFile: 'directives_ping.json',
    assetsFile: 'assets_lan.json',
  })
  mkdirSync(path.join(root, 'tests'))
  return {root, cases: path.join(root, 'tests')}
}

const PASSING_YAML = `# Ping Flood cases
config_dir: ../configs
now: 2026-01-01T00:00:10Z
cases:
  - name: ping flood from the firewall reaches stage 3
    events:
      - {plugin_id: 1001, plugin_sid: 2100384, src_ip: 192.168.0.1, dst_ip: 8.8.8.8, timestamp: "2026-01-01T00:00:00Z"}
      - {plugin_id: 1001, plugin_sid: 2100384, src_ip: 192.168.0.1, dst_ip: 8.8.8.8, timestamp: "2026-01-01T00:00:01Z"}
      - {plugin_id: 1001, plugin_sid: 2100384, src_ip: 192.168.0.1, dst_ip: 8.8.8.8, timestamp: "2026-01-01T00:00:02Z"}
      - {plugin_id: 1001, plugin_sid: 2100384, src_ip: 192.168.0.1, dst_ip: 8.8.8.8, timestamp: "2026-01-01T00:00:03Z"}
    expect:
      alarms:
        - directive_id: 1
          title: Ping Flood from Firewall
          stage: 3
          risk: 3
          risk_class: Medium
          src_ips: [192.168.0.1]
          dst_ips: [8.8.8.8]
  - name: pings from outside HOME_NET raise nothing
    events:
      - {plugin_id: 1001, plugin_sid: 2100384, src_ip: 8.8.4.4, dst_ip: 8.8.8.8}
    expect:
      alarms: []
`

const FAILING_YAML = `config_dir: ../configs
now: 2026-01-01T00:00:10Z
cases:
  - name: still passes
    events:
      - {plugin_id: 1001, plugin_sid: 2100384, src_ip: 8.8.4.4, dst_ip: 8.8.8.8}
    expect: {alarms: []}
  - name: expects too much
    events_file: pings.ndjson
    expect:
      alarms:
        - {directive_id: 1, stage: 3, risk: 4, risk_class: High}
        - {directive_id: 7, stage: 2}
`

function pingLines(): string {
  return [0, 1, 2, 3].map((i) => pingEventLine(`p${i}`, i)).join('\n')
}

interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  text: string
}

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')

/** Just enough XML to read a JUnit report back; throws on unbalanced tags. */
function parseXml(xml: string): XmlElement {
  const root: XmlElement = {name: '#document', attributes: {}, children: [], text: ''}
  const stack = [root]
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '')
  const token = /<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g
  let match: RegExpExecArray | null
  while ((match = token.exec(body)) !== null) {
    const [, closing, name, attrs, selfClosing, text] = match
    const top = stack[stack.length - 1]!
    if (text !== undefined) {
      top.text += unescapeXml(text)
    } else if (closing === '/') {
      assert.equal(top.name, name, `unbalanced </${name}>`)
      stack.pop()
    } else {
      const attributes: Record<string, string> = {}
      for (const [, key, value] of attrs!.matchAll(/([\w:-]+)="([^"]*)"/g))
        attributes[key!] = unescapeXml(value!)
      const element: XmlElement = {name: name!, attributes, children: [], text: ''}
      top.children.push(element)
      if (selfClosing !== '/') stack.push(element)
    }
  }
  assert.equal(stack.length, 1, 'unclosed elements')
  return root
}

describe('dsiem directive test --cases', () => {
  it('passes a YAML case file whose expectations hold (exit 0)', () => {
    const {cases} = project()
    const file = path.join(cases, 'ping.yaml')
    writeFileSync(file, PASSING_YAML)
    const result = runCli(['directive', 'test', '--cases', file])
    assert.equal(result.status, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /✓ ping flood from the firewall reaches stage 3 \(4 events, 1 alarm\)/)
    assert.match(result.stdout, /✓ pings from outside HOME_NET raise nothing \(1 event, 0 alarms\)/)
    assert.match(result.stdout, /2 cases in .*ping\.yaml: 2 passed, 0 failed/)
  })

  it('fails on a mismatch (exit 1) with a diff naming the fields, missing and unexpected alarms', () => {
    const {cases} = project()
    const file = path.join(cases, 'ping.yaml')
    writeFileSync(file, FAILING_YAML)
    writeFileSync(path.join(cases, 'pings.ndjson'), pingLines())
    const result = runCli(['directive', 'test', '--cases', file])
    assert.equal(result.status, 1, result.stderr)
    const lines = result.stdout.split('\n')
    assert.ok(lines.includes('✓ still passes (1 event, 0 alarms)'), result.stdout)
    assert.ok(lines.includes('✗ expects too much (4 events, 1 alarm)'), result.stdout)
    assert.ok(lines.includes('    alarm b000001 of directive 1 (expected alarm #1):'), result.stdout)
    assert.ok(lines.includes('      risk        expected 4       got 3'), result.stdout)
    assert.ok(lines.includes('      risk_class  expected "High"  got "Medium"'), result.stdout)
    assert.ok(lines.includes('    missing alarm (expected alarm #2): directive 7, stage 2'), result.stdout)
    assert.match(result.stdout, /2 cases in .*: 1 passed, 1 failed/)
  })

  it('reports an alarm nobody expected', () => {
    const {cases} = project()
    const file = path.join(cases, 'ping.json')
    writeFileSync(
      file,
      JSON.stringify({
        config_dir: '../configs',
        cases: [{name: 'expects silence', events_file: 'pings.ndjson', expect: {alarms: []}}],
      }),
    )
    writeFileSync(path.join(cases, 'pings.ndjson'), pingLines())
    const result = runCli(['directive', 'test', '--cases', file, '--now', '2026-01-01T00:00:10Z'])
    assert.equal(result.status, 1)
    assert.match(
      result.stdout,
      /unexpected alarm b000001: directive 1 "Ping Flood from Firewall", stage 3\/3, risk 3 Medium, \[192\.168\.0\.1\] → \[8\.8\.8\.8\]/,
    )
  })

  it('writes a JUnit report that reads back as one suite with a testcase per case', () => {
    const {cases, root} = project()
    const file = path.join(cases, 'ping.yaml')
    writeFileSync(file, FAILING_YAML)
    writeFileSync(path.join(cases, 'pings.ndjson'), pingLines())
    const report = path.join(root, 'reports', 'junit.xml')
    const result = runCli(['directive', 'test', '--cases', file, '--junit', report])
    assert.equal(result.status, 1)
    const doc = parseXml(readFileSync(report, 'utf8'))
    const [testsuites] = doc.children
    assert.equal(testsuites!.name, 'testsuites')
    assert.equal(testsuites!.children.length, 1)
    const suite = testsuites!.children[0]!
    assert.deepEqual(
      [suite.name, suite.attributes['tests'], suite.attributes['failures']],
      ['testsuite', '2', '1'],
    )
    assert.deepEqual(
      suite.children.map((c) => [
        c.name,
        c.attributes['name'],
        c.attributes['classname'],
        c.children.map((f) => f.name),
      ]),
      [
        ['testcase', 'still passes', 'dsiem.ping', []],
        ['testcase', 'expects too much', 'dsiem.ping', ['failure']],
      ],
    )
    const failure = suite.children[1]!.children[0]!
    assert.equal(failure.attributes['message'], '2 alarm mismatches')
    assert.match(failure.text, /risk_class {2}expected "High" {2}got "Medium"/)
    assert.match(failure.text, /missing alarm \(expected alarm #2\): directive 7, stage 2/)
  })

  it('prints a machine-readable report with --json, and takes the file from DSIEM_CASES', () => {
    const {cases} = project()
    const file = path.join(cases, 'ping.yaml')
    writeFileSync(file, FAILING_YAML)
    writeFileSync(path.join(cases, 'pings.ndjson'), pingLines())
    const result = runCli(['directive', 'test', '--json'], {env: {DSIEM_CASES: file}})
    assert.equal(result.status, 1)
    const report = JSON.parse(result.stdout) as {
      passed: number
      failed: number
      cases: {
        name: string
        passed: boolean
        alarms: {alarm_id: string; stage: number}[]
        mismatches: {kind: string}[]
      }[]
    }
    assert.deepEqual([report.passed, report.failed], [1, 1])
    assert.deepEqual(
      report.cases.map((c) => [c.name, c.passed, c.mismatches.map((m) => m.kind)]),
      [
        ['still passes', true, []],
        ['expects too much', false, ['different', 'missing']],
      ],
    )
    assert.deepEqual(
      report.cases[1]!.alarms.map((a) => [a.alarm_id, a.stage]),
      [['b000001', 3]],
    )
  })

  describe('a bad case file: one line naming file, line and field', () => {
    const cases: [string, string, string, RegExp][] = [
      [
        'a risk class that does not exist',
        'bad.yaml',
        'cases:\n  - name: a\n    events: []\n    expect:\n      alarms:\n        - directive_id: 1\n          risk_class: Severe\n',
        /bad\.yaml:7: cases\[0\]\.expect\.alarms\[0\]\.risk_class: must be Low, Medium or High$/,
      ],
      ['broken YAML', 'bad.yaml', 'cases:\n  - name: a\n    events: [\n', /bad\.yaml:4:1: not valid YAML: /],
      [
        'broken JSON',
        'bad.json',
        '{"cases": [\n  {"name": "a",}\n]}',
        /bad\.json:2:16: not valid JSON: invalid character '}' looking for beginning of object key string$/,
      ],
      [
        'a misspelt field in JSON',
        'bad.json',
        '{\n  "cases": [\n    {\n      "name": "a",\n      "events": [],\n      "expected": {"alarms": []}\n    }\n  ]\n}',
        /bad\.json:6: cases\[0\]\.expected: unknown field \(expected one of name, events, events_file, now, expect\)$/,
      ],
      [
        'an invalid event',
        'bad.yml',
        'cases:\n  - events:\n      - {plugin_id: 1001, plugin_sid: 1, src_ip: 10.0.0.1}\n    expect: {alarms: []}\n',
        /bad\.yml:3: cases\[0\]\.events\[0\]: not a valid event: missing timestamp, dst_ip$/,
      ],
    ]
    for (const [what, name, text, message] of cases) {
      it(what, () => {
        const {cases: dir, root} = project()
        const file = path.join(dir, name)
        writeFileSync(file, text)
        const result = runCli([
          'directive',
          'test',
          '--cases',
          file,
          '--config-dir',
          path.join(root, 'configs'),
        ])
        assert.equal(result.status, 2, result.stdout)
        const lines = result.stderr.trim().split('\n')
        assert.equal(lines.length, 1, result.stderr)
        assert.match(lines[0]!, /^dsiem: error: /)
        assert.match(lines[0]!, message)
      })
    }

    it('a broken line in an events_file names that file and line', () => {
      const {cases: dir} = project()
      const file = path.join(dir, 'ping.yaml')
      writeFileSync(file, FAILING_YAML)
      writeFileSync(path.join(dir, 'pings.ndjson'), pingLines() + '\n{"event_id": "x"}\n')
      const result = runCli(['directive', 'test', '--cases', file])
      assert.equal(result.status, 2)
      assert.match(
        result.stderr.trim(),
        /pings\.ndjson:5: not a valid event: missing timestamp, sensor, src_ip, dst_ip \(cases\[1\]\.events_file\)$/,
      )
    })
  })

  it('takes one mode at a time', () => {
    const both = runCli(['directive', 'test', '--cases', 'a.yaml', '--events', 'b.ndjson'])
    assert.equal(both.status, 2)
    assert.match(both.stderr, /--events and --cases cannot be used together/)
    const none = runCli(['directive', 'test'])
    assert.equal(none.status, 2)
    assert.match(none.stderr, /one of --events, --cases or --generate is required/)
    const junit = runCli(['directive', 'test', '--events', 'b.ndjson', '--junit', 'x.xml'])
    assert.match(junit.stderr, /--junit needs --cases/)
  })
})
