// Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec): the same
// string for the same flow from every tool that implements it, so conn.log rows can be joined with
// other sensors' records. Input to SHA-1: seed (2 bytes), both addresses, protocol, a zero byte and,
// for protocols with ports, both ports — ordered so the smaller endpoint comes first, except for
// one-way ICMP messages, whose direction is part of their identity.

import {createHash} from 'node:crypto'
import {parseIp} from '../../engine/ip.js'
import {icmpCounterpart} from './icmp-pairing.js'

export interface FlowEndpoints {
  origH: string
  origP: number
  respH: string
  respP: number
}

const PROTO_ICMP = 1
const PROTO_TCP = 6
const PROTO_UDP = 17
const PROTO_ICMPV6 = 58
const PROTO_SCTP = 132

/** Network-order bytes of an address in text form: 4 for IPv4, 16 for IPv6 (IPv4-mapped stays 16). */
function addressBytes(text: string): Uint8Array | undefined {
  const ip = parseIp(text)
  if (ip === undefined) return undefined
  const v6 = text.includes(':')
  const words = v6 && ip.v4 ? [0, 0, 0xffff, ip.words[3]] : ip.words
  const bytes = new Uint8Array(v6 ? 16 : 4)
  const view = new DataView(bytes.buffer)
  if (v6) for (let i = 0; i < 4; i++) view.setUint32(i * 4, words[i]!)
  else view.setUint32(0, words[3]!)
  return bytes
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/**
 * `'1:' + base64(sha1(...))` for a flow; for ICMP the ports are the type and the counterpart type or
 * code, as conn.log's id has them. Empty when an address cannot be parsed (or the families differ).
 */
export function communityId(id: FlowEndpoints, ipProto: number, seed = 0): string {
  let src = addressBytes(id.origH)
  let dst = addressBytes(id.respH)
  if (src === undefined || dst === undefined || src.length !== dst.length) return ''
  let srcPort = id.origP
  let dstPort = id.respP
  const hasPorts =
    ipProto === PROTO_TCP ||
    ipProto === PROTO_UDP ||
    ipProto === PROTO_SCTP ||
    ipProto === PROTO_ICMP ||
    ipProto === PROTO_ICMPV6
  let oneWay = false
  if (ipProto === PROTO_ICMP) oneWay = icmpCounterpart(4, srcPort) === undefined
  else if (ipProto === PROTO_ICMPV6) oneWay = icmpCounterpart(6, srcPort) === undefined
  const order = compareBytes(src, dst)
  if (!oneWay && (order > 0 || (order === 0 && srcPort > dstPort))) {
    ;[src, dst] = [dst, src]
    ;[srcPort, dstPort] = [dstPort, srcPort]
  }
  const input = new Uint8Array(2 + src.length * 2 + 2 + (hasPorts ? 4 : 0))
  const view = new DataView(input.buffer)
  view.setUint16(0, seed & 0xffff)
  input.set(src, 2)
  input.set(dst, 2 + src.length)
  let at = 2 + src.length * 2
  input[at++] = ipProto & 0xff
  input[at++] = 0
  if (hasPorts) {
    view.setUint16(at, srcPort & 0xffff)
    view.setUint16(at + 2, dstPort & 0xffff)
  }
  return '1:' + createHash('sha1').update(input).digest('base64')
}
