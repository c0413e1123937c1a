// Reading and writing capture files: the sensor's offline input (`zeek -r`).

export {readCaptureBytes, readCaptureStream} from './capture-file.js'
export type {CaptureReadResult, CaptureStreamOptions} from './capture-file.js'
export {CaptureDecoder} from './capture-decoder.js'
export type {CaptureSummary} from './capture-decoder.js'
export {CaptureCorruptError, CaptureFormatError} from './capture-errors.js'
export type {CaptureFormat, CaptureFrame, CaptureReadOptions} from './capture-frame.js'
export {PcapWriter} from './pcap-writer.js'
export type {ByteOrder, PcapWriterOptions, TimestampResolution} from './pcap-writer.js'
export {PcapngWriter} from './pcapng-writer.js'
export type {PcapngInterfaceOptions} from './pcapng-writer.js'
