// pcapng files: a sequence of blocks (type, total length, body, total length again). A Section
// Header Block starts each section and fixes its byte order; Interface Description Blocks give each
// interface's link type, snap length and timestamp unit; packets arrive in Enhanced, Simple or
// (obsolete) Packet Blocks. Blocks that carry no packets are skipped and counted.

import {CaptureCorruptError, CaptureFormatError} from './capture-errors.js'
import {MAX_UNIT_BYTES} from './capture-frame.js'
import type {CaptureFrame, CaptureReadOptions, RecordParser} from './capture-frame.js'
import {TimestampScale} from './timestamp-scale.js'

export const PCAPNG_BLOCK = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  PACKET: 0x00000002,
  SIMPLE_PACKET: 0x00000003,
  NAME_RESOLUTION: 0x00000004,
  INTERFACE_STATISTICS: 0x00000005,
  ENHANCED_PACKET: 0x00000006,
} as const

export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d
export const PCAPNG_OPTION = {END: 0, IF_TSRESOL: 9, IF_TSOFFSET: 14} as const
/** Type, length and trailing length: the smallest block there is. */
const BLOCK_OVERHEAD_BYTES = 12
/** Each block type's fixed part plus the overhead: shorter blocks are corrupt. */
const MIN_SECTION_HEADER_BYTES = 28
const MIN_INTERFACE_BYTES = 20
const MIN_PACKET_BYTES = 32
const MIN_SIMPLE_PACKET_BYTES = 16
/** Packet data starts here in Enhanced and obsolete Packet Blocks. */
const PACKET_DATA_OFFSET = 28
const SIMPLE_PACKET_DATA_OFFSET = 12
const DEFAULT_TSRESOL = 6
const TWO_POW_32 = 4294967296

interface PcapngInterface {
  linkType: number
  /** 0 means no limit. */
  snaplen: number
  scale: TimestampScale
  /** if_tsoffset: seconds added to every timestamp of the interface. */
  offsetSec: number
}

export class PcapngBlockParser implements RecordParser {
  readonly format = 'pcapng'
  needed = BLOCK_OVERHEAD_BYTES
  failure: CaptureFormatError | CaptureCorruptError | undefined = undefined
  skippedBlocks = 0
  sections = 0
  /** Interfaces of the current section, by interface id. */
  private interfaces: PcapngInterface[] = []
  private littleEndian = true
  /** Simple Packet Blocks have no timestamp; they get the section's previous packet time. */
  private lastSec = 0
  private lastNsec = 0
  private lastTs = 0
  private readonly microTimestamps: boolean

  constructor(options: CaptureReadOptions = {}) {
    this.microTimestamps = options.timestampPrecision === 'micro'
  }

  get unitName(): string {
    return this.needed === BLOCK_OVERHEAD_BYTES ? 'block header' : 'block'
  }

  /** Link types of the current section's interfaces, by interface id. */
  get interfaceLinkTypes(): number[] {
    return this.interfaces.map((iface) => iface.linkType)
  }

  parse(buf: Uint8Array, pos: number, end: number, base: number, out: CaptureFrame[]): number {
    if (this.failure !== undefined) return pos
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    while (end - pos >= BLOCK_OVERHEAD_BYTES) {
      // The section header's type reads the same in both byte orders; its byte-order magic decides
      // how its own length (and everything up to the next section) is read.
      const type = view.getUint32(pos, this.littleEndian)
      let le = this.littleEndian
      if (type === PCAPNG_BLOCK.SECTION_HEADER) {
        const magic = view.getUint32(pos + 8, true)
        if (magic === PCAPNG_BYTE_ORDER_MAGIC) le = true
        else if (magic === 0x4d3c2b1a) le = false
        else {
          this.fail(base + pos, `section header has an unknown byte-order magic 0x${magic.toString(16)}`)
          return pos
        }
      }
      const length = view.getUint32(pos + 4, le)
      if (length < BLOCK_OVERHEAD_BYTES || length % 4 !== 0 || length > MAX_UNIT_BYTES) {
        this.fail(base + pos, `block of type 0x${type.toString(16)} has an impossible length ${length}`)
        return pos
      }
      if (length > end - pos) {
        this.needed = length
        return pos
      }
      if (view.getUint32(pos + length - 4, le) !== length) {
        this.fail(base + pos, `block of type 0x${type.toString(16)}: trailing length differs from ${length}`)
        return pos
      }
      let ok: boolean
      switch (type) {
        case PCAPNG_BLOCK.SECTION_HEADER:
          ok = this.readSectionHeader(view, pos, length, le, base)
          break
        case PCAPNG_BLOCK.INTERFACE_DESCRIPTION:
          ok = this.readInterface(view, pos, length, base)
          break
        case PCAPNG_BLOCK.ENHANCED_PACKET:
        case PCAPNG_BLOCK.PACKET:
          ok = this.readPacket(buf, view, pos, length, type, base, out)
          break
        case PCAPNG_BLOCK.SIMPLE_PACKET:
          ok = this.readSimplePacket(buf, view, pos, length, base, out)
          break
        default:
          this.skippedBlocks++
          ok = true
      }
      if (!ok) return pos
      pos += length
    }
    this.needed = BLOCK_OVERHEAD_BYTES
    return pos
  }

  /** Problems in the file's first section header mean it is no pcapng file at all. */
  private fail(offset: number, detail: string): void {
    this.failure =
      this.sections === 0
        ? new CaptureFormatError(`not a pcapng file: ${detail}`)
        : new CaptureCorruptError(offset, detail)
  }

  private readSectionHeader(view: DataView, pos: number, length: number, le: boolean, base: number): boolean {
    if (length < MIN_SECTION_HEADER_BYTES) {
      this.fail(base + pos, `section header block too short (${length} bytes)`)
      return false
    }
    const major = view.getUint16(pos + 12, le)
    if (major !== 1) {
      const minor = view.getUint16(pos + 14, le)
      this.fail(base + pos, `unsupported version ${major}.${minor}`)
      return false
    }
    // The section length (bytes 16-23) may be -1 (unknown); blocks are walked one by one anyway.
    this.littleEndian = le
    this.interfaces = []
    this.lastSec = 0
    this.lastNsec = 0
    this.lastTs = 0
    this.sections++
    return true
  }

  private readInterface(view: DataView, pos: number, length: number, base: number): boolean {
    if (length < MIN_INTERFACE_BYTES) {
      this.fail(base + pos, `interface description block too short (${length} bytes)`)
      return false
    }
    const le = this.littleEndian
    const linkType = view.getUint16(pos + 8, le)
    const snaplen = view.getUint32(pos + 12, le)
    let tsresol = DEFAULT_TSRESOL
    let offsetSec = 0
    const optionsEnd = pos + length - 4
    let option = pos + 16
    while (optionsEnd - option >= 4) {
      const code = view.getUint16(option, le)
      const valueLength = view.getUint16(option + 2, le)
      if (code === PCAPNG_OPTION.END || option + 4 + valueLength > optionsEnd) break
      if (code === PCAPNG_OPTION.IF_TSRESOL && valueLength >= 1) {
        tsresol = view.getUint8(option + 4)
      } else if (code === PCAPNG_OPTION.IF_TSOFFSET && valueLength >= 8) {
        const high = le ? view.getInt32(option + 8, true) : view.getInt32(option + 4, false)
        const low = le ? view.getUint32(option + 4, true) : view.getUint32(option + 8, false)
        offsetSec = high * TWO_POW_32 + low
      }
      option += 4 + ((valueLength + 3) & ~3)
    }
    this.interfaces.push({linkType, snaplen, scale: new TimestampScale(tsresol), offsetSec})
    return true
  }

  private interfaceFor(id: number, pos: number, base: number): PcapngInterface | undefined {
    const iface = this.interfaces[id]
    if (iface === undefined) {
      this.fail(base + pos, `packet for interface ${id}, but the section describes ${this.interfaces.length}`)
    }
    return iface
  }

  private readPacket(
    buf: Uint8Array,
    view: DataView,
    pos: number,
    length: number,
    type: number,
    base: number,
    out: CaptureFrame[],
  ): boolean {
    if (length < MIN_PACKET_BYTES) {
      this.fail(base + pos, `packet block too short (${length} bytes)`)
      return false
    }
    const le = this.littleEndian
    const id =
      type === PCAPNG_BLOCK.ENHANCED_PACKET ? view.getUint32(pos + 8, le) : view.getUint16(pos + 8, le)
    const iface = this.interfaceFor(id, pos, base)
    if (iface === undefined) return false
    const capLen = view.getUint32(pos + 20, le)
    if (capLen > length - MIN_PACKET_BYTES) {
      this.fail(base + pos, `captured length ${capLen} does not fit its ${length}-byte block`)
      return false
    }
    const wireLen = view.getUint32(pos + 24, le)
    const scale = iface.scale
    scale.split(view.getUint32(pos + 12, le), view.getUint32(pos + 16, le))
    const sec = scale.sec + iface.offsetSec
    const nsec = scale.nsec
    const ts = sec + (this.microTimestamps ? Math.floor(nsec / 1000) / 1e6 : scale.rem / scale.unitsPerSec)
    const dataStart = pos + PACKET_DATA_OFFSET
    out.push({
      ts,
      linkType: iface.linkType,
      data: buf.subarray(dataStart, dataStart + capLen),
      wireLen: wireLen < capLen ? capLen : wireLen,
      tsSec: sec,
      tsNsec: nsec,
    })
    this.lastSec = sec
    this.lastNsec = nsec
    this.lastTs = ts
    return true
  }

  private readSimplePacket(
    buf: Uint8Array,
    view: DataView,
    pos: number,
    length: number,
    base: number,
    out: CaptureFrame[],
  ): boolean {
    if (length < MIN_SIMPLE_PACKET_BYTES) {
      this.fail(base + pos, `simple packet block too short (${length} bytes)`)
      return false
    }
    const iface = this.interfaceFor(0, pos, base)
    if (iface === undefined) return false
    const wireLen = view.getUint32(pos + 8, this.littleEndian)
    // The captured length is implied: the wire length cut to the snap length (and to the block).
    let capLen = Math.min(wireLen, length - MIN_SIMPLE_PACKET_BYTES)
    if (iface.snaplen !== 0 && iface.snaplen < capLen) capLen = iface.snaplen
    const dataStart = pos + SIMPLE_PACKET_DATA_OFFSET
    out.push({
      ts: this.lastTs,
      linkType: iface.linkType,
      data: buf.subarray(dataStart, dataStart + capLen),
      wireLen,
      tsSec: this.lastSec,
      tsNsec: this.lastNsec,
    })
    return true
  }
}
