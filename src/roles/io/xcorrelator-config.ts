// Reads a config dir's intel_*.json and vuln_*.json (upstream's InitIntel / InitVuln) and hands back
// initialised plugins. A file that is not valid JSON, or has e.g. a number as `config`, stops start-up
// with file:line:column; an unknown plugin or a config the plugin rejects only costs a warning. A
// missing directory simply has no sources, as Go's filepath.Glob finds nothing there.

import {
  INTEL_FILE_GLOB,
  VULN_FILE_GLOB,
  initializePlugins,
  loadIntelSources,
  loadVulnSources,
  type IntelPlugin,
  type NamedPlugin,
  type PluginMessage,
  type PluginRegistry,
  type VulnPlugin,
} from '../../engine/index.js'
import {globFiles, readConfigFiles} from './config-dir.js'
import {intelPluginRegistry, vulnPluginRegistry, type PluginOptions} from './intel-plugins.js'

export interface XcorrelatorConfigOptions extends PluginOptions {
  /** Defaults to the built-in plugins (Wise). */
  intelPlugins?: PluginRegistry<IntelPlugin>
  /** Defaults to the built-in plugins (Nesd). */
  vulnPlugins?: PluginRegistry<VulnPlugin>
  intelPattern?: string
  vulnPattern?: string
}

export interface XcorrelatorPlugins {
  intel: NamedPlugin<IntelPlugin>[]
  vuln: NamedPlugin<VulnPlugin>[]
  /** Upstream's start-up log lines (Adding … plugin, Cannot find …, Loaded N …), intel first. */
  messages: PluginMessage[]
  /** The warn-level messages only. */
  warnings: string[]
  /** Files read, in order. */
  files: string[]
}

export function loadXcorrelatorPlugins(
  configDir: string,
  options: XcorrelatorConfigOptions = {},
): XcorrelatorPlugins {
  const pluginOptions = options.timeoutMs === undefined ? {} : {timeoutMs: options.timeoutMs}
  const intelFiles = readConfigFiles(globFiles(configDir, options.intelPattern ?? INTEL_FILE_GLOB))
  const intel = initializePlugins(
    'intel',
    loadIntelSources(intelFiles),
    options.intelPlugins ?? intelPluginRegistry(pluginOptions),
  )
  const vulnFiles = readConfigFiles(globFiles(configDir, options.vulnPattern ?? VULN_FILE_GLOB))
  const vuln = initializePlugins(
    'vuln',
    loadVulnSources(vulnFiles),
    options.vulnPlugins ?? vulnPluginRegistry(pluginOptions),
  )
  const messages = [...intel.messages, ...vuln.messages]
  return {
    intel: intel.plugins,
    vuln: vuln.plugins,
    messages,
    warnings: messages.filter((m) => m.level === 'warn').map((m) => m.message),
    files: [...intelFiles, ...vulnFiles].map((f) => f.name),
  }
}
