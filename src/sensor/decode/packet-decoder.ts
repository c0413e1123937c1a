// The decoder's entry: one captured frame in, at most one IP packet (with its transport header parsed)
// and the weirds it raised out. Link layer → IP (fragments reassembled) → TCP/UDP/ICMP. Nothing here
// throws on bad input: every way a frame can be malformed or cut ends as a counted outcome and, where
// Zeek reports one, a weird with the addresses and ports known at that point.
//
// This runs once per packet, so the stages write into scratch records the decoder reuses, and the only
// allocations on the common path are the objects handed out (packet, transport, payload view, result).

import {ConfigError} from '../../engine/errors.js'
import type {DecodeResult, DecodedPacket, RawFrame} from '../types.js'
import {FragmentReassembler} from './fragments.js'
import {parseIpv4} from './ipv4.js'
import {parseIpv6} from './ipv6.js'
import {newIpLayer} from './layers.js'
import type {IpLayer, LinkLayer, StageOutcome} from './layers.js'
import {parseLink} from './link.js'
import {newTransportLayer, parseTransport} from './transport.js'
import type {TransportLayer} from './transport.js'
import {WEIRD} from './weird-names.js'
import {WeirdRecorder} from './weird-recorder.js'

export interface DecoderOptions {
  /** Verify IP, TCP, UDP and ICMP checksums (Zeek's default; its -C switch turns this off). */
  verifyChecksums: boolean
  /**
   * Seconds an incomplete fragmented datagram is held after its first fragment. Zeek's `frag_timeout`
   * defaults to 0 (hold forever); a long-running sensor bounds that, so the default here is 60 s and 0
   * restores Zeek's behaviour.
   */
  fragmentTimeout: number
  /** Incomplete datagrams held at most (the oldest is dropped to make room), so fragments cannot exhaust memory. */
  maxPendingReassemblies: number
}

export const DEFAULT_DECODER_OPTIONS: DecoderOptions = {
  verifyChecksums: true,
  fragmentTimeout: 60,
  maxPendingReassemblies: 10_000,
}

export interface DecoderCounters {
  /** Frames handed to decode(). */
  frames: number
  /** Packets returned (a reassembled datagram counts once). */
  packets: number
  /** Frames whose link layer carries something other than IP (ARP, LLDP, …). */
  nonIp: number
  /** Frames of a link type the decoder does not know. */
  unknownLinkType: number
  /** Frames or headers cut short, by the capture or per their own length fields. */
  truncated: number
  /** Frames with impossible header values (IP version, header lengths). */
  malformed: number
  badIpChecksum: number
  /** Packets returned with `checksumOk: false`. */
  badTransportChecksum: number
  /** IP fragments seen. */
  fragments: number
  /** Fragments taken in and held while their datagram is incomplete. */
  fragmentsHeld: number
  /** Fragments that cannot be reassembled (cut by the snap length, beyond 64000 bytes). */
  fragmentsDropped: number
  /** Datagrams reassembled from fragments. */
  reassembled: number
  /** Incomplete datagrams dropped by the timeout, and to make room under maxPendingReassemblies. */
  reassembliesExpired: number
  reassembliesEvicted: number
}

const NO_PAYLOAD = new Uint8Array(0)

export class PacketDecoder {
  readonly options: DecoderOptions
  readonly counters: DecoderCounters = {
    frames: 0,
    packets: 0,
    nonIp: 0,
    unknownLinkType: 0,
    truncated: 0,
    malformed: 0,
    badIpChecksum: 0,
    badTransportChecksum: 0,
    fragments: 0,
    fragmentsHeld: 0,
    fragmentsDropped: 0,
    reassembled: 0,
    reassembliesExpired: 0,
    reassembliesEvicted: 0,
  }
  private readonly reassembler: FragmentReassembler
  private readonly link: LinkLayer = {offset: 0, vlan: -1, innerVlan: -1}
  private readonly ip: IpLayer = newIpLayer()
  private readonly transport: TransportLayer = newTransportLayer()
  private readonly notes = new WeirdRecorder(this.ip, this.transport)

  constructor(options: Partial<DecoderOptions> = {}) {
    // Field by field, so that an explicit `undefined` (an unset config value) keeps the default.
    this.options = {
      verifyChecksums: options.verifyChecksums ?? DEFAULT_DECODER_OPTIONS.verifyChecksums,
      fragmentTimeout: options.fragmentTimeout ?? DEFAULT_DECODER_OPTIONS.fragmentTimeout,
      maxPendingReassemblies:
        options.maxPendingReassemblies ?? DEFAULT_DECODER_OPTIONS.maxPendingReassemblies,
    }
    const {fragmentTimeout, maxPendingReassemblies} = this.options
    if (!Number.isFinite(fragmentTimeout) || fragmentTimeout < 0) {
      throw new ConfigError(
        `fragment timeout must be 0 or more seconds, got ${fragmentTimeout}`,
        'DSIEM_E_DECODER_OPTION',
      )
    }
    if (!Number.isInteger(maxPendingReassemblies) || maxPendingReassemblies < 1) {
      throw new ConfigError(
        `the limit of pending reassemblies must be a positive integer, got ${maxPendingReassemblies}`,
        'DSIEM_E_DECODER_OPTION',
      )
    }
    this.reassembler = new FragmentReassembler(
      this.options.fragmentTimeout,
      this.options.maxPendingReassemblies,
    )
  }

  /** Incomplete fragmented datagrams currently held. */
  get pendingReassemblies(): number {
    return this.reassembler.size
  }

  decode(frame: RawFrame): DecodeResult {
    const counters = this.counters
    counters.frames++
    const notes = this.notes
    notes.startFrame(frame.ts)

    let packet: DecodedPacket | undefined
    const link = this.link
    const outcome = parseLink(frame, link, notes)
    if (outcome === 'ip') {
      packet = this.decodeIp(frame.data, link.offset, frame.wireLen - link.offset, link.offset, frame)
    } else if (outcome === 'not-ip') {
      counters.nonIp++
    } else if (outcome === 'truncated') {
      counters.truncated++
    } else {
      counters.unknownLinkType++
    }
    if (packet !== undefined) {
      counters.packets++
      if (!packet.checksumOk) counters.badTransportChecksum++
    }
    return {packet, weirds: notes.recorded()}
  }

  /** Drops incomplete fragmented datagrams older than the fragment timeout (network time `now`). */
  expireFragments(now: number): void {
    this.reassembler.expire(now)
    this.counters.reassembliesExpired = this.reassembler.expired
  }

  /**
   * Decodes the IP datagram at `start` of `data`. `wireLen` counts its bytes on the wire, `linkLen` the
   * link header in front of it (for the packet's frame lengths).
   */
  private decodeIp(
    data: Uint8Array,
    start: number,
    wireLen: number,
    linkLen: number,
    frame: RawFrame,
  ): DecodedPacket | undefined {
    const counters = this.counters
    const ip = this.ip
    if (data.length <= start) {
      this.notes.weird(WEIRD.truncatedIp)
      counters.truncated++
      return undefined
    }
    const version = data[start]! >> 4
    const verify = this.options.verifyChecksums
    let outcome: StageOutcome
    if (version === 4) {
      outcome = parseIpv4(data, start, wireLen, verify, ip, this.notes)
    } else if (version === 6) {
      outcome = parseIpv6(data, start, wireLen, ip, this.notes)
    } else {
      this.notes.weird(WEIRD.unknownIpVersion)
      counters.malformed++
      return undefined
    }
    if (outcome !== 'ok') {
      this.count(outcome)
      return undefined
    }

    if (ip.fragment) {
      counters.fragments++
      if (ip.end - ip.start < ip.totalLen) {
        // Reassembling a cut fragment is hopeless; a first fragment still shows the transport header.
        this.notes.weird(WEIRD.incompletelyCapturedFragment)
        if (ip.fragOffset !== 0) {
          counters.fragmentsDropped++
          return undefined
        }
      } else {
        const datagram = this.reassembler.add(data, ip, frame.ts, this.notes)
        counters.reassembliesExpired = this.reassembler.expired
        counters.reassembliesEvicted = this.reassembler.evicted
        if (datagram === 'held') {
          counters.fragmentsHeld++
          return undefined
        }
        if (datagram === 'dropped') {
          counters.fragmentsDropped++
          return undefined
        }
        counters.reassembled++
        // The whole datagram decodes like a frame of its own, which is never a fragment again.
        return this.decodeReassembled(datagram, linkLen, frame)
      }
    }
    return this.decodeTransport(data, frame, frame.wireLen, frame.data.length)
  }

  private decodeReassembled(
    datagram: Uint8Array,
    linkLen: number,
    frame: RawFrame,
  ): DecodedPacket | undefined {
    const ip = this.ip
    const version = datagram[0]! >> 4
    const outcome =
      version === 4
        ? parseIpv4(datagram, 0, datagram.length, false, ip, this.notes)
        : parseIpv6(datagram, 0, datagram.length, ip, this.notes)
    if (outcome !== 'ok') {
      this.count(outcome)
      return undefined
    }
    if (ip.fragment) {
      // A fragment header inside the fragmentable part: a nested fragment, which nothing legitimate sends.
      this.notes.weird(WEIRD.fragmentProtocolInconsistency)
      this.counters.malformed++
      return undefined
    }
    const length = linkLen + datagram.length
    return this.decodeTransport(datagram, frame, length, length)
  }

  private decodeTransport(
    data: Uint8Array,
    frame: RawFrame,
    wireLen: number,
    capLen: number,
  ): DecodedPacket | undefined {
    const ip = this.ip
    const transport = this.transport
    const outcome = parseTransport(data, ip, this.options.verifyChecksums, transport, this.notes)
    if (outcome !== 'ok') {
      this.count(outcome)
      return undefined
    }
    const payloadStart = transport.start + transport.headerLen
    const payloadEnd = ip.end
    const packet: DecodedPacket = {
      ts: frame.ts,
      wireLen,
      capLen,
      ipVersion: ip.version,
      src: ip.src,
      dst: ip.dst,
      ipProto: ip.proto,
      ipLen: ip.totalLen,
      ttl: ip.ttl,
      payload: payloadEnd > payloadStart ? data.subarray(payloadStart, payloadEnd) : NO_PAYLOAD,
      payloadLen: ip.totalLen - ip.headerLen - transport.headerLen,
      checksumOk: transport.checksumOk,
    }
    if (transport.transport !== undefined) packet.transport = transport.transport
    const link = this.link
    // VLAN id 0 only carries a priority; Zeek does not log it as a VLAN either.
    if (link.vlan > 0) packet.vlan = link.vlan
    if (link.innerVlan > 0) packet.innerVlan = link.innerVlan
    return packet
  }

  private count(outcome: StageOutcome): void {
    const counters = this.counters
    if (outcome === 'truncated') counters.truncated++
    else if (outcome === 'malformed') counters.malformed++
    else if (outcome === 'bad-checksum') counters.badIpChecksum++
  }
}
