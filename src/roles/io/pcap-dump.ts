// `--write-pcap FILE` (Zeek's -w): every frame a live worker captured, appended to a classic pcap file
// with microsecond timestamps (the resolution the sensor works in), so the same packets can be replayed offline later (`--pcap FILE`) and
// give the same logs. The kernel strips 802.1Q tags into ring metadata; they are put back into the
// frame here, so the file holds what was on the wire.

import {closeSync, openSync, writeSync} from 'node:fs'
import {EnvironmentError} from '../../engine/errors.js'
import type {RawFrame} from '../../sensor/types.js'

const PCAP_USEC_MAGIC = 0xa1b2c3d4
const FLUSH_BYTES = 1024 * 1024

export class PcapDump {
  readonly file: string
  private readonly fd: number
  private chunks: Buffer[] = []
  private pendingBytes = 0
  private closed = false

  constructor(file: string, linkType: number, snaplen: number) {
    this.file = file
    try {
      this.fd = openSync(file, 'w', 0o640)
    } catch (error) {
      throw new EnvironmentError(
        `--write-pcap: cannot open ${file}: ${(error as Error).message}`,
        'DSIEM_E_PCAP_DUMP',
        {
          cause: error,
        },
      )
    }
    const header = Buffer.alloc(24)
    header.writeUInt32LE(PCAP_USEC_MAGIC, 0)
    header.writeUInt16LE(2, 4)
    header.writeUInt16LE(4, 6)
    header.writeUInt32LE(snaplen, 16)
    header.writeUInt32LE(linkType, 20)
    this.push(header)
  }

  add(frame: RawFrame): void {
    if (this.closed) return
    const data = frame.vlanTci === undefined ? frame.data : withVlanTag(frame.data, frame.vlanTci)
    const extra = data.length - frame.data.length
    const header = Buffer.alloc(16)
    // Rounded, not truncated: `ts` is a double a little below or above the whole microsecond it stands for.
    let seconds = Math.floor(frame.ts)
    let micros = Math.round((frame.ts - seconds) * 1e6)
    if (micros === 1_000_000) {
      seconds++
      micros = 0
    }
    header.writeUInt32LE(seconds, 0)
    header.writeUInt32LE(micros, 4)
    header.writeUInt32LE(data.length, 8)
    header.writeUInt32LE(frame.wireLen + extra, 12)
    this.push(header)
    this.push(Buffer.from(data.buffer, data.byteOffset, data.length).subarray())
    if (this.pendingBytes >= FLUSH_BYTES) this.flush()
  }

  flush(): void {
    if (this.chunks.length === 0) return
    const bytes = Buffer.concat(this.chunks)
    this.chunks = []
    this.pendingBytes = 0
    let offset = 0
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset)
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    closeSync(this.fd)
  }

  private push(chunk: Buffer): void {
    // Frames are views into ring blocks the kernel takes back on release: copy them now.
    this.chunks.push(Buffer.from(chunk))
    this.pendingBytes += chunk.length
  }
}

/** The frame with an 802.1Q tag inserted after the two MAC addresses. */
function withVlanTag(frame: Uint8Array, tci: number): Uint8Array {
  if (frame.length < 12) return frame
  const tagged = new Uint8Array(frame.length + 4)
  tagged.set(frame.subarray(0, 12), 0)
  tagged[12] = 0x81
  tagged[13] = 0x00
  tagged[14] = (tci >> 8) & 0xff
  tagged[15] = tci & 0xff
  tagged.set(frame.subarray(12), 16)
  return tagged
}
