// Collects the weirds of the frame being decoded and stamps each with what is known at that point:
// the frame's time, the addresses once the IP header was read, the ports once the transport header was.

import type {WeirdNotice} from '../types.js'
import type {IpLayer, WeirdCollector} from './layers.js'
import type {TransportLayer} from './transport.js'

/** Most frames raise nothing: they all share this frozen empty list. */
const NO_WEIRDS: readonly WeirdNotice[] = Object.freeze([])

export class WeirdRecorder implements WeirdCollector {
  private readonly ip: IpLayer
  private readonly transport: TransportLayer
  private ts = 0
  private notices: WeirdNotice[] | undefined = undefined

  constructor(ip: IpLayer, transport: TransportLayer) {
    this.ip = ip
    this.transport = transport
  }

  /** Starts a new frame: nothing recorded, no addresses or ports known. */
  startFrame(ts: number): void {
    this.ts = ts
    this.notices = undefined
    this.ip.src = ''
    this.ip.dst = ''
    this.transport.srcPort = -1
    this.transport.dstPort = -1
  }

  weird(name: string, addl?: string): void {
    const notice: WeirdNotice = {ts: this.ts, name}
    if (addl !== undefined) notice.addl = addl
    const ip = this.ip
    if (ip.src !== '') {
      notice.src = ip.src
      notice.dst = ip.dst
    }
    const transport = this.transport
    if (transport.srcPort >= 0) {
      notice.srcPort = transport.srcPort
      notice.dstPort = transport.dstPort
    }
    if (this.notices === undefined) this.notices = [notice]
    else this.notices.push(notice)
  }

  /** The frame's weirds. */
  recorded(): readonly WeirdNotice[] {
    return this.notices ?? NO_WEIRDS
  }
}
