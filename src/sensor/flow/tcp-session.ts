// TCP per packet, after Zeek's TCP analyser (TCPSessionAdapter): sequence bookkeeping for the byte
// counts, the history letters, the endpoint state machine that conn_state is read from, the close
// and attempt timers, ACK-driven gap detection (capture loss) and in-order delivery to analysers.

import type {DecodedPacket, TcpSegment} from '../types.js'
import {TCP_FLAG} from '../types.js'
import type {Connection} from './connection.js'
import {HIST} from './history.js'
import {TcpEndpoint, TCP_STATE} from './tcp-endpoint.js'
import {GAP, TcpStream} from './tcp-stream.js'
import {TIMER, type TimerKind} from './timer-queue.js'

const {FIN, SYN, RST, ACK, URG} = TCP_FLAG
const {INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET} = TCP_STATE

/** Sequence jumps beyond this on a SYN or RST are not believed (Zeek's TOO_LARGE_SEQ_DELTA). */
const TOO_LARGE_SEQ_DELTA = 1048576

/** `a` lies in [low, high] in modulo-2³² sequence space. */
function seqBetween(a: number, low: number, high: number): boolean {
  return (a - low) >>> 0 <= (high - low) >>> 0
}

export class TcpSession {
  readonly orig = new TcpEndpoint(true)
  readonly resp = new TcpEndpoint(false)

  constructor() {
    this.orig.peer = this.resp
    this.resp.peer = this.orig
  }

  /**
   * A SYN for a tuple we already track: is it a new connection (Zeek's IsReuse)? Retransmitted SYNs
   * are not; a SYN with a new sequence number, or any SYN after a side closed, is.
   */
  isReuse(conn: Connection, seg: TcpSegment, ts: number): boolean {
    const flags = seg.flags
    if ((flags & SYN) === 0) return false
    const {orig, resp} = this
    let opener = orig
    if ((flags & ACK) !== 0) {
      // A SYN-ACK reuses only a half connection (nothing from the originator yet).
      if (orig.state !== INACTIVE) return false
      opener = resp
    }
    if (!orig.didClose && !resp.didClose) {
      const seq = seg.seq >>> 0
      if (seq === opener.startSeq) return false
      if (
        (flags & ACK) === 0 &&
        opener.state === SYN_ACK_SENT &&
        resp.state === INACTIVE &&
        seq === resp.startSeq
      ) {
        // SYN and SYN-ACK seen in swapped order; the state machine sorts that out.
        return false
      }
      conn.weird(opener.state === SYN_SENT ? 'SYN_seq_jump' : 'active_connection_reuse')
    } else if (isActive(orig) || isActive(resp)) {
      if (orig.state !== RESET && resp.state !== RESET) conn.weird('active_connection_reuse')
    } else if (
      ts - conn.lastTs < conn.host.timeouts.tcpConnectionLinger &&
      orig.state !== RESET &&
      resp.state !== RESET
    ) {
      conn.weird('premature_connection_reuse')
    }
    return true
  }

  process(conn: Connection, p: DecodedPacket, seg: TcpSegment, isOrig: boolean): void {
    const endpoint = isOrig ? this.orig : this.resp
    const peer = endpoint.peer
    if (!p.checksumOk) {
      // Not analysed at all: no state, no sequence numbers, not even the packet count.
      if (endpoint.badChecksums.hit()) conn.history.add(isOrig, 'C')
      conn.weird('bad_TCP_checksum')
      return
    }
    conn.countPacket(isOrig, p.ipLen)
    const flags = seg.flags
    const syn = (flags & SYN) !== 0
    const fin = (flags & FIN) !== 0
    const rst = (flags & RST) !== 0
    const ack = (flags & ACK) !== 0
    const len = p.payloadLen
    const ts = p.ts
    const seq = seg.seq >>> 0
    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0)
    const segEnd = (seq + segLen) >>> 0

    const fresh = endpoint.state === INACTIVE
    this.initEndpoint(conn, endpoint, syn, seq, segEnd)
    const relSeq = endpoint.relSeq(seq)
    const seqUnderflow = relSeq < 0
    if (seqUnderflow && !rst) conn.weird('TCP_seq_underflow_or_misorder')

    updateHistory(conn, endpoint, flags, relSeq, len)
    // A zero window on a RST advertises nothing.
    if (seg.window === 0 && !rst && endpoint.zeroWindows.hit()) conn.history.add(isOrig, 'W')

    if (!this.orig.didClose || !this.resp.didClose) conn.lastTs = ts

    if (syn) {
      if (rst) conn.weird('TCP_christmas')
      if ((flags & URG) !== 0) conn.weird('baroque_SYN')
      if (len > 0) conn.weird('SYN_with_data')
    }
    if (fin) {
      endpoint.finCount++
      endpoint.finSeqRel = relSeq + segLen
    }
    if (rst) endpoint.rstCount++

    let relAck = 0
    if (ack) {
      const ackRaw = seg.ack >>> 0
      if (peer.state === INACTIVE) {
        relAck = 1
        initPeer(conn, peer, endpoint, flags, ackRaw)
      } else {
        relAck = peer.relAck(ackRaw)
        if (relAck < 0) {
          relAck = 0
          conn.weird('TCP_ack_underflow_or_misorder')
        } else if (!rst) {
          // Acknowledgements in RSTs are not trusted.
          const deltaAck = relAck - peer.ackSeqRel
          if (!(ackRaw === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) && deltaAck > 0)
            peer.updateAckSeq(ackRaw, relAck)
        }
      }
    }

    const deltaLast = updateLastSeq(conn, endpoint, segEnd, syn, fin, rst, len, fresh)
    const doClose = this.updateState(conn, endpoint, peer, flags, seq, seg.ack >>> 0, len, deltaLast, ts)

    // After the state machine, so a gap revealed by a FIN's or RST's ACK is known to come at the end.
    if (ack && !rst) this.ackReceived(conn, peer, relAck, ts)

    if (len > 0 && !rst && !seqUnderflow) {
      const stream = endpoint.stream ?? this.openStream(conn, endpoint)
      stream.add(relSeq + (syn ? 1 : 0), p.payload, len, ts)
    }

    if (doClose) this.closed(conn, endpoint, peer)
  }

  /** A TCP timer went off; true when the connection should now be removed. */
  timer(conn: Connection, kind: TimerKind, now: number): boolean {
    const {orig, resp} = this
    const timeouts = conn.host.timeouts
    switch (kind) {
      case TIMER.ATTEMPT:
        return (orig.state === SYN_SENT || orig.state === SYN_ACK_SENT) && resp.state === INACTIVE
      case TIMER.PARTIAL_CLOSE:
        return !(isActive(orig) || isActive(resp))
      case TIMER.EXPIRE:
        if (
          conn.lastTs + timeouts.tcpConnectionLinger < now &&
          (orig.didClose || resp.didClose) &&
          ((orig.didClose && resp.didClose) ||
            orig.state === RESET ||
            resp.state === RESET ||
            orig.state === INACTIVE ||
            resp.state === INACTIVE)
        ) {
          // Quiet, one side closed and the other either closed, reset or never there: done.
          return true
        }
        conn.host.schedule(conn, TIMER.EXPIRE, now + timeouts.tcpSessionTimer)
        return false
      default:
        // DELETE and RESET remove unconditionally.
        return true
    }
  }

  /** The connection goes: buffered bytes are delivered, holes before them reported to the analysers. */
  finishStreams(ts: number): void {
    for (const endpoint of [this.orig, this.resp]) {
      const stream = endpoint.stream
      if (stream === undefined) continue
      stream.finish(endpoint.finCount > 0 ? endpoint.finSeqRel - 1 : stream.next, ts)
    }
  }

  private openStream(conn: Connection, endpoint: TcpEndpoint): TcpStream {
    const stream = new TcpStream(endpoint.isOrig, conn)
    if (!conn.analyzers.wantsData) stream.dropData()
    endpoint.stream = stream
    return stream
  }

  /** Sets up or restarts an endpoint's sequence space (Zeek's init_endpoint). */
  private initEndpoint(
    conn: Connection,
    endpoint: TcpEndpoint,
    syn: boolean,
    seq: number,
    segEnd: number,
  ): void {
    switch (endpoint.state) {
      case INACTIVE:
        // Midstream: number as though a SYN had come just before, so the first byte is 1.
        if (syn) endpoint.initSeq(seq, segEnd)
        else endpoint.initSeq(seq - 1, seq)
        break
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (syn && seq !== endpoint.startSeq) {
          conn.weird('SYN_seq_jump')
          endpoint.initSeq(seq, segEnd)
        }
        break
      case ESTABLISHED:
      case PARTIAL:
        if (syn) {
          if (endpoint.size() > 0) conn.weird('SYN_inside_connection')
          if (seq !== endpoint.startSeq) conn.weird('SYN_seq_jump')
          // Guess that the connection never got going and this SYN is the one that sets it up.
          endpoint.initSeq(seq, segEnd)
        }
        break
      case RESET:
        // Numbers taken from a RST (maybe spoofed) give way to the side's own SYN.
        if (syn && endpoint.prevState === INACTIVE) endpoint.initSeq(seq, segEnd)
        break
      default:
        break
    }
  }

  /** Gap detection and the capture-loss tally for an ACK of `endpoint`'s data up to `relAck`. */
  private ackReceived(conn: Connection, endpoint: TcpEndpoint, relAck: number, ts: number): void {
    const acker = endpoint.peer
    // The FIN takes a sequence number but is not data.
    const upTo = endpoint.finCount > 0 && relAck > endpoint.finSeqRel - 1 ? endpoint.finSeqRel - 1 : relAck
    let missing = 0
    if (upTo > (endpoint.stream?.next ?? 1)) {
      const stream = endpoint.stream ?? this.openStream(conn, endpoint)
      const cause = acker.state === CLOSED || acker.state === RESET ? GAP.ACKED_AT_CLOSE : GAP.ACKED
      missing = stream.acked(upTo, ts, cause)
    }
    if (endpoint.state === ESTABLISHED && acker.state === ESTABLISHED) {
      const loss = conn.host.captureLoss
      loss.acks++
      if (missing > 0) loss.gaps++
    }
  }

  /** The endpoint state machine (UpdateStateMachine); true when this side just closed. */
  private updateState(
    conn: Connection,
    endpoint: TcpEndpoint,
    peer: TcpEndpoint,
    flags: number,
    seq: number,
    ackRaw: number,
    len: number,
    deltaLast: number,
    ts: number,
  ): boolean {
    switch (endpoint.state) {
      case INACTIVE:
        return this.fromInactive(conn, endpoint, peer, flags, seq, ackRaw, len, ts)
      case SYN_SENT:
      case SYN_ACK_SENT:
        return fromSynSent(conn, endpoint, peer, flags, len)
      case ESTABLISHED:
      case PARTIAL:
        return fromEstablished(conn, endpoint, peer, flags)
      case CLOSED:
        return fromClosed(conn, endpoint, flags, deltaLast, ts)
      default:
        fromReset(conn, flags, len)
        return false
    }
  }

  private fromInactive(
    conn: Connection,
    endpoint: TcpEndpoint,
    peer: TcpEndpoint,
    flags: number,
    seq: number,
    ackRaw: number,
    len: number,
    ts: number,
  ): boolean {
    const isOrig = endpoint.isOrig
    let doClose = false
    if ((flags & SYN) !== 0) {
      if (isOrig) {
        if ((flags & ACK) !== 0) {
          conn.weird('connection_originator_SYN_ack')
          endpoint.setState(SYN_ACK_SENT)
        } else {
          endpoint.setState(SYN_SENT)
        }
        const delay = conn.host.timeouts.tcpAttemptDelay
        if (delay > 0) conn.host.schedule(conn, TIMER.ATTEMPT, ts + delay)
      } else {
        if ((flags & ACK) !== 0) {
          if (
            peer.state !== INACTIVE &&
            peer.state !== PARTIAL &&
            !seqBetween(ackRaw, peer.startSeq, peer.lastSeqRaw)
          ) {
            conn.weird('bad_SYN_ack')
          }
        } else if (peer.state === SYN_ACK_SENT && seq === endpoint.startSeq) {
          // SYN and SYN-ACK arrived swapped: the handshake is complete all the same.
          peer.setState(ESTABLISHED)
        } else {
          conn.weird('simultaneous_open')
        }
        if (peer.state === SYN_SENT) peer.setState(ESTABLISHED)
        else if (peer.state === INACTIVE) conn.weird('unsolicited_SYN_response')
        endpoint.setState(ESTABLISHED)
      }
    }
    if ((flags & FIN) !== 0) {
      endpoint.setState(CLOSED)
      doClose = true
      if (peer.state !== PARTIAL && (flags & SYN) === 0) conn.weird('spontaneous_FIN')
    }
    if ((flags & RST) !== 0) {
      endpoint.setState(RESET)
      // A reset answering an opening SYN (or, from the originator, a SYN-ACK) is a rejection.
      const isReject = isOrig
        ? peer.state === ESTABLISHED
        : peer.state === SYN_SENT || peer.state === SYN_ACK_SENT
      doClose = true
      if (!isReject && peer.state === INACTIVE) conn.weird('spontaneous_RST')
    }
    if (endpoint.state === INACTIVE) {
      // Some stacks ACK an initial SYN before sending their SYN-ACK; that is not a partial connection.
      if (!(!isOrig && len === 0 && peer.state === SYN_SENT)) endpoint.setState(PARTIAL)
    }
    return doClose
  }

  /** This side closed (ConnectionClosed): arm the timer that will remove the connection. */
  private closed(conn: Connection, endpoint: TcpEndpoint, peer: TcpEndpoint): void {
    if (endpoint.didClose) return
    endpoint.didClose = true
    const host = conn.host
    const timeouts = host.timeouts
    if (endpoint.state === RESET || peer.didClose || peer.state === INACTIVE) {
      // Closed for good: linger briefly for the last ACKs, then go.
      host.cancelTcpTimers(conn)
      host.schedule(conn, TIMER.DELETE, conn.lastTs + timeouts.tcpCloseDelay)
    } else if (endpoint.prevState === INACTIVE) {
      host.schedule(conn, TIMER.PARTIAL_CLOSE, host.now + timeouts.tcpPartialCloseDelay)
    } else {
      host.schedule(conn, TIMER.EXPIRE, host.now + timeouts.tcpSessionTimer)
    }
  }
}

function isActive(endpoint: TcpEndpoint): boolean {
  return endpoint.state !== INACTIVE && !endpoint.didClose
}

/** Zeek's update_history: which letters this packet writes. */
function updateHistory(
  conn: Connection,
  endpoint: TcpEndpoint,
  flags: number,
  relSeq: number,
  len: number,
): void {
  const history = conn.history
  const isOrig = endpoint.isOrig
  const syn = (flags & SYN) !== 0
  const fin = (flags & FIN) !== 0
  const rst = (flags & RST) !== 0
  const controls = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
  if (controls > 1) {
    if (fin && rst) history.once(isOrig, HIST.FIN_RST, 'I')
    else history.once(isOrig, HIST.MULTI_FLAG, 'Q')
  } else if (controls === 1) {
    if (syn) {
      const letter = (flags & ACK) !== 0 ? 'H' : 'S'
      if (history.once(isOrig, HIST.SYN, letter) && relSeq !== endpoint.histLastSyn)
        history.add(isOrig, letter)
      endpoint.histLastSyn = relSeq
    } else if (fin) {
      // A FIN's place is after the data it carries.
      if (history.once(isOrig, HIST.FIN, 'F') && relSeq + len !== endpoint.histLastFin)
        history.add(isOrig, 'F')
      endpoint.histLastFin = relSeq + len
    } else {
      if (history.once(isOrig, HIST.RST, 'R') && relSeq !== endpoint.histLastRst) history.add(isOrig, 'R')
      endpoint.histLastRst = relSeq
    }
  } else if (len > 0) {
    history.once(isOrig, HIST.DATA, 'D')
  } else if ((flags & ACK) !== 0) {
    history.once(isOrig, HIST.ACK, 'A')
  }
}

/** Zeek's init_peer: number the silent side's sequence space from the ACK that covers it. */
function initPeer(
  conn: Connection,
  peer: TcpEndpoint,
  endpoint: TcpEndpoint,
  flags: number,
  ackRaw: number,
): void {
  if (
    (flags & (SYN | FIN | RST)) === 0 &&
    (endpoint.state === SYN_SENT || endpoint.state === SYN_ACK_SENT || endpoint.state === ESTABLISHED) &&
    !conn.didWeird
  ) {
    // We sent a SYN, never heard back, yet acknowledge the other side's data.
    conn.weird('possible_split_routing')
  }
  peer.initSeq(ackRaw - 1, ackRaw - 1)
}

/** Zeek's update_last_seq, plus the retransmission letter; returns how far the segment moved the end. */
function updateLastSeq(
  conn: Connection,
  endpoint: TcpEndpoint,
  segEnd: number,
  syn: boolean,
  fin: boolean,
  rst: boolean,
  len: number,
  fresh: boolean,
): number {
  const deltaLast = (segEnd - endpoint.lastSeqRaw) | 0
  if ((syn || rst) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    // A wild sequence number on a SYN or RST is not believed.
  } else if (fin && endpoint.lastSeqRel === 1) {
    endpoint.updateLastSeq(segEnd)
  } else if (endpoint.state === RESET) {
    // After a reset, sequence numbers are not trusted.
  } else if (deltaLast > 0) {
    endpoint.updateLastSeq(segEnd)
  } else if (len > 0 && !fresh) {
    // Payload that ends at or before the furthest point seen: a retransmission (or late reordering).
    if (endpoint.retransmits.hit()) conn.history.add(endpoint.isOrig, 'T')
  }
  return deltaLast
}

function fromSynSent(
  conn: Connection,
  endpoint: TcpEndpoint,
  peer: TcpEndpoint,
  flags: number,
  len: number,
): boolean {
  let doClose = false
  if ((flags & SYN) !== 0) {
    if (endpoint.isOrig) {
      if ((flags & (ACK | FIN | RST)) === ACK && endpoint.state !== SYN_ACK_SENT)
        conn.weird('repeated_SYN_with_ack')
    } else if ((flags & ACK) === 0 && endpoint.state !== SYN_SENT) {
      conn.weird('repeated_SYN_reply_wo_ack')
    }
  }
  if ((flags & FIN) !== 0) {
    if (peer.state === INACTIVE || peer.state === SYN_SENT) conn.weird('inappropriate_FIN')
    endpoint.setState(CLOSED)
    doClose = true
  }
  if ((flags & RST) !== 0) {
    endpoint.setState(RESET)
    doClose = true
  } else if (len > 0) {
    conn.weird('data_before_established')
  }
  return doClose
}

function fromEstablished(conn: Connection, endpoint: TcpEndpoint, peer: TcpEndpoint, flags: number): boolean {
  let doClose = false
  if ((flags & SYN) !== 0 && endpoint.state === PARTIAL && peer.state === INACTIVE && (flags & ACK) === 0) {
    conn.weird('SYN_after_partial')
    endpoint.setState(SYN_SENT)
  }
  if ((flags & FIN) !== 0 && (flags & RST) === 0) {
    endpoint.setState(CLOSED)
    // The peer's FIN followed by a RST, then our FIN: that was a normal close after all.
    if (peer.state === RESET && peer.prevState === CLOSED) peer.setState(CLOSED)
    doClose = true
  }
  if ((flags & RST) !== 0) {
    endpoint.setState(RESET)
    doClose = true
  }
  return doClose
}

function fromClosed(
  conn: Connection,
  endpoint: TcpEndpoint,
  flags: number,
  deltaLast: number,
  ts: number,
): boolean {
  let doClose = false
  if ((flags & SYN) !== 0) conn.weird('SYN_after_close')
  if ((flags & FIN) !== 0 && deltaLast > 0) conn.weird('FIN_advanced_last_seq')
  // After a FIN exchange a RST changes nothing; after only our FIN it ends the connection shortly.
  if ((flags & RST) !== 0 && endpoint.peer.state !== CLOSED) {
    endpoint.setState(RESET)
    if (!endpoint.didClose) doClose = true
    conn.host.schedule(conn, TIMER.RESET, ts + conn.host.timeouts.tcpResetDelay)
  }
  return doClose
}

function fromReset(conn: Connection, flags: number, len: number): void {
  if ((flags & SYN) !== 0) conn.weird('SYN_after_reset')
  if ((flags & FIN) !== 0) conn.weird('FIN_after_reset')
  if (len > 0 && (flags & RST) === 0) conn.weird('data_after_reset')
}
