// Builds HTTP/1.x request and response text for tests, benchmarks and the fuzzer, with bodies
// delimited by Content-Length, by chunked transfer coding (chunk sizes chosen by the caller) or by
// the end of the connection.

export interface HttpBodySpec {
  headers?: [name: string, value: string][]
  body?: string | Uint8Array
  /** Send the body chunked, in chunks of these sizes (the last one repeats); `true` = one chunk. */
  chunked?: boolean | number[]
  /** Leave out Content-Length for a plain body (a response then ends with the connection). */
  noContentLength?: boolean
}

export interface HttpRequestSpec extends HttpBodySpec {
  method?: string
  uri?: string
  version?: string
}

export interface HttpResponseSpec extends HttpBodySpec {
  version?: string
  status: number
  reason?: string
}

const CRLF = '\r\n'

function asBytes(body: string | Uint8Array | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0)
  return typeof body === 'string' ? Uint8Array.from(Buffer.from(body, 'latin1')) : body
}

function chunkedBody(body: Uint8Array, sizes: number[]): string {
  let out = ''
  let at = 0
  let index = 0
  while (at < body.length) {
    const size = Math.max(1, sizes[Math.min(index++, sizes.length - 1)] ?? body.length)
    const chunk = body.subarray(at, at + size)
    out += chunk.length.toString(16) + CRLF + Buffer.from(chunk).toString('latin1') + CRLF
    at += chunk.length
  }
  return out + '0' + CRLF + CRLF
}

function message(startLine: string, spec: HttpBodySpec): Uint8Array {
  const body = asBytes(spec.body)
  const headers = [...(spec.headers ?? [])]
  const has = (name: string): boolean => headers.some(([key]) => key.toLowerCase() === name)
  let payload = Buffer.from(body).toString('latin1')
  if (spec.chunked !== undefined && spec.chunked !== false) {
    if (!has('transfer-encoding')) headers.push(['Transfer-Encoding', 'chunked'])
    payload = chunkedBody(body, spec.chunked === true ? [body.length] : spec.chunked)
  } else if (spec.noContentLength !== true && !has('content-length') && body.length > 0) {
    headers.push(['Content-Length', String(body.length)])
  }
  const head = startLine + CRLF + headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join('') + CRLF
  return Uint8Array.from(Buffer.from(head + payload, 'latin1'))
}

export function buildHttpRequest(spec: HttpRequestSpec = {}): Uint8Array {
  return message(`${spec.method ?? 'GET'} ${spec.uri ?? '/'} HTTP/${spec.version ?? '1.1'}`, spec)
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  204: 'No Content',
  301: 'Moved Permanently',
  304: 'Not Modified',
  404: 'Not Found',
  500: 'Internal Server Error',
}

export function buildHttpResponse(spec: HttpResponseSpec): Uint8Array {
  const reason = spec.reason ?? REASONS[spec.status] ?? 'Unknown'
  return message(`HTTP/${spec.version ?? '1.1'} ${spec.status} ${reason}`, spec)
}
