// The built-in intel and vulnerability plugins (upstream's Wise and Nesd) over the shared HTTP client,
// and the registries that name them for intel_*.json / vuln_*.json. Like upstream, neither plugin
// looks at the HTTP status: the body decides (a 404 page is simply not a valid answer).

import {
  EnvironmentError,
  decodeNesdResponse,
  decodeUrlConfig,
  decodeWiseResponse,
  substitutePlaceholder,
  type CheckResult,
  type IntelPlugin,
  type PluginRegistry,
  type VulnPlugin,
} from '../../engine/index.js'
import {httpGet} from './http.js'

/** Upstream's per-check deadline (maxSecondToWaitForIntel / maxSecondToWaitForVuln). */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 5_000

export interface PluginOptions {
  /** Whole-request deadline per check; tests shorten it. */
  timeoutMs?: number
}

async function fetchAndDecode(
  url: string,
  timeoutMs: number,
  decode: (body: string) => CheckResult,
): Promise<CheckResult> {
  const response = await httpGet(url, {timeoutMs})
  try {
    return decode(response.body)
  } catch (error) {
    throw new EnvironmentError(
      `GET ${url} returned an unusable answer (HTTP ${response.status}): ${(error as Error).message}`,
      'DSIEM_E_PLUGIN_RESPONSE',
      {cause: error},
    )
  }
}

/** What both built-in plugins are: an HTTP endpoint with placeholders, queried with a deadline. */
abstract class UrlTemplatePlugin {
  protected url = ''
  protected readonly timeoutMs: number

  constructor(options: PluginOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS
  }

  initialize(config: string): void {
    this.url = decodeUrlConfig(config)
  }
}

/** Arkime/Moloch WISE: `{"url": "http://wise:8081/ip/${ip}"}`. */
export class WisePlugin extends UrlTemplatePlugin implements IntelPlugin {
  checkIp(ip: string): Promise<CheckResult> {
    const url = substitutePlaceholder(this.url, 'ip', ip)
    return fetchAndDecode(url, this.timeoutMs, (body) => decodeWiseResponse(body, ip))
  }
}

/** dsiem's nesd (Nessus CSV server): `{"url": "http://nesd:8081/?ip=${ip}&port=${port}"}`. */
export class NesdPlugin extends UrlTemplatePlugin implements VulnPlugin {
  checkIpPort(ip: string, port: number): Promise<CheckResult> {
    const url = substitutePlaceholder(substitutePlaceholder(this.url, 'ip', ip), 'port', String(port))
    return fetchAndDecode(url, this.timeoutMs, (body) => decodeNesdResponse(body, ip, port))
  }
}

/** Intel plugins by the name a source's `plugin` field uses. */
export function intelPluginRegistry(options: PluginOptions = {}): PluginRegistry<IntelPlugin> {
  return new Map([['Wise', () => new WisePlugin(options)]])
}

/** Vulnerability plugins by the name a source's `plugin` field uses. */
export function vulnPluginRegistry(options: PluginOptions = {}): PluginRegistry<VulnPlugin> {
  return new Map([['Nesd', () => new NesdPlugin(options)]])
}
