// S5: directive loading and validation (upstream validate.go / validate_test.go, §2.2): the order of
// checks, every error string, the clamps, reference rules, and file-level behaviour.

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  ConfigError,
  loadDirectiveSet,
  requireDirectives,
  validateDirective,
  type Directive,
  type DirectiveRule,
} from '../../src/engine/index.js'
import {directive as buildDirective, rule} from '../helpers/directive-builders.js'

/** The directive under test: id 1337 (named in every rule error), two minimal rules unless given. */
function directive(fields: Partial<Directive> = {}): Directive {
  return buildDirective([rule(), rule({stage: 2})], {
    id: 1337,
    name: 'test',
    priority: 3,
    kingdom: 'test',
    category: 'test',
    ...fields,
  })
}

function validate(
  d: Directive,
  accepted: Directive[] = [],
  options = {},
): {error?: string; warnings: string[]} {
  const warnings: string[] = []
  const error = validateDirective(d, accepted, (m) => warnings.push(m), options)
  return error === undefined ? {warnings} : {error, warnings}
}

const RULE_ERROR = 'directive 1337 contains invalid rule, '

describe('validateDirective: directive-level checks', () => {
  it('accepts a minimal valid directive without warnings', () => {
    assert.deepEqual(validate(directive()), {warnings: []})
  })

  it('rejects an id already used by an accepted directive', () => {
    assert.equal(
      validate(directive(), [directive({name: 'other'})]).error,
      "id '1337' is already used as an ID by other directive",
    )
  })

  const cases: [what: string, fields: Partial<Directive>, error: string][] = [
    ['empty name', {name: ''}, 'Directive name cannot be empty'],
    ['empty kingdom', {kingdom: ''}, 'Directive kingdom cannot be empty'],
    ['empty category', {category: ''}, 'Directive category cannot be empty'],
    [
      'no rules',
      {rules: []},
      'directive 1337 has no rule therefore has no effect, or only 1 rule and therefore will never expire',
    ],
    [
      'a single rule',
      {rules: [rule()]},
      'directive 1337 has no rule therefore has no effect, or only 1 rule and therefore will never expire',
    ],
  ]
  for (const [what, fields, error] of cases) {
    it(`rejects ${what}`, () => assert.equal(validate(directive(fields)).error, error))
  }

  it('checks name before kingdom before category', () => {
    assert.equal(
      validate(directive({name: '', kingdom: '', category: ''})).error,
      'Directive name cannot be empty',
    )
    assert.equal(validate(directive({kingdom: '', category: ''})).error, 'Directive kingdom cannot be empty')
  })

  for (const priority of [0, -1, 6, 100]) {
    it(`forces priority ${priority} to 1 with a warning`, () => {
      const d = directive({priority})
      assert.deepEqual(validate(d), {
        warnings: [`directive 1337 has wrong priority set (${priority}), configuring it to 1`],
      })
      assert.equal(d.priority, 1)
    })
  }

  it('keeps priorities 1..5', () => {
    for (const priority of [1, 5]) {
      const d = directive({priority})
      assert.deepEqual(validate(d), {warnings: []})
      assert.equal(d.priority, priority)
    }
  })

  it('--allow-single-stage accepts one rule but still rejects none', () => {
    assert.deepEqual(validate(directive({rules: [rule()]}), [], {allowSingleStage: true}), {warnings: []})
    assert.match(
      validate(directive({rules: []}), [], {allowSingleStage: true}).error ?? '',
      /has no rule therefore has no effect/,
    )
    // Rules are still validated.
    assert.equal(
      validate(directive({rules: [rule({stage: 0})]}), [], {allowSingleStage: true}).error,
      RULE_ERROR + 'can not use 0 as rule stage',
    )
  })
})

describe('validateDirective: rule checks', () => {
  const cases: [what: string, second: Partial<DirectiveRule>, error: string][] = [
    ['stage 0', {stage: 0}, 'can not use 0 as rule stage'],
    ['a duplicate stage', {stage: 1}, 'duplicate rule stage found (1)'],
    ['an unknown type', {type: 'PluginRulesss'}, 'invalid rule type, valid types: [PluginRule TaxonomyRule]'],
    ['an empty type', {type: ''}, 'invalid rule type, valid types: [PluginRule TaxonomyRule]'],
    ['plugin_id 0', {pluginId: 0}, 'PluginRule requires PluginID to be 1 or higher'],
    ['a negative plugin_id', {pluginId: -5}, 'PluginRule requires PluginID to be 1 or higher'],
    ['missing plugin_sid', {pluginSid: undefined}, 'PluginRule requires PluginSID to be defined'],
    ['empty plugin_sid', {pluginSid: []}, 'PluginRule requires PluginSID to be defined'],
    ['plugin_sid 0', {pluginSid: [1, 0]}, 'PluginRule requires PluginSID to be 1 or higher'],
    [
      'a TaxonomyRule without product',
      {type: 'TaxonomyRule', category: 'c'},
      'TaxonomyRule requires Product to be defined',
    ],
    [
      'a TaxonomyRule with an empty product list',
      {type: 'TaxonomyRule', product: [], category: 'c'},
      'TaxonomyRule requires Product to be defined',
    ],
    [
      'a TaxonomyRule without category',
      {type: 'TaxonomyRule', product: ['p']},
      'TaxonomyRule requires Category to be defined',
    ],
    ['empty from', {from: ''}, 'rule From/To cannot be empty'],
    ['empty to', {to: ''}, 'rule From/To cannot be empty'],
    ['from HOME_NETs', {from: 'HOME_NETs'}, 'HOME_NETs/32 is not a valid IPv4 address'],
    ['a bad address in a list', {to: '10.0.0.1, !10.0.0.300'}, '10.0.0.300/32 is not a valid IPv4 address'],
    ['a bad CIDR', {from: '!10.0.0.0/33'}, '10.0.0.0/33 is not a valid IPv4 address'],
    ['a lone "!"', {from: '10.0.0.1, !'}, '/32 is not a valid IPv4 address'],
    ['port 0', {portFrom: '0'}, '0 is not a valid TCP/IP port number'],
    ['port 1', {portFrom: '1'}, '1 is not a valid TCP/IP port number'],
    ['port 65535', {portTo: '80, !65535'}, '65535 is not a valid TCP/IP port number'],
    ['port "a"', {portTo: 'a'}, 'strconv.Atoi: parsing "a": invalid syntax'],
    ['port "!a"', {portTo: '!a'}, 'strconv.Atoi: parsing "a": invalid syntax'],
    ['port 8.5', {portFrom: '8.5'}, 'strconv.Atoi: parsing "8.5": invalid syntax'],
    [
      'a port beyond int64',
      {portFrom: '99999999999999999999'},
      'strconv.Atoi: parsing "99999999999999999999": value out of range',
    ],
    [
      'a port beyond 2^53 but inside int64',
      {portFrom: '9007199254740993'},
      '9007199254740993 is not a valid TCP/IP port number',
    ],
    [
      'a reference :0',
      {from: ':0'},
      'invalid reference number, must be larger than 0 and less than the rule count',
    ],
    [
      'a reference :-1',
      {from: ':-1'},
      'invalid reference number, must be larger than 0 and less than the rule count',
    ],
    [
      'a reference :foo',
      {to: ':foo'},
      'invalid reference number, must be larger than 0 and less than the rule count',
    ],
    [
      'a reference :01',
      {portFrom: ':01'},
      'invalid reference number, must be larger than 0 and less than the rule count',
    ],
    [
      'a reference :2 in a 2-rule directive',
      {portTo: ':2'},
      'invalid reference number, must be larger than 0 and less than the rule count',
    ],
    [
      'a reference :3 in a 2-rule directive',
      {from: ':3'},
      'invalid reference number, must be larger than 0 and less than the rule count',
    ],
  ]
  for (const [what, second, error] of cases) {
    it(`rejects ${what}`, () => {
      assert.equal(
        validate(directive({rules: [rule(), rule({stage: 2, ...second})]})).error,
        RULE_ERROR + error,
      )
    })
  }

  it('accepts the valid forms of every field', () => {
    const rules = [
      rule({from: 'HOME_NET', to: '!HOME_NET', portFrom: '2, 65534', portTo: '!80,443'}),
      rule({stage: 2, from: ':1', to: ':1', portFrom: ':1', portTo: ':1'}),
      rule({stage: 3, from: '10.0.0.1, !10.0.0.0/8', to: '2001:db8::1, !2001:db8::/32', portFrom: '+80'}),
      rule({
        stage: 4,
        type: 'TaxonomyRule',
        pluginId: 0,
        pluginSid: undefined,
        product: ['p'],
        category: 'c',
      }),
    ]
    assert.deepEqual(validate(directive({rules})), {warnings: []})
  })

  it('accepts an empty port (which never matches) and references :1..:N-1', () => {
    const rules = [rule({portFrom: ''}), rule({stage: 2}), rule({stage: 3, from: ':2', to: ':1'})]
    assert.deepEqual(validate(directive({rules})), {warnings: []})
  })

  it('rejects references on the stage-1 rule, in from/to or in ports', () => {
    for (const field of ['from', 'to', 'portFrom', 'portTo'] as const) {
      const rules = [rule({[field]: ':1'}), rule({stage: 2, from: ':1'})]
      assert.equal(
        validate(directive({rules})).error,
        RULE_ERROR + 'first rule cannot contain reference',
        field,
      )
    }
  })

  it('ties the first-rule check to stage 1, not to the array position', () => {
    const rules = [rule({stage: 2, from: ':1'}), rule({stage: 1})]
    assert.deepEqual(validate(directive({rules})), {warnings: []})
    const second = [rule(), rule({stage: 1, from: ':1'})]
    assert.equal(validate(directive({rules: second})).error, RULE_ERROR + 'duplicate rule stage found (1)')
  })

  it('does not validate custom-data references', () => {
    const rules = [rule({customData1: ':1'}), rule({stage: 2, customData2: ':9'})]
    assert.deepEqual(validate(directive({rules})), {warnings: []})
  })

  it('forces stage-1 occurrence to 1 and clamps reliability to 0..10, with warnings', () => {
    const rules = [rule({occurrence: 100, reliability: 11}), rule({stage: 2, occurrence: 7, reliability: -1})]
    const d = directive({rules})
    assert.deepEqual(validate(d).warnings, [
      "Directive '1337' rule 1 has wrong occurence set (100), configuring it to 1",
      'Directive 1337 rule 1 has wrong reliability set (11), configuring it to 10',
      'Directive 1337 rule 2 has wrong reliability set (-1), configuring it to 0',
    ])
    assert.deepEqual(
      d.rules.map((r) => [r.occurrence, r.reliability]),
      [
        [1, 10],
        [7, 0],
      ],
    )
  })

  it('checks each rule in array order and stops at the first error', () => {
    const rules = [rule({type: 'x'}), rule({stage: 0})]
    assert.equal(
      validate(directive({rules})).error,
      RULE_ERROR + 'invalid rule type, valid types: [PluginRule TaxonomyRule]',
    )
    // stage 0 is found before the type check on the same rule.
    assert.equal(
      validate(directive({rules: [rule({stage: 0, type: 'x'}), rule({stage: 2})]})).error,
      RULE_ERROR + 'can not use 0 as rule stage',
    )
    // Occurrence is forced before the type check fails (warning still emitted).
    const result = validate(directive({rules: [rule({occurrence: 5, type: 'x'}), rule({stage: 2})]}))
    assert.equal(result.warnings.length, 1)
  })
})

describe('loadDirectiveSet', () => {
  const file = (directives: unknown[], name = 'directives_x.json') => ({
    name,
    text: JSON.stringify({directives}),
  })
  const valid = (id: number, extra: object = {}) => ({
    id,
    name: `d${id}`,
    kingdom: 'k',
    category: 'c',
    priority: 1,
    rules: [
      {
        stage: 1,
        type: 'PluginRule',
        plugin_id: 1,
        plugin_sid: [1],
        occurrence: 1,
        from: 'ANY',
        to: 'ANY',
        port_from: 'ANY',
        port_to: 'ANY',
      },
      {
        stage: 2,
        type: 'PluginRule',
        plugin_id: 1,
        plugin_sid: [1],
        occurrence: 1,
        from: ':1',
        to: 'ANY',
        port_from: 'ANY',
        port_to: 'ANY',
      },
    ],
    ...extra,
  })

  it('keeps the first of duplicate ids across files, in file order', () => {
    const set = loadDirectiveSet([
      file([valid(1), valid(2)], 'directives_a.json'),
      file([valid(2, {name: 'again'})], 'directives_b.json'),
    ])
    assert.deepEqual(
      set.directives.map((d) => [d.id, d.name]),
      [
        [1, 'd1'],
        [2, 'd2'],
      ],
    )
    assert.equal(set.totalFromFiles, 3)
    assert.deepEqual(set.skipped, [
      {
        file: 'directives_b.json',
        id: 2,
        name: 'again',
        reason: "id '2' is already used as an ID by other directive",
        message:
          "Skipping directive ID 2 'again' due to error: id '2' is already used as an ID by other directive",
      },
    ])
  })

  it('skips disabled directives unless asked to include them', () => {
    const files = [file([valid(1), valid(2, {disabled: true})])]
    const set = loadDirectiveSet(files)
    assert.deepEqual(
      set.directives.map((d) => d.id),
      [1],
    )
    assert.deepEqual(
      set.warnings.map((w) => w.message),
      ['Skipping disabled directive ID 2'],
    )
    assert.deepEqual(
      loadDirectiveSet(files, {includeDisabled: true}).directives.map((d) => d.id),
      [1, 2],
    )
  })

  it('a disabled directive does not reserve its id', () => {
    const set = loadDirectiveSet([file([valid(1, {disabled: true}), valid(1, {name: 'live'})])])
    assert.deepEqual(
      set.directives.map((d) => d.name),
      ['live'],
    )
  })

  it('aborts on a JSON syntax error, naming file, line and column', () => {
    assert.throws(
      () =>
        loadDirectiveSet([
          {name: 'directives_bad.json', text: '{\n  "directives": [\n    {"id": 1,,}\n  ]\n}'},
        ]),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^directives_bad\.json:3:14: invalid character ','/.test(error.message),
    )
  })

  it('aborts on a type error, e.g. a numeric port_from', () => {
    const text = JSON.stringify({directives: [valid(1, {rules: [{stage: 1, port_from: 80}]})]}, null, 1)
    assert.throws(
      () => loadDirectiveSet([{name: 'directives_t.json', text}]),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith('directives_t.json:') &&
        error.message.includes('cannot unmarshal number 80 into Go struct field') &&
        error.message.includes('of type string'),
    )
  })

  it('aborts on a non-integral integer field', () => {
    assert.throws(
      () => loadDirectiveSet([file([valid(1, {priority: 1.5})])]),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes('cannot unmarshal number 1.5'),
    )
  })

  it('decodes keys case-insensitively and ignores unknown keys (sub_category is not subcategory)', () => {
    const d = valid(1)
    const text = JSON.stringify({
      DIRECTIVES: [
        {
          ...d,
          Name: 'Upper',
          rules: [
            {...d.rules[0], Sub_Category: ['x'], SUBCATEGORY: ['Drop'], sticky_different: 'SRC_IP'},
            d.rules[1],
          ],
        },
      ],
    })
    const set = loadDirectiveSet([{name: 'directives_c.json', text}])
    assert.equal(set.directives[0]!.name, 'Upper')
    assert.deepEqual(set.directives[0]!.rules[0]!.subcategory, ['Drop'])
    assert.equal(set.directives[0]!.rules[0]!.stickyDifferent, 'SRC_IP')
  })

  it("requireDirectives fails with upstream's message when nothing loaded", () => {
    const set = loadDirectiveSet([file([valid(1, {name: ''})])])
    assert.throws(
      () => requireDirectives(set, 'configs/directives_*.json'),
      (error: unknown) =>
        error instanceof ConfigError && error.message.startsWith('no directive loaded from the file'),
    )
  })
})
