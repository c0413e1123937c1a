// Runs the built CLI (`node bin/run.js ...`) as a user would, in a child process. `npm test` builds
// dist/ before the suites run.

import {spawn, spawnSync} from 'node:child_process'
import path from 'node:path'
import {REPO_ROOT} from './paths.js'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: Record<string, string>
  cwd?: string
}

const TIMEOUT_MS = 60_000

function command(args: readonly string[], options: CliOptions) {
  return {
    argv: [path.join(REPO_ROOT, 'bin/run.js'), ...args],
    cwd: options.cwd ?? REPO_ROOT,
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env},
  }
}

export function runCli(args: readonly string[], options: CliOptions = {}): CliResult {
  const {argv, cwd, env} = command(args, options)
  const result = spawnSync(process.execPath, argv, {cwd, env, encoding: 'utf8', timeout: TIMEOUT_MS})
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

/** runCli without blocking this process's event loop (for tests that serve the CLI from here). */
export function runCliAsync(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const {argv, cwd, env} = command(args, options)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {cwd, env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({status, stdout, stderr})
    })
  })
}
