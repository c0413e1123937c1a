// Builds DNS messages on the wire for tests, benchmarks and the fuzzer: queries and responses with
// A, AAAA, NS, CNAME, PTR, MX, TXT, SRV, SOA or raw answers, names compressed or not, and the
// 2-byte length framing of DNS over TCP.

export interface DnsQuestionSpec {
  name: string
  qtype: number
  qclass?: number
}

export type DnsRecordData =
  | {type: 'A'; address: string}
  | {type: 'AAAA'; address: string}
  | {type: 'NS' | 'CNAME' | 'PTR'; target: string}
  | {type: 'MX'; preference: number; exchange: string}
  | {type: 'TXT'; strings: string[]}
  | {type: 'SRV'; priority: number; weight: number; port: number; target: string}
  | {
      type: 'SOA'
      mname: string
      rname: string
      serial: number
      refresh: number
      retry: number
      expire: number
      minimum: number
    }
  | {type: 'raw'; rrType: number; rdata: Uint8Array}

export interface DnsRecordSpec {
  name: string
  ttl: number
  rrClass?: number
  data: DnsRecordData
}

export interface DnsMessageSpec {
  id: number
  qr?: boolean
  opcode?: number
  aa?: boolean
  tc?: boolean
  rd?: boolean
  ra?: boolean
  /** The three bits after RA. */
  z?: number
  rcode?: number
  questions?: DnsQuestionSpec[]
  answers?: DnsRecordSpec[]
  authority?: DnsRecordSpec[]
  additional?: DnsRecordSpec[]
  /** Use compression pointers for repeated name suffixes (default true). */
  compress?: boolean
}

const RR_TYPE_NUMBER = {A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33} as const

/** Growable byte buffer with name compression bookkeeping. */
class DnsWriter {
  private buffer = new Uint8Array(512)
  length = 0
  private readonly suffixOffsets = new Map<string, number>()
  private readonly compress: boolean

  constructor(compress: boolean) {
    this.compress = compress
  }

  private reserve(count: number): void {
    if (this.length + count <= this.buffer.length) return
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + count))
    grown.set(this.buffer.subarray(0, this.length))
    this.buffer = grown
  }

  u8(value: number): void {
    this.reserve(1)
    this.buffer[this.length++] = value & 0xff
  }

  u16(value: number): void {
    this.u8(value >> 8)
    this.u8(value)
  }

  u32(value: number): void {
    this.u16(Math.floor(value / 0x10000))
    this.u16(value % 0x10000)
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length)
    this.buffer.set(data, this.length)
    this.length += data.length
  }

  setU16(at: number, value: number): void {
    this.buffer[at] = (value >> 8) & 0xff
    this.buffer[at + 1] = value & 0xff
  }

  name(name: string): void {
    const labels = name === '' || name === '.' ? [] : name.replace(/\.$/, '').split('.')
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase()
      const known = this.compress ? this.suffixOffsets.get(suffix) : undefined
      if (known !== undefined) {
        this.u16(0xc000 | known)
        return
      }
      if (this.length < 0x4000) this.suffixOffsets.set(suffix, this.length)
      const label = Buffer.from(labels[i]!, 'latin1')
      this.u8(label.length)
      this.bytes(label)
    }
    this.u8(0)
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

export function ipv4Bytes(address: string): Uint8Array {
  const parts = address.split('.').map(Number)
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new RangeError(`not an IPv4 address: ${address}`)
  }
  return Uint8Array.from(parts)
}

export function ipv6Bytes(address: string): Uint8Array {
  const [head = '', tail] = address.split('::')
  const groups = (text: string | undefined): number[] =>
    text === undefined || text === '' ? [] : text.split(':').map((group) => parseInt(group, 16))
  const front = groups(head)
  const back = groups(tail)
  const zeros = tail === undefined ? 0 : 8 - front.length - back.length
  const all = [...front, ...new Array<number>(zeros).fill(0), ...back]
  if (all.length !== 8 || all.some((group) => !(group >= 0 && group <= 0xffff))) {
    throw new RangeError(`not an IPv6 address: ${address}`)
  }
  const bytes = new Uint8Array(16)
  all.forEach((group, i) => {
    bytes[i * 2] = group >> 8
    bytes[i * 2 + 1] = group & 0xff
  })
  return bytes
}

function writeRecord(writer: DnsWriter, record: DnsRecordSpec): void {
  const data = record.data
  writer.name(record.name)
  writer.u16(data.type === 'raw' ? data.rrType : RR_TYPE_NUMBER[data.type])
  writer.u16(record.rrClass ?? 1)
  writer.u32(record.ttl)
  const lengthAt = writer.length
  writer.u16(0)
  const start = writer.length
  switch (data.type) {
    case 'A':
      writer.bytes(ipv4Bytes(data.address))
      break
    case 'AAAA':
      writer.bytes(ipv6Bytes(data.address))
      break
    case 'NS':
    case 'CNAME':
    case 'PTR':
      writer.name(data.target)
      break
    case 'MX':
      writer.u16(data.preference)
      writer.name(data.exchange)
      break
    case 'TXT':
      for (const text of data.strings) {
        const bytes = Buffer.from(text, 'latin1')
        writer.u8(bytes.length)
        writer.bytes(bytes)
      }
      break
    case 'SRV':
      writer.u16(data.priority)
      writer.u16(data.weight)
      writer.u16(data.port)
      writer.name(data.target)
      break
    case 'SOA':
      writer.name(data.mname)
      writer.name(data.rname)
      for (const value of [data.serial, data.refresh, data.retry, data.expire, data.minimum])
        writer.u32(value)
      break
    case 'raw':
      writer.bytes(data.rdata)
      break
  }
  writer.setU16(lengthAt, writer.length - start)
}

export function buildDnsMessage(spec: DnsMessageSpec): Uint8Array {
  const writer = new DnsWriter(spec.compress ?? true)
  const questions = spec.questions ?? []
  const answers = spec.answers ?? []
  const authority = spec.authority ?? []
  const additional = spec.additional ?? []
  const flags =
    (spec.qr === true ? 0x8000 : 0) |
    ((spec.opcode ?? 0) << 11) |
    (spec.aa === true ? 0x0400 : 0) |
    (spec.tc === true ? 0x0200 : 0) |
    (spec.rd === true ? 0x0100 : 0) |
    (spec.ra === true ? 0x0080 : 0) |
    ((spec.z ?? 0) << 4) |
    (spec.rcode ?? 0)
  for (const value of [
    spec.id,
    flags,
    questions.length,
    answers.length,
    authority.length,
    additional.length,
  ]) {
    writer.u16(value)
  }
  for (const question of questions) {
    writer.name(question.name)
    writer.u16(question.qtype)
    writer.u16(question.qclass ?? 1)
  }
  for (const record of [...answers, ...authority, ...additional]) writeRecord(writer, record)
  return writer.result()
}

/** A recursive query for one name. */
export function buildDnsQuery(
  id: number,
  name: string,
  qtype: number,
  options: {rd?: boolean} = {},
): Uint8Array {
  return buildDnsMessage({id, rd: options.rd ?? true, questions: [{name, qtype}]})
}

/** A recursive resolver's answer to a query for `name`. */
export function buildDnsResponse(
  id: number,
  name: string,
  qtype: number,
  answers: DnsRecordSpec[],
  options: Partial<Omit<DnsMessageSpec, 'id' | 'questions' | 'answers'>> = {},
): Uint8Array {
  return buildDnsMessage({
    id,
    qr: true,
    rd: true,
    ra: true,
    ...options,
    questions: [{name, qtype}],
    answers,
  })
}

/** DNS over TCP: each message behind its 2-byte length. */
export function frameDnsOverTcp(...messages: Uint8Array[]): Uint8Array {
  const total = messages.reduce((sum, message) => sum + 2 + message.length, 0)
  const framed = new Uint8Array(total)
  let at = 0
  for (const message of messages) {
    framed[at] = message.length >> 8
    framed[at + 1] = message.length & 0xff
    framed.set(message, at + 2)
    at += 2 + message.length
  }
  return framed
}
