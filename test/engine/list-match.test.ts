// S3: upstream's order-dependent list matching (rule_test.go TestNetAddrInCSV / TestTermInCSV /
// TestCustomDataMatch and the §2.4 tables): address lists, port lists and custom-data conditions.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {NetworkList, StringList, compileCustomData, splitList} from '../../src/engine/index.js'
import {parseListTerm} from '../../src/engine/ip.js'

function ipInList(ip: string, list: string): boolean {
  return new NetworkList(list).matches(parseListTerm(ip))
}

describe('NetworkList (TestNetAddrInCSV)', () => {
  const cases: [ip: string, list: string, expected: boolean][] = [
    ['192.168.0', '192.168.0.0/16', false],
    ['192.168.0.1', '192.168.0/16', false],
    ['192.168.0.1', '192.168.0.0/16', true],
    ['192.168.0.1', '!10.0.0.1/16', true],
    ['192.168.0.1', '!10.0.0.1/16, 192.168.0.0/24', true],
    ['192.168.0.1', '!192.168.0.1/16', false],
    ['192.168.0.1', '10.0.0.0/16, !192.168.0.1/16', false],
    ['192.168.0.1', '10.0.0.0/16, !192.168.0.1/16, 192.168.0.0/16', false],
    // A bare IP gets /32.
    ['192.168.0.1', '192.168.0.1', true],
    ['192.168.0.2', '192.168.0.1', false],
    ['192.168.0.2', '192.168.0.1, 192.168.0.2', true],
    ['192.168.0.2', '192.168.0.1,192.168.0.2', true],
    // Order dependence: a non-matching negation makes later non-matching positives irrelevant.
    ['8.8.8.8', '!192.168.0.45, 192.168.0.44', true],
    ['192.168.0.44', '!192.168.0.45, 192.168.0.44', true],
    ['192.168.0.45', '!192.168.0.45, 192.168.0.44', false],
    // The event side may itself be "ip/len" (upstream parses it with ParseCIDR).
    ['192.168.0.1/24', '192.168.0.0/24', true],
    ['192.168.0.1/33', '192.168.0.0/24', false],
    // IPv6, and the quirk that a bare IPv6 token gets /32 too, so it covers the whole /32 block.
    ['2001:db8::5', '2001:db8::5', true],
    ['2001:db8:ffff::1', '2001:db8::5', true],
    ['2001:db9::5', '2001:db8::5', false],
    ['2001:db8::5', '2001:db8::/128', false],
    ['2001:db8::', '2001:db8::/128', true],
    ['2001:db8::5', '!2001:db8::/64', false],
    ['2001:db9::5', '!2001:db8::/64', true],
    // IPv4 never matches an IPv6 network and vice versa; IPv4-mapped addresses act as IPv4.
    ['192.168.0.1', '::/0', false],
    ['2001:db8::1', '0.0.0.0/0', false],
    ['::ffff:192.168.0.1', '192.168.0.0/16', true],
    // Invalid tokens end the match as false when reached, not before.
    ['10.0.0.1', '10.0.0.0/8, bogus', true],
    ['192.168.0.1', '10.0.0.0/8, bogus, 192.168.0.0/16', false],
    ['192.168.0.1', 'bogus', false],
    ['192.168.0.1', '!bogus', false],
    ['192.168.0.1', '192.168.000.1', false],
    ['192.168.0.1', '192.168.0.1/33', false],
    // "! A" splits into "!" (an invalid token) and "A".
    ['192.168.0.1', '! 192.168.0.1', false],
    // An unparsable event address matches nothing, not even a negation.
    ['not-an-ip', '!10.0.0.0/8', false],
    ['', '!10.0.0.0/8', false],
    ['192.168.0.01', '!10.0.0.0/8', false],
  ]
  for (const [ip, list, expected] of cases) {
    it(`${JSON.stringify(ip)} in ${JSON.stringify(list)} → ${expected}`, () => {
      assert.equal(ipInList(ip, list), expected)
    })
  }
})

describe('StringList (TestTermInCSV, port lists)', () => {
  const cases: [term: string, list: string, expected: boolean][] = [
    ['1231', '1000, 1001', false],
    ['1231', '!1231, 1001', false],
    ['1231', '1000, !1231', false],
    ['1231', '1231, !1231', true],
    ['1231', '!1231, 1231', false],
    ['1231', '!1000, !1001', true],
    ['1231', '!1000, 1001', true],
    ['1231', '1001, !1000', true],
    ['1231', '!1000, 1231', true],
    ['foo', '!bar, foobar, foo', true],
    // Commas and whitespace are interchangeable separators.
    ['1001', '1000 1001', true],
    ['1001', '1000,,  1001', true],
    ['1001', '1000\t1001', true],
    // Exact, case-sensitive tokens.
    ['FOO', 'foo, bar', false],
    ['80', '080', false],
    // An empty list never matches; "!" alone is the empty negated token.
    ['80', '', false],
    ['80', '!', true],
    ['', '!', false],
    // Port tables from the directive1 fixture (stage 3: "!345, 123" / "!345, 124").
    ['345', '!345, 123', false],
    ['123', '!345, 123', true],
    ['999', '!345, 124', true],
  ]
  for (const [term, list, expected] of cases) {
    it(`${JSON.stringify(term)} in ${JSON.stringify(list)} → ${expected}`, () => {
      assert.equal(new StringList(list).matches(term), expected)
    })
  }
})

describe('splitList (upstream CsvToSlice)', () => {
  it('splits on commas and Go whitespace, dropping empty tokens', () => {
    assert.deepEqual(splitList(' a, b,c  d\n\te '), ['a', 'b', 'c', 'd', 'e'])
    assert.deepEqual(splitList(',,'), [])
    assert.deepEqual(splitList('! A'), ['!', 'A'])
  })

  it("uses Go's unicode.IsSpace set: U+0085 separates, U+FEFF does not", () => {
    assert.deepEqual(splitList('a\u0085b'), ['a', 'b'])
    assert.deepEqual(splitList('a\u00a0b\u3000c'), ['a', 'b', 'c'])
    assert.deepEqual(splitList('a\ufeffb'), ['a\ufeffb'])
  })
})

describe('compileCustomData (TestCustomDataMatch)', () => {
  const cases: [condition: string, value: string, expected: boolean][] = [
    ['Network Command Shell', 'Network Command Shell', true],
    ['Network Command Shell', 'Network Command Login', false],
    ['!Network Command Shell', 'Network Command Shell', false],
    ['!Network Command Shell', 'Network Command Login', true],
    ['foo,bar,qux', 'foo', true],
    ['foo,bar,qux', 'bar', true],
    ['foo,bar,qux', 'qux', true],
    ['foo,bar,qux', 'baz', false],
    ['foo,!bar,qux', 'bar', false],
    ['foo,bar,!qux', 'qux', false],
    ['!foo,bar,qux', 'foo', false],
    ['!foo, foo, bar, qux', 'foo', false],
    ['foo, !foo, bar, qux', 'foo', true],
    // Single values: case-insensitive and trimmed on both sides; "!" then optional spaces negate.
    ['Foo', 'foo ', true],
    ['  FOO', '\tfoo', true],
    ['! foo', 'FOO', false],
    ['! foo', 'bar', true],
    ['deny', '', false],
    ['!deny', '', true],
    // Lists stay exact and case-sensitive.
    ['Foo,bar', 'foo', false],
    // Go lower-cases rune by rune: final sigma is σ, and İ becomes i.
    ['ΟΔΟΣ', 'οδοσ', true],
    ['ΟΔΟΣ', 'οδος', false],
    ['İstanbul', 'istanbul', true],
    // Go's TrimSpace trims U+0085 but not U+FEFF.
    ['foo', 'foo\u0085', true],
    ['foo', 'foo\ufeff', false],
  ]
  for (const [condition, value, expected] of cases) {
    it(`${JSON.stringify(condition)} vs ${JSON.stringify(value)} → ${expected}`, () => {
      const compiled = compileCustomData(condition)
      assert.notEqual(compiled, null)
      assert.equal(compiled!.matches(value), expected)
    })
  }

  it('treats "" and "ANY" as no condition', () => {
    assert.equal(compileCustomData(''), null)
    assert.equal(compileCustomData('ANY'), null)
    // Only the exact keyword: "any" is an ordinary value.
    assert.equal(compileCustomData('any')!.matches('ANY'), true)
    assert.equal(compileCustomData('any')!.matches('x'), false)
  })
})
