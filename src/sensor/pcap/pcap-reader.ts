// Classic libpcap files: a 24-byte file header (magic, version, snap length, link type) and then
// records of a 16-byte header (seconds, micro- or nanoseconds, captured length, wire length) plus
// the captured bytes. The magic tells the byte order and the timestamp resolution.

import {CaptureCorruptError, CaptureFormatError} from './capture-errors.js'
import {MAX_UNIT_BYTES} from './capture-frame.js'
import type {CaptureFrame, CaptureReadOptions, RecordParser} from './capture-frame.js'

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4
export const PCAP_MAGIC_NANO = 0xa1b23c4d
export const PCAP_FILE_HEADER_BYTES = 24
export const PCAP_RECORD_HEADER_BYTES = 16
/** A record longer than both the snap length and this is corrupt (libpcap's usual maximum snap length). */
export const PCAP_ABSURD_RECORD_BYTES = 256 * 1024
/** The link type sits in the low bits of the header's last word; the top bits carry FCS information. */
const LINKTYPE_MASK = 0x03ffffff

export interface PcapMagic {
  littleEndian: boolean
  nano: boolean
}

/** Recognises the four pcap magics (µs/ns, either byte order) in the 4 bytes at `pos`. */
export function readPcapMagic(buf: Uint8Array, pos: number): PcapMagic | undefined {
  const asLittle = (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0
  const asBig = (buf[pos + 3]! | (buf[pos + 2]! << 8) | (buf[pos + 1]! << 16) | (buf[pos]! << 24)) >>> 0
  if (asLittle === PCAP_MAGIC_MICRO || asLittle === PCAP_MAGIC_NANO) {
    return {littleEndian: true, nano: asLittle === PCAP_MAGIC_NANO}
  }
  if (asBig === PCAP_MAGIC_MICRO || asBig === PCAP_MAGIC_NANO) {
    return {littleEndian: false, nano: asBig === PCAP_MAGIC_NANO}
  }
  return undefined
}

export class PcapRecordParser implements RecordParser {
  readonly format = 'pcap'
  readonly skippedBlocks = 0
  needed = PCAP_FILE_HEADER_BYTES
  failure: CaptureFormatError | CaptureCorruptError | undefined = undefined
  /** From the file header, once read. */
  snaplen = 0
  linkType = 0
  versionMajor = 0
  versionMinor = 0
  private headerRead = false
  private littleEndian = true
  private fracPerSec = 1e6
  private nsecPerFrac = 1000
  /** Divide the fraction by this and floor it before scaling, to cut `ts` to whole microseconds. */
  private tsFracStep = 1
  private maxCapLen = 0
  private readonly microTimestamps: boolean

  constructor(options: CaptureReadOptions = {}) {
    this.microTimestamps = options.timestampPrecision === 'micro'
  }

  get unitName(): string {
    if (!this.headerRead) return 'file header'
    return this.needed === PCAP_RECORD_HEADER_BYTES ? 'record header' : 'record'
  }

  parse(buf: Uint8Array, pos: number, end: number, base: number, out: CaptureFrame[]): number {
    if (this.failure !== undefined) return pos
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    if (!this.headerRead) {
      if (end - pos < PCAP_FILE_HEADER_BYTES) {
        this.needed = PCAP_FILE_HEADER_BYTES
        return pos
      }
      if (!this.readFileHeader(buf, view, pos)) return pos
      pos += PCAP_FILE_HEADER_BYTES
    }
    const le = this.littleEndian
    const linkType = this.linkType
    const fracPerSec = this.fracPerSec
    const nsecPerFrac = this.nsecPerFrac
    const tsFracStep = this.tsFracStep
    const tsFracPerSec = fracPerSec / tsFracStep
    const maxCapLen = this.maxCapLen
    while (end - pos >= PCAP_RECORD_HEADER_BYTES) {
      const capLen = view.getUint32(pos + 8, le)
      if (capLen > maxCapLen) {
        this.failure = new CaptureCorruptError(
          base + pos,
          `record length ${capLen} exceeds the snap length ${this.snaplen} and the ${PCAP_ABSURD_RECORD_BYTES}-byte maximum`,
        )
        return pos
      }
      const recordEnd = pos + PCAP_RECORD_HEADER_BYTES + capLen
      if (recordEnd > end) {
        this.needed = PCAP_RECORD_HEADER_BYTES + capLen
        return pos
      }
      let sec = view.getUint32(pos, le)
      let frac = view.getUint32(pos + 4, le)
      if (frac >= fracPerSec) {
        // Some writers carry a full second in the fraction; fold it into the seconds.
        sec += Math.floor(frac / fracPerSec)
        frac %= fracPerSec
      }
      const wireLen = view.getUint32(pos + 12, le)
      out.push({
        ts: sec + (tsFracStep === 1 ? frac : Math.floor(frac / tsFracStep)) / tsFracPerSec,
        linkType,
        data: buf.subarray(pos + PCAP_RECORD_HEADER_BYTES, recordEnd),
        // A wire length below the captured length is impossible; keep data.length <= wireLen.
        wireLen: wireLen < capLen ? capLen : wireLen,
        tsSec: sec,
        tsNsec: frac * nsecPerFrac,
      })
      pos = recordEnd
    }
    this.needed = PCAP_RECORD_HEADER_BYTES
    return pos
  }

  private readFileHeader(buf: Uint8Array, view: DataView, pos: number): boolean {
    const magic = readPcapMagic(buf, pos)
    if (magic === undefined) {
      this.failure = new CaptureFormatError(
        `not a pcap file (magic 0x${view.getUint32(pos, false).toString(16)})`,
      )
      return false
    }
    const le = magic.littleEndian
    this.versionMajor = view.getUint16(pos + 4, le)
    this.versionMinor = view.getUint16(pos + 6, le)
    if (this.versionMajor !== 2) {
      this.failure = new CaptureFormatError(
        `unsupported pcap version ${this.versionMajor}.${this.versionMinor} (only 2.x exists)`,
      )
      return false
    }
    this.littleEndian = le
    this.snaplen = view.getUint32(pos + 16, le)
    this.linkType = view.getUint32(pos + 20, le) & LINKTYPE_MASK
    this.fracPerSec = magic.nano ? 1e9 : 1e6
    this.nsecPerFrac = magic.nano ? 1 : 1000
    this.tsFracStep = magic.nano && this.microTimestamps ? 1000 : 1
    this.maxCapLen = Math.min(Math.max(this.snaplen, PCAP_ABSURD_RECORD_BYTES), MAX_UNIT_BYTES)
    this.headerRead = true
    this.needed = PCAP_RECORD_HEADER_BYTES
    return true
  }
}
