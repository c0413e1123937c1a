// Link layers in front of IP: Ethernet (with 802.3 LLC/SNAP and any number of 802.1Q / 802.1ad tags),
// Linux cooked capture (SLL), BSD loopback (NULL) and the raw-IP link types. Frames that carry
// something other than IP (ARP, LLDP, …) are not analysed and not weird, as in Zeek.

import {LINKTYPE} from '../types.js'
import type {RawFrame} from '../types.js'
import {readU16} from './layers.js'
import type {LinkLayer, WeirdCollector} from './layers.js'
import {WEIRD} from './weird-names.js'

/** `ip`: an IP header starts at `link.offset` (its version nibble says which). */
export type LinkOutcome = 'ip' | 'not-ip' | 'unknown-link' | 'truncated'

const ETHERTYPE_IPV4 = 0x0800
const ETHERTYPE_IPV6 = 0x86dd
const ETHERTYPE_VLAN = 0x8100
const ETHERTYPE_QINQ = 0x88a8
/** Pre-standard QinQ outer tag some switches still send. */
const ETHERTYPE_QINQ_LEGACY = 0x9100
/** Type/length values below this are an 802.3 length, followed by an LLC header. */
const ETHERTYPE_MIN = 0x0600

const ETHERNET_HEADER_LEN = 14
const SLL_HEADER_LEN = 16
const NULL_HEADER_LEN = 4

// BSD address families for IPv4 and the IPv6 values of Linux, NetBSD/OpenBSD, FreeBSD and macOS.
const AF_INET = 2
const AF_INET6_VALUES = [10, 24, 28, 30]

export function parseLink(frame: RawFrame, link: LinkLayer, notes: WeirdCollector): LinkOutcome {
  const data = frame.data
  // A tag the kernel stripped was the outermost one on the wire.
  link.vlan = frame.vlanTci === undefined ? -1 : frame.vlanTci & 0xfff
  link.innerVlan = -1
  switch (frame.linkType) {
    case LINKTYPE.ETHERNET:
      return parseEthernet(data, link, notes)
    case LINKTYPE.LINUX_SLL:
      if (data.length < SLL_HEADER_LEN) {
        notes.weird(WEIRD.truncatedLinuxSllHeader)
        return 'truncated'
      }
      // The protocol field holds an Ethertype for every device type that can carry IP.
      return parseEthertype(data, SLL_HEADER_LEN, readU16(data, 14), link, notes)
    case LINKTYPE.NULL:
      return parseNull(data, link, notes)
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      link.offset = 0
      return 'ip'
    default:
      return 'unknown-link'
  }
}

function parseEthernet(data: Uint8Array, link: LinkLayer, notes: WeirdCollector): LinkOutcome {
  if (data.length < ETHERNET_HEADER_LEN) {
    notes.weird(WEIRD.truncatedEthernetFrame)
    return 'truncated'
  }
  const typeOrLength = readU16(data, 12)
  if (typeOrLength >= ETHERTYPE_MIN)
    return parseEthertype(data, ETHERNET_HEADER_LEN, typeOrLength, link, notes)
  // 802.3 with LLC: only SNAP with the Ethertype OUI (AA AA 03 00 00 00) can carry IP.
  if (
    data.length >= 22 &&
    data[14] === 0xaa &&
    data[15] === 0xaa &&
    data[16] === 0x03 &&
    data[17] === 0 &&
    data[18] === 0 &&
    data[19] === 0
  ) {
    return parseEthertype(data, 22, readU16(data, 20), link, notes)
  }
  return 'not-ip'
}

/** Follows VLAN tags from an Ethertype at `offset - 2` to the IP header. */
function parseEthertype(
  data: Uint8Array,
  offset: number,
  etherType: number,
  link: LinkLayer,
  notes: WeirdCollector,
): LinkOutcome {
  let type = etherType
  let at = offset
  for (;;) {
    if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) {
      link.offset = at
      return 'ip'
    }
    if (type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ && type !== ETHERTYPE_QINQ_LEGACY) return 'not-ip'
    if (data.length < at + 4) {
      notes.weird(WEIRD.truncatedVlanHeader)
      return 'truncated'
    }
    const vlanId = readU16(data, at) & 0xfff
    // As in Zeek: the first non-zero id is the outer VLAN, any later tag overwrites the inner one
    // (id 0 is a priority-only tag, not a VLAN).
    if (link.vlan <= 0) link.vlan = vlanId
    else link.innerVlan = vlanId
    type = readU16(data, at + 2)
    at += 4
  }
}

function parseNull(data: Uint8Array, link: LinkLayer, notes: WeirdCollector): LinkOutcome {
  if (data.length < NULL_HEADER_LEN) {
    notes.weird(WEIRD.nullAnalyzerFailed)
    return 'truncated'
  }
  // The family is in the capturing host's byte order; families are small, so a value that only fits
  // the high half was written big-endian.
  let family = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0
  if (family > 0xffff) family = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
  if (family !== AF_INET && !AF_INET6_VALUES.includes(family)) return 'not-ip'
  link.offset = NULL_HEADER_LEN
  return 'ip'
}
