// Version and build facts for `dsiem version`: the package version, when dist/ was built (the
// compiled file's mtime), and the git commit when the checkout has one.

import {execFileSync} from 'node:child_process'
import {statSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import path from 'node:path'

export interface BuildInfo {
  version: string
  buildTime: string
  commit: string
  node: string
  platform: string
}

export function buildInfo(version: string): BuildInfo {
  const here = fileURLToPath(import.meta.url)
  let buildTime = 'unknown'
  try {
    buildTime = statSync(here).mtime.toISOString()
  } catch {
    // running from an unusual layout; the version is still right
  }
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: path.dirname(here),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    // not a git checkout (an installed package)
  }
  return {version, buildTime, commit, node: process.version, platform: `${process.platform}-${process.arch}`}
}
