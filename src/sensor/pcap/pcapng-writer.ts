// Writes small pcapng files for tests and the fuzzer: section headers (either byte order),
// interface descriptions with if_tsresol/if_tsoffset, Enhanced and Simple Packet Blocks, and raw
// blocks of any type. Whatever it writes reads back through pcapng-reader.ts unchanged.

import {ByteSink} from './byte-sink.js'
import type {ByteOrder} from './pcap-writer.js'
import {PCAPNG_BLOCK, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_OPTION} from './pcapng-reader.js'

export interface PcapngInterfaceOptions {
  linkType: number
  /** 0 (the default) means no limit. */
  snaplen?: number
  /** Raw if_tsresol byte: 6 = µs (the default, then no option is written), 9 = ns, 0x80 | n = 2^-n. */
  tsresol?: number
  /** if_tsoffset in seconds; timestamps are written relative to it. */
  tsoffset?: number
}

interface WrittenInterface {
  snaplen: number
  unitsPerSec: bigint
  offsetSec: number
}

const NSEC_PER_SEC = 1_000_000_000n
const MAX_UINT64 = (1n << 64n) - 1n

function padded(length: number): number {
  return (length + 3) & ~3
}

export class PcapngWriter {
  private readonly sink = new ByteSink()
  private littleEndian = true
  private interfaces: WrittenInterface[] = []
  private count = 0

  constructor(options: {byteOrder?: ByteOrder} = {}) {
    this.newSection(options)
  }

  get frameCount(): number {
    return this.count
  }

  /** Starts a section (the constructor starts the first); its interfaces start over from id 0. */
  newSection(options: {byteOrder?: ByteOrder} = {}): void {
    this.littleEndian = (options.byteOrder ?? 'little') === 'little'
    this.interfaces = []
    const at = this.beginBlock(PCAPNG_BLOCK.SECTION_HEADER, 16)
    const view = this.sink.view
    const le = this.littleEndian
    view.setUint32(at + 8, PCAPNG_BYTE_ORDER_MAGIC, le)
    view.setUint16(at + 12, 1, le)
    view.setUint16(at + 14, 0, le)
    // Section length -1: not known in advance.
    view.setUint32(at + 16, 0xffffffff, le)
    view.setUint32(at + 20, 0xffffffff, le)
  }

  /** Describes an interface of the current section and returns its id. */
  addInterface(options: PcapngInterfaceOptions): number {
    const tsresol = options.tsresol ?? 6
    const offsetSec = options.tsoffset ?? 0
    const optionBytes = (tsresol !== 6 ? 8 : 0) + (offsetSec !== 0 ? 12 : 0)
    const at = this.beginBlock(
      PCAPNG_BLOCK.INTERFACE_DESCRIPTION,
      8 + optionBytes + (optionBytes > 0 ? 4 : 0),
    )
    const view = this.sink.view
    const le = this.littleEndian
    view.setUint16(at + 8, options.linkType, le)
    view.setUint32(at + 12, options.snaplen ?? 0, le)
    let option = at + 16
    if (tsresol !== 6) {
      view.setUint16(option, PCAPNG_OPTION.IF_TSRESOL, le)
      view.setUint16(option + 2, 1, le)
      view.setUint8(option + 4, tsresol)
      option += 8
    }
    if (offsetSec !== 0) {
      view.setUint16(option, PCAPNG_OPTION.IF_TSOFFSET, le)
      view.setUint16(option + 2, 8, le)
      view.setBigInt64(option + 4, BigInt(offsetSec), le)
      option += 12
    }
    // The end-of-options marker (code 0, length 0) is already zero.
    const exponent = BigInt(tsresol & 0x7f)
    const unitsPerSec = (tsresol & 0x80) !== 0 ? 1n << exponent : 10n ** exponent
    this.interfaces.push({snaplen: options.snaplen ?? 0, unitsPerSec, offsetSec})
    return this.interfaces.length - 1
  }

  /**
   * Adds an Enhanced Packet Block at `ts` seconds (rounded to the nanosecond, then down to the
   * interface's unit).
   */
  add(interfaceId: number, ts: number, data: Uint8Array, wireLen: number = data.length): void {
    let sec = Math.floor(ts)
    let nsec = Math.round((ts - sec) * 1e9)
    if (nsec === 1e9) {
      sec += 1
      nsec = 0
    }
    this.addExact(interfaceId, sec, nsec, data, wireLen)
  }

  /** Adds an Enhanced Packet Block at an exact time (units finer than the interface's are dropped). */
  addExact(
    interfaceId: number,
    tsSec: number,
    tsNsec: number,
    data: Uint8Array,
    wireLen: number = data.length,
  ): void {
    const iface = this.interfaceAt(interfaceId)
    if (!Number.isInteger(tsSec) || !Number.isInteger(tsNsec) || tsNsec < 0 || tsNsec >= 1e9) {
      throw new RangeError(`bad timestamp ${tsSec}.${tsNsec}`)
    }
    const units =
      BigInt(tsSec - iface.offsetSec) * iface.unitsPerSec +
      (BigInt(tsNsec) * iface.unitsPerSec) / NSEC_PER_SEC
    if (units < 0n || units > MAX_UINT64)
      throw new RangeError(`timestamp ${tsSec}.${tsNsec} does not fit the interface`)
    const capLen = iface.snaplen > 0 && data.length > iface.snaplen ? iface.snaplen : data.length
    const at = this.beginBlock(PCAPNG_BLOCK.ENHANCED_PACKET, 20 + padded(capLen))
    const view = this.sink.view
    const le = this.littleEndian
    view.setUint32(at + 8, interfaceId, le)
    view.setUint32(at + 12, Number(units >> 32n), le)
    view.setUint32(at + 16, Number(units & 0xffffffffn), le)
    view.setUint32(at + 20, capLen, le)
    view.setUint32(at + 24, Math.max(wireLen, capLen), le)
    this.sink.set(capLen === data.length ? data : data.subarray(0, capLen), at + 28)
    this.count++
  }

  /**
   * Adds a Simple Packet Block (interface 0, no timestamp). Its captured length is implied by the
   * wire length and the snap length, so `data` must be exactly that long.
   */
  addSimplePacket(data: Uint8Array, wireLen: number = data.length): void {
    const iface = this.interfaceAt(0)
    const implied = iface.snaplen > 0 ? Math.min(wireLen, iface.snaplen) : wireLen
    if (data.length !== implied) {
      throw new RangeError(
        `a simple packet of wire length ${wireLen} must carry ${implied} bytes, not ${data.length}`,
      )
    }
    const at = this.beginBlock(PCAPNG_BLOCK.SIMPLE_PACKET, 4 + padded(data.length))
    this.sink.view.setUint32(at + 8, wireLen, this.littleEndian)
    this.sink.set(data, at + 12)
    this.count++
  }

  /** Adds a block of any type with the given body (padded to 4 bytes). */
  addBlock(type: number, body: Uint8Array): void {
    const at = this.beginBlock(type, padded(body.length))
    this.sink.set(body, at + 8)
  }

  toBuffer(): Uint8Array {
    return this.sink.toBytes()
  }

  private interfaceAt(id: number): WrittenInterface {
    const iface = this.interfaces[id]
    if (iface === undefined) throw new RangeError(`interface ${id} is not described in this section`)
    return iface
  }

  /** Reserves a block with a `bodyBytes` body, writes type and both lengths, returns its offset. */
  private beginBlock(type: number, bodyBytes: number): number {
    const length = 12 + bodyBytes
    const at = this.sink.reserve(length)
    const view = this.sink.view
    view.setUint32(at, type, this.littleEndian)
    view.setUint32(at + 4, length, this.littleEndian)
    view.setUint32(at + length - 4, length, this.littleEndian)
    return at
  }
}
