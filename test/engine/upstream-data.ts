// Upstream Dsiem's test data: its fixture directories (read in place from ../shared, never copied)
// through the same config-directory loader the backend uses (every matching file, lexicographic
// order), and the event its own tests build.

import {emptyEvent, type AssetTable, type DirectiveSet, type NormalizedEvent} from '../../src/engine/index.js'
import {loadAssetsFromDir, loadDirectivesFromDir} from '../../src/roles/io/config-dir.js'
import {upstream} from '../helpers/paths.js'

/** internal/pkg/dsiem/siem/fixtures/<name>/directives_*.json */
export function upstreamDirectiveFixture(name: string): DirectiveSet {
  return loadDirectivesFromDir({configDir: upstream('internal/pkg/dsiem/siem/fixtures', name)})
}

/** internal/pkg/dsiem/asset/fixtures/<name>/assets_*.json */
export function upstreamAssetFixture(name: string): AssetTable {
  return loadAssetsFromDir(upstream('internal/pkg/dsiem/asset/fixtures', name))
}

/** The event upstream's event_test.go TestValid builds; event.golden holds it serialized. */
export function testValidEvent(): NormalizedEvent {
  return {
    ...emptyEvent(),
    eventId: '1001',
    timestamp: '2018-10-08T07:16:50Z',
    sensor: 'sensor1',
    srcIp: '10.0.0.1',
    dstIp: '8.8.8.8',
  }
}
