// Analysers report protocol anomalies as weirds tied to their connection (Zeek's conn_weird), so
// weird.log shows the uid and 4-tuple next to the name.

import type {ConnView, WeirdNotice} from '../types.js'

export function connWeird(conn: ConnView, ts: number, name: string, addl?: string): WeirdNotice {
  const notice: WeirdNotice = {
    ts,
    name,
    uid: conn.uid,
    src: conn.id.origH,
    dst: conn.id.respH,
    srcPort: conn.id.origP,
    dstPort: conn.id.respP,
  }
  if (addl !== undefined) notice.addl = addl
  return notice
}

/** The fields every per-connection log record starts with. */
export function connFields(conn: ConnView): {
  uid: string
  'id.orig_h': string
  'id.orig_p': number
  'id.resp_h': string
  'id.resp_p': number
} {
  return {
    uid: conn.uid,
    'id.orig_h': conn.id.origH,
    'id.orig_p': conn.id.origP,
    'id.resp_h': conn.id.respH,
    'id.resp_p': conn.id.respP,
  }
}
