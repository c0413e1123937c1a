// The conn.log record of a connection that is being removed, as base/protocols/conn/main.zeek fills
// it: duration and byte counts only when the connection lasted (a single packet leaves them unset),
// history only when there is one, community_id (seed configurable) and the VLAN tags always when set.

import {communityId} from './community-id.js'
import {connState} from './conn-state.js'
import type {Connection} from './connection.js'

export interface ConnRecordOptions {
  communityIdSeed: number
  /** Site::local_nets membership; local_orig/local_resp stay unset without it, as in Zeek. */
  isLocal: ((addr: string) => boolean) | undefined
}

function payloadBytes(conn: Connection, isOrig: boolean): number {
  const tcp = conn.tcp
  if (tcp !== undefined) return (isOrig ? tcp.orig : tcp.resp).size()
  const size = isOrig ? conn.origSize : conn.respSize
  return size > 0 ? size : 0
}

/** conn.log fields this layer fills (schema order); optional ones are absent when unset. */
export type ConnLogRecord = {
  ts: number
  uid: string
  'id.orig_h': string
  'id.orig_p': number
  'id.resp_h': string
  'id.resp_p': number
  proto: string
  service?: string
  duration?: number
  orig_bytes?: number
  resp_bytes?: number
  conn_state: string
  local_orig?: boolean
  local_resp?: boolean
  missed_bytes: number
  history?: string
  orig_pkts: number
  orig_ip_bytes: number
  resp_pkts: number
  resp_ip_bytes: number
  ip_proto: number
  community_id?: string
  vlan?: number
  inner_vlan?: number
}

export function connRecord(conn: Connection, options: ConnRecordOptions): ConnLogRecord {
  const id = conn.id
  const record: ConnLogRecord = {
    ts: conn.startTs,
    uid: conn.uid,
    'id.orig_h': id.origH,
    'id.orig_p': id.origP,
    'id.resp_h': id.respH,
    'id.resp_p': id.respP,
    proto: id.proto,
    conn_state: connState(conn),
    missed_bytes: conn.missedBytes,
    orig_pkts: conn.origPkts,
    orig_ip_bytes: conn.origIpBytes,
    resp_pkts: conn.respPkts,
    resp_ip_bytes: conn.respIpBytes,
    ip_proto: conn.ipProto,
  }
  const service = conn.analyzers.service()
  if (service !== undefined) record.service = service
  const duration = conn.lastTs - conn.startTs
  if (duration > 0) {
    record.duration = duration
    record.orig_bytes = payloadBytes(conn, true)
    record.resp_bytes = payloadBytes(conn, false)
  }
  if (options.isLocal !== undefined) {
    record.local_orig = options.isLocal(id.origH)
    record.local_resp = options.isLocal(id.respH)
  }
  if (conn.history.text !== '') record.history = conn.history.text
  const cid = communityId(id, conn.ipProto, options.communityIdSeed)
  if (cid !== '') record.community_id = cid
  if (conn.vlan !== undefined) record.vlan = conn.vlan
  if (conn.innerVlan !== undefined) record.inner_vlan = conn.innerVlan
  return record
}
