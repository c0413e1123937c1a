// Filter compilation through tcpdump and the checks on compiled programs (no root needed).

import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, it} from 'node:test'
import {EnvironmentError, InputError} from '../../src/engine/index.js'
import {
  TCPDUMP_INSTRUCTION,
  acceptAll,
  clampReturns,
  compileFilter,
  describeProgramProblem,
  parseTcpdumpProgram,
} from '../../src/roles/io/bpf.js'

const tcpdumpMissing = ['/usr/sbin/tcpdump', '/usr/bin/tcpdump'].every((file) => !existsSync(file))
  ? 'tcpdump is not installed (apt-get install tcpdump)'
  : false

describe('compileFilter', {skip: tcpdumpMissing}, () => {
  it('compiles an expression for Ethernet into the exact classic BPF program', () => {
    // ldh [12]; jeq #0x800 jt 2 jf 3; ret #262144; ret #0
    assert.deepEqual(compileFilter('ip'), [
      {code: 0x28, jt: 0, jf: 0, k: 12},
      {code: 0x15, jt: 0, jf: 1, k: 0x800},
      {code: 0x06, jt: 0, jf: 0, k: 262144},
      {code: 0x06, jt: 0, jf: 0, k: 0},
    ])
  })

  it('puts the snap length into the accepting return', () => {
    const program = compileFilter('udp port 9999', 1, {snaplen: 1500})
    const returns = program
      .filter((instruction) => instruction.code === 0x06)
      .map((instruction) => instruction.k)
    assert.deepEqual(
      [...new Set(returns)].sort((a, b) => a - b),
      [0, 1500],
    )
    assert.ok(
      program.some((instruction) => instruction.code === 0x15 && instruction.k === 9999),
      'compares a port with 9999',
    )
  })

  it('turns a bad expression into an InputError naming it', () => {
    assert.throws(
      () => compileFilter('udp port'),
      (error: unknown) => {
        assert.ok(error instanceof InputError, `InputError, got ${String(error)}`)
        assert.equal(error.code, 'DSIEM_E_BPF')
        assert.match(error.message, /^bad capture filter "udp port": .*syntax error/)
        return true
      },
    )
  })

  it('never reads an expression as a tcpdump option', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsiem-bpf-'))
    try {
      const target = path.join(dir, 'written.pcap')
      assert.throws(() => compileFilter(`-w ${target}`), InputError)
      assert.ok(!existsSync(target), 'tcpdump wrote no file')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('says how to install tcpdump when it is missing', () => {
    assert.throws(
      () => compileFilter('ip', 1, {tcpdump: '/nonexistent/tcpdump'}),
      (error: unknown) => {
        assert.ok(error instanceof EnvironmentError, 'EnvironmentError')
        assert.equal(error.message, TCPDUMP_INSTRUCTION)
        assert.match(error.message, /apt-get install tcpdump/)
        return true
      },
    )
  })

  it('rejects empty expressions and link types it cannot name', () => {
    assert.throws(() => compileFilter('  '), InputError)
    assert.throws(() => compileFilter('ip', 147), /link type 147/)
  })
})

describe('program checks', () => {
  it('parses -ddd output and refuses output that does not add up', () => {
    assert.deepEqual(parseTcpdumpProgram('2\n40 0 0 12\n6 0 0 65535\n'), [
      {code: 40, jt: 0, jf: 0, k: 12},
      {code: 6, jt: 0, jf: 0, k: 65535},
    ])
    assert.throws(() => parseTcpdumpProgram('3\n40 0 0 12\n6 0 0 65535\n'), EnvironmentError)
    assert.throws(() => parseTcpdumpProgram('1\n40 0 12\n'), /instruction 0/)
    assert.throws(() => parseTcpdumpProgram('1\n40 0 0 x\n'), /field k/)
  })

  it('describes what is wrong with a program', () => {
    assert.equal(describeProgramProblem(acceptAll(100)), undefined)
    assert.match(describeProgramProblem([]) ?? '', /1 to 4096 instructions/)
    assert.match(describeProgramProblem('ret') ?? '', /array/)
    assert.match(
      describeProgramProblem([{code: 6, jt: 256, jf: 0, k: 0}]) ?? '',
      /field jt .* 0 to 255, got 256/,
    )
    assert.match(describeProgramProblem([{code: 6, jt: 0, jf: 0}]) ?? '', /field k/)
  })

  it('clamps only constant accepting returns, without touching the input', () => {
    const program = [
      {code: 0x06, jt: 0, jf: 0, k: 262144},
      {code: 0x06, jt: 0, jf: 0, k: 64},
      {code: 0x06, jt: 0, jf: 0, k: 0},
      {code: 0x16, jt: 0, jf: 0, k: 0}, // ret a: the accumulator, unknown here
      {code: 0x15, jt: 0, jf: 0, k: 262144}, // a jump, not a return
    ]
    assert.deepEqual(
      clampReturns(program, 128).map((instruction) => instruction.k),
      [128, 64, 0, 0, 262144],
    )
    assert.equal(program[0]?.k, 262144)
  })
})
