// Builds TLS handshake messages and records for tests, benchmarks and the fuzzer: ClientHello and
// ServerHello with SNI, ALPN, supported_versions and key_share, an ECDHE ServerKeyExchange,
// ChangeCipherSpec, alerts and (opaque) application data, split into records of any size.

export const TLS_RECORD = {changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23} as const

export interface TlsExtensionSpec {
  type: number
  data: Uint8Array
}

export interface ClientHelloSpec {
  /** legacy_version (default 0x0303). */
  version?: number
  random?: Uint8Array
  sessionId?: Uint8Array
  cipherSuites?: number[]
  serverName?: string
  alpn?: string[]
  supportedVersions?: number[]
  keyShareGroups?: number[]
  extensions?: TlsExtensionSpec[]
}

export interface ServerHelloSpec {
  version?: number
  random?: Uint8Array
  sessionId?: Uint8Array
  cipherSuite: number
  /** Adds supported_versions with this version (TLS 1.3). */
  selectedVersion?: number
  /** Adds a key_share entry for this group. */
  keyShareGroup?: number
  /** Adds ALPN with this one protocol. */
  alpn?: string
  /** Adds pre_shared_key (selected identity 0). */
  preSharedKey?: boolean
  extensions?: TlsExtensionSpec[]
}

/** Concatenation of byte arrays and numbers (numbers are single bytes). */
function bytes(...parts: (Uint8Array | number)[]): Uint8Array {
  const length = parts.reduce<number>((sum, part) => sum + (typeof part === 'number' ? 1 : part.length), 0)
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    if (typeof part === 'number') out[at++] = part & 0xff
    else {
      out.set(part, at)
      at += part.length
    }
  }
  return out
}

const u16 = (value: number): Uint8Array => Uint8Array.of(value >> 8, value & 0xff)
const u24 = (value: number): Uint8Array => Uint8Array.of(value >> 16, (value >> 8) & 0xff, value & 0xff)
const text = (value: string): Uint8Array => Uint8Array.from(Buffer.from(value, 'latin1'))
const with8 = (data: Uint8Array): Uint8Array => bytes(data.length, data)
const with16 = (data: Uint8Array): Uint8Array => bytes(u16(data.length), data)

/** Deterministic filler, so crafted hellos are reproducible byte for byte. */
function filler(length: number, seed: number): Uint8Array {
  return Uint8Array.from({length}, (_, i) => (seed + i * 7) & 0xff)
}

function extension(type: number, data: Uint8Array): Uint8Array {
  return bytes(u16(type), with16(data))
}

function alpnData(protocols: string[]): Uint8Array {
  return with16(bytes(...protocols.map((protocol) => with8(text(protocol)))))
}

/** Key lengths of common groups, so key_share entries look real. */
function keyLength(group: number): number {
  if (group === 29) return 32
  if (group === 30) return 56
  if (group === 23) return 65
  if (group === 24) return 97
  if (group === 4588) return 1216
  return 32
}

export function buildHandshakeMessage(type: number, body: Uint8Array): Uint8Array {
  return bytes(type, u24(body.length), body)
}

/** A ClientHello handshake message (header included). */
export function buildClientHello(spec: ClientHelloSpec = {}): Uint8Array {
  const extensions: Uint8Array[] = []
  if (spec.serverName !== undefined) {
    extensions.push(extension(0, with16(bytes(0, with16(text(spec.serverName))))))
  }
  if (spec.alpn !== undefined) extensions.push(extension(16, alpnData(spec.alpn)))
  if (spec.supportedVersions !== undefined) {
    extensions.push(extension(43, with8(bytes(...spec.supportedVersions.map(u16)))))
  }
  if (spec.keyShareGroups !== undefined) {
    const entries = spec.keyShareGroups.map((group) =>
      bytes(u16(group), with16(filler(keyLength(group), group))),
    )
    extensions.push(extension(51, with16(bytes(...entries))))
  }
  for (const extra of spec.extensions ?? []) extensions.push(extension(extra.type, extra.data))
  const suites = spec.cipherSuites ?? [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8]
  const body = bytes(
    u16(spec.version ?? 0x0303),
    spec.random ?? filler(32, 1),
    with8(spec.sessionId ?? new Uint8Array(0)),
    with16(bytes(...suites.map(u16))),
    with8(Uint8Array.of(0)),
    with16(bytes(...extensions)),
  )
  return buildHandshakeMessage(1, body)
}

/** A ServerHello handshake message (header included). */
export function buildServerHello(spec: ServerHelloSpec): Uint8Array {
  const extensions: Uint8Array[] = []
  if (spec.selectedVersion !== undefined) extensions.push(extension(43, u16(spec.selectedVersion)))
  if (spec.keyShareGroup !== undefined) {
    const group = spec.keyShareGroup
    extensions.push(extension(51, bytes(u16(group), with16(filler(keyLength(group), group + 1)))))
  }
  if (spec.alpn !== undefined) extensions.push(extension(16, alpnData([spec.alpn])))
  if (spec.preSharedKey === true) extensions.push(extension(41, u16(0)))
  for (const extra of spec.extensions ?? []) extensions.push(extension(extra.type, extra.data))
  const body = bytes(
    u16(spec.version ?? 0x0303),
    spec.random ?? filler(32, 2),
    with8(spec.sessionId ?? new Uint8Array(0)),
    u16(spec.cipherSuite),
    0,
    ...(extensions.length > 0 ? [with16(bytes(...extensions))] : []),
  )
  return buildHandshakeMessage(2, body)
}

/** ServerKeyExchange for ECDHE with a named curve (point and signature are filler). */
export function buildEcdheServerKeyExchange(curve: number): Uint8Array {
  const body = bytes(3, u16(curve), with8(filler(keyLength(curve), 3)), u16(0x0804), with16(filler(256, 4)))
  return buildHandshakeMessage(12, body)
}

/** A handshake message with an opaque body (Certificate, ServerHelloDone, Finished, …). */
export function buildOpaqueHandshake(type: number, length: number): Uint8Array {
  return buildHandshakeMessage(type, filler(length, type))
}

/** `payload` as records of `contentType`, at most `maxFragment` bytes each. */
export function tlsRecords(
  contentType: number,
  payload: Uint8Array,
  options: {version?: number; maxFragment?: number} = {},
): Uint8Array {
  const version = options.version ?? 0x0303
  const maxFragment = options.maxFragment ?? 16384
  const records: Uint8Array[] = []
  for (let at = 0; at < payload.length || (at === 0 && payload.length === 0); at += maxFragment) {
    const fragment = payload.subarray(at, Math.min(payload.length, at + maxFragment))
    records.push(bytes(contentType, u16(version), u16(fragment.length), fragment))
    if (payload.length === 0) break
  }
  return bytes(...records)
}

export function buildChangeCipherSpec(): Uint8Array {
  return tlsRecords(TLS_RECORD.changeCipherSpec, Uint8Array.of(1))
}

/** An alert record: level 1 warning, 2 fatal. */
export function buildAlert(level: number, description: number): Uint8Array {
  return tlsRecords(TLS_RECORD.alert, Uint8Array.of(level, description))
}

/** An application-data record of `length` opaque bytes. */
export function buildApplicationData(length: number): Uint8Array {
  return tlsRecords(TLS_RECORD.applicationData, filler(length, 5))
}

export function concatRecords(...parts: Uint8Array[]): Uint8Array {
  return bytes(...parts)
}
