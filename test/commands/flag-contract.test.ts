// Contracts every command's flags keep: each flag has a DSIEM_* environment twin, and no two flags of
// a command share a short letter (oclif would silently let one shadow the other).

import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {COMMANDS} from '../../src/commands/index.js'

interface FlagShape {
  char?: string
  env?: string
}

const commands = Object.entries(COMMANDS).map(([id, command]) => ({
  id,
  flags: Object.entries({...command.baseFlags, ...command.flags}) as [string, FlagShape][],
}))

describe('flag contract', () => {
  for (const {id, flags} of commands) {
    it(`${id}: every flag has a DSIEM_* env twin`, () => {
      const missing = flags.filter(([, flag]) => flag.env === undefined || !flag.env.startsWith('DSIEM_'))
      assert.deepEqual(
        missing.map(([name]) => name),
        [],
        `flags of ${id} without a DSIEM_* twin`,
      )
    })

    it(`${id}: short flags are unique`, () => {
      const byChar = new Map<string, string[]>()
      for (const [name, flag] of flags) {
        if (flag.char !== undefined) byChar.set(flag.char, [...(byChar.get(flag.char) ?? []), name])
      }
      const clashes = [...byChar.entries()].filter(([, names]) => names.length > 1)
      assert.deepEqual(clashes, [], `short flags used twice in ${id}`)
    })
  }

  it('covers every registered command', () => {
    assert.ok(commands.length >= 9, `expected the full registry, got ${commands.map((c) => c.id).join(', ')}`)
  })
})
