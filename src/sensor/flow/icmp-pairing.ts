// ICMP messages that come as request/reply pairs share one connection, as in Zeek: the originator's
// "port" is its message type and the responder's is the counterpart type, so an echo request (8) and
// its reply (0) key to the same flow. Any other message is one-way and keeps its code as the
// responder port (ICMP4_counterpart / ICMP6_counterpart).

const ICMP4_COUNTERPART = new Map<number, number>([
  [8, 0], // echo request / reply
  [0, 8],
  [13, 14], // timestamp
  [14, 13],
  [15, 16], // information request
  [16, 15],
  [10, 9], // router solicitation / advertisement
  [9, 10],
  [17, 18], // address mask
  [18, 17],
])

const ICMP6_COUNTERPART = new Map<number, number>([
  [128, 129], // echo request / reply
  [129, 128],
  [133, 134], // router solicitation / advertisement
  [134, 133],
  [135, 136], // neighbour solicitation / advertisement
  [136, 135],
  [130, 131], // multicast listener query / report
  [131, 130],
  [139, 140], // node information query / response
  [140, 139],
  [144, 145], // home agent address discovery request / reply
  [145, 144],
])

/** The counterpart type of a request/reply message, or undefined for a one-way message. */
export function icmpCounterpart(version: 4 | 6, type: number): number | undefined {
  return (version === 4 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART).get(type)
}
