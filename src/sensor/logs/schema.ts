// Field order and value types of every log stream the sensor writes, as Zeek's default scripts
// define them (plus the community-id and vlan-logging policy fields on conn). The JSON writer walks
// these lists, so a producer only fills a plain object and never thinks about order or number form.

import type {LogPath} from '../types.js'

/**
 * Zeek value types that change how a value is written: `time`/`interval`/`double` always carry a
 * decimal point (`5.0`), `count`/`int`/`port` never do; sets and vectors are JSON arrays.
 */
export type ZeekType =
  | 'time'
  | 'interval'
  | 'double'
  | 'count'
  | 'int'
  | 'port'
  | 'addr'
  | 'string'
  | 'enum'
  | 'bool'
  | 'set[string]'
  | 'vector[string]'
  | 'vector[interval]'

export type LogSchema = readonly (readonly [field: string, type: ZeekType])[]

const CONN_ID: LogSchema = [
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
]

const CONN: LogSchema = [
  ['ts', 'time'],
  ['uid', 'string'],
  ...CONN_ID,
  ['proto', 'enum'],
  ['service', 'string'],
  ['duration', 'interval'],
  ['orig_bytes', 'count'],
  ['resp_bytes', 'count'],
  ['conn_state', 'string'],
  ['local_orig', 'bool'],
  ['local_resp', 'bool'],
  ['missed_bytes', 'count'],
  ['history', 'string'],
  ['orig_pkts', 'count'],
  ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'],
  ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'],
  ['ip_proto', 'count'],
  ['community_id', 'string'],
  ['vlan', 'int'],
  ['inner_vlan', 'int'],
]

const DNS: LogSchema = [
  ['ts', 'time'],
  ['uid', 'string'],
  ...CONN_ID,
  ['proto', 'enum'],
  ['trans_id', 'count'],
  ['rtt', 'interval'],
  ['query', 'string'],
  ['qclass', 'count'],
  ['qclass_name', 'string'],
  ['qtype', 'count'],
  ['qtype_name', 'string'],
  ['rcode', 'count'],
  ['rcode_name', 'string'],
  ['AA', 'bool'],
  ['TC', 'bool'],
  ['RD', 'bool'],
  ['RA', 'bool'],
  ['Z', 'count'],
  ['answers', 'vector[string]'],
  ['TTLs', 'vector[interval]'],
  ['rejected', 'bool'],
]

const HTTP: LogSchema = [
  ['ts', 'time'],
  ['uid', 'string'],
  ...CONN_ID,
  ['trans_depth', 'count'],
  ['method', 'string'],
  ['host', 'string'],
  ['uri', 'string'],
  ['referrer', 'string'],
  ['version', 'string'],
  ['user_agent', 'string'],
  ['origin', 'string'],
  ['request_body_len', 'count'],
  ['response_body_len', 'count'],
  ['status_code', 'count'],
  ['status_msg', 'string'],
  ['info_code', 'count'],
  ['info_msg', 'string'],
  ['tags', 'set[string]'],
  ['username', 'string'],
  ['password', 'string'],
  ['proxied', 'set[string]'],
]

const SSL: LogSchema = [
  ['ts', 'time'],
  ['uid', 'string'],
  ...CONN_ID,
  ['version', 'string'],
  ['cipher', 'string'],
  ['curve', 'string'],
  ['server_name', 'string'],
  ['resumed', 'bool'],
  ['last_alert', 'string'],
  ['next_protocol', 'string'],
  ['established', 'bool'],
  ['ssl_history', 'string'],
]

const WEIRD: LogSchema = [
  ['ts', 'time'],
  ['uid', 'string'],
  ...CONN_ID,
  ['name', 'string'],
  ['addl', 'string'],
  ['notice', 'bool'],
  ['peer', 'string'],
  ['source', 'string'],
]

const CAPTURE_LOSS: LogSchema = [
  ['ts', 'time'],
  ['ts_delta', 'interval'],
  ['peer', 'string'],
  ['gaps', 'count'],
  ['acks', 'count'],
  ['percent_lost', 'double'],
]

const STATS: LogSchema = [
  ['ts', 'time'],
  ['peer', 'string'],
  ['mem', 'count'],
  ['pkts_proc', 'count'],
  ['bytes_recv', 'count'],
  ['pkts_dropped', 'count'],
  ['pkts_link', 'count'],
  ['pkt_lag', 'interval'],
  ['pkts_filtered', 'count'],
  ['events_proc', 'count'],
  ['events_queued', 'count'],
  ['active_tcp_conns', 'count'],
  ['active_udp_conns', 'count'],
  ['active_icmp_conns', 'count'],
  ['tcp_conns', 'count'],
  ['udp_conns', 'count'],
  ['icmp_conns', 'count'],
  ['timers', 'count'],
  ['active_timers', 'count'],
  ['files', 'count'],
  ['active_files', 'count'],
  ['dns_requests', 'count'],
  ['active_dns_requests', 'count'],
  ['reassem_tcp_size', 'count'],
  ['reassem_file_size', 'count'],
  ['reassem_frag_size', 'count'],
  ['reassem_unknown_size', 'count'],
]

export const LOG_SCHEMAS: Readonly<Record<LogPath, LogSchema>> = {
  conn: CONN,
  dns: DNS,
  http: HTTP,
  ssl: SSL,
  weird: WEIRD,
  capture_loss: CAPTURE_LOSS,
  stats: STATS,
}
