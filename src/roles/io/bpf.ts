// Classic BPF for the capture socket: filter expressions are compiled by tcpdump (`-ddd` prints the
// program as decimal numbers), so dsiem accepts exactly the pcap-filter language operators already know,
// without linking libpcap. Programs are checked here before they reach the kernel.

import {EnvironmentError, InputError} from '../../engine/index.js'
import {LINKTYPE} from '../../sensor/types.js'
import {execFileSync} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import path from 'node:path'

/** One classic BPF instruction, laid out like the kernel's `struct sock_filter`. */
export interface BpfInstruction {
  code: number
  jt: number
  jf: number
  k: number
}

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = 4096

/** The largest snap length tcpdump and the kernel deal in. */
export const BPF_MAX_SNAPLEN = 262144

const BPF_RET_K = 0x06

export const TCPDUMP_INSTRUCTION = 'compiling a BPF filter needs tcpdump (apt-get install tcpdump)'

/** tcpdump's `-y` names for the link types the sensor decodes. */
const DLT_NAME_BY_LINKTYPE: ReadonlyMap<number, string> = new Map([
  [LINKTYPE.NULL, 'NULL'],
  [LINKTYPE.ETHERNET, 'EN10MB'],
  [LINKTYPE.RAW, 'RAW'],
  [LINKTYPE.LINUX_SLL, 'LINUX_SLL'],
  [LINKTYPE.IPV4, 'IPV4'],
  [LINKTYPE.IPV6, 'IPV6'],
])

/** Where distribution packages put tcpdump; /usr/sbin is often missing from a non-root PATH. */
const TCPDUMP_FALLBACK_PATHS: readonly string[] = ['/usr/sbin/tcpdump', '/usr/bin/tcpdump', '/sbin/tcpdump']

export interface CompileFilterOptions {
  /** Accepting returns are capped at this many bytes, so the kernel itself cuts packets to the snap length. */
  snaplen?: number
  /** The tcpdump binary; default: PATH, then the usual install locations. */
  tcpdump?: string
  env?: NodeJS.ProcessEnv
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function findTcpdump(env: NodeJS.ProcessEnv): string {
  const onPath = (env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => path.join(dir, 'tcpdump'))
  const found = [...onPath, ...TCPDUMP_FALLBACK_PATHS].find(isExecutable)
  if (found === undefined) throw new EnvironmentError(TCPDUMP_INSTRUCTION, 'DSIEM_E_TCPDUMP_MISSING')
  return found
}

/**
 * Compiles a pcap-filter expression (`udp port 53`, `not host 10.0.0.1`) for frames of `linkType`.
 * A bad expression is an InputError naming it; a missing tcpdump an EnvironmentError.
 */
export function compileFilter(
  expression: string,
  linkType: number = LINKTYPE.ETHERNET,
  options: CompileFilterOptions = {},
): BpfInstruction[] {
  if (typeof expression !== 'string' || expression.trim() === '' || expression.includes('\0')) {
    throw new InputError(`capture filter ${JSON.stringify(expression)} is empty or not text`, 'DSIEM_E_BPF')
  }
  const dlt = DLT_NAME_BY_LINKTYPE.get(linkType)
  if (dlt === undefined) {
    throw new InputError(`cannot compile a capture filter for link type ${linkType}`, 'DSIEM_E_BPF')
  }
  const snaplen = options.snaplen ?? BPF_MAX_SNAPLEN
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > BPF_MAX_SNAPLEN) {
    throw new InputError(
      `snap length must be an integer from 1 to ${BPF_MAX_SNAPLEN}, got ${snaplen}`,
      'DSIEM_E_BPF',
    )
  }
  const tcpdump = options.tcpdump ?? findTcpdump(options.env ?? process.env)
  let output: string
  try {
    // `--` so that an expression starting with a dash is never read as an option.
    output = execFileSync(tcpdump, ['-ddd', '-y', dlt, '-s', String(snaplen), '--', expression], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    })
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & {status?: number | null; stderr?: string}
    if (failure.code === 'ENOENT' || failure.code === 'EACCES') {
      throw new EnvironmentError(TCPDUMP_INSTRUCTION, 'DSIEM_E_TCPDUMP_MISSING', {cause: error})
    }
    if (typeof failure.status === 'number') {
      const reason =
        (failure.stderr ?? '').trim().replace(/^tcpdump: /, '') || `tcpdump exited ${failure.status}`
      throw new InputError(`bad capture filter ${JSON.stringify(expression)}: ${reason}`, 'DSIEM_E_BPF', {
        cause: error,
      })
    }
    throw new EnvironmentError(`running ${tcpdump} failed: ${failure.message}`, 'DSIEM_E_TCPDUMP', {
      cause: error,
    })
  }
  return parseTcpdumpProgram(output)
}

/** Parses `tcpdump -ddd` output: the instruction count, then one `code jt jf k` line per instruction. */
export function parseTcpdumpProgram(text: string): BpfInstruction[] {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
  const count = Number(lines[0])
  const unexpected = (why: string): EnvironmentError =>
    new EnvironmentError(`unexpected output from tcpdump -ddd: ${why}`, 'DSIEM_E_TCPDUMP')
  if (!Number.isInteger(count) || count !== lines.length - 1) {
    throw unexpected(`header says ${lines[0] ?? 'nothing'} instructions, ${lines.length - 1} follow`)
  }
  const program = lines.slice(1).map((line, index) => {
    const fields = line.split(/\s+/).map(Number)
    const [code, jt, jf, k] = fields
    if (
      fields.length !== 4 ||
      code === undefined ||
      jt === undefined ||
      jf === undefined ||
      k === undefined
    ) {
      throw unexpected(`instruction ${index} is ${JSON.stringify(line)}`)
    }
    return {code, jt, jf, k}
  })
  const problem = describeProgramProblem(program)
  if (problem !== undefined) throw unexpected(problem)
  return program
}

/** Why `program` cannot be a classic BPF program, or undefined when it can. */
export function describeProgramProblem(program: unknown): string | undefined {
  if (!Array.isArray(program)) return 'must be an array of {code, jt, jf, k} instructions'
  if (program.length === 0 || program.length > BPF_MAX_INSTRUCTIONS) {
    return `must have 1 to ${BPF_MAX_INSTRUCTIONS} instructions, has ${program.length}`
  }
  const limits = {code: 0xffff, jt: 0xff, jf: 0xff, k: 0xffffffff} as const
  for (const [index, instruction] of program.entries()) {
    if (typeof instruction !== 'object' || instruction === null)
      return `instruction ${index} is not an object`
    for (const [field, max] of Object.entries(limits)) {
      const value: unknown = (instruction as Record<string, unknown>)[field]
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
        return `instruction ${index} field ${field} must be an integer from 0 to ${max}, got ${String(value)}`
      }
    }
  }
  return undefined
}

/**
 * Caps every constant accepting return at `snaplen`: a classic BPF program's return value is the number
 * of bytes the kernel keeps, so this is how the ring gets truncated packets without a copy in user space.
 */
export function clampReturns(program: readonly BpfInstruction[], snaplen: number): BpfInstruction[] {
  return program.map((instruction) =>
    instruction.code === BPF_RET_K && instruction.k > snaplen
      ? {...instruction, k: snaplen}
      : {...instruction},
  )
}

/** The program that accepts every packet, cut to `snaplen` bytes. */
export function acceptAll(snaplen: number): BpfInstruction[] {
  return [{code: BPF_RET_K, jt: 0, jf: 0, k: snaplen}]
}
