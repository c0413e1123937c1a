// The two ways a capture file can be unusable. A file that is not a capture at all fails before any
// frame is read, so it is thrown; a capture that goes bad partway is reported with the byte offset
// of the bad record, after every frame before it has been handed out.

import {InputError} from '../../engine/errors.js'

/** The input is not a pcap or pcapng file (unknown magic, unsupported version). */
export class CaptureFormatError extends InputError {
  constructor(message: string) {
    super(message, 'DSIEM_E_PCAP_FORMAT', {hint: 'pass a pcap or pcapng file, optionally gzip-compressed'})
    this.name = 'CaptureFormatError'
  }
}

/** A record or block whose lengths cannot be right; nothing after it can be trusted. */
export class CaptureCorruptError extends InputError {
  /** Byte offset of the bad record in the (decompressed) capture. */
  readonly offset: number

  constructor(offset: number, detail: string) {
    super(`corrupt capture file at byte offset ${offset}: ${detail}`, 'DSIEM_E_PCAP_CORRUPT')
    this.name = 'CaptureCorruptError'
    this.offset = offset
  }
}
