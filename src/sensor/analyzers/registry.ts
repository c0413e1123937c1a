// The AnalyzerFactory: which analysers a connection gets, from Zeek's registered ports plus content
// sniffing of the first payload (so HTTP on 5000 or TLS on 8443 are still recognised).

import type {AnalyzerFactory, ConnView, ProtocolAnalyzer, SensorSink} from '../types.js'
import {DnsAnalyzer} from './dns.js'
import {HttpAnalyzer} from './http.js'
import {looksLikeHttpRequest, looksLikeTlsClientHello} from './sniff.js'
import {TlsAnalyzer} from './tls.js'

type Service = 'dns' | 'http' | 'ssl'

/** Zeek's likely_server_ports of its DNS, HTTP and SSL analysers. */
export const SERVICE_PORTS: Readonly<Record<'tcp' | 'udp', ReadonlyMap<number, Service>>> = {
  udp: new Map<number, Service>([
    [53, 'dns'],
    [5353, 'dns'],
    [5355, 'dns'],
  ]),
  tcp: new Map<number, Service>([
    [53, 'dns'],
    ...[80, 81, 631, 1080, 3128, 8000, 8080, 8888].map((port): [number, Service] => [port, 'http']),
    ...[443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223].map((port): [number, Service] => [
      port,
      'ssl',
    ]),
  ]),
}

function create(service: Service, conn: ConnView, sink: SensorSink): ProtocolAnalyzer {
  switch (service) {
    case 'dns':
      return new DnsAnalyzer(conn, sink)
    case 'http':
      return new HttpAnalyzer(conn, sink)
    case 'ssl':
      return new TlsAnalyzer(conn, sink)
  }
}

/** The services a connection should be tried with (port first, then what its first bytes look like). */
export function servicesFor(conn: ConnView, firstData: Uint8Array, isOrig: boolean): Service[] {
  const proto = conn.id.proto
  if (proto === 'icmp') return []
  const services: Service[] = []
  const byPort = SERVICE_PORTS[proto].get(conn.id.respP)
  if (byPort !== undefined) services.push(byPort)
  // Requests come from the originator; a responder speaking first is some other protocol.
  if (proto === 'tcp' && isOrig) {
    if (!services.includes('http') && looksLikeHttpRequest(firstData)) services.push('http')
    if (!services.includes('ssl') && looksLikeTlsClientHello(firstData)) services.push('ssl')
  }
  return services
}

export const createAnalyzers: AnalyzerFactory = (conn, firstData, isOrig, sink) =>
  servicesFor(conn, firstData, isOrig).map((service) => create(service, conn, sink))
