// Which backends are alive and which event keys each one takes, as frontends learn it from the backends'
// announcements on the routed bus (bus.ts: BackendAnnouncement). On core NATS an event published for a
// backend that died has no receiver and vanishes without a trace; this table lets the frontend say what
// happened to every event it accepted:
//   - routed:       a live backend's route takes it;
//   - backend_down: no live backend takes it, but one that did is gone (missed 3 heartbeats, or left):
//                   the event is lost, counted, and logged (rate-limited) naming the backend;
//   - no_directive: no backend ever wanted its keys: expected traffic, counted, not logged.
// The backend side (startBackendAnnouncer) announces the route at start, on change, as a heartbeat,
// and `leaving` on a graceful stop.
//
// The per-event check (classify) is a lookup in an index by key rebuilt on every membership change:
// plugin_id → plugin_sid and category → product, mostly two misses. The index mirrors what the routed
// bus delivers (routeAccepts): an event goes to a backend when its (plugin_id, plugin_sid) or its
// (category, product) is in the backend's route.

import {createHash, randomBytes} from 'node:crypto'
import type {NormalizedEvent} from '../engine/index.js'
import type {BackendAnnouncement, EventBus, EventRoute} from './bus.js'

/** A digest of a route's keys, independent of their order. */
export function routeHash(route: EventRoute): string {
  const sids = route.sids.map(([pluginId, pluginSid]) => `${pluginId}.${pluginSid}`).sort()
  const taxonomies = route.taxonomies.map((pair) => JSON.stringify(pair)).sort()
  return createHash('sha256')
    .update(JSON.stringify([sids, taxonomies]))
    .digest('base64url')
    .slice(0, 22)
}

// ------------------------------------------------------------------------------------------------
// Backend side

export interface BackendAnnouncerOptions {
  node: string
  /** Heartbeat period (default 2000 ms); frontends take a backend as down after 3 missed ones. */
  heartbeatMs?: number
  /** Unix ms of the backend's start (default now). */
  startedAt?: number
}

export interface BackendAnnouncer {
  /** Announces this route now if it differs from the last one (start, reload); heartbeats repeat it. */
  update(route: EventRoute): void
  /** Graceful stop: stops the heartbeat and says `leaving`, so frontends need not wait for expiry. */
  leave(): void
  readonly instance: string
}

export const DEFAULT_HEARTBEAT_MS = 2000

/**
 * Every heartbeat carries the whole route, not just its hash: a frontend that started late or missed a
 * message is whole again after one heartbeat, with no request/reply to get wrong. A route is its keys
 * (~15 bytes each), so even thousands of directives stay far below NATS's 1 MiB max_payload, and a
 * frontend whose table already has that hash only refreshes a timestamp.
 */
export function startBackendAnnouncer(bus: EventBus, options: BackendAnnouncerOptions): BackendAnnouncer {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const instance = randomBytes(9).toString('base64url')
  const startedAt = options.startedAt ?? Date.now()
  let current: BackendAnnouncement | undefined
  let timer: NodeJS.Timeout | undefined
  const beat = (): void => {
    if (current !== undefined) bus.announceBackend(current)
  }
  return {
    instance,
    update(route) {
      const hash = routeHash(route)
      if (current !== undefined && current.routeHash === hash) return
      // One object per route: the NATS bus encodes it once for all heartbeats.
      current = {node: options.node, instance, state: 'up', startedAt, heartbeatMs, routeHash: hash, route}
      bus.announceBackend(current)
      if (timer === undefined) {
        timer = setInterval(beat, heartbeatMs)
        // A heartbeat must never be what keeps a stopping process alive.
        timer.unref()
      }
    },
    leave() {
      clearInterval(timer)
      timer = undefined
      if (current === undefined) return
      bus.announceBackend({...current, state: 'leaving'})
      current = undefined
    },
  }
}

// ------------------------------------------------------------------------------------------------
// Frontend side

export type BackendState = 'live' | 'expired' | 'left'
export type Verdict = 'routed' | 'backend_down' | 'no_directive'

/** A backend as the frontend sees it (status and logs). */
export interface BackendView {
  readonly node: string
  readonly instance: string
  readonly state: BackendState
  /** ISO time the backend started. */
  readonly startedAt: string
  readonly routeHash: string
  readonly sidKeys: number
  readonly taxonomyKeys: number
  readonly heartbeatMs: number
  /** Since the last announcement heard from it. */
  readonly lastSeenSecondsAgo: number
  /** Gone backends: how long ago, and how many events for its keys it has missed since. */
  readonly goneSecondsAgo?: number
  readonly missedEvents?: number
}

export type MembershipChange =
  | {readonly kind: 'joined' | 'route-changed'; readonly backend: BackendView}
  /** A new process of a node whose previous one is gone (or was still thought live): it takes over. */
  | {readonly kind: 'restarted'; readonly backend: BackendView; readonly previous: BackendView}
  /** The same process heard again after it was taken as gone (e.g. a partition healed). */
  | {readonly kind: 'returned'; readonly backend: BackendView; readonly missedEvents: number}
  /**
   * Missed its heartbeats. `unconfirmed`: events routed to it after its last heartbeat; it may have
   * died before it received them (an upper bound: core NATS does not tell).
   */
  | {readonly kind: 'expired'; readonly backend: BackendView; readonly unconfirmed: number}
  | {readonly kind: 'left'; readonly backend: BackendView}
  /** An expired or leaving process replaced by a newer one of the same node: nothing was lost to it. */
  | {readonly kind: 'replaced'; readonly backend: BackendView}

/** Events for a gone backend's keys since the last report (at most one per backend per window). */
export interface LossReport {
  readonly backend: BackendView
  readonly events: number
  /** Up to MAX_REPORTED_KEYS of the keys those events carried. */
  readonly keys: readonly string[]
}

export interface MembershipOptions {
  /** Monotonic milliseconds. */
  now?: () => number
  /** Heartbeats a backend may miss before it counts as down (default 3). */
  missedHeartbeats?: number
  /** At most one loss report per backend per this many ms (default 10 s). */
  reportEveryMs?: number
  onChange?: (change: MembershipChange) => void
  onLoss?: (report: LossReport) => void
}

const MAX_REPORTED_KEYS = 8

interface Member {
  readonly node: string
  readonly instance: string
  readonly startedAt: number
  heartbeatMs: number
  routeHash: string
  route: EventRoute
  state: BackendState
  lastSeen: number
  goneAt: number
  /** Last classify() call that touched it: an event matching two of its keys counts once. */
  mark: number
  /** Events routed to it since its last announcement. */
  sinceBeat: number
  /** Events for its keys since it went down. */
  missed: number
  missedSinceReport: number
  missedKeys: Set<string>
  lastReportAt: number
}

interface KeyOwners {
  readonly live: Member[]
  /** Newest gone first. */
  readonly gone: Member[]
}

function ownersAt<A, B>(index: Map<A, Map<B, KeyOwners>>, outer: A, inner: B): KeyOwners {
  let byInner = index.get(outer)
  if (byInner === undefined) index.set(outer, (byInner = new Map()))
  let owners = byInner.get(inner)
  if (owners === undefined) byInner.set(inner, (owners = {live: [], gone: []}))
  return owners
}

export class BackendMembership {
  private readonly now: () => number
  private readonly missedHeartbeats: number
  private readonly reportEveryMs: number
  private readonly onChange: ((change: MembershipChange) => void) | undefined
  private readonly onLoss: ((report: LossReport) => void) | undefined
  /** By instance: two processes claiming one node name are two members. */
  private readonly members = new Map<string, Member>()
  private sids = new Map<number, Map<number, KeyOwners>>()
  private taxonomies = new Map<string, Map<string, KeyOwners>>()
  private mark = 0
  private held = false

  constructor(options: MembershipOptions = {}) {
    this.now = options.now ?? (() => performance.now())
    this.missedHeartbeats = options.missedHeartbeats ?? 3
    this.reportEveryMs = options.reportEveryMs ?? 10_000
    this.onChange = options.onChange
    this.onLoss = options.onLoss
  }

  /** What became of an accepted event (see the file comment). Called per event: no allocation. */
  classify(event: NormalizedEvent): Verdict {
    const bySid = this.sids.get(event.pluginId)
    const sid = bySid === undefined ? undefined : bySid.get(event.pluginSid)
    const byCategory = this.taxonomies.get(event.category)
    const taxonomy = byCategory === undefined ? undefined : byCategory.get(event.product)
    if (sid === undefined && taxonomy === undefined) return 'no_directive'
    const mark = ++this.mark
    let live = false
    if (sid !== undefined) live = this.touch(sid, mark, event, true) || live
    if (taxonomy !== undefined) live = this.touch(taxonomy, mark, event, false) || live
    // Entries exist only for keys some member owns: not live means only gone owners.
    return live ? 'routed' : 'backend_down'
  }

  private touch(owners: KeyOwners, mark: number, event: NormalizedEvent, bySid: boolean): boolean {
    for (const member of owners.live) {
      if (member.mark === mark) continue
      member.mark = mark
      member.sinceBeat++
    }
    // A gone backend misses the event even when another live backend also takes these keys (its own
    // directives do not see it); the event itself then still counts as routed.
    for (const member of owners.gone) {
      if (member.mark === mark) continue
      member.mark = mark
      this.missed(member, event, bySid)
    }
    return owners.live.length > 0
  }

  private missed(member: Member, event: NormalizedEvent, bySid: boolean): void {
    member.missed++
    member.missedSinceReport++
    if (member.missedKeys.size < MAX_REPORTED_KEYS) {
      member.missedKeys.add(
        bySid
          ? `plugin_id=${event.pluginId} plugin_sid=${event.pluginSid}`
          : `category=${JSON.stringify(event.category)} product=${JSON.stringify(event.product)}`,
      )
    }
    const now = this.now()
    if (now - member.lastReportAt >= this.reportEveryMs) this.report(member, now)
  }

  private report(member: Member, now: number): void {
    const events = member.missedSinceReport
    const keys = [...member.missedKeys]
    member.missedSinceReport = 0
    member.missedKeys.clear()
    member.lastReportAt = now
    this.onLoss?.({backend: this.view(member, now), events, keys})
  }

  /** Takes one announcement in. */
  apply(announcement: BackendAnnouncement): void {
    const now = this.now()
    const member = this.members.get(announcement.instance)
    if (announcement.state === 'leaving') {
      if (member === undefined || member.state !== 'live') return
      member.state = 'left'
      member.goneAt = now
      if (this.hasNewerLive(member)) {
        this.members.delete(member.instance)
        this.rebuild()
        this.onChange?.({kind: 'replaced', backend: this.view(member, now)})
        return
      }
      this.rebuild()
      this.onChange?.({kind: 'left', backend: this.view(member, now)})
      return
    }
    if (member === undefined) {
      const joined = this.add(announcement, now)
      // Gone processes of the same node are superseded: their keys are this one's business now.
      let previous: Member | undefined
      for (const other of this.members.values()) {
        if (other.node !== joined.node || other === joined) continue
        if (other.state !== 'live') {
          this.members.delete(other.instance)
          previous ??= other
        }
      }
      this.rebuild()
      if (previous === undefined) this.onChange?.({kind: 'joined', backend: this.view(joined, now)})
      else {
        this.onChange?.({
          kind: 'restarted',
          backend: this.view(joined, now),
          previous: this.view(previous, now),
        })
      }
      return
    }
    member.lastSeen = now
    member.sinceBeat = 0
    member.heartbeatMs = announcement.heartbeatMs
    const routeChanged = announcement.routeHash !== member.routeHash
    if (routeChanged) {
      member.route = announcement.route
      member.routeHash = announcement.routeHash
    }
    if (member.state !== 'live') {
      const missedEvents = member.missed
      if (member.missedSinceReport > 0) this.report(member, now)
      member.state = 'live'
      member.missed = 0
      this.rebuild()
      this.onChange?.({kind: 'returned', backend: this.view(member, now), missedEvents})
      return
    }
    if (routeChanged) {
      this.rebuild()
      this.onChange?.({kind: 'route-changed', backend: this.view(member, now)})
    }
  }

  private add(announcement: BackendAnnouncement, now: number): Member {
    const member: Member = {
      node: announcement.node,
      instance: announcement.instance,
      startedAt: announcement.startedAt,
      heartbeatMs: announcement.heartbeatMs,
      routeHash: announcement.routeHash,
      route: announcement.route,
      state: 'live',
      lastSeen: now,
      goneAt: 0,
      mark: 0,
      sinceBeat: 0,
      missed: 0,
      missedSinceReport: 0,
      missedKeys: new Set(),
      lastReportAt: -Infinity,
    }
    this.members.set(member.instance, member)
    return member
  }

  private hasNewerLive(member: Member): boolean {
    for (const other of this.members.values()) {
      if (other !== member && other.node === member.node && other.state === 'live') {
        if (other.startedAt >= member.startedAt) return true
      }
    }
    return false
  }

  /**
   * Expires backends whose heartbeats stopped and sends due loss reports; call it periodically. The
   * third heartbeat counts as missed half a period after it was due (timers jitter).
   */
  sweep(): void {
    const now = this.now()
    let changed = false
    for (const member of this.members.values()) {
      if (member.state === 'live') {
        if (this.held) continue
        if (now - member.lastSeen <= (this.missedHeartbeats + 0.5) * member.heartbeatMs) continue
        member.state = 'expired'
        member.goneAt = now
        changed = true
        const unconfirmed = member.sinceBeat
        member.sinceBeat = 0
        if (this.hasNewerLive(member)) {
          this.members.delete(member.instance)
          this.onChange?.({kind: 'replaced', backend: this.view(member, now)})
        } else this.onChange?.({kind: 'expired', backend: this.view(member, now), unconfirmed})
      } else if (member.missedSinceReport > 0 && now - member.lastReportAt >= this.reportEveryMs) {
        this.report(member, now)
      }
    }
    if (changed) this.rebuild()
  }

  /**
   * While this side's bus is down no heartbeat can arrive, so silence means nothing: expiry waits.
   * On release every live backend gets a fresh grace period (the bus also asks them to announce).
   */
  hold(held: boolean): void {
    if (this.held === held) return
    this.held = held
    if (held) return
    const now = this.now()
    for (const member of this.members.values()) if (member.state === 'live') member.lastSeen = now
  }

  /** Sends every pending loss report now (stop). */
  flushReports(): void {
    const now = this.now()
    for (const member of this.members.values()) {
      if (member.missedSinceReport > 0) this.report(member, now)
    }
  }

  backends(): {live: BackendView[]; missing: BackendView[]} {
    const now = this.now()
    const live: BackendView[] = []
    const missing: BackendView[] = []
    for (const member of this.members.values()) {
      ;(member.state === 'live' ? live : missing).push(this.view(member, now))
    }
    const byNode = (a: BackendView, b: BackendView): number => a.node.localeCompare(b.node)
    return {live: live.sort(byNode), missing: missing.sort(byNode)}
  }

  private view(member: Member, now: number): BackendView {
    const seconds = (ms: number): number => Math.round(ms) / 1000
    return {
      node: member.node,
      instance: member.instance,
      state: member.state,
      startedAt: new Date(member.startedAt).toISOString(),
      routeHash: member.routeHash,
      sidKeys: member.route.sids.length,
      taxonomyKeys: member.route.taxonomies.length,
      heartbeatMs: member.heartbeatMs,
      lastSeenSecondsAgo: seconds(now - member.lastSeen),
      ...(member.state === 'live'
        ? {}
        : {goneSecondsAgo: seconds(now - member.goneAt), missedEvents: member.missed}),
    }
  }

  private rebuild(): void {
    const sids = new Map<number, Map<number, KeyOwners>>()
    const taxonomies = new Map<string, Map<string, KeyOwners>>()
    const members = [...this.members.values()]
    const gone = members.filter((m) => m.state !== 'live').sort((a, b) => b.goneAt - a.goneAt)
    for (const member of [...members.filter((m) => m.state === 'live'), ...gone]) {
      const list = member.state === 'live' ? 'live' : 'gone'
      for (const [pluginId, pluginSid] of member.route.sids) {
        ownersAt(sids, pluginId, pluginSid)[list].push(member)
      }
      for (const [category, product] of member.route.taxonomies) {
        ownersAt(taxonomies, category, product)[list].push(member)
      }
    }
    this.sids = sids
    this.taxonomies = taxonomies
  }
}
