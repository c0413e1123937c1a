// Whole TCP conversations as frames, with sequence and acknowledgement numbers kept right on both
// sides: handshake, data, acknowledgements, FIN or RST. The scenario pcaps of the sensor tests, the
// capture benchmark's mixed traffic and the demo traffic are written with it, one step per call:
//
//   const c = new TcpConversation({client: '10.0.0.1', server: '10.0.0.2', sport: 40000, dport: 80, ts})
//   c.handshake().send('client', request).ack('server').send('server', response).ack('client').close('client')

import type {RawFrame} from '../types.js'
import type {Bytes} from './bytes.js'
import {toBytes} from './bytes.js'
import {tcpFrame} from './frames.js'
import type {FrameOptions} from './link-frame.js'

export type Side = 'client' | 'server'

export interface ConversationOptions {
  client: string
  server: string
  sport: number
  dport: number
  /** Timestamp of the first packet. */
  ts: number
  /** Seconds between consecutive packets (default 0.01). */
  step?: number
  clientIsn?: number
  serverIsn?: number
  window?: number
  /** Link options for every frame (VLAN tags, link type). */
  link?: FrameOptions
  /** Largest payload per segment (default 1460). */
  mss?: number
}

export class TcpConversation {
  readonly frames: RawFrame[] = []
  private readonly options: ConversationOptions
  private ts: number
  private readonly step: number
  private readonly next: Record<Side, number>

  constructor(options: ConversationOptions) {
    this.options = options
    this.ts = options.ts
    this.step = options.step ?? 0.01
    this.next = {client: (options.clientIsn ?? 1000) >>> 0, server: (options.serverIsn ?? 5000) >>> 0}
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(): this {
    return this.syn().synAck().ack('client')
  }

  syn(): this {
    this.segment('client', 'S', new Uint8Array(0), 0)
    this.next.client = (this.next.client + 1) >>> 0
    return this
  }

  synAck(): this {
    this.segment('server', 'SA', new Uint8Array(0), this.next.client)
    this.next.server = (this.next.server + 1) >>> 0
    return this
  }

  /** A pure ACK from `side` for everything the other side sent so far. */
  ack(side: Side): this {
    this.segment(side, 'A', new Uint8Array(0), this.next[other(side)])
    return this
  }

  /** Data from `side` (PSH+ACK), split at the MSS. */
  send(side: Side, data: Bytes): this {
    const bytes = toBytes(data)
    const mss = this.options.mss ?? 1460
    for (let at = 0; at < bytes.length; at += mss) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + mss))
      this.segment(side, 'PA', piece, this.next[other(side)])
      this.next[side] = (this.next[side] + piece.length) >>> 0
    }
    return this
  }

  /** Sends data the capture never sees (a content gap): the sequence space moves on silently. */
  lose(side: Side, length: number): this {
    this.next[side] = (this.next[side] + length) >>> 0
    return this
  }

  /** FIN from `side`, then the other side's FIN, each acknowledged (the usual four-way close). */
  close(side: Side): this {
    const peer = other(side)
    this.fin(side).fin(peer)
    return this.ack(side)
  }

  /** One FIN+ACK from `side`. */
  fin(side: Side): this {
    this.segment(side, 'FA', new Uint8Array(0), this.next[other(side)])
    this.next[side] = (this.next[side] + 1) >>> 0
    return this
  }

  /** RST (with ACK) from `side`. */
  reset(side: Side): this {
    this.segment(side, 'RA', new Uint8Array(0), this.next[other(side)])
    return this
  }

  /** Moves the clock on without sending. */
  wait(seconds: number): this {
    this.ts += seconds
    return this
  }

  private segment(side: Side, flags: string, payload: Uint8Array, ack: number): void {
    const fromClient = side === 'client'
    const {client, server, sport, dport} = this.options
    this.frames.push(
      tcpFrame({
        ...this.options.link,
        src: fromClient ? client : server,
        dst: fromClient ? server : client,
        sport: fromClient ? sport : dport,
        dport: fromClient ? dport : sport,
        seq: this.next[side],
        ack: flags.includes('A') ? ack : 0,
        flags,
        window: this.options.window ?? 64240,
        payload,
        ts: this.ts,
      }),
    )
    this.ts = Math.round((this.ts + this.step) * 1e6) / 1e6
  }
}

function other(side: Side): Side {
  return side === 'client' ? 'server' : 'client'
}
