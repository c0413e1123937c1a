// HTTP/1.x analyser: a request parser on the originator's stream and a reply parser on the
// responder's, tied together into transactions the way Zeek's base/protocols/http scripts do it
// (trans_depth per request, replies matched in order, a 1xx reply kept on the transaction until the
// final one). One http.log record per transaction when its reply is complete, the rest at the end.

import type {ConnView, LogRecord, ProtocolAnalyzer, SensorSink} from '../types.js'
import {connFields, connWeird} from './conn-weird.js'
import {
  KNOWN_HTTP_METHODS,
  PROXY_HEADERS,
  basicAuthUsername,
  hostWithoutPort,
  parseRequestLine,
  parseStatusLine,
  plausibleRequestStart,
  plausibleStatusStart,
} from './http-lines.js'
import {HttpStreamParser, type BodyFraming, type HttpMessageEvents} from './http-parser.js'

/** One http.log record being built (Zeek's HTTP::Info). */
interface HttpTransaction {
  ts: number
  depth: number
  method?: string
  host?: string
  uri?: string
  referrer?: string
  version?: string
  userAgent?: string
  origin?: string
  requestBodyLen: number
  responseBodyLen: number
  statusCode?: number
  statusMsg?: string
  infoCode?: number
  infoMsg?: string
  username?: string
  proxied?: string[]
  logged: boolean
}

const isInformational = (code: number | undefined): boolean =>
  code !== undefined && code >= 100 && code <= 199

export class HttpAnalyzer implements ProtocolAnalyzer {
  readonly service = 'http'
  confirmed = false
  failed = false
  private readonly conn: ConnView
  private readonly sink: SensorSink
  private readonly requests: HttpStreamParser
  private readonly replies: HttpStreamParser
  /** Every transaction not logged yet, in request order. */
  private readonly open: HttpTransaction[] = []
  /** Requests still waiting for the start of their reply. */
  private readonly awaitingReply: HttpTransaction[] = []
  private request: HttpTransaction | undefined
  private reply: HttpTransaction | undefined
  private requestCount = 0
  private weirdTs = 0

  constructor(conn: ConnView, sink: SensorSink) {
    this.conn = conn
    this.sink = sink
    this.requests = new HttpStreamParser(this.requestEvents(), true)
    this.replies = new HttpStreamParser(this.replyEvents(), false)
  }

  deliver(isOrig: boolean, data: Uint8Array, ts: number): void {
    if (this.failed) return
    this.weirdTs = ts
    ;(isOrig ? this.requests : this.replies).feed(data, ts)
  }

  gap(isOrig: boolean, length: number, ts: number): void {
    if (this.failed) return
    this.weirdTs = ts
    ;(isOrig ? this.requests : this.replies).gap(length, ts)
  }

  finish(ts: number): void {
    if (this.failed) return
    this.weirdTs = ts
    this.requests.finish(ts)
    this.replies.finish(ts)
    for (const transaction of this.open.splice(0)) this.write(transaction)
  }

  private weird(name: string, addl?: string): void {
    this.sink.weird(connWeird(this.conn, this.weirdTs, name, addl))
  }

  /** A protocol violation: before confirmation the analyser gives up (Zeek's DPD), after it only this side stops. */
  private violation(): void {
    if (!this.confirmed) this.failed = true
  }

  private requestEvents(): HttpMessageEvents {
    return {
      plausibleStart: (partial) => {
        if (plausibleRequestStart(partial)) return true
        this.weird('bad_HTTP_request')
        this.violation()
        return false
      },
      startLine: (line, ts) => {
        const parsed = parseRequestLine(line, (name) => this.weird(name))
        if (parsed === undefined) {
          this.weird('bad_HTTP_request')
          this.violation()
          return false
        }
        this.confirmed = true
        const transaction: HttpTransaction = {
          ts,
          depth: ++this.requestCount,
          method: parsed.method,
          uri: parsed.uri,
          version: parsed.version,
          requestBodyLen: 0,
          responseBodyLen: 0,
          logged: false,
        }
        if (!KNOWN_HTTP_METHODS.has(parsed.method)) this.weird('unknown_HTTP_method', parsed.method)
        this.request = transaction
        this.open.push(transaction)
        this.awaitingReply.push(transaction)
        return true
      },
      header: (name, value) => {
        const transaction = this.request
        if (transaction !== undefined) requestHeader(transaction, name, value)
      },
      headersDone: () => 'framed',
      body: (length) => {
        if (this.request !== undefined) this.request.requestBodyLen += length
      },
      messageDone: () => {
        // A CONNECT tunnel's first bytes are not HTTP: wait for the reply before reading on.
        if (this.request?.method === 'CONNECT' && !this.request.logged) this.requests.suspend()
        this.request = undefined
      },
      weird: (name, addl) => this.weird(name, addl),
    }
  }

  private replyEvents(): HttpMessageEvents {
    return {
      plausibleStart: (partial) => {
        if (plausibleStatusStart(partial)) return true
        this.weird('bad_HTTP_reply')
        this.violation()
        return false
      },
      startLine: (line, ts) => {
        const parsed = parseStatusLine(line)
        if (parsed === undefined) {
          this.weird('bad_HTTP_reply')
          this.violation()
          return false
        }
        this.confirmed = true
        // After an interim 1xx the final reply belongs to the same transaction.
        if (this.reply === undefined || !isInformational(this.reply.statusCode)) {
          this.reply = this.awaitingReply.shift() ?? this.unmatchedReply(ts)
        }
        const transaction = this.reply
        transaction.statusCode = parsed.code
        transaction.statusMsg = parsed.reason
        transaction.version = parsed.version
        if (isInformational(parsed.code)) {
          transaction.infoCode = parsed.code
          transaction.infoMsg = parsed.reason
        }
        return true
      },
      header: () => {},
      headersDone: () => this.replyFraming(),
      body: (length) => {
        if (this.reply !== undefined) this.reply.responseBodyLen += length
      },
      messageDone: () => {
        const transaction = this.reply
        if (transaction === undefined) return
        if (isInformational(transaction.statusCode)) return
        this.reply = undefined
        this.logNow(transaction)
      },
      weird: (name, addl) => this.weird(name, addl),
    }
  }

  private unmatchedReply(ts: number): HttpTransaction {
    this.weird('unmatched_HTTP_reply')
    const transaction: HttpTransaction = {
      ts,
      depth: this.requestCount,
      requestBodyLen: 0,
      responseBodyLen: 0,
      logged: false,
    }
    this.open.push(transaction)
    return transaction
  }

  private replyFraming(): BodyFraming {
    const transaction = this.reply
    if (transaction === undefined) return 'framed'
    const code = transaction.statusCode ?? 0
    const connectAccepted = transaction.method === 'CONNECT' && code >= 200 && code <= 299
    if (code === 101 || connectAccepted) {
      // The connection now carries another protocol: stop reading both sides as HTTP.
      this.requests.stop()
      return 'tunnel'
    }
    if (transaction.method === 'CONNECT') this.requests.resume()
    if (isInformational(code) || code === 204 || code === 304 || transaction.method === 'HEAD') return 'none'
    return 'framed'
  }

  private logNow(transaction: HttpTransaction): void {
    const index = this.open.indexOf(transaction)
    if (index >= 0) this.open.splice(index, 1)
    this.write(transaction)
  }

  private write(transaction: HttpTransaction): void {
    if (transaction.logged) return
    transaction.logged = true
    const record: LogRecord = {ts: transaction.ts, ...connFields(this.conn), trans_depth: transaction.depth}
    if (transaction.method !== undefined) record['method'] = transaction.method
    if (transaction.host !== undefined) record['host'] = transaction.host
    if (transaction.uri !== undefined) record['uri'] = transaction.uri
    if (transaction.referrer !== undefined) record['referrer'] = transaction.referrer
    if (transaction.version !== undefined) record['version'] = transaction.version
    if (transaction.userAgent !== undefined) record['user_agent'] = transaction.userAgent
    if (transaction.origin !== undefined) record['origin'] = transaction.origin
    record['request_body_len'] = transaction.requestBodyLen
    record['response_body_len'] = transaction.responseBodyLen
    if (transaction.statusCode !== undefined) record['status_code'] = transaction.statusCode
    if (transaction.statusMsg !== undefined) record['status_msg'] = transaction.statusMsg
    if (transaction.infoCode !== undefined) record['info_code'] = transaction.infoCode
    if (transaction.infoMsg !== undefined) record['info_msg'] = transaction.infoMsg
    record['tags'] = []
    if (transaction.username !== undefined) record['username'] = transaction.username
    if (transaction.proxied !== undefined) record['proxied'] = transaction.proxied
    this.sink.log('http', record)
  }
}

/** The request headers Zeek's http scripts keep (later occurrences overwrite earlier ones). */
function requestHeader(transaction: HttpTransaction, name: string, value: string): void {
  const upper = name.toUpperCase()
  switch (upper) {
    case 'HOST':
      transaction.host = hostWithoutPort(value)
      return
    case 'REFERER':
      transaction.referrer = value
      return
    case 'USER-AGENT':
      transaction.userAgent = value
      return
    case 'ORIGIN':
      transaction.origin = value
      return
    case 'AUTHORIZATION':
    case 'PROXY-AUTHORIZATION': {
      const username = basicAuthUsername(value)
      if (username !== undefined) transaction.username = username
      return
    }
    default:
      if (PROXY_HEADERS.has(upper)) {
        const entry = `${upper} -> ${value}`
        const proxied = (transaction.proxied ??= [])
        if (!proxied.includes(entry)) proxied.push(entry)
      }
  }
}
