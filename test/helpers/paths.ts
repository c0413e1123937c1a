// Locations the tests share: the repository root, and upstream Dsiem's fixtures in ../shared (which a
// checkout outside this workplace may not have; suites that need them skip with a printed notice).

import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export const UPSTREAM_FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures/dsiem-upstream')

export function upstreamFixturesPresent(): boolean {
  return existsSync(UPSTREAM_FIXTURES)
}

/** Path inside upstream's fixture tree. */
export function upstream(...parts: string[]): string {
  return path.join(UPSTREAM_FIXTURES, ...parts)
}

/** For describe(..., {skip}) — prints why once, so a skipped suite never looks like a pass. */
export function skipWithoutUpstreamFixtures(suite: string): string | false {
  if (upstreamFixturesPresent()) return false
  const reason = `upstream fixtures not found at ${UPSTREAM_FIXTURES}; skipping ${suite}`
  process.stderr.write(`NOTICE: ${reason}\n`)
  return reason
}
