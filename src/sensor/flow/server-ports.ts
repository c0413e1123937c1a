// Zeek's likely_server_ports: the ports the default-loaded analysers register for. When the first
// packet of a connection (other than a SYN) comes from one of these to a port that is not, the
// capture probably missed the client's first packet, so the roles are flipped.

const TCP_SERVER_PORTS = new Set<number>([
  21,
  2811, // ftp
  22, // ssh
  25,
  587, // smtp
  53, // dns
  80,
  81,
  631,
  1080,
  3128,
  8000,
  8080,
  8888, // http
  88, // kerberos
  135, // dce_rpc
  139,
  445, // smb
  143, // imap
  389,
  3268, // ldap
  443,
  563,
  585,
  614,
  636,
  989,
  990,
  992,
  993,
  995,
  5223, // ssl
  502, // modbus
  1080, // socks
  3306, // mysql
  3389, // rdp
  5222,
  5269, // xmpp
  6666,
  6667,
  6668,
  6669, // irc
  20000, // dnp3
])

const UDP_SERVER_PORTS = new Set<number>([
  53,
  137,
  5353,
  5355, // dns, netbios-ns, mdns, llmnr
  67,
  68, // dhcp
  88, // kerberos
  123, // ntp
  161,
  162, // snmp
  389, // ldap
  443, // dtls, quic
  514, // syslog
  1812, // radius
  2123,
  2152, // gtpv1
  3544, // teredo
  4789, // vxlan
  5060, // sip
  5072, // ayiya
  6081, // geneve
  20000, // dnp3
])

export function isLikelyTcpServerPort(port: number): boolean {
  return TCP_SERVER_PORTS.has(port)
}

export function isLikelyUdpServerPort(port: number): boolean {
  return UDP_SERVER_PORTS.has(port)
}

/**
 * Whether a new TCP connection should have its roles flipped (TCPAnalyzer::WantConnection). A SYN
 * opens normally. A SYN-ACK means the SYN was missed, so its sender is the responder. Otherwise the
 * port heuristic decides; when both ports look like servers, the lower one is taken as the server.
 */
export function flipNewTcp(flags: number, srcPort: number, dstPort: number): boolean {
  const syn = (flags & 0x02) !== 0
  const ack = (flags & 0x10) !== 0
  if (syn) return ack
  if (!isLikelyTcpServerPort(srcPort)) return false
  return isLikelyTcpServerPort(dstPort) ? srcPort < dstPort : true
}

/** UDPAnalyzer::WantConnection: flip when the sender's port looks like a server's and the other not. */
export function flipNewUdp(srcPort: number, dstPort: number): boolean {
  return isLikelyUdpServerPort(srcPort) && !isLikelyUdpServerPort(dstPort)
}
