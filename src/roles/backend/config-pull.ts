// A clustered backend's start-up download of its config from a frontend (upstream's worker.Start):
// list GET <frontend>/config/, then fetch every assets_*, vuln_*, intel_* and directives_<node>_* file
// into the local config directory.
//
// Unlike upstream, which saves whatever body comes back and silently stops after the first failed
// download, any failure stops start-up with one line naming the URL and the status, and nothing is
// written until every file has arrived (each is then written to a temporary name and renamed), so a
// failed pull never leaves a mix of old and new files or an error page saved as a directive file. After
// a complete pull, local files of the pulled kinds that the frontend no longer lists are removed, so a
// directive deleted on the frontend goes away on the next reload instead of lingering.

import {mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {EnvironmentError} from '../../engine/index.js'
import {httpGet, type HttpRequestOptions, type HttpResponse} from '../io/http.js'

export type HttpGet = (url: string, options: HttpRequestOptions) => Promise<HttpResponse>

export interface ConfigPullOptions {
  /** Frontend base URL (upstream --frontend), e.g. http://fe:8080. */
  frontend: string
  node: string
  configDir: string
  /** Defaults to the shared undici client. */
  get?: HttpGet
  /** Deadline of the listing request (upstream: 5 s). */
  listTimeoutMs?: number
  /** Deadline of each file download (directive files can be large). */
  fileTimeoutMs?: number
  /** Hears "downloading <url>" per file, as upstream logs it. */
  onDownload?: (url: string) => void
}

export interface ConfigPullResult {
  /** File names written into the config directory, in listing order. */
  readonly files: readonly string[]
  /** Local files of the pulled kinds the frontend no longer lists, now deleted. */
  readonly removed: readonly string[]
}

/** Upstream's selection: shared asset and plugin files, and this node's directive files. */
export function isConfigFileForNode(name: string, node: string): boolean {
  return (
    name.startsWith('assets_') ||
    name.startsWith('vuln_') ||
    name.startsWith('intel_') ||
    name.startsWith(`directives_${node}_`)
  )
}

/** A listed name must be a plain file name: a frontend must not make us write outside the config dir. */
function isPlainFileName(name: string): boolean {
  return (
    name !== '' &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !name.includes('\0')
  )
}

function pullError(message: string, cause?: unknown): EnvironmentError {
  return new EnvironmentError(message, 'DSIEM_E_CONFIG_PULL', {
    ...(cause === undefined ? {} : {cause}),
    hint: 'check --frontend and that the frontend serves its config directory on /config/',
  })
}

async function fetchOk(get: HttpGet, url: string, timeoutMs: number): Promise<string> {
  let response: HttpResponse
  try {
    response = await get(url, {timeoutMs})
  } catch (error) {
    // httpGet's message already names the method and the URL.
    throw pullError(`config pull failed: ${(error as Error).message}`, error)
  }
  if (response.status !== 200) {
    throw pullError(`config pull failed: GET ${url} answered HTTP ${response.status}`)
  }
  return response.body
}

function parseListing(body: string, url: string): string[] {
  let listing: unknown
  try {
    listing = JSON.parse(body)
  } catch (error) {
    throw pullError(`config pull failed: GET ${url} did not answer a JSON file listing`, error)
  }
  const files = (listing as {files?: unknown} | null)?.files
  if (!Array.isArray(files)) {
    throw pullError(`config pull failed: GET ${url} did not answer {"files":[{"filename":...}]}`)
  }
  const names: string[] = []
  for (const entry of files as unknown[]) {
    const name = (entry as {filename?: unknown} | null)?.filename
    if (typeof name !== 'string') {
      throw pullError(`config pull failed: GET ${url} listed an entry without a filename`)
    }
    names.push(name)
  }
  return names
}

export async function pullConfig(options: ConfigPullOptions): Promise<ConfigPullResult> {
  const get = options.get ?? httpGet
  const base = options.frontend.replace(/\/+$/, '')
  const listUrl = `${base}/config/`
  const listing = parseListing(await fetchOk(get, listUrl, options.listTimeoutMs ?? 5000), listUrl)
  const wanted = listing.filter((name) => isConfigFileForNode(name, options.node))
  const unsafe = wanted.find((name) => !isPlainFileName(name))
  if (unsafe !== undefined) {
    throw pullError(`config pull failed: GET ${listUrl} listed ${JSON.stringify(unsafe)}, not a file name`)
  }

  const downloaded: {name: string; body: string}[] = []
  for (const name of wanted) {
    const url = `${base}/config/${encodeURIComponent(name)}`
    options.onDownload?.(url)
    downloaded.push({name, body: await fetchOk(get, url, options.fileTimeoutMs ?? 60_000)})
  }

  const removed: string[] = []
  try {
    mkdirSync(options.configDir, {recursive: true})
    for (const {name, body} of downloaded) {
      const target = path.join(options.configDir, name)
      const temporary = `${target}.${process.pid}.tmp`
      writeFileSync(temporary, body, {mode: 0o600})
      renameSync(temporary, target)
    }
    const listed = new Set(wanted)
    for (const name of readdirSync(options.configDir)) {
      if (isConfigFileForNode(name, options.node) && name.endsWith('.json') && !listed.has(name)) {
        rmSync(path.join(options.configDir, name))
        removed.push(name)
      }
    }
  } catch (error) {
    throw new EnvironmentError(
      `config pull: cannot write into ${options.configDir}: ${(error as Error).message}`,
      'DSIEM_E_CONFIG_DIR',
      {cause: error},
    )
  }
  return {files: downloaded.map((file) => file.name), removed}
}
