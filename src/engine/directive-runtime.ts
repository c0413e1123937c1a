// The live side of one directive (upstream's per-directive backlog manager): its backlogs, in creation
// order, and the event ids they hold. An event reaches a runtime only after the pre-filter index chose
// it, so this is where upstream's per-directive work starts.

import {Backlog, compileDirective, type CompiledDirective} from './backlog.js'
import {serializeDirective, type Directive} from './directive.js'
import type {EngineContext} from './engine-context.js'
import {matchRule, type EventMatchContext} from './rule.js'

export class DirectiveRuntime {
  readonly compiled: CompiledDirective
  private backlogs: Backlog[] = []
  private hasDeleted = false
  /** event id -> a backlog holding it, and how many appends hold it; upstream scans every list. */
  private readonly eventOwners = new Map<string, Backlog>()
  private readonly eventHolds = new Map<string, number>()

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
    const backlogs = this.backlogs
    const count = backlogs.length
    for (let i = 0; i < count; i++) {
      const backlog = backlogs[i]!
      if (!backlog.deleted && backlog.offer(match)) found = true
    }
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
    this.backlogs.push(backlog)
    backlog.start(event)
    this.compact()
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
    this.eventOwners.clear()
    this.eventHolds.clear()
    this.hasDeleted = false
    return live
  }

  /** Called by the engine when a backlog is done. */
  release(backlog: Backlog): void {
    for (const ids of backlog.events) {
      for (const id of ids) {
        const holds = (this.eventHolds.get(id) ?? 1) - 1
        if (holds <= 0) {
          this.eventHolds.delete(id)
          this.eventOwners.delete(id)
          continue
        }
        this.eventHolds.set(id, holds)
        if (this.eventOwners.get(id) === backlog) {
          // The event is shared with another backlog (rare): name that one from now on.
          const other = this.backlogs.find(
            (b) => b !== backlog && !b.deleted && b.events.some((e) => e.includes(id)),
          )
          if (other === undefined) {
            this.eventHolds.delete(id)
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
    this.eventHolds.set(eventId, (this.eventHolds.get(eventId) ?? 0) + 1)
    if (!this.eventOwners.has(eventId)) this.eventOwners.set(eventId, backlog)
  }

  private compact(): void {
    if (!this.hasDeleted) return
    this.backlogs = this.backlogs.filter((b) => !b.deleted)
    this.hasDeleted = false
  }
}
