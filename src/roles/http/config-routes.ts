// Upstream's /config endpoints, served by every dsiem process: list the config directory, download a
// file (how cluster backends fetch their directives from a frontend), and — only with
// --writeableConfig — upload and delete files. Names, checks, status codes and bodies are upstream's.

import {readdir, readFile, unlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {
  decodeAssetFile,
  decodeDirectiveFile,
  decodeIntelFile,
  decodeVulnFile,
  goQuote,
  JsonSyntaxError,
  JsonTypeError,
  type JsonValue,
  parseJson,
} from '../../engine/index.js'
import type {Logger} from '../io/log.js'
import type {HttpRoutes, RouteRequest} from './router.js'
import {readBody, sendJson, sendText} from './server.js'

export interface ConfigRoutesOptions {
  configDir: string
  /** Upstream --writeableConfig: registers POST and DELETE (without it they answer 405). */
  writeable: boolean
  log: Logger
}

// Upstream's pattern, unescaped dot included ("aXjson" passes, as it does there).
const FILE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_-]+)?.json$/
const BAD_NAME = 'Not a valid filename, should be in any_N4m3-that_you_want.json format\n'
// Upstream's upload handler words it slightly differently; kept for byte-compatibility.
const BAD_UPLOAD_NAME = 'Not a valid filename, should be in any_N4m3_you_want.json format\n'

/** Top-level key and decoder that an uploaded file with this prefix must satisfy (≥ 1 entry). */
const CONTENT_CHECKS: readonly (readonly [
  prefix: string,
  decode: (root: JsonValue) => readonly unknown[],
])[] = [
  ['assets_', decodeAssetFile],
  ['directives_', decodeDirectiveFile],
  ['intel_', decodeIntelFile],
  ['vuln_', decodeVulnFile],
]

/**
 * Upstream's upload check: json.Unmarshal into the file kind's struct, then at least one entry.
 * Returns Go's error text, or undefined when the content is acceptable.
 */
export function uploadContentError(fileName: string, content: string): string | undefined {
  const check = CONTENT_CHECKS.find(([prefix]) => fileName.startsWith(prefix))
  if (check === undefined) return undefined
  let entries: readonly unknown[]
  try {
    entries = check[1](parseJson(content).value)
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error.message
    if (error instanceof JsonTypeError) return `json: ${error.message}`
    throw error
  }
  return entries.length === 0 ? "content doesn't have a valid entry" : undefined
}

/** `{"files":[{"filename":…}]}` as Go's json.MarshalIndent(…, "", "  ") writes it (nil slice → null). */
function fileListJson(names: readonly string[]): string {
  if (names.length === 0) return '{\n  "files": null\n}'
  const entries = names.map((name) => `    {\n      "filename": ${goQuote(name)}\n    }`)
  return `{\n  "files": [\n${entries.join(',\n')}\n  ]\n}`
}

export function registerConfigRoutes(routes: HttpRoutes, options: ConfigRoutesOptions): void {
  const {configDir, log} = options

  /** The file name a /config/<name> request is about, or undefined once it has been answered. */
  const fileName = ({res, rest}: RouteRequest, badName: string): string | undefined => {
    // Upstream's router matches one non-empty path segment: deeper is unknown, "/config/" itself
    // exists only for GET.
    if (rest === '') {
      sendText(res, 405, 'Method Not Allowed')
      return undefined
    }
    if (rest.includes('/')) {
      sendText(res, 404, 'Not Found')
      return undefined
    }
    let name: string
    try {
      name = decodeURIComponent(rest)
    } catch {
      name = rest
    }
    if (!FILE_NAME.test(name)) {
      log.warn(`l337 or epic fail attempt from ${clientOf(res)} detected. Discarding.`)
      sendText(res, 418, badName)
      return undefined
    }
    return name
  }

  routes.exact('GET', '/config', ({res}) => {
    res.writeHead(301, {location: '/config/', 'content-length': '0'})
    res.end()
  })

  routes.exact('GET', '/config/', async ({res}) => {
    log.info(`Request for list of configuration files from ${clientOf(res)}. Using config dir: ${configDir}`)
    let names: string[]
    try {
      names = await readdir(configDir)
    } catch {
      sendText(res, 500, 'Error reading config directory')
      return
    }
    // Go's os.ReadDir sorts by name (byte order).
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    sendJson(res, 200, fileListJson(names))
  })

  routes.prefix('GET', '/config/', async (request) => {
    const name = fileName(request, BAD_NAME)
    if (name === undefined) return
    const {res} = request
    log.info(`Request for file '${name}' from ${clientOf(res)}`)
    let content: Buffer
    try {
      content = await readFile(path.join(configDir, name))
    } catch (error) {
      // Go opens first (missing, forbidden → 400) and reads second (a directory → 500).
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') sendText(res, 500, `cannot read ${name}`)
      else sendText(res, 400, `cannot open ${name}`)
      return
    }
    res.writeHead(200, {'content-type': 'text/plain; charset=utf-8', 'content-length': content.length})
    res.end(content)
  })

  if (!options.writeable) return

  routes.prefix('POST', '/config/', async (request) => {
    const name = fileName(request, BAD_UPLOAD_NAME)
    if (name === undefined) return
    const {req, res} = request
    const content = await readBody(req)
    log.info(`Upload file request for '${name}' from ${clientOf(res)}`)
    const problem = uploadContentError(name, content.toString('utf8'))
    if (problem !== undefined) {
      log.warn(`l337 or epic fail attempt from ${clientOf(res)} detected. Discarding.`)
      sendText(res, 418, `Invalid content detected, parsing error message is: ${problem}\n`)
      return
    }
    try {
      await writeFile(path.join(configDir, name), content, {mode: 0o600})
    } catch (error) {
      log.warn(`Cannot write ${path.join(configDir, name)}: ${(error as Error).message}`)
      sendText(res, 500, 'Cannot open target file location\n')
      return
    }
    sendText(res, 201, `File ${name} uploaded successfully\n`)
  })

  routes.prefix('DELETE', '/config/', async (request) => {
    const name = fileName(request, BAD_NAME)
    if (name === undefined) return
    const {res} = request
    const target = path.join(configDir, name)
    log.info(`Delete request for file '${name}' from ${clientOf(res)}`)
    try {
      await unlink(target)
    } catch {
      sendText(res, 400, `cannot delete ${name}`)
      return
    }
    res.writeHead(200, {'content-length': '0'})
    res.end()
  })
}

function clientOf(res: {req: {socket: {remoteAddress?: string | undefined}}}): string {
  return res.req.socket.remoteAddress ?? 'unknown'
}
