// Writes classic pcap files (for tests, the benchmark and the fuzzer, and for traces a worker saves).
// Whatever it writes reads back through pcap-reader.ts unchanged.

import {LINKTYPE} from '../types.js'
import {ByteSink} from './byte-sink.js'
import {
  PCAP_FILE_HEADER_BYTES,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
  PCAP_RECORD_HEADER_BYTES,
} from './pcap-reader.js'

export type TimestampResolution = 'micro' | 'nano'
export type ByteOrder = 'little' | 'big'

export interface PcapWriterOptions {
  /** LINKTYPE_* of every frame; Ethernet by default. */
  linkType?: number
  /** Frames are cut to this many bytes (their wire length is kept); 262144 by default. */
  snaplen?: number
  resolution?: TimestampResolution
  byteOrder?: ByteOrder
}

const DEFAULT_SNAPLEN = 262144
const MAX_UINT32 = 0xffffffff

export class PcapWriter {
  readonly linkType: number
  readonly snaplen: number
  readonly resolution: TimestampResolution
  readonly byteOrder: ByteOrder
  private readonly sink = new ByteSink()
  private readonly littleEndian: boolean
  private readonly fracPerSec: number
  private count = 0

  constructor(options: PcapWriterOptions = {}) {
    this.linkType = options.linkType ?? LINKTYPE.ETHERNET
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN
    this.resolution = options.resolution ?? 'micro'
    this.byteOrder = options.byteOrder ?? 'little'
    this.littleEndian = this.byteOrder === 'little'
    this.fracPerSec = this.resolution === 'nano' ? 1e9 : 1e6
    const le = this.littleEndian
    const at = this.sink.reserve(PCAP_FILE_HEADER_BYTES)
    const view = this.sink.view
    view.setUint32(at, this.resolution === 'nano' ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le)
    view.setUint16(at + 4, 2, le)
    view.setUint16(at + 6, 4, le)
    // thiszone and sigfigs stay 0, as every modern writer leaves them.
    view.setUint32(at + 16, this.snaplen, le)
    view.setUint32(at + 20, this.linkType, le)
  }

  get frameCount(): number {
    return this.count
  }

  /** Adds a frame at `ts` seconds, rounded to the file's resolution. */
  add(ts: number, data: Uint8Array, wireLen: number = data.length): void {
    let sec = Math.floor(ts)
    let frac = Math.round((ts - sec) * this.fracPerSec)
    if (frac === this.fracPerSec) {
      sec += 1
      frac = 0
    }
    this.addRecord(sec, frac, data, wireLen)
  }

  /** Adds a frame at an exact time; a microsecond file drops the sub-microsecond part. */
  addExact(tsSec: number, tsNsec: number, data: Uint8Array, wireLen: number = data.length): void {
    if (!Number.isInteger(tsNsec) || tsNsec < 0 || tsNsec >= 1e9)
      throw new RangeError(`nanoseconds out of range: ${tsNsec}`)
    this.addRecord(tsSec, this.resolution === 'nano' ? tsNsec : Math.floor(tsNsec / 1000), data, wireLen)
  }

  /** The file so far. */
  toBuffer(): Uint8Array {
    return this.sink.toBytes()
  }

  /** Bytes written since the writer was made or last drained. */
  get bufferedBytes(): number {
    return this.sink.length
  }

  /**
   * Streaming use: the bytes written since the last call (the file header first), handed over to be
   * appended to a file; the writer keeps going from there.
   */
  takeBytes(): Uint8Array {
    return this.sink.drain()
  }

  private addRecord(sec: number, frac: number, data: Uint8Array, wireLen: number): void {
    if (!Number.isInteger(sec) || sec < 0 || sec > MAX_UINT32)
      throw new RangeError(`pcap cannot store time ${sec}`)
    if (!Number.isInteger(wireLen) || wireLen < 0 || wireLen > MAX_UINT32) {
      throw new RangeError(`wire length out of range: ${wireLen}`)
    }
    const capLen = this.snaplen > 0 && data.length > this.snaplen ? this.snaplen : data.length
    const le = this.littleEndian
    const at = this.sink.reserve(PCAP_RECORD_HEADER_BYTES + capLen)
    const view = this.sink.view
    view.setUint32(at, sec, le)
    view.setUint32(at + 4, frac, le)
    view.setUint32(at + 8, capLen, le)
    view.setUint32(at + 12, Math.max(wireLen, capLen), le)
    this.sink.set(capLen === data.length ? data : data.subarray(0, capLen), at + PCAP_RECORD_HEADER_BYTES)
    this.count++
  }
}
