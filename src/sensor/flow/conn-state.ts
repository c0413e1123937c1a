// conn.log's conn_state, worked out as Zeek's conn_state() in base/protocols/conn/main.zeek does:
// from the two TCP endpoint states (and, for the RST cases, sizes and history), or for UDP from which
// sides sent anything. ICMP has no states in Zeek, so it is always OTH.

import type {Connection} from './connection.js'
import {TCP_STATE, type TcpState} from './tcp-endpoint.js'

const {INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET} = TCP_STATE

/** The originator sent a SYN and later a RST, with no SYN-ACK, ACK, FIN, gap or odd flags between. */
const SYN_THEN_RST = /^\^?S[^HAFGIQ]*R/

export interface TcpConnFacts {
  orig: TcpState
  resp: TcpState
  origSize: number
  respSize: number
  history: string
}

export function tcpConnState(f: TcpConnFacts): string {
  const {orig: os, resp: rs} = f
  const origInactive = os === INACTIVE || os === PARTIAL
  const respInactive = rs === INACTIVE || rs === PARTIAL
  if (rs === RESET) {
    if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && f.origSize === 0 && f.respSize === 0)) {
      return 'REJ'
    }
    return origInactive ? 'RSTRH' : 'RSTR'
  }
  if (os === RESET) {
    if (!respInactive) return 'RSTO'
    return SYN_THEN_RST.test(f.history) ? 'RSTOS0' : 'OTH'
  }
  if (rs === CLOSED && os === CLOSED) return 'SF'
  if (os === CLOSED) return respInactive ? 'SH' : 'S2'
  if (rs === CLOSED) return origInactive ? 'SHR' : 'S3'
  if (os === SYN_SENT && rs === INACTIVE) return 'S0'
  if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1'
  return 'OTH'
}

export function udpConnState(origSent: boolean, respSent: boolean): string {
  if (origSent) return respSent ? 'SF' : 'S0'
  return respSent ? 'SHR' : 'OTH'
}

export function connState(conn: Connection): string {
  const tcp = conn.tcp
  if (tcp !== undefined) {
    return tcpConnState({
      orig: tcp.orig.state,
      resp: tcp.resp.state,
      origSize: tcp.orig.size(),
      respSize: tcp.resp.size(),
      history: conn.history.text,
    })
  }
  if (conn.proto === 'udp') return udpConnState(conn.origSize >= 0, conn.respSize >= 0)
  return 'OTH'
}
