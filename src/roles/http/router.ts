// A small method+path router for the one HTTP server a dsiem process runs (frontend and backend roles
// both register routes on it). Exact paths and prefix routes ("/config/" + a file name); anything
// else is 404, as upstream.

import type {IncomingMessage, ServerResponse} from 'node:http'

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD'

export interface RouteRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The path without the query string. */
  readonly path: string
  /** For prefix routes: what follows the prefix. */
  readonly rest: string
}

export type RouteHandler = (request: RouteRequest) => void | Promise<void>

/**
 * A POST route that fast-lane.ts may also answer without node:http, for requests simple enough for
 * it. The handler sees only the complete body and the client's address and gives the status.
 */
export interface FastPostRoute {
  readonly handle: (body: Buffer, client: string) => number | Promise<number>
  /** The plain-text body that goes with a status, if any (else the answer has an empty body). */
  readonly answerText: (status: number) => string | undefined
}

interface Route {
  readonly method: HttpMethod
  readonly path: string
  readonly prefix: boolean
  readonly handler: RouteHandler
}

export interface HttpRoutes {
  /** Handles exactly `path`. */
  exact(method: HttpMethod, path: string, handler: RouteHandler): void
  /** Handles every path starting with `prefix` (the rest is passed on). */
  prefix(method: HttpMethod, prefix: string, handler: RouteHandler): void
  /** Lets the fast lane answer POST `path` too; the same path must have an exact POST route. */
  fastPost(path: string, route: FastPostRoute): void
}

export class HttpRouter implements HttpRoutes {
  private readonly routes: Route[] = []
  /** The fast lane's routes, by path. */
  readonly fastPosts = new Map<string, FastPostRoute>()

  exact(method: HttpMethod, path: string, handler: RouteHandler): void {
    this.routes.push({method, path, prefix: false, handler})
  }

  prefix(method: HttpMethod, prefix: string, handler: RouteHandler): void {
    this.routes.push({method, path: prefix, prefix: true, handler})
  }

  fastPost(path: string, route: FastPostRoute): void {
    this.fastPosts.set(path, route)
  }

  /** Finds the handler: exact routes win over prefixes, longer prefixes over shorter ones. */
  match(method: string, path: string): {handler: RouteHandler; rest: string} | {status: 404 | 405} {
    let best: Route | undefined
    let pathKnown = false
    for (const route of this.routes) {
      const hit = route.prefix ? path.startsWith(route.path) : path === route.path
      if (!hit) continue
      pathKnown = true
      if (route.method !== method) continue
      if (best === undefined || (best.prefix && (!route.prefix || route.path.length > best.path.length)))
        best = route
    }
    if (best === undefined) return {status: pathKnown ? 405 : 404}
    return {handler: best.handler, rest: best.prefix ? path.slice(best.path.length) : ''}
  }
}
