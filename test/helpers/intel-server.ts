// A real HTTP server on 127.0.0.1 that answers like the services dsiem's built-in plugins talk to:
// Arkime WISE (`GET /ip/<ip>`, a JavaScript object-literal array) and dsiem's nesd (`GET /?ip=&port=`,
// serving the rows of a Nessus CSV export with nesd's status codes and texts: by default our own
// test/fixtures/intel/nessus-scan.csv, or any export passed as `nessusCsv`, e.g. upstream's
// nessus_example.csv). `/slow/...` never answers (until close), for timeout tests; anything else is a
// 404 page, as a router gives.

import {readFileSync} from 'node:fs'
import http from 'node:http'
import {isIP, type AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before} from 'node:test'
import {REPO_ROOT, upstream} from './paths.js'

/** Our own small Nessus export (hosts 192.168.40.12 and .13), served unless another is given. */
export const NESSUS_SCAN_CSV = path.join(REPO_ROOT, 'test/fixtures/intel/nessus-scan.csv')

/** WISE's answer for 8.8.8.8 in the object-literal form WISE really sends (unquoted keys). */
const WISE_8888 = `[{field: "alienvault.id", len: 3, value: "12"},
{field: "alienvault.reliability", len: 3, value: "9"},
{field: "alienvault.threat-level", len: 2, value: "2"},
{field: "alienvault.activity", len: 9, value: "Spamming"}]
`

/** For 8.8.4.4, indented JSON with quoted keys, as upstream's own mock (json.MarshalIndent) sends it. */
const WISE_8844 = JSON.stringify(
  [
    {field: 'criticalstack.type', len: 12, value: 'Intel::ADDR'},
    {
      field: 'criticalstack.source',
      len: 64,
      value: 'from https://www.dan.me.uk/torlist/ via intel.criticalstack.com',
    },
  ],
  null,
  ' ',
)

export interface IntelServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** Request paths (with query) in arrival order. */
  readonly requests: string[]
  /** Most requests in flight at once. */
  readonly maxInFlight: number
  /** Delay before answering WISE requests, in ms. */
  wiseDelayMs: number
  /** Forgets requests and the in-flight maximum, and answers without delay again. */
  reset(): void
  close(): Promise<void>
}

/** RFC 4180 CSV (quoted fields may span lines), enough for a Nessus export. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}

/** The columns of a Nessus export row that nesd serves. */
export interface NessusRow {
  cve: string
  risk: string
  name: string
  host: string
  port: number
}

/** The rows of a Nessus CSV export, found by header name (column order and extra columns are free). */
export function parseNessusCsv(text: string): NessusRow[] {
  const [header, ...rows] = parseCsv(text)
  const column = (name: string): number => {
    const index = header?.indexOf(name) ?? -1
    if (index < 0) throw new Error(`Nessus CSV has no ${name} column`)
    return index
  }
  const [cve, risk, host, port, name] = ['CVE', 'Risk', 'Host', 'Port', 'Name'].map(column) as [
    number,
    number,
    number,
    number,
    number,
  ]
  return rows.map((r) => ({
    cve: r[cve] ?? '',
    risk: r[risk] ?? '',
    name: r[name] ?? '',
    host: r[host] ?? '',
    port: Number(r[port]),
  }))
}

export interface IntelServerOptions {
  /** Text of the Nessus CSV export nesd serves; our own NESSUS_SCAN_CSV by default. */
  nessusCsv?: string
}

function nesdAnswer(url: URL, scans: readonly NessusRow[]): {status: number; body: string} {
  const ip = url.searchParams.get('ip') ?? ''
  const port = url.searchParams.get('port') ?? ''
  if (ip === '' || port === '') return {status: 400, body: 'requires ip and port parameter\n'}
  if (isIP(ip) === 0) return {status: 418, body: 'ip parameter only accept... ip address\n'}
  const p = Number(port)
  if (!/^[0-9]+$/.test(port) || p < 1 || p > 65535) {
    return {status: 418, body: 'port parameter only accept... valid port number\n'}
  }
  const matches = scans.filter((s) => s.host === ip && s.port === p)
  if (matches.length === 0) return {status: 200, body: 'no vulnerability found\n'}
  return {
    status: 200,
    body: JSON.stringify(
      matches.map((m) => ({cve: m.cve, risk: m.risk, name: m.name})),
      null,
      2,
    ),
  }
}

export async function startIntelServer(options: IntelServerOptions = {}): Promise<IntelServer> {
  const scans = parseNessusCsv(options.nessusCsv ?? readFileSync(NESSUS_SCAN_CSV, 'utf8'))
  const timers = new Set<NodeJS.Timeout>()
  let inFlight = 0
  const state = {
    requests: [] as string[],
    maxInFlight: 0,
    wiseDelayMs: 0,
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    state.requests.push(req.url ?? '/')
    inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, inFlight)
    const answer = (status: number, body: string): void => {
      inFlight--
      res.writeHead(status, {'content-type': 'text/plain; charset=utf-8'}).end(body)
    }
    if (url.pathname.startsWith('/slow/')) return // answered only by close()
    if (url.pathname.startsWith('/ip/')) {
      const ip = decodeURIComponent(url.pathname.slice('/ip/'.length))
      const body = ip === '8.8.8.8' ? WISE_8888 : ip === '8.8.4.4' ? WISE_8844 + '\n' : '[]\n'
      if (state.wiseDelayMs === 0) return answer(200, body)
      const timer = setTimeout(() => {
        timers.delete(timer)
        answer(200, body)
      }, state.wiseDelayMs)
      timers.add(timer)
      return
    }
    if (url.pathname === '/') {
      const {status, body} = nesdAnswer(url, scans)
      return answer(status, body)
    }
    answer(404, '404 page not found\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests
    },
    get maxInFlight() {
      return state.maxInFlight
    },
    get wiseDelayMs() {
      return state.wiseDelayMs
    },
    set wiseDelayMs(ms: number) {
      state.wiseDelayMs = ms
    },
    reset: () => {
      state.requests = []
      state.maxInFlight = 0
      state.wiseDelayMs = 0
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * An intel server started before the suite's tests and closed after them; `options` is called in the
 * `before` hook (so a skipped suite never reads its files).
 */
export function useIntelServer(options: () => IntelServerOptions = () => ({})): {
  readonly server: IntelServer
} {
  let server: IntelServer | undefined
  before(async () => {
    server = await startIntelServer(options())
  })
  after(async () => {
    await server?.close()
  })
  return {
    get server(): IntelServer {
      if (server === undefined) throw new Error('intel server not started yet (use it inside a test)')
      return server
    },
  }
}

/** useIntelServer() serving upstream's nesd fixture nessus_example.csv instead of our own export. */
export function useUpstreamNessusServer(): {readonly server: IntelServer} {
  return useIntelServer(() => ({
    nessusCsv: readFileSync(upstream('internal/pkg/plugin/nesd/fixtures/nessus_example.csv'), 'utf8'),
  }))
}
