// The intel_*.json and vuln_*.json config files: their sources decoded with Go's encoding/json
// semantics, so a file upstream rejects is rejected here too (with file:line:column).

import {decodeConfigFile, type ConfigFile} from '../config-file.js'
import {
  decodeGoBool,
  decodeGoString,
  expectGoObject,
  forEachGoField,
  type JsonPath,
  type JsonValue,
} from '../go-json.js'
import {expectGoArray} from './go-slices.js'

export const INTEL_FILE_GLOB = 'intel_*.json'
export const VULN_FILE_GLOB = 'vuln_*.json'

export interface IntelSource {
  readonly name: string
  readonly type: string
  readonly enabled: boolean
  readonly plugin: string
  readonly config: string
}

export interface VulnSource extends IntelSource {
  /** Present in the format, unused by upstream. */
  readonly url: string
}

function decodeSource(value: JsonValue, struct: string, path: JsonPath, withUrl: boolean): VulnSource {
  const source = {name: '', type: '', enabled: false, plugin: '', config: '', url: ''}
  const object = expectGoObject(value, `xcorrelator.${struct}`, path)
  if (object === undefined) return source
  forEachGoField(object, (field, fieldValue, key) => {
    const at = [...path, key]
    const where = `${struct}.${field}`
    switch (field) {
      case 'name':
      case 'type':
      case 'plugin':
      case 'config':
        source[field] = decodeGoString(fieldValue, where, at) ?? ''
        break
      case 'url':
        if (withUrl) source.url = decodeGoString(fieldValue, where, at) ?? ''
        break
      case 'enabled':
        source.enabled = decodeGoBool(fieldValue, where, at) ?? false
        break
    }
  })
  return source
}

function decodeSourcesFile(root: JsonValue, listKey: string, struct: string, withUrl: boolean): VulnSource[] {
  const object = expectGoObject(root, `xcorrelator.${struct}s`, [])
  let sources: VulnSource[] = []
  if (object === undefined) return sources
  forEachGoField(object, (field, value, key) => {
    if (field !== listKey) return
    const list = expectGoArray(value, `${struct}s.${listKey}`, `[]xcorrelator.${struct}`, [key])
    sources = (list ?? []).map((element, i) => decodeSource(element, struct, [key, i], withUrl))
  })
  return sources
}

/** One intel_*.json file's sources (Go semantics: `config` must be a string, `enabled` a bool). */
export function decodeIntelFile(root: JsonValue): IntelSource[] {
  return decodeSourcesFile(root, 'intel_sources', 'IntelSource', false).map(
    ({name, type, enabled, plugin, config}) => ({name, type, enabled, plugin, config}),
  )
}

export function decodeVulnFile(root: JsonValue): VulnSource[] {
  return decodeSourcesFile(root, 'vuln_sources', 'VulnSource', true)
}

/** Every file's sources in file order; a JSON or type error anywhere aborts start-up (file:line:column). */
export function loadIntelSources(files: readonly ConfigFile[]): IntelSource[] {
  return files.flatMap((file) => decodeConfigFile(file, decodeIntelFile))
}

export function loadVulnSources(files: readonly ConfigFile[]): VulnSource[] {
  return files.flatMap((file) => decodeConfigFile(file, decodeVulnFile))
}
