// The only importer of prom-client: one registry per process, every metric labelled with the node
// name, rendered in Prometheus text format for GET /metrics.

import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'

export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter<string>
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge<string>
  /**
   * A counter whose value is kept elsewhere and read at each render (a hot path's own tally, which
   * then costs nothing per event). As with the other makers, a name is made once: a second call
   * with the same name keeps the first reader.
   */
  counterOf(name: string, help: string, read: () => number): void
  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames?: readonly string[],
  ): Histogram<string>
  /** Prometheus text exposition: this registry's metrics, then each added source's. */
  render(): Promise<string>
  /**
   * Adds metrics rendered elsewhere (the backend thread's own registry) to every render; returns its
   * removal. A source must not repeat a metric name this registry has.
   */
  addSource(render: () => Promise<string>): () => void
  readonly contentType: string
}

export function createMetrics(node: string, options: {processMetrics?: boolean} = {}): Metrics {
  const registry = new Registry()
  registry.setDefaultLabels({node})
  if (options.processMetrics !== false) collectDefaultMetrics({register: registry, prefix: 'dsiem_'})
  const sources = new Set<() => Promise<string>>()
  const existing = new Map<string, Counter<string> | Gauge<string> | Histogram<string>>()
  const once = <T extends Counter<string> | Gauge<string> | Histogram<string>>(
    name: string,
    make: () => T,
  ): T => {
    let metric = existing.get(name)
    if (metric === undefined) existing.set(name, (metric = make()))
    return metric as T
  }
  return {
    counter: (name, help, labelNames = []) =>
      once(name, () => new Counter({name, help, labelNames: [...labelNames], registers: [registry]})),
    gauge: (name, help, labelNames = []) =>
      once(name, () => new Gauge({name, help, labelNames: [...labelNames], registers: [registry]})),
    counterOf: (name, help, read) => {
      let reported = 0
      once(
        name,
        () =>
          new Counter({
            name,
            help,
            registers: [registry],
            collect() {
              const value = read()
              if (value > reported) this.inc(value - reported)
              reported = value
            },
          }),
      )
    },
    histogram: (name, help, buckets, labelNames = []) =>
      once(
        name,
        () =>
          new Histogram({
            name,
            help,
            buckets: [...buckets],
            labelNames: [...labelNames],
            registers: [registry],
          }),
      ),
    render: async () => {
      const parts = [await registry.metrics()]
      for (const source of sources) parts.push(await source())
      return parts.map((text) => (text === '' || text.endsWith('\n') ? text : text + '\n')).join('')
    },
    addSource: (render) => {
      sources.add(render)
      return () => sources.delete(render)
    },
    contentType: registry.contentType,
  }
}
