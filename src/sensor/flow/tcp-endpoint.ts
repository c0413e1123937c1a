// One side of a TCP connection as Zeek's TCP_Endpoint tracks it: the state that conn_state is read
// from, and the sequence space that orig_bytes/resp_bytes come from. Sequence numbers are kept both raw
// (unsigned 32-bit, as on the wire) and relative to the initial sequence number as a double, so a
// connection that carries more than 4 GiB still counts right across the wrap.

import {ScaledCounter} from './history.js'
import type {TcpStream} from './tcp-stream.js'

/** Zeek's TCP_ENDPOINT_* states, same numbering. */
export const TCP_STATE = {
  INACTIVE: 0,
  SYN_SENT: 1,
  SYN_ACK_SENT: 2,
  PARTIAL: 3,
  ESTABLISHED: 4,
  CLOSED: 5,
  RESET: 6,
} as const
export type TcpState = (typeof TCP_STATE)[keyof typeof TCP_STATE]

export class TcpEndpoint {
  readonly isOrig: boolean
  peer: TcpEndpoint
  state: TcpState = TCP_STATE.INACTIVE
  prevState: TcpState = TCP_STATE.INACTIVE
  /** Initial sequence number (for a midstream start, one below the first seen, as if a SYN had been). */
  startSeq = 0
  /** Highest sequence number one past any segment (SYN and FIN included), raw and relative. */
  lastSeqRaw = 0
  lastSeqRel = 0
  /** Highest acknowledgement the peer sent for this side's data, raw and relative. */
  ackSeqRaw = 0
  ackSeqRel = 0
  finCount = 0
  rstCount = 0
  /** Relative sequence number one past the FIN. */
  finSeqRel = 0
  /** Where the last SYN/FIN/RST was, so a repeat at a new place is written to the history again. */
  histLastSyn = 0
  histLastFin = 0
  histLastRst = 0
  /** This side's close (FIN or RST) has been processed. */
  didClose = false
  readonly retransmits = new ScaledCounter()
  readonly zeroWindows = new ScaledCounter()
  readonly gaps = new ScaledCounter()
  readonly badChecksums = new ScaledCounter()
  /** Reassembly of this side's bytes, created with its first data or first acknowledged hole. */
  stream: TcpStream | undefined = undefined

  constructor(isOrig: boolean) {
    this.isOrig = isOrig
    this.peer = this
  }

  setState(state: TcpState): void {
    if (state === this.state) return
    this.prevState = this.state
    this.state = state
  }

  /** (Re)starts the sequence space: InitStartSeq/InitAckSeq at `start`, InitLastSeq at `last`. */
  initSeq(start: number, last: number): void {
    // Stream positions are relative to the start, so they stay valid when a SYN repeats it.
    if (this.stream !== undefined && start >>> 0 !== this.startSeq) this.stream.reset()
    this.startSeq = start >>> 0
    this.ackSeqRaw = this.startSeq
    this.ackSeqRel = 0
    this.lastSeqRaw = last >>> 0
    this.lastSeqRel = (this.lastSeqRaw - this.startSeq) >>> 0
  }

  /** A raw sequence number relative to the start, resolved around the highest one seen. */
  relSeq(raw: number): number {
    return this.lastSeqRel + ((raw - this.lastSeqRaw) | 0)
  }

  /** A raw acknowledgement number relative to the start, resolved around the highest one seen. */
  relAck(raw: number): number {
    return this.ackSeqRel + ((raw - this.ackSeqRaw) | 0)
  }

  updateLastSeq(raw: number): void {
    this.lastSeqRel = this.relSeq(raw)
    this.lastSeqRaw = raw >>> 0
  }

  updateAckSeq(raw: number, rel: number): void {
    this.ackSeqRaw = raw >>> 0
    this.ackSeqRel = rel
  }

  /** Nothing beyond the SYN was acknowledged. */
  noDataAcked(): boolean {
    return this.ackSeqRel === 0 || this.ackSeqRel === 1
  }

  /**
   * Payload bytes this side sent according to the sequence numbers (TCP_Endpoint::Size): the highest
   * point seen or acknowledged, less the SYN and the FIN. Data lost before the sensor still counts.
   */
  size(): number {
    if (
      this.prevState === TCP_STATE.SYN_SENT &&
      this.state === TCP_STATE.RESET &&
      this.peer.state === TCP_STATE.INACTIVE &&
      !this.noDataAcked()
    ) {
      // A half-open connection found and aborted: its sequence numbers say nothing about data.
      return 0
    }
    let size = this.lastSeqRel > this.ackSeqRel ? this.lastSeqRel : this.ackSeqRel
    if (size > 0) size--
    if (this.finCount > 0 && size > 0) size--
    return size > 0 ? size : 0
  }
}
