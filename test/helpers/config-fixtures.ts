// Config files in upstream Dsiem's JSON format, for tests that hand a config directory to the CLI or
// to the directive loader: the Ping Flood directive, a small asset table, and a temp-dir writer.

import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

/** One "ICMP Ping" rule of the Ping Flood directive, keys in upstream's order. */
function icmpPing(stage: number, occurrence: number, from: string, reliability: number, timeout: number) {
  return {
    name: 'ICMP Ping',
    type: 'PluginRule',
    stage,
    plugin_id: 1001,
    plugin_sid: [2100384],
    occurrence,
    from,
    to: 'ANY',
    port_from: 'ANY',
    port_to: 'ANY',
    reliability,
    timeout,
  }
}

/**
 * Upstream's "Ping Flood from SRC_IP" (plugin 1001, sid 2100384): one ping from HOME_NET opens it,
 * 3 more from the same source (`:1`) complete stage 2, 100 more stage 3. Four pings from the Firewall
 * (asset value 5, see LAN_ASSETS) leave it at stage 3 with risk 3×6×5/25 = 3 (Medium).
 */
export const PING_FLOOD_DIRECTIVE = {
  id: 1,
  name: 'Ping Flood from SRC_IP',
  kingdom: 'Reconnaissance & Probing',
  category: 'Misc Activity',
  priority: 3,
  rules: [icmpPing(1, 1, 'HOME_NET', 1, 0), icmpPing(2, 3, ':1', 6, 600), icmpPing(3, 100, ':1', 10, 3600)],
}

export interface TwoStageFields {
  id: number
  name: string
  kingdom: string
  category: string
  priority: number
  /** Both rules' name. */
  rule: string
  pluginId: number
  pluginSids: number[]
  /** Stage 1's and stage 2's. */
  occurrence: readonly [number, number]
  /** Stage 1's and stage 2's. */
  reliability: readonly [number, number]
}

/**
 * A two-stage PluginRule directive in upstream's JSON: stage 1 opens on one event from HOME_NET,
 * stage 2 wants events from the same source (`:1`) within 600 s.
 */
export function twoStagePluginDirective(fields: TwoStageFields) {
  const {id, name, kingdom, category, priority} = fields
  return {
    id,
    name,
    kingdom,
    category,
    priority,
    rules: [1, 2].map((stage) => ({
      name: fields.rule,
      type: 'PluginRule',
      stage,
      plugin_id: fields.pluginId,
      plugin_sid: fields.pluginSids,
      occurrence: fields.occurrence[stage - 1]!,
      from: stage === 1 ? 'HOME_NET' : ':1',
      to: 'ANY',
      port_from: 'ANY',
      port_to: 'ANY',
      reliability: fields.reliability[stage - 1]!,
      timeout: stage === 1 ? 0 : 600,
    })),
  }
}

/** An assets_*.json body: the Firewall at 192.168.0.1 (value 5) inside a 192.168.0.0/16 HOME_NET (value 2). */
export const LAN_ASSETS = {
  assets: [
    {name: 'Firewall', cidr: '192.168.0.1/32', value: 5},
    {name: 'lan', cidr: '192.168.0.0/16', value: 2},
  ],
}

/** One NDJSON line: a Ping Flood event from the Firewall to 8.8.8.8 at 2026-01-01T00:00:<second>Z. */
export function pingEventLine(eventId: string, second: number): string {
  return JSON.stringify({
    event_id: eventId,
    timestamp: `2026-01-01T00:00:${String(second).padStart(2, '0')}Z`,
    sensor: 's',
    plugin_id: 1001,
    plugin_sid: 2100384,
    src_ip: '192.168.0.1',
    dst_ip: '8.8.8.8',
  })
}

export interface ConfigDirFiles {
  /** The directives file: a list written as `{"directives": [...]}`, or its raw text. */
  directives: readonly unknown[] | string
  /** Default directives_test.json. */
  directivesFile?: string
  /** The assets file's body; default LAN_ASSETS. */
  assets?: unknown
  /** Default assets_test.json. */
  assetsFile?: string
  /** Write into this directory (created if missing) instead of a fresh temp directory. */
  dir?: string
}

/** Writes a config directory (one directives file, one assets file) and returns its path. */
export function writeConfigDir(files: ConfigDirFiles): string {
  const dir = files.dir ?? mkdtempSync(path.join(tmpdir(), 'dsiem-config-'))
  mkdirSync(dir, {recursive: true})
  const directives =
    typeof files.directives === 'string' ? files.directives : JSON.stringify({directives: files.directives})
  writeFileSync(path.join(dir, files.directivesFile ?? 'directives_test.json'), directives)
  writeFileSync(
    path.join(dir, files.assetsFile ?? 'assets_test.json'),
    JSON.stringify(files.assets ?? LAN_ASSETS),
  )
  return dir
}
