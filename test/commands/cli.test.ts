// The CLI as a user meets it: help, version, flags with env twins, and one clear line for bad input.

import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {PING_FLOOD_DIRECTIVE, pingEventLine, writeConfigDir} from '../helpers/config-fixtures.js'
import {runCli} from '../helpers/run-cli.js'

describe('dsiem CLI', () => {
  it('lists the directive topic in --help and its commands in topic help', () => {
    const top = runCli(['--help'])
    assert.equal(top.status, 0)
    assert.match(top.stdout, /directive\s+Validate directive files/)
    const topic = runCli(['directive', '--help'])
    assert.equal(topic.status, 0)
    assert.match(topic.stdout, /directive test/)
    assert.match(topic.stdout, /directive validate/)
  })

  it('prints version and build info, as text and --json', () => {
    const text = runCli(['version'])
    assert.equal(text.status, 0)
    assert.match(text.stdout, /^dsiem \d+\.\d+\.\d+ \(built /)
    const json = JSON.parse(runCli(['version', '--json']).stdout) as Record<string, string>
    assert.match(json['version']!, /^\d+\.\d+\.\d+$/)
    assert.equal(json['node'], process.version)
  })

  it('takes flags from their DSIEM_* environment twins', () => {
    const dir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
    const result = runCli(['directive', 'validate'], {env: {DSIEM_CONFIG_DIR: dir, DSIEM_JSON: 'true'}})
    assert.equal(result.status, 0, result.stderr)
    const report = JSON.parse(result.stdout) as {valid: number; total: number}
    assert.deepEqual([report.valid, report.total], [1, 1])
  })

  describe('bad input: one clear line, non-zero exit', () => {
    it('an unknown flag names the flag', () => {
      const result = runCli(['directive', 'validate', '--no-such-flag'])
      assert.equal(result.status, 2)
      assert.match(result.stderr, /Nonexistent flag: --no-such-flag/)
      assert.equal(result.stderr.trim().split('\n').length, 1)
    })

    it('a missing config dir names the directory', () => {
      const result = runCli(['directive', 'validate', '--config-dir', '/nonexistent/dsiem-configs'])
      assert.equal(result.status, 4)
      assert.match(result.stderr, /config directory \/nonexistent\/dsiem-configs does not exist/)
      assert.equal(result.stderr.trim().split('\n').length, 1)
    })

    it('a directive file with a type error names the file, line, column and field', () => {
      const text = JSON.stringify({directives: [PING_FLOOD_DIRECTIVE]}, null, 2).replace(
        '"port_from": "ANY"',
        '"port_from": 80',
      )
      const dir = writeConfigDir({directives: text})
      const line = text.split('\n').findIndex((l) => l.includes('"port_from": 80')) + 1
      const result = runCli(['directive', 'validate', '--config-dir', dir])
      assert.equal(result.status, 1)
      assert.match(
        result.stderr,
        new RegExp(
          `directives_test\\.json:${line}:\\d+: cannot unmarshal number 80 into Go struct field DirectiveRule\\.port_from of type string`,
        ),
      )
      assert.equal(result.stderr.trim().split('\n').length, 1)
    })

    it('a directive file that is not JSON aborts `directive test` naming file, line and column', () => {
      const dir = writeConfigDir({directives: '{"directives": [\n  {"id": 1,}\n]}'})
      const events = path.join(dir, 'events.ndjson')
      writeFileSync(events, pingEventLine('e1', 0) + '\n')
      const result = runCli(['directive', 'test', '--config-dir', dir, '--events', events])
      assert.equal(result.status, 3)
      assert.match(
        result.stderr,
        /directives_test\.json:2:12: invalid character '}' looking for beginning of object key string/,
      )
    })

    it('a broken events line is reported with its line number and the other events still correlate', () => {
      const dir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
      const events = path.join(dir, 'events.ndjson')
      const lines = [
        pingEventLine('e1', 0),
        pingEventLine('e2', 1),
        '{"event_id": "broken", ',
        pingEventLine('e3', 2),
        '{"event_id":"x"}',
        pingEventLine('e4', 3),
      ]
      writeFileSync(events, lines.join('\n') + '\n')
      const result = runCli(['directive', 'test', '--config-dir', dir, '--events', events, '--json'])
      assert.equal(result.status, 0, result.stderr)
      const warnings = result.stderr.trim().split('\n')
      assert.equal(warnings.length, 2)
      assert.match(warnings[0]!, /events\.ndjson:3: cannot parse event: unexpected end of JSON input/)
      assert.match(
        warnings[1]!,
        /events\.ndjson:5: not a valid event: missing timestamp, sensor, src_ip, dst_ip/,
      )
      const output = JSON.parse(result.stdout) as {alarms: {risk: number}[]; alarm_events: {stage: number}[]}
      assert.deepEqual(
        output.alarm_events.map((e) => e.stage),
        [1, 2, 2, 2],
      )
      assert.equal(output.alarms.length, 1)
      assert.equal(output.alarms[0]!.risk, 3)
    })

    it('a missing events file names the file', () => {
      const dir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
      const result = runCli([
        'directive',
        'test',
        '--config-dir',
        dir,
        '--events',
        path.join(dir, 'nope.ndjson'),
      ])
      assert.equal(result.status, 4)
      assert.match(result.stderr, /events file .*nope\.ndjson does not exist/)
    })

    it('a bad --now value names the flag', () => {
      const dir = writeConfigDir({directives: [PING_FLOOD_DIRECTIVE]})
      const result = runCli(['directive', 'test', '--config-dir', dir, '--events', 'x', '--now', 'yesterday'])
      assert.equal(result.status, 2)
      assert.match(result.stderr, /--now: "yesterday" is not an RFC 3339 time/)
    })

    it('errors come as JSON on stdout with --json', () => {
      const result = runCli(['directive', 'validate', '--config-dir', '/nonexistent/x', '--json'])
      assert.equal(result.status, 4)
      const body = JSON.parse(result.stdout) as {error: {code: string; category: string}}
      assert.deepEqual([body.error.code, body.error.category], ['DSIEM_E_CONFIG_DIR', 'environment'])
    })
  })
})
