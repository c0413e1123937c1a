// The live side of one directive (upstream's per-directive backlog manager): its backlogs, in creation
// order, and the event ids they hold. An event reaches a runtime only after the pre-filter index chose
// it, so this is where upstream's per-directive work starts.

import {Backlog, compileDirective, type CompiledDirective} from './backlog.js'
import {serializeDirective, type Directive} from './directive.js'
import type {EngineContext} from './engine-context.js'
import {matchRule, type EventMatchContext} from './rule.js'

export class DirectiveRuntime {
  readonly compiled: CompiledDirective
  /** Every backlog, in creation order. */
  private backlogs: Backlog[] = []
  private hasDeleted = false
  // Offering an event to every live backlog is upstream's algorithm and costs O(backlogs) matches.
  // Most backlogs are bound to one source address by a `:1` reference, and can do nothing for an
  // event from another source (see Backlog.sourceKey), so they are indexed by that address; the
  // rest are offered everything. Both lists stay in creation order and are merged per event.
  private unkeyed: Backlog[] = []
  private readonly bySource = new Map<number, Backlog[]>()
  private readonly indexedKey = new Map<Backlog, number | null>()
  private nextSequence = 0
  /** event id -> a backlog holding it (upstream scans every list instead). */
  private readonly eventOwners = new Map<string, Backlog>()
  /**
   * event id -> how many appends beyond the first hold it. Almost every event is held once, so only
   * the rare shared ones get an entry here, and an appended event costs one map entry, not two.
   */
  private readonly extraHolds = new Map<string, number>()

  private readonly ctx: EngineContext
  private canonicalText: string | undefined

  constructor(directive: Directive, ctx: EngineContext) {
    this.ctx = ctx
    this.compiled = compileDirective(directive)
  }

  get directive(): Directive {
    return this.compiled.directive
  }

  /** The definition in one canonical text (rule field order fixed), to tell a reload what changed. */
  get canonical(): string {
    return (this.canonicalText ??= serializeDirective(this.directive))
  }

  get backlogCount(): number {
    return this.backlogs.length
  }

  liveBacklogs(): readonly Backlog[] {
    return this.backlogs.filter((b) => !b.deleted)
  }

  /** Upstream's manager loop body for one event that passed the directive's quick check. */
  offer(match: EventMatchContext): void {
    let found = false
    const unkeyed = this.unkeyed
    let keyed: Backlog[] | undefined
    if (this.bySource.size > 0) {
      const source = match.srcAddress
      if (source !== undefined && source.v4) keyed = this.bySource.get(source.words[3])
    }
    // Lengths are fixed up front: backlogs created for this event are added after the loop.
    const unkeyedCount = unkeyed.length
    const keyedCount = keyed === undefined ? 0 : keyed.length
    let moved: Backlog[] | undefined
    for (let i = 0, j = 0; i < unkeyedCount || j < keyedCount;) {
      const backlog =
        j >= keyedCount || (i < unkeyedCount && unkeyed[i]!.sequence < keyed![j]!.sequence)
          ? unkeyed[i++]!
          : keyed![j++]!
      if (backlog.deleted) continue
      if (backlog.offer(match)) found = true
      if (!backlog.deleted && backlog.sourceKey !== this.indexedKey.get(backlog)) (moved ??= []).push(backlog)
    }
    if (moved !== undefined) for (const backlog of moved) this.reindex(backlog)
    this.compact()
    if (found) return

    if (!matchRule(match, this.compiled.rules[0]!, null)) return
    const event = match.event
    const owner = this.eventOwners.get(event.eventId)
    if (owner !== undefined) {
      this.ctx.emit({
        kind: 'log',
        level: 'info',
        message: `skipping backlog creation for event ${event.eventId}, it's already used in backlog ${owner.id}`,
        directiveId: this.directive.id,
        eventId: event.eventId,
      })
      return
    }
    const backlog = Backlog.create(this.compiled, event, this.ctx, this.recordEvent)
    if (backlog === undefined) {
      this.ctx.emit({
        kind: 'log',
        level: 'warn',
        message: 'Fail to create new backlog',
        directiveId: this.directive.id,
        eventId: event.eventId,
      })
      return
    }
    backlog.sequence = ++this.nextSequence
    this.backlogs.push(backlog)
    backlog.start(event)
    if (!backlog.deleted) this.index(backlog)
    this.compact()
  }

  private bucket(key: number | null): Backlog[] {
    if (key === null) return this.unkeyed
    let list = this.bySource.get(key)
    if (list === undefined) this.bySource.set(key, (list = []))
    return list
  }

  /** Adds a backlog under its current key, keeping the bucket in creation order. */
  private index(backlog: Backlog): void {
    const list = this.bucket(backlog.sourceKey)
    let at = list.length
    while (at > 0 && list[at - 1]!.sequence > backlog.sequence) at--
    list.splice(at, 0, backlog)
    this.indexedKey.set(backlog, backlog.sourceKey)
  }

  /** A stage advanced and bound the backlog to another source (or none). */
  private reindex(backlog: Backlog): void {
    const previous = this.indexedKey.get(backlog) ?? null
    const list = previous === null ? this.unkeyed : this.bySource.get(previous)
    if (list !== undefined) {
      const at = list.indexOf(backlog)
      if (at >= 0) list.splice(at, 1)
      if (previous !== null && list.length === 0) this.bySource.delete(previous)
    }
    this.index(backlog)
  }

  /** Expires backlogs whose current stage timed out (upstream's 10-second ticker). */
  expire(nowSeconds: number): void {
    for (const backlog of this.backlogs) {
      if (!backlog.deleted && backlog.isExpired(nowSeconds)) backlog.expire()
    }
    this.compact()
  }

  /**
   * The directive left the running set (changed or removed by a reload): every live backlog is marked
   * deleted and handed back so the engine can drop its alarm. Nothing is written for them.
   */
  discardAll(): Backlog[] {
    const live = this.backlogs.filter((b) => !b.deleted)
    for (const backlog of live) backlog.deleted = true
    this.backlogs = []
    this.unkeyed = []
    this.bySource.clear()
    this.indexedKey.clear()
    this.eventOwners.clear()
    this.extraHolds.clear()
    this.hasDeleted = false
    return live
  }

  /** Called by the engine when a backlog is done. */
  release(backlog: Backlog): void {
    for (const ids of backlog.events) {
      for (const id of ids) {
        const extra = this.extraHolds.get(id)
        if (extra === undefined) {
          this.eventOwners.delete(id)
          continue
        }
        if (extra > 1) this.extraHolds.set(id, extra - 1)
        else this.extraHolds.delete(id)
        if (this.eventOwners.get(id) === backlog) {
          // The event is shared with another backlog (rare): name that one from now on.
          const other = this.backlogs.find(
            (b) => b !== backlog && !b.deleted && b.events.some((e) => e.includes(id)),
          )
          if (other === undefined) {
            this.extraHolds.delete(id)
            this.eventOwners.delete(id)
          } else {
            this.eventOwners.set(id, other)
          }
        }
      }
    }
    this.hasDeleted = true
  }

  private readonly recordEvent = (eventId: string, backlog: Backlog): void => {
    if (!this.eventOwners.has(eventId)) this.eventOwners.set(eventId, backlog)
    else this.extraHolds.set(eventId, (this.extraHolds.get(eventId) ?? 0) + 1)
  }

  private compact(): void {
    if (!this.hasDeleted) return
    this.backlogs = this.backlogs.filter((b) => !b.deleted)
    this.unkeyed = this.unkeyed.filter((b) => !b.deleted)
    for (const [key, list] of this.bySource) {
      const kept = list.filter((b) => !b.deleted)
      if (kept.length === 0) this.bySource.delete(key)
      else if (kept.length !== list.length) this.bySource.set(key, kept)
    }
    for (const backlog of this.indexedKey.keys()) if (backlog.deleted) this.indexedKey.delete(backlog)
    this.hasDeleted = false
  }
}
