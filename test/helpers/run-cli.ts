// Runs the built CLI (`node bin/run.js ...`) as a user would, in a child process. `npm test` builds
// dist/ before the suites run.

import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {REPO_ROOT} from './paths.js'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

export function runCli(
  args: readonly string[],
  options: {env?: Record<string, string>; cwd?: string} = {},
): CliResult {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/run.js'), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env},
    timeout: 60_000,
  })
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}
