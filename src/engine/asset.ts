// Assets (`assets_*.json`): HOME_NET, asset values for risk, host names for alarm titles, networks for
// the alarm `networks` field, and the src_ip whitelist. Same rules as upstream Dsiem: all files merge;
// an entry needs a parsable CIDR, a non-zero value and a name; whitelisted entries only whitelist.

import {ConfigError} from './errors.js'
import {
  decodeGoBool,
  decodeGoInt,
  decodeGoString,
  expectGoObject,
  forEachGoField,
  type JsonValue,
} from './go-json.js'
import {decodeConfigFile, type ConfigFile} from './config-file.js'
import {formatNetwork, isHostNetwork, networkContains, parseCidr, parseIp, type IpNetwork} from './ip.js'

export interface AssetEntry {
  name: string
  cidr: string
  value: number
  whitelisted: boolean
}

interface CompiledAsset {
  readonly entry: AssetEntry
  readonly network: IpNetwork
  readonly networkText: string
}

/** Everything the engine needs to know about one IP, computed once and cached. */
export interface IpAssetInfo {
  readonly inHomeNet: boolean
  readonly whitelisted: boolean
  /** Highest value among containing non-whitelisted entries (0 if none). */
  readonly value: number
  /** Name of the /32 or /128 entry holding the IP, or "". */
  readonly hostName: string
  /** CIDRs of containing non-host entries, broadest first. */
  readonly networks: readonly string[]
}

const UNKNOWN_IP: IpAssetInfo = Object.freeze({
  inHomeNet: false,
  whitelisted: false,
  value: 0,
  hostName: '',
  networks: Object.freeze([]) as readonly string[],
})

const CACHE_LIMIT = 100_000

export const ASSET_FILE_GLOB = 'assets_*.json'

export class AssetTable {
  private readonly homeAssets: readonly CompiledAsset[]
  private readonly whitelist: readonly CompiledAsset[]
  private readonly cache = new Map<string, IpAssetInfo>()

  private constructor(assets: readonly CompiledAsset[]) {
    this.homeAssets = lastPerNetwork(assets.filter((a) => !a.entry.whitelisted))
    this.whitelist = lastPerNetwork(assets.filter((a) => a.entry.whitelisted))
  }

  /**
   * Builds the table from asset entries, failing on the first bad entry as upstream does.
   * `source` names where the entries came from, for the error message.
   */
  static fromEntries(entries: readonly AssetEntry[], source = 'assets'): AssetTable {
    return new AssetTable(compileEntries(entries, source))
  }

  /**
   * Loads every `assets_*.json` file (already read, in lexicographic order). Like upstream, every file
   * is decoded before any entry is checked, so a JSON error anywhere is reported first.
   */
  static fromFiles(files: readonly ConfigFile[], dirDescription: string): AssetTable {
    if (files.length === 0) {
      throw new ConfigError(`Cannot find asset files in ${dirDescription}`, 'DSIEM_E_ASSET_MISSING', {
        hint: 'an assets_*.json file defines HOME_NET; see the README for the format',
      })
    }
    const decoded = files.map((file) => ({file, entries: decodeConfigFile(file, decodeAssetFile)}))
    const compiled: CompiledAsset[] = []
    for (const {file, entries} of decoded) compiled.push(...compileEntries(entries, file.name))
    return new AssetTable(compiled)
  }

  get size(): number {
    return this.homeAssets.length + this.whitelist.length
  }

  entries(): AssetEntry[] {
    return [...this.homeAssets, ...this.whitelist].map((a) => a.entry)
  }

  info(ip: string): IpAssetInfo {
    let info = this.cache.get(ip)
    if (info === undefined) {
      info = this.compute(ip)
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
      this.cache.set(ip, info)
    }
    return info
  }

  isInHomeNet(ip: string): boolean {
    return this.info(ip).inHomeNet
  }

  isWhitelisted(ip: string): boolean {
    return this.info(ip).whitelisted
  }

  value(ip: string): number {
    return this.info(ip).value
  }

  hostName(ip: string): string {
    return this.info(ip).hostName
  }

  networks(ip: string): readonly string[] {
    return this.info(ip).networks
  }

  private compute(ipText: string): IpAssetInfo {
    const ip = parseIp(ipText)
    if (ip === undefined) return UNKNOWN_IP
    let inHomeNet = false
    let value = 0
    let hostName = ''
    const containing: CompiledAsset[] = []
    for (const asset of this.homeAssets) {
      if (!networkContains(asset.network, ip)) continue
      inHomeNet = true
      if (asset.entry.value > value) value = asset.entry.value
      if (isHostNetwork(asset.network)) {
        if (hostName === '') hostName = asset.entry.name
      } else {
        containing.push(asset)
      }
    }
    const whitelisted = this.whitelist.some((asset) => networkContains(asset.network, ip))
    if (!inHomeNet && !whitelisted) return UNKNOWN_IP
    containing.sort((a, b) => a.network.prefix - b.network.prefix)
    const networks = [...new Set(containing.map((a) => a.networkText))]
    return {inHomeNet, whitelisted, value, hostName, networks}
  }
}

function compileEntries(entries: readonly AssetEntry[], source: string): CompiledAsset[] {
  const compiled: CompiledAsset[] = []
  for (const entry of entries) {
    const network = parseCidr(entry.cidr)
    if (network === undefined) {
      throw new ConfigError(`${source}: invalid CIDR address: ${entry.cidr}`, 'DSIEM_E_ASSET_INVALID')
    }
    if (entry.value === 0 || entry.name === '') {
      throw new ConfigError(
        `${source}: value cannot be 0 and name cannot be empty for ${entry.cidr}`,
        'DSIEM_E_ASSET_INVALID',
      )
    }
    compiled.push({entry, network, networkText: formatNetwork(network)})
  }
  return compiled
}

/**
 * Upstream keeps assets in a CIDR trie where inserting a network that is already there replaces its
 * entry, so of several entries for the same network (after masking) only the last one counts.
 */
function lastPerNetwork(assets: readonly CompiledAsset[]): CompiledAsset[] {
  const byNetwork = new Map<string, CompiledAsset>()
  for (const asset of assets) {
    byNetwork.delete(asset.networkText)
    byNetwork.set(asset.networkText, asset)
  }
  return [...byNetwork.values()]
}

/** `{"assets":[{"name","cidr","value","whitelisted"}]}` with Go's decoding rules. */
export function decodeAssetFile(root: JsonValue): AssetEntry[] {
  const object = expectGoObject(root, 'asset.NetworkAssets', [])
  const entries: AssetEntry[] = []
  if (object === undefined) return entries
  forEachGoField(object, (field, value, key) => {
    if (field !== 'assets' || value === null) return
    if (!Array.isArray(value)) {
      expectGoObject(value, '[]asset.NetworkAsset', [key])
      return
    }
    entries.length = 0
    value.forEach((item, index) => {
      const path = [key, index]
      const entry: AssetEntry = {name: '', cidr: '', value: 0, whitelisted: false}
      const fields = expectGoObject(item, 'asset.NetworkAsset', path)
      if (fields !== undefined) {
        forEachGoField(fields, (name, fieldValue, fieldKey) => {
          const fieldPath = [...path, fieldKey]
          switch (name) {
            case 'name':
              entry.name = decodeGoString(fieldValue, 'NetworkAsset.name', fieldPath) ?? entry.name
              break
            case 'cidr':
              entry.cidr = decodeGoString(fieldValue, 'NetworkAsset.cidr', fieldPath) ?? entry.cidr
              break
            case 'value':
              entry.value = decodeGoInt(fieldValue, 'NetworkAsset.value', fieldPath) ?? entry.value
              break
            case 'whitelisted':
              entry.whitelisted =
                decodeGoBool(fieldValue, 'NetworkAsset.whitelisted', fieldPath) ?? entry.whitelisted
              break
          }
        })
      }
      entries.push(entry)
    })
  })
  return entries
}
