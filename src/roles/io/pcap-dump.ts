// `--write-pcap FILE` (Zeek's -w): every frame a live worker captured, appended to a classic pcap file
// with microsecond timestamps (the resolution the sensor works in), so the same packets can be
// replayed offline later (`--pcap FILE`) and give the same logs. The records are encoded by the
// sensor's PcapWriter and appended here in large writes. The kernel strips 802.1Q tags into ring
// metadata; they are put back into the frame, so the file holds what was on the wire.

import {closeSync, openSync} from 'node:fs'
import {EnvironmentError} from '../../engine/errors.js'
import {PcapWriter} from '../../sensor/pcap/index.js'
import type {RawFrame} from '../../sensor/types.js'
import {writeAllSync} from './write-all.js'

const FLUSH_BYTES = 1024 * 1024
const VLAN_TAG_BYTES = 4

export class PcapDump {
  readonly file: string
  private readonly fd: number
  private readonly writer: PcapWriter
  private closed = false

  constructor(file: string, linkType: number, snaplen: number) {
    this.file = file
    try {
      this.fd = openSync(file, 'w', 0o640)
    } catch (error) {
      throw new EnvironmentError(
        `--write-pcap: cannot open ${file}: ${(error as Error).message}`,
        'DSIEM_E_PCAP_DUMP',
        {cause: error},
      )
    }
    // Room for the tag put back into a frame cut at the snap length. The writer copies every frame
    // into its own buffer, so nothing here points into ring blocks the kernel takes back.
    this.writer = new PcapWriter({linkType, snaplen: snaplen + VLAN_TAG_BYTES, resolution: 'micro'})
  }

  add(frame: RawFrame): void {
    if (this.closed) return
    if (frame.vlanTci === undefined) this.writer.add(frame.ts, frame.data, frame.wireLen)
    else {
      const tagged = withVlanTag(frame.data, frame.vlanTci)
      this.writer.add(frame.ts, tagged, frame.wireLen + (tagged.length - frame.data.length))
    }
    if (this.writer.bufferedBytes >= FLUSH_BYTES) this.flush()
  }

  flush(): void {
    if (this.closed) return
    const bytes = this.writer.takeBytes()
    if (bytes.length > 0) writeAllSync(this.fd, bytes)
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    closeSync(this.fd)
  }
}

/** The frame with an 802.1Q tag inserted after the two MAC addresses. */
function withVlanTag(frame: Uint8Array, tci: number): Uint8Array {
  if (frame.length < 12) return frame
  const tagged = new Uint8Array(frame.length + VLAN_TAG_BYTES)
  tagged.set(frame.subarray(0, 12), 0)
  tagged[12] = 0x81
  tagged[13] = 0x00
  tagged[14] = (tci >> 8) & 0xff
  tagged[15] = tci & 0xff
  tagged.set(frame.subarray(12), 16)
  return tagged
}
