// How long connections live without traffic or after they closed, in seconds of network time. The
// defaults are Zeek's (init-bare.zeek); each field names the Zeek constant it mirrors.

import {ConfigError} from '../../engine/errors.js'

export interface FlowTimeouts {
  /** tcp_inactivity_timeout (5 min): a TCP connection with no packets for this long is removed. */
  tcpInactivity: number
  /** udp_inactivity_timeout (1 min). */
  udpInactivity: number
  /** icmp_inactivity_timeout (1 min). */
  icmpInactivity: number
  /**
   * tcp_attempt_delay (5 s): counted from the initial SYN; if the responder has still sent nothing
   * then, the attempt is over (conn_state S0) and the connection is removed.
   */
  tcpAttemptDelay: number
  /**
   * tcp_close_delay (5 s): once both sides closed (or one reset, or one closed while the other never
   * sent anything) the connection is removed this long after its last packet, so the final ACKs and
   * retransmitted FINs still land in the same record.
   */
  tcpCloseDelay: number
  /** tcp_reset_delay (5 s): a RST after this side's FIN removes the connection this much later. */
  tcpResetDelay: number
  /**
   * tcp_partial_close_delay (3 s): a FIN is the first thing seen from a side while the other is
   * still open; check again this much later and remove the connection if nobody is active.
   */
  tcpPartialCloseDelay: number
  /** tcp_session_timer (6 s): how often a half-closed connection is checked for having gone quiet. */
  tcpSessionTimer: number
  /** tcp_connection_linger (5 s): a half-closed connection counts as quiet after this long. */
  tcpConnectionLinger: number
}

export const DEFAULT_FLOW_TIMEOUTS: Readonly<FlowTimeouts> = {
  tcpInactivity: 300,
  udpInactivity: 60,
  icmpInactivity: 60,
  tcpAttemptDelay: 5,
  tcpCloseDelay: 5,
  tcpResetDelay: 5,
  tcpPartialCloseDelay: 3,
  tcpSessionTimer: 6,
  tcpConnectionLinger: 5,
}

/**
 * Defaults overlaid with `overrides`. A negative or non-finite value is a configuration mistake, and
 * so is a zero session timer: the half-close check re-arms itself by that much.
 */
export function resolveFlowTimeouts(overrides: Partial<FlowTimeouts> = {}): FlowTimeouts {
  const timeouts: FlowTimeouts = {...DEFAULT_FLOW_TIMEOUTS}
  for (const name of Object.keys(DEFAULT_FLOW_TIMEOUTS) as (keyof FlowTimeouts)[]) {
    const value = overrides[name]
    if (value === undefined) continue
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (name === 'tcpSessionTimer' && value === 0)
    ) {
      throw new ConfigError(
        `flow timeout ${name} must be a non-negative number of seconds (the session timer positive), got ${String(value)}`,
        'DSIEM_E_FLOW_TIMEOUT',
      )
    }
    timeouts[name] = value
  }
  return timeouts
}
