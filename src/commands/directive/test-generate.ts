// `dsiem directive test --generate`: build events from the directives (upstream dtester's generator,
// correct by construction) and either replay them in-process, checking that every directive reaches its
// last stage, or POST them to a running frontend (--target) stage wave by stage wave.

import {webcrypto} from 'node:crypto'
import {
  checkGeneratedEvents,
  eventWaves,
  formatRfc3339,
  generateEvents,
  InputError,
  parseIp,
  planEvents,
  seededRandom,
  serializeEvent,
  type DirectiveCheck,
  type DirectivePlan,
  type NormalizedEvent,
} from '../../engine/index.js'
import {sendEventBatches, type SendSummary} from '../../roles/event-sender.js'
import {writeOutputFile} from '../../roles/io/case-file.js'
import {loadCorrelationConfig} from '../../roles/io/config-dir.js'
import {closeHttp} from '../../roles/io/http.js'

export interface GenerateTestRequest {
  configDir: string
  filePattern: string
  allowSingleStage: boolean
  homeNet: string
  maxPerRule: number
  /** Random seed; a fresh one is drawn (and reported) when absent. */
  seed?: number
  /** Unix seconds for the first stage's timestamps (and the in-process wall clock); default: now. */
  now?: number
  /** Base URL of a running frontend; absent = in-process check. */
  target?: string
  rps: number
  concurrency: number
  retryDelayMs: number
  maxTries: number
  /** Also write the generated events as NDJSON here (like dtester's fbeat mode). */
  writeEvents?: string
}

export interface GenerateTestOutcome {
  readonly seed: number
  readonly startTime: number
  readonly plans: readonly DirectivePlan[]
  readonly eventCount: number
  /** In-process mode: one entry per directive. */
  readonly checks: readonly DirectiveCheck[] | undefined
  /** Target mode: where the events went and how they fared. */
  readonly send: (SendSummary & {readonly url: string}) | undefined
  readonly passed: boolean
}

/** `http://host:8080` → `http://host:8080/events`; a URL already ending in /events is kept. */
export function eventsUrl(target: string): string {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw new InputError(
      `--target: ${JSON.stringify(target)} is not a URL (e.g. http://127.0.0.1:8080)`,
      'DSIEM_E_USAGE',
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(
      `--target: ${JSON.stringify(target)} must be an http:// or https:// URL`,
      'DSIEM_E_USAGE',
    )
  }
  const base = url.pathname.replace(/\/+$/, '')
  url.pathname = base.endsWith('/events') ? base : `${base}/events`
  return url.toString()
}

export async function runGenerateTest(request: GenerateTestRequest): Promise<GenerateTestOutcome> {
  if (parseIp(request.homeNet) === undefined) {
    throw new InputError(
      `--homenet: ${JSON.stringify(request.homeNet)} is not an IP address`,
      'DSIEM_E_USAGE',
    )
  }
  const url = request.target === undefined ? undefined : eventsUrl(request.target)
  const {directives, assets} = loadCorrelationConfig(request)
  const seed = request.seed ?? webcrypto.getRandomValues(new Uint32Array(1))[0]!
  const startTime = request.now ?? Math.floor(Date.now() / 1000)
  const plans = generateEvents({
    directives,
    assets,
    homeNet: request.homeNet,
    maxPerRule: request.maxPerRule,
    random: seededRandom(seed),
    startTime,
  })
  const eventCount = plans.reduce((sum, plan) => sum + planEvents(plan).length, 0)
  if (request.writeEvents !== undefined) {
    // Wave order: timestamps never go backwards and every directive's stages stay in order.
    const lines = eventWaves(plans).flat().map(serializeEvent)
    writeOutputFile(request.writeEvents, lines.map((line) => line + '\n').join(''), 'events file')
  }

  if (url === undefined) {
    const checks = checkGeneratedEvents(plans, assets, startTime)
    const passed = checks.every((check) => check.status !== 'failed')
    return {seed, startTime, plans, eventCount, checks, send: undefined, passed}
  }

  // Without a fixed --now, stamp each event when it is sent, as dtester does: a live backend's expiry
  // compares stage start times with its wall clock.
  const encode =
    request.now === undefined
      ? (event: NormalizedEvent) => serializeEvent({...event, timestamp: formatRfc3339(Date.now() / 1000)})
      : serializeEvent
  try {
    const summary = await sendEventBatches(eventWaves(plans), encode, {
      url,
      rps: request.rps,
      concurrency: request.concurrency,
      retryDelayMs: request.retryDelayMs,
      maxTries: request.maxTries,
    })
    return {
      seed,
      startTime,
      plans,
      eventCount,
      checks: undefined,
      send: {...summary, url},
      passed: summary.rejected === 0,
    }
  } finally {
    await closeHttp()
  }
}
