// DNS wire format → the parts of a message dns.log needs: header flags, the question(s) and the
// answer section rendered the way Zeek's scripts render each RR type. Like Zeek (dns_skip_all_auth
// and dns_skip_all_addl are on by default) the authority and additional sections are not parsed.
// Malformed input never throws: parsing stops and a weird with Zeek's DNS weird name is reported.

import {ipv4Text, ipv6Text} from '../decode/address.js'
import {latin1} from './byte-text.js'
import {RR_TYPE} from './dns-names.js'

export const DNS_HEADER_LENGTH = 12
/** Zeek's dns_max_queries: more questions than this is taken as non-DNS traffic. */
export const DNS_MAX_QUERIES = 25
/** Zeek's name buffer: 512 bytes of text for one name including the dots. */
const NAME_BUDGET = 512

export interface DnsQuestion {
  name: string
  qtype: number
  qclass: number
}

export interface DnsAnswer {
  name: string
  type: number
  ttl: number
  /** The answers entry Zeek writes for this RR; empty when Zeek writes none. */
  reply: string
}

export interface DnsMessage {
  id: number
  qr: boolean
  opcode: number
  aa: boolean
  tc: boolean
  rd: boolean
  ra: boolean
  /** The three bits after RA (Z, AD, CD), as Zeek's dns_msg$Z. */
  z: number
  rcode: number
  qdcount: number
  ancount: number
  nscount: number
  arcount: number
  questions: DnsQuestion[]
  answers: DnsAnswer[]
  /** False when parsing stopped early; a weird said why. */
  complete: boolean
  /** Set when the message is evidence of non-DNS traffic (Zeek's protocol violation). */
  violation?: string
}

export type DnsWeirdReporter = (name: string, addl?: string) => void

export interface DnsParseOptions {
  /** NetBIOS name service (port 137) allows labels longer than 63 bytes. */
  allowLongLabels?: boolean
}

/** Where a name ended and what it said. */
interface NameResult {
  text: string
  /** Offset right after the name in the stream it was read from (after the first pointer). */
  end: number
}

const UPPER_ASCII = /[A-Z]/
const UPPER_ASCII_ALL = /[A-Z]+/g

function asciiLower(text: string): string {
  return UPPER_ASCII.test(text) ? text.replace(UPPER_ASCII_ALL, (run) => run.toLowerCase()) : text
}

/**
 * Reads a possibly compressed name starting at `start`, reading no further than `limit`. A
 * compression pointer must point strictly before itself (Zeek's rule): that forbids loops, and
 * following it narrows the window to the bytes before the pointer, so the walk always ends.
 */
export function readName(
  data: Uint8Array,
  start: number,
  limit: number,
  report: DnsWeirdReporter,
  allowLongLabels = false,
): NameResult {
  let text = ''
  let budget = NAME_BUDGET
  let pos = start
  let end = -1
  for (;;) {
    if (pos >= limit) break
    const labelStart = pos
    const labelLength = data[pos++]!
    if (pos >= limit) break
    if (labelLength === 0) break
    if ((labelLength & 0xc0) === 0xc0) {
      const offset = ((labelLength & 0x3f) << 8) | data[pos++]!
      if (end < 0) end = pos
      if (offset >= labelStart) {
        report('DNS_label_forward_compress_offset')
        break
      }
      pos = offset
      limit = labelStart
      continue
    }
    if (labelLength > limit - pos) {
      report('DNS_label_len_gt_pkt')
      pos = limit
      break
    }
    if (labelLength > 63 && !allowLongLabels) {
      report('DNS_label_too_long')
      break
    }
    if (labelLength >= budget) {
      report('DNS_label_len_gt_name_len')
      break
    }
    text += latin1(data, pos, pos + labelLength) + '.'
    budget -= labelLength + 1
    pos += labelLength
  }
  if (end < 0) end = pos
  if (text.length >= 255) report('DNS_NAME_too_long')
  if (text.length >= 2) text = text.slice(0, -1)
  return {text: asciiLower(text), end}
}

function u16(data: Uint8Array, at: number): number {
  return (data[at]! << 8) | data[at + 1]!
}

function u32(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0
}

/** Character-strings of a TXT/SPF RR as Zeek prints them: `TXT <len> <text>` joined by spaces. */
function characterStrings(
  label: string,
  data: Uint8Array,
  start: number,
  end: number,
  report: DnsWeirdReporter,
): string {
  let text = ''
  let pos = start
  while (pos < end) {
    const length = data[pos++]!
    if (pos + length > end) {
      report(`DNS_${label}_char_str_past_rdlen`)
      break
    }
    if (text.length > 0) text += ' '
    text += `${label} ${length} ${latin1(data, pos, pos + length)}`
    pos += length
  }
  return text
}

/**
 * The answers entry for one RR, or undefined when the RR is malformed in a way that stops Zeek's
 * parser (the weird is already reported).
 */
function renderRdata(
  data: Uint8Array,
  type: number,
  ownerName: string,
  start: number,
  rdlength: number,
  report: DnsWeirdReporter,
): string | undefined {
  const end = start + rdlength
  const nameAt = (at: number): NameResult => readName(data, at, data.length, report)
  const checkLength = (consumedTo: number): void => {
    if (consumedTo !== end) report('DNS_RR_length_mismatch')
  }
  /** A domain name after `fixedBytes` of fixed fields (MX preference; SRV priority, weight, port). */
  const nameAfter = (fixedBytes: number): string | undefined => {
    if (rdlength < fixedBytes) {
      report('DNS_RR_bad_length')
      return undefined
    }
    const name = nameAt(start + fixedBytes)
    checkLength(name.end)
    return name.text
  }
  switch (type) {
    case RR_TYPE.A:
      if (rdlength !== 4) {
        report('DNS_RR_bad_length')
        return undefined
      }
      return ipv4Text(data, start)
    case RR_TYPE.AAAA:
      if (rdlength !== 16) {
        report('DNS_RR_bad_length')
        return undefined
      }
      return ipv6Text(data, start)
    case RR_TYPE.NS:
    case RR_TYPE.CNAME:
    case RR_TYPE.PTR:
      return nameAfter(0)
    case RR_TYPE.MX:
      return nameAfter(2)
    case RR_TYPE.SRV:
      return nameAfter(6)
    case RR_TYPE.SOA: {
      const mname = nameAt(start)
      const rname = readName(data, mname.end, data.length, report)
      if (end - rname.end < 20) {
        report('DNS_truncated_RR_rdlength_lt_len')
        return undefined
      }
      checkLength(rname.end + 20)
      return mname.text
    }
    case RR_TYPE.TXT:
      return characterStrings('TXT', data, start, end, report)
    case RR_TYPE.SPF:
      return characterStrings('SPF', data, start, end, report)
    case RR_TYPE.CAA: {
      if (rdlength < 2 || 2 + data[start + 1]! > rdlength) {
        report('DNS_CAA_char_str_past_rdlen')
        return undefined
      }
      const tagEnd = start + 2 + data[start + 1]!
      return `${data[start]!} ${latin1(data, start + 2, tagEnd)} ${latin1(data, tagEnd, end)}`
    }
    case RR_TYPE.RRSIG: {
      if (rdlength < 18) {
        report('DNS_RR_bad_length')
        return undefined
      }
      const signer = readName(data, start + 18, end, report)
      return `RRSIG ${u16(data, start)} ${signer.text === '' ? '<Root>' : signer.text}`
    }
    case RR_TYPE.DNSKEY:
      if (rdlength < 4) {
        report('DNS_RR_bad_length')
        return undefined
      }
      return `DNSKEY ${data[start + 3]!}`
    case RR_TYPE.DS:
      if (rdlength < 4) {
        report('DNS_RR_bad_length')
        return undefined
      }
      return `DS ${data[start + 2]!} ${data[start + 3]!}`
    case RR_TYPE.NSEC: {
      const next = readName(data, start, end, report)
      return `NSEC ${ownerName} ${next.text}`
    }
    case RR_TYPE.NSEC3:
      return 'NSEC3'
    default:
      report('DNS_RR_unknown_type', String(type))
      return `<unknown type=${type}>`
  }
}

/**
 * Parses one DNS message. Returns undefined when it is shorter than the header
 * (DNS_truncated_len_lt_hdr_len, reported); otherwise whatever could be read.
 */
export function parseDnsMessage(
  data: Uint8Array,
  report: DnsWeirdReporter,
  options: DnsParseOptions = {},
): DnsMessage | undefined {
  if (data.length < DNS_HEADER_LENGTH) {
    report('DNS_truncated_len_lt_hdr_len')
    return undefined
  }
  const flags = u16(data, 2)
  const message: DnsMessage = {
    id: u16(data, 0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags >> 4) & 0x07,
    rcode: flags & 0x0f,
    qdcount: u16(data, 4),
    ancount: u16(data, 6),
    nscount: u16(data, 8),
    arcount: u16(data, 10),
    questions: [],
    answers: [],
    complete: false,
  }
  if (message.qdcount > DNS_MAX_QUERIES) {
    report('DNS_Conn_count_too_large')
    message.violation = 'DNS_Conn_count_too_large'
    return message
  }
  const allowLong = options.allowLongLabels === true
  let pos = DNS_HEADER_LENGTH
  for (let i = 0; i < message.qdcount; i++) {
    const name = readName(data, pos, data.length, report, allowLong)
    pos = name.end
    if (data.length - pos < 4) {
      report('DNS_truncated_quest_too_short')
      return message
    }
    message.questions.push({name: name.text, qtype: u16(data, pos), qclass: u16(data, pos + 2)})
    pos += 4
  }
  for (let i = 0; i < message.ancount; i++) {
    const name = readName(data, pos, data.length, report, allowLong)
    pos = name.end
    if (data.length - pos < 10) {
      report('DNS_truncated_ans_too_short')
      return message
    }
    const type = u16(data, pos)
    const ttl = u32(data, pos + 4)
    const rdlength = u16(data, pos + 8)
    pos += 10
    if (rdlength > data.length - pos) {
      report('DNS_truncated_RR_rdlength_lt_len')
      return message
    }
    const reply = renderRdata(data, type, name.text, pos, rdlength, report)
    if (reply === undefined) return message
    message.answers.push({name: name.text, type, ttl, reply})
    pos += rdlength
  }
  message.complete = true
  return message
}
