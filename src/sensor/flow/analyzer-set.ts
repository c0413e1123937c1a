// The protocol analysers attached to one connection: chosen by the factory when the first payload
// shows up, fed until they give up, and remembered in the order they confirmed their protocol so
// conn.log's service column reads like Zeek's ("ssl,http"). An analyser that throws is treated as
// having given up, with a weird, rather than taking the whole sensor down.

import type {AnalyzerFactory, ConnView, ProtocolAnalyzer, SensorSink} from '../types.js'

export interface AnalyzerOwner extends ConnView {
  weird(name: string, addl?: string): void
}

const PENDING = 0
const ACTIVE = 1
const NONE = 2

export class ConnAnalyzers {
  private state = PENDING
  private analyzers: ProtocolAnalyzer[] = []
  /** Per analyser: no longer fed (failed or threw). */
  private done: boolean[] = []
  /** Per analyser: threw, so not even finished. */
  private crashedAt: boolean[] = []
  /** Per analyser: its confirmation is already in `services`. */
  private noted: boolean[] = []
  private live = 0
  private unconfirmed = 0
  private readonly services: string[] = []

  /** False once no analyser is (or will be) listening, so the flow layer can stop keeping bytes. */
  get wantsData(): boolean {
    return this.state !== NONE
  }

  /** Comma-joined services of the analysers that confirmed, in confirmation order. */
  service(): string | undefined {
    return this.services.length === 0 ? undefined : this.services.join(',')
  }

  deliver(
    owner: AnalyzerOwner,
    factory: AnalyzerFactory,
    sink: SensorSink,
    isOrig: boolean,
    data: Uint8Array,
    ts: number,
  ): void {
    if (this.state === PENDING) this.start(owner, factory, sink, isOrig, data)
    if (this.state !== ACTIVE) return
    const analyzers = this.analyzers
    for (let i = 0; i < analyzers.length; i++) {
      if (this.done[i]) continue
      const analyzer = analyzers[i]!
      try {
        analyzer.deliver(isOrig, data, ts)
      } catch (error) {
        this.crashed(owner, i, error)
      }
    }
    this.review()
  }

  gap(owner: AnalyzerOwner, isOrig: boolean, length: number, ts: number): void {
    if (this.state !== ACTIVE) return
    const analyzers = this.analyzers
    for (let i = 0; i < analyzers.length; i++) {
      if (this.done[i]) continue
      try {
        analyzers[i]!.gap(isOrig, length, ts)
      } catch (error) {
        this.crashed(owner, i, error)
      }
    }
    this.review()
  }

  /** The connection is being removed: every analyser still attached writes out what it holds. */
  finish(owner: AnalyzerOwner, ts: number): void {
    const analyzers = this.analyzers
    for (let i = 0; i < analyzers.length; i++) {
      if (this.crashedAt[i]) continue
      try {
        analyzers[i]!.finish(ts)
      } catch (error) {
        this.crashed(owner, i, error)
      }
    }
    this.review()
    this.state = NONE
  }

  private start(
    owner: AnalyzerOwner,
    factory: AnalyzerFactory,
    sink: SensorSink,
    isOrig: boolean,
    data: Uint8Array,
  ): void {
    let analyzers: ProtocolAnalyzer[]
    try {
      analyzers = factory(owner, data, isOrig, sink)
    } catch (error) {
      owner.weird('analyzer_error', `factory: ${errorText(error)}`)
      analyzers = []
    }
    this.analyzers = analyzers
    this.done = analyzers.map(() => false)
    this.crashedAt = analyzers.map(() => false)
    this.noted = analyzers.map(() => false)
    this.live = analyzers.length
    this.unconfirmed = analyzers.length
    this.state = analyzers.length === 0 ? NONE : ACTIVE
  }

  /** Notes new confirmations and drops analysers that gave up. */
  private review(): void {
    const analyzers = this.analyzers
    if (this.unconfirmed > 0) {
      for (let i = 0; i < analyzers.length; i++) {
        if (this.noted[i] || !analyzers[i]!.confirmed) continue
        this.noted[i] = true
        this.unconfirmed--
        const service = analyzers[i]!.service
        if (!this.services.includes(service)) this.services.push(service)
      }
    }
    for (let i = 0; i < analyzers.length; i++) {
      if (!this.done[i] && analyzers[i]!.failed) {
        this.done[i] = true
        this.live--
      }
    }
    if (this.live === 0 && this.state === ACTIVE) this.state = NONE
  }

  private crashed(owner: AnalyzerOwner, index: number, error: unknown): void {
    this.crashedAt[index] = true
    if (!this.done[index]) {
      this.done[index] = true
      this.live--
    }
    owner.weird('analyzer_error', `${this.analyzers[index]!.service}: ${errorText(error)}`)
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
