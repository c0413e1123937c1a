// The xcorrelator's plugin contract (upstream's intel.Checker and vuln.Checker) and start-up: turning
// the decoded intel/vuln sources into initialised plugins, with upstream's log lines.

import type {LookupResult} from '../alarm.js'
import type {LogLevel} from '../effects.js'
import type {IntelSource} from './sources.js'

/** What a plugin answers for one term; `results` is only meaningful when `found`. */
export interface CheckResult {
  readonly found: boolean
  readonly results: readonly LookupResult[]
}

/**
 * A threat-intel source (upstream's intel.Checker). `initialize` receives the source's `config` string
 * and throws if it cannot use it; `checkIp` rejects on failure (network, timeout, bad answer) and must
 * honour its own deadline: upstream gives every check 5 s.
 */
export interface IntelPlugin {
  initialize(config: string): void
  checkIp(ip: string): Promise<CheckResult>
}

/** A vulnerability-scan source (upstream's vuln.Checker); same contract as IntelPlugin. */
export interface VulnPlugin {
  initialize(config: string): void
  checkIpPort(ip: string, port: number): Promise<CheckResult>
}

/** Builds a fresh, uninitialised plugin instance. */
export type PluginFactory<P> = () => P
export type PluginRegistry<P> = ReadonlyMap<string, PluginFactory<P>>

/** An initialised plugin and the source entry it came from. */
export interface NamedPlugin<P> {
  /** The plugin name (upstream names checkers by plugin, e.g. in "Error received from intel checker Wise"). */
  readonly name: string
  /** The source's own `name` field. */
  readonly source: string
  readonly plugin: P
}

export interface PluginMessage {
  readonly level: LogLevel
  readonly message: string
}

export interface PluginSetup<P> {
  /** Initialised plugins in source order; lookups are enabled iff this is non-empty. */
  readonly plugins: NamedPlugin<P>[]
  /** Upstream's start-up log lines, in order. */
  readonly messages: PluginMessage[]
}

const KIND_TEXT = {
  intel: {noun: 'intel', loaded: 'threat intelligence sources.'},
  vuln: {noun: 'vuln', loaded: 'vulnerability scan result sources.'},
} as const

/**
 * Upstream's InitIntel/InitVuln after decoding: every enabled source whose plugin is known and
 * accepts its config becomes a checker; the others are skipped with a warning. Unlike upstream, each
 * source gets its own plugin instance (upstream re-initialises one shared instance per plugin name, so
 * a second Wise source silently redirects the first one to its URL).
 */
export function initializePlugins<P extends {initialize(config: string): void}>(
  kind: 'intel' | 'vuln',
  sources: readonly IntelSource[],
  registry: PluginRegistry<P>,
): PluginSetup<P> {
  const text = KIND_TEXT[kind]
  const plugins: NamedPlugin<P>[] = []
  const messages: PluginMessage[] = []
  for (const source of sources) {
    if (!source.enabled) continue
    const factory = registry.get(source.plugin)
    if (factory === undefined) {
      messages.push({level: 'warn', message: `Cannot find ${text.noun} plugin ${source.plugin}`})
      continue
    }
    const plugin = factory()
    try {
      plugin.initialize(source.config)
    } catch (error) {
      messages.push({
        level: 'warn',
        message: `Cannot initialize ${text.noun} plugin ${source.plugin}: ${(error as Error).message}`,
      })
      continue
    }
    messages.push({level: 'info', message: `Adding ${text.noun} plugin ${source.plugin}`})
    plugins.push({name: source.plugin, source: source.name, plugin})
  }
  messages.push({level: 'info', message: `Loaded ${plugins.length} ${text.loaded}`})
  return {plugins, messages}
}
