// Loading upstream Dsiem's fixture directories (read in place from ../shared, never copied) through
// the same config-directory loader the backend uses: every matching file, lexicographic order.

import type {AssetTable, DirectiveSet} from '../../src/engine/index.js'
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
