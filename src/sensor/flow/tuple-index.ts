// Connections by unordered address/port pair, without building a key string per packet: addresses
// (which the decoder hands out as memoised strings, so their hashes are cached) key two nested maps,
// and the port pair packs into one 32-bit integer for the innermost one. Both directions of a flow find
// the same entry because the pair is put in a canonical order first.

export class TupleIndex<V> {
  private readonly byLow = new Map<string, Map<string, Map<number, V>>>()
  private count = 0

  get size(): number {
    return this.count
  }

  get(a: string, aPort: number, b: string, bPort: number): V | undefined {
    if (a < b || (a === b && aPort < bPort))
      return this.byLow
        .get(a)
        ?.get(b)
        ?.get((aPort << 16) | bPort)
    return this.byLow
      .get(b)
      ?.get(a)
      ?.get((bPort << 16) | aPort)
  }

  set(a: string, aPort: number, b: string, bPort: number, value: V): void {
    if (!(a < b || (a === b && aPort < bPort))) {
      ;[a, aPort, b, bPort] = [b, bPort, a, aPort]
    }
    let byHigh = this.byLow.get(a)
    if (byHigh === undefined) this.byLow.set(a, (byHigh = new Map()))
    let byPorts = byHigh.get(b)
    if (byPorts === undefined) byHigh.set(b, (byPorts = new Map()))
    const ports = (aPort << 16) | bPort
    if (!byPorts.has(ports)) this.count++
    byPorts.set(ports, value)
  }

  /** Removes the entry if it is `value` (a newer connection on the same tuple stays). */
  delete(a: string, aPort: number, b: string, bPort: number, value: V): void {
    if (!(a < b || (a === b && aPort < bPort))) {
      ;[a, aPort, b, bPort] = [b, bPort, a, aPort]
    }
    const byHigh = this.byLow.get(a)
    const byPorts = byHigh?.get(b)
    const ports = (aPort << 16) | bPort
    if (byHigh === undefined || byPorts === undefined || byPorts.get(ports) !== value) return
    byPorts.delete(ports)
    this.count--
    if (byPorts.size > 0) return
    byHigh.delete(b)
    if (byHigh.size === 0) this.byLow.delete(a)
  }

  *values(): IterableIterator<V> {
    for (const byHigh of this.byLow.values()) {
      for (const byPorts of byHigh.values()) yield* byPorts.values()
    }
  }
}
