// The sensor's acceptance pcap: one of each thing a Zeek user expects to see logged — an HTTP session,
// a rejected connection, a half-open scan, DNS over UDP (answered, NXDOMAIN, unanswered on a VLAN) and
// over TCP, a TLS handshake, an ICMP echo, an aborted session, a truncated and a malformed packet.
// Every value the tests expect is derived from the constants here, so a change shows in one place.

import {buildDnsQuery, buildDnsResponse, frameDnsOverTcp} from '../../src/sensor/craft/dns.js'
import {TcpConversation} from '../../src/sensor/craft/conversation.js'
import {
  icmpFrame,
  ipv4Packet,
  rawFrame,
  linkBytes,
  tcpFrame,
  udpFrame,
} from '../../src/sensor/craft/frames.js'
import {buildHttpRequest, buildHttpResponse} from '../../src/sensor/craft/http.js'
import {buildClientHello, buildServerHello, tlsRecords, TLS_RECORD} from '../../src/sensor/craft/tls.js'
import {PcapWriter} from '../../src/sensor/pcap/index.js'
import {LINKTYPE, type RawFrame} from '../../src/sensor/types.js'

export const T0 = 1_700_000_000
export const CLIENT = '10.1.0.5'
export const WEB = '10.1.0.80'
export const RESOLVER = '10.1.0.53'
export const TLS_SERVER = '10.1.0.44'
export const SCANNER = '10.9.9.9'

export const HTTP_REQUEST = buildHttpRequest({
  method: 'GET',
  uri: '/index.html',
  headers: [
    ['Host', 'www.example.com'],
    ['User-Agent', 'dsiem-test/1.0'],
  ],
})
export const HTTP_BODY = '<html>hello</html>'
export const HTTP_RESPONSE = buildHttpResponse({status: 200, reason: 'OK', body: HTTP_BODY})
export const DNS_A_QUERY = buildDnsQuery(0x1234, 'www.example.com', 1)
export const DNS_A_RESPONSE = buildDnsResponse(0x1234, 'www.example.com', 1, [
  {name: 'www.example.com', ttl: 300, data: {type: 'A', address: '93.184.216.34'}},
])
export const DNS_NX_QUERY = buildDnsQuery(0x2222, 'nope.example.com', 1)
export const DNS_NX_RESPONSE = buildDnsResponse(0x2222, 'nope.example.com', 1, [], {rcode: 3})
export const DNS_VLAN_QUERY = buildDnsQuery(0x3333, 'lonely.example.com', 28)
export const DNS_TCP_QUERY = buildDnsQuery(0x4444, 'big.example.com', 16)
export const DNS_TCP_RESPONSE = buildDnsResponse(0x4444, 'big.example.com', 16, [
  {name: 'big.example.com', ttl: 60, data: {type: 'TXT', strings: ['v=spf1 -all']}},
])
export const TLS_CLIENT_HELLO = tlsRecords(
  TLS_RECORD.handshake,
  buildClientHello({serverName: 'secure.example.com', alpn: ['h2', 'http/1.1']}),
)
export const TLS_SERVER_HELLO = tlsRecords(
  TLS_RECORD.handshake,
  buildServerHello({cipherSuite: 0xc02f, alpn: 'h2'}),
)
export const SCAN_PORTS = [21, 23, 25, 110, 143]
export const VLAN_ID = 100

/** Every frame of the scenario, in capture order. */
export function scenarioFrames(): RawFrame[] {
  const frames: RawFrame[] = []
  // 1. HTTP: a whole session, closed by the client.
  frames.push(
    ...new TcpConversation({client: CLIENT, server: WEB, sport: 40001, dport: 80, ts: T0})
      .handshake()
      .send('client', HTTP_REQUEST)
      .ack('server')
      .send('server', HTTP_RESPONSE)
      .ack('client')
      .close('client').frames,
  )
  // 2. Rejected: SYN answered by RST-ACK.
  frames.push(
    ...new TcpConversation({client: CLIENT, server: WEB, sport: 40002, dport: 8080, ts: T0 + 1})
      .syn()
      .reset('server').frames,
  )
  // 3. Half-open scan: lone SYNs to five ports.
  SCAN_PORTS.forEach((port, i) =>
    frames.push(
      tcpFrame({
        src: SCANNER,
        dst: WEB,
        sport: 50000 + i,
        dport: port,
        flags: 'S',
        seq: 7000 + i,
        ts: T0 + 2 + i * 0.001,
      }),
    ),
  )
  // 4. DNS over UDP: answered, NXDOMAIN, and a VLAN-tagged query nobody answers.
  frames.push(
    udpFrame({src: CLIENT, dst: RESOLVER, sport: 53001, dport: 53, payload: DNS_A_QUERY, ts: T0 + 3}),
  )
  frames.push(
    udpFrame({src: RESOLVER, dst: CLIENT, sport: 53, dport: 53001, payload: DNS_A_RESPONSE, ts: T0 + 3.02}),
  )
  frames.push(
    udpFrame({src: CLIENT, dst: RESOLVER, sport: 53002, dport: 53, payload: DNS_NX_QUERY, ts: T0 + 3.1}),
  )
  frames.push(
    udpFrame({src: RESOLVER, dst: CLIENT, sport: 53, dport: 53002, payload: DNS_NX_RESPONSE, ts: T0 + 3.13}),
  )
  frames.push(
    udpFrame({
      src: CLIENT,
      dst: RESOLVER,
      sport: 53003,
      dport: 53,
      payload: DNS_VLAN_QUERY,
      ts: T0 + 3.2,
      vlan: VLAN_ID,
    }),
  )
  // 5. DNS over TCP.
  frames.push(
    ...new TcpConversation({client: CLIENT, server: RESOLVER, sport: 40003, dport: 53, ts: T0 + 4})
      .handshake()
      .send('client', frameDnsOverTcp(DNS_TCP_QUERY))
      .send('server', frameDnsOverTcp(DNS_TCP_RESPONSE))
      .close('client').frames,
  )
  // 6. TLS: ClientHello with SNI and ALPN, ServerHello choosing ECDHE-RSA-AES128-GCM-SHA256 and h2.
  frames.push(
    ...new TcpConversation({client: CLIENT, server: TLS_SERVER, sport: 40004, dport: 443, ts: T0 + 5})
      .handshake()
      .send('client', TLS_CLIENT_HELLO)
      .send('server', TLS_SERVER_HELLO)
      .ack('client')
      .close('client').frames,
  )
  // 7. ICMP echo request and reply.
  const ping = new Uint8Array(56).fill(0x61)
  frames.push(icmpFrame({src: CLIENT, dst: WEB, type: 8, id: 77, sequence: 1, payload: ping, ts: T0 + 6}))
  frames.push(icmpFrame({src: WEB, dst: CLIENT, type: 0, id: 77, sequence: 1, payload: ping, ts: T0 + 6.001}))
  // 8. Aborted: established, some data, then the client resets.
  frames.push(
    ...new TcpConversation({client: CLIENT, server: WEB, sport: 40005, dport: 22, ts: T0 + 7})
      .handshake()
      .send('server', 'SSH-2.0-OpenSSH_9.2\r\n')
      .ack('client')
      .reset('client').frames,
  )
  // 9. A truncated packet (the frame ends inside the IPv4 header) and a malformed one (IHL 3).
  const whole = ipv4Packet({src: CLIENT, dst: WEB, protocol: 17}, new Uint8Array(12))
  const truncated = linkBytes(whole.subarray(0, 12))
  frames.push(rawFrame(truncated, LINKTYPE.ETHERNET, {ts: T0 + 8}))
  const malformed = ipv4Packet({src: CLIENT, dst: WEB, protocol: 17, headerLength: 12}, new Uint8Array(12))
  frames.push(rawFrame(linkBytes(malformed), LINKTYPE.ETHERNET, {ts: T0 + 8.5}))
  return frames
}

export function scenarioPcap(): Buffer {
  const writer = new PcapWriter({linkType: LINKTYPE.ETHERNET, resolution: 'micro'})
  for (const frame of scenarioFrames()) writer.add(frame.ts, frame.data, frame.wireLen)
  return Buffer.from(writer.toBuffer())
}
