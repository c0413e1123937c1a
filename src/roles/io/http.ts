// The only importer of undici: one keep-alive Agent for every outgoing HTTP request dsiem makes
// (intel/vuln plugins, posting events to a frontend, pulling config). Every request has a deadline;
// failures become EnvironmentErrors naming the URL.

import {Agent, request} from 'undici'
import {EnvironmentError} from '../../engine/index.js'

const agent = new Agent({keepAliveTimeout: 10_000, connections: 64, pipelining: 1})

export interface HttpResponse {
  status: number
  body: string
}

export interface HttpRequestOptions {
  /** Whole-request deadline in milliseconds (upstream's plugins use 5 s). */
  timeoutMs: number
  headers?: Record<string, string>
}

async function send(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body: string | undefined,
  options: HttpRequestOptions,
): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(options.timeoutMs)
  try {
    const response = await request(url, {
      method,
      dispatcher: agent,
      signal,
      headers: options.headers ?? {},
      ...(body === undefined ? {} : {body}),
    })
    const text = await response.body.text()
    return {status: response.statusCode, body: text}
  } catch (error) {
    const reason =
      signal.aborted || (error as Error).name === 'TimeoutError'
        ? `timed out after ${options.timeoutMs} ms`
        : (error as Error).message
    throw new EnvironmentError(`${method} ${url} failed: ${reason}`, 'DSIEM_E_HTTP', {cause: error})
  }
}

export function httpGet(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  return send('GET', url, undefined, options)
}

export function httpPost(url: string, body: string, options: HttpRequestOptions): Promise<HttpResponse> {
  return send('POST', url, body, {
    ...options,
    headers: {'content-type': 'application/json', ...options.headers},
  })
}

export function httpDelete(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  return send('DELETE', url, undefined, options)
}

/** Closes pooled connections so a short-lived command can exit promptly. */
export async function closeHttp(): Promise<void> {
  await agent.close()
}
