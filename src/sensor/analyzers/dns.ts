// DNS analyser (UDP and TCP): parses each message, pairs queries with replies the way Zeek's
// base/protocols/dns scripts do (queues of pending queries and of pending replies per trans_id)
// and writes one dns.log record per pair when it completes, the rest when the connection ends.

import type {ConnView, LogRecord, ProtocolAnalyzer, SensorSink} from '../types.js'
import {connFields, connWeird} from './conn-weird.js'
import {parseDnsMessage, type DnsMessage} from './dns-message.js'
import {qclassName, qtypeName, rcodeName} from './dns-names.js'

/** Zeek's DNS::max_pending_query_ids and DNS::max_pending_msgs. */
const MAX_PENDING_IDS = 50
const MAX_PENDING_PER_ID = 50

/** One dns.log record being built (Zeek's DNS::Info). */
interface DnsTransaction {
  ts: number
  transId: number
  query?: string
  qclass?: number
  qtype?: number
  rcode?: number
  rtt?: number
  aa: boolean
  tc: boolean
  rd: boolean
  ra: boolean
  z: number
  answers?: string[]
  ttls?: number[]
  rejected: boolean
  sawQuery: boolean
  sawReply: boolean
}

/** TCP framing state of one direction: messages are prefixed by a 2-byte length. */
interface TcpFraming {
  /** The high byte of a length prefix split across chunks, or -1. */
  lengthHigh: number
  /** A message whose bytes are still arriving (sized once, filled in place: linear in its length). */
  message: Uint8Array | undefined
  fill: number
  /** A gap made the framing unrecoverable for this direction. */
  lost: boolean
}

const newFraming = (): TcpFraming => ({lengthHigh: -1, message: undefined, fill: 0, lost: false})

export class DnsAnalyzer implements ProtocolAnalyzer {
  readonly service = 'dns'
  confirmed = false
  failed = false
  private readonly conn: ConnView
  private readonly sink: SensorSink
  private readonly overTcp: boolean
  private readonly pendingQueries = new Map<number, DnsTransaction[]>()
  private readonly pendingReplies = new Map<number, DnsTransaction[]>()
  private readonly framing: [orig: TcpFraming, resp: TcpFraming] = [newFraming(), newFraming()]
  private weirdTs = 0
  private readonly reportWeird = (name: string, addl?: string): void => {
    this.sink.weird(connWeird(this.conn, this.weirdTs, name, addl))
  }

  constructor(conn: ConnView, sink: SensorSink) {
    this.conn = conn
    this.sink = sink
    this.overTcp = conn.id.proto === 'tcp'
  }

  deliver(isOrig: boolean, data: Uint8Array, ts: number): void {
    if (this.failed) return
    if (!this.overTcp) {
      this.message(data, ts)
      return
    }
    const framing = this.framing[isOrig ? 0 : 1]
    if (framing.lost) return
    let pos = 0
    while (pos < data.length && !this.failed) {
      if (framing.message === undefined) {
        let length: number
        if (framing.lengthHigh >= 0) {
          length = (framing.lengthHigh << 8) | data[pos++]!
          framing.lengthHigh = -1
        } else if (data.length - pos >= 2) {
          length = (data[pos]! << 8) | data[pos + 1]!
          pos += 2
        } else {
          framing.lengthHigh = data[pos++]!
          continue
        }
        if (length === 0) continue
        if (data.length - pos >= length) {
          // The whole message is in this chunk: parse it in place.
          this.message(data.subarray(pos, pos + length), ts)
          pos += length
          continue
        }
        framing.message = new Uint8Array(length)
        framing.fill = 0
      }
      const take = Math.min(framing.message.length - framing.fill, data.length - pos)
      framing.message.set(data.subarray(pos, pos + take), framing.fill)
      framing.fill += take
      pos += take
      if (framing.fill === framing.message.length) {
        const message = framing.message
        framing.message = undefined
        this.message(message, ts)
      }
    }
  }

  gap(isOrig: boolean, _length: number, _ts: number): void {
    if (!this.overTcp) return
    const framing = this.framing[isOrig ? 0 : 1]
    framing.lost = true
    framing.message = undefined
  }

  finish(_ts: number): void {
    if (this.failed) return
    const leftover = [...this.pendingQueries.values(), ...this.pendingReplies.values()].flat()
    this.pendingQueries.clear()
    this.pendingReplies.clear()
    leftover.sort((a, b) => a.ts - b.ts)
    for (const transaction of leftover) this.write(transaction)
  }

  private message(data: Uint8Array, ts: number): void {
    this.weirdTs = ts
    const message = parseDnsMessage(data, this.reportWeird, {allowLongLabels: this.conn.id.respP === 137})
    if (message === undefined || message.violation !== undefined || !message.complete) {
      // Before the first good message this is taken as non-DNS traffic on a DNS port.
      if (!this.confirmed) {
        this.failed = true
        return
      }
      if (message === undefined || message.violation !== undefined) return
    } else {
      this.confirmed = true
    }
    this.track(message, ts)
  }

  /** Zeek's set_session + dns_request/do_reply/dns_end for one message. */
  private track(message: DnsMessage, ts: number): void {
    const isQuery = !message.qr
    const transaction = isQuery ? this.matchQuery(message, ts) : this.matchReply(message, ts)
    const question = message.questions[message.questions.length - 1]
    if (isQuery) {
      transaction.sawQuery = true
      transaction.rd = message.rd
      transaction.tc = message.tc
      transaction.z = message.z
      if (question !== undefined)
        this.setQuestion(transaction, question.name, question.qtype, question.qclass)
    } else {
      transaction.sawReply = true
      if (transaction.rcode === undefined) transaction.rcode = message.rcode
      if (question !== undefined && transaction.query === undefined) {
        this.setQuestion(transaction, question.name, question.qtype, question.qclass)
      }
      if (question !== undefined && message.ancount === 0 && message.nscount === 0 && message.arcount === 0) {
        transaction.rejected = true
      }
      if (message.opcode === 0) this.addAnswers(transaction, message, ts)
    }
    if (transaction.sawQuery && transaction.sawReply) this.write(transaction)
  }

  private setQuestion(transaction: DnsTransaction, name: string, qtype: number, qclass: number): void {
    transaction.query = name
    transaction.qtype = qtype
    transaction.qclass = qclass
  }

  /** As Zeek's do_reply: AA, RA and rtt come with the first answer RR; empty renderings are not logged. */
  private addAnswers(transaction: DnsTransaction, message: DnsMessage, ts: number): void {
    for (const answer of message.answers) {
      transaction.aa = message.aa
      transaction.ra = message.ra
      if (transaction.rtt === undefined && transaction.sawQuery && ts > transaction.ts) {
        transaction.rtt = ts - transaction.ts
      }
      if (answer.reply === '') continue
      ;(transaction.answers ??= []).push(answer.reply)
      ;(transaction.ttls ??= []).push(answer.ttl)
    }
  }

  private matchQuery(message: DnsMessage, ts: number): DnsTransaction {
    const waiting = takeMatching(this.pendingReplies, message)
    if (waiting !== undefined) return waiting
    const transaction = newTransaction(message.id, ts)
    this.enqueue(this.pendingQueries, transaction)
    return transaction
  }

  private matchReply(message: DnsMessage, ts: number): DnsTransaction {
    const waiting = takeMatching(this.pendingQueries, message)
    if (waiting !== undefined) return waiting
    this.reportWeird('dns_unmatched_reply')
    const transaction = newTransaction(message.id, ts)
    this.enqueue(this.pendingReplies, transaction)
    return transaction
  }

  /** Zeek's enqueue_new_msg: past the limits, everything pending is logged as never to be matched. */
  private enqueue(queues: Map<number, DnsTransaction[]>, transaction: DnsTransaction): void {
    let queue = queues.get(transaction.transId)
    if (queue === undefined) {
      if (queues.size > MAX_PENDING_IDS) {
        for (const stale of queues.values()) this.writeUnmatched(stale)
        queues.clear()
      }
      queues.set(transaction.transId, (queue = []))
    } else if (queue.length > MAX_PENDING_PER_ID) {
      this.writeUnmatched(queue)
      queue.length = 0
    }
    queue.push(transaction)
  }

  private writeUnmatched(queue: readonly DnsTransaction[]): void {
    for (const transaction of queue) {
      this.sink.weird(connWeird(this.conn, this.weirdTs, 'dns_unmatched_msg'))
      this.write(transaction)
    }
  }

  private write(transaction: DnsTransaction): void {
    const record: LogRecord = {ts: transaction.ts, ...connFields(this.conn), proto: this.conn.id.proto}
    record['trans_id'] = transaction.transId
    if (transaction.rtt !== undefined) record['rtt'] = transaction.rtt
    if (transaction.query !== undefined) record['query'] = transaction.query
    if (transaction.qclass !== undefined) {
      record['qclass'] = transaction.qclass
      record['qclass_name'] = qclassName(transaction.qclass)
    }
    if (transaction.qtype !== undefined) {
      record['qtype'] = transaction.qtype
      record['qtype_name'] = qtypeName(transaction.qtype)
    }
    if (transaction.rcode !== undefined) {
      record['rcode'] = transaction.rcode
      record['rcode_name'] = rcodeName(transaction.rcode)
    }
    record['AA'] = transaction.aa
    record['TC'] = transaction.tc
    record['RD'] = transaction.rd
    record['RA'] = transaction.ra
    record['Z'] = transaction.z
    if (transaction.answers !== undefined) record['answers'] = transaction.answers
    if (transaction.ttls !== undefined) record['TTLs'] = transaction.ttls
    record['rejected'] = transaction.rejected
    this.sink.log('dns', record)
  }
}

function newTransaction(transId: number, ts: number): DnsTransaction {
  return {
    ts,
    transId,
    aa: false,
    tc: false,
    rd: false,
    ra: false,
    z: 0,
    rejected: false,
    sawQuery: false,
    sawReply: false,
  }
}

/**
 * The pending transaction a message answers: same trans_id, preferring one that asked the same
 * question (so two outstanding queries sharing an id still pair correctly), else the oldest.
 */
function takeMatching(
  queues: Map<number, DnsTransaction[]>,
  message: DnsMessage,
): DnsTransaction | undefined {
  const queue = queues.get(message.id)
  if (queue === undefined || queue.length === 0) return undefined
  const name = message.questions[0]?.name
  let index = name === undefined ? 0 : queue.findIndex((pending) => pending.query === name)
  if (index < 0) index = 0
  const [transaction] = queue.splice(index, 1)
  if (queue.length === 0) queues.delete(message.id)
  return transaction
}
