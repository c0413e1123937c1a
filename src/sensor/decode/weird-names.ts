// The weird names the decoder reports. They are Zeek's own names (from its packet analysers, IP
// fragment reassembler and IPv6 header chain), so weird.log filters and policies written for Zeek keep
// working. Where Zeek stays silent and we report something anyway, the comment says so.

export const WEIRD = {
  /** Ethernet header (14 bytes) not captured. */
  truncatedEthernetFrame: 'truncated_ethernet_frame',
  /** An 802.1Q/802.1ad tag (4 bytes) not captured. */
  truncatedVlanHeader: 'truncated_VLAN_header',
  /** Linux cooked-capture header (16 bytes) not captured. */
  truncatedLinuxSllHeader: 'truncated_Linux_SLL_header',
  /** BSD loopback/NULL header (4-byte address family) not captured; Zeek's Null analyser uses this name. */
  nullAnalyzerFailed: 'null_analyzer_failed',

  /** IP header not captured. */
  truncatedIp: 'truncated_IP',
  /** The IP total length is larger than what the frame carries on the wire. */
  truncatedIpLen: 'truncated_IP_len',
  /** IPv4 header length (IHL) below 20 bytes. */
  ipv4MinHeaderSize: 'IPv4_min_header_size',
  /** Version nibble is neither 4 nor 6. */
  unknownIpVersion: 'unknown_ip_version',
  /** Total length 0 (TCP segmentation offload); the captured length is used instead, as Zeek does. */
  ipHdrLenZero: 'ip_hdr_len_zero',
  /** IPv4 header length beyond the datagram's total length. */
  invalidIpHeaderSize: 'invalid_IP_header_size',
  badIpChecksum: 'bad_IP_checksum',

  /**
   * A header that the IP length says is cut short (transport header, TCP options). Zeek ends its IPv6
   * header chain silently on a cut extension header; we report this name for that case too.
   */
  truncatedHeader: 'truncated_header',
  /** A header the IP length covers but the capture (snap length) cut. */
  internallyTruncatedHeader: 'internally_truncated_header',
  /** TCP data offset below 5 words. */
  badTcpHeaderLen: 'bad_TCP_header_len',
  /** UDP length field differs from the IP payload length (the packet is still analysed). */
  udpDatagramLengthMismatch: 'UDP_datagram_length_mismatch',

  /** IPv6 routing header type 0 (deprecated by RFC 5095), reported whenever one is seen. */
  routing0Hdr: 'routing0_hdr',
  /** Routing type 0 with an odd length: the final destination cannot be read. */
  oddRouting0Len: 'odd_routing0_len',
  /** Routing type 2 (Mobile IPv6) whose length is not 2. */
  badRouting2Len: 'bad_routing2_len',
  unknownRoutingType: 'unknown_routing_type',
  /** More than one routing header that names a final destination. */
  multipleRoutingHeader: 'multiple_routing_header',

  /** Overlapping fragments whose bytes differ (the first copy wins). */
  fragmentInconsistency: 'fragment_inconsistency',
  /** Overlapping fragments with identical bytes (e.g. a duplicate). */
  fragmentOverlap: 'fragment_overlap',
  /** Fragments of one datagram disagree on protocol or header length. */
  fragmentProtocolInconsistency: 'fragment_protocol_inconsistency',
  /** Two last fragments disagree on the datagram's size, or data lies beyond it. */
  fragmentSizeInconsistency: 'fragment_size_inconsistency',
  /** A fragment with Don't Fragment set (Linux UDP path-MTU discovery does this). */
  fragmentWithDf: 'fragment_with_DF',
  /** A non-last fragment shorter than 64 bytes (IP length). */
  excessivelySmallFragment: 'excessively_small_fragment',
  /** A fragment reaching beyond 64000 bytes of payload; it is not reassembled. */
  excessivelyLargeFragment: 'excessively_large_fragment',
  /** The snap length cut a fragment: it cannot be reassembled (only a first fragment is analysed). */
  incompletelyCapturedFragment: 'incompletely_captured_fragment',
} as const

export type WeirdName = (typeof WEIRD)[keyof typeof WEIRD]
