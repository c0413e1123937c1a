// Upstream's S1 (handler_test.go) and S2 (server_test.go) tables, shared by the role-level suites in
// test/roles/ and the `dsiem serve` end-to-end suites in test/e2e/, so both pin the same rows.

import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

/** The five strings every event needs. */
export const REQUIRED = {
  event_id: 'e1',
  timestamp: '2026-01-01T00:00:00Z',
  sensor: 'sensor1',
  src_ip: '10.0.0.1',
  dst_ip: '8.8.8.8',
}
export const WITH_PLUGIN = {...REQUIRED, plugin_id: 1001, plugin_sid: 1}
export const WITH_TAXONOMY = {...REQUIRED, product: 'IDS', category: 'Malware'}

/** S1: POST /events bodies and upstream's answers, in upstream's order of checks. */
export const S1_CASES: readonly (readonly [name: string, body: string, status: number, text: string])[] = [
  ['garbage', 'garbage', 500, 'Cannot parse the submitted event\n'],
  ['empty body', '', 500, 'Cannot parse the submitted event\n'],
  [
    'a string where an int belongs',
    JSON.stringify({...WITH_PLUGIN, plugin_id: '1001'}),
    500,
    'Cannot parse the submitted event\n',
  ],
  ['{}', '{}', 418, 'Not a valid event\n'],
  ['only the five required strings', JSON.stringify(REQUIRED), 418, 'Not a valid event\n'],
  [
    'plugin_id without plugin_sid',
    JSON.stringify({...REQUIRED, plugin_id: 1001}),
    418,
    'Not a valid event\n',
  ],
  ['+ plugin_id/plugin_sid', JSON.stringify(WITH_PLUGIN), 200, ''],
  ['+ product/category', JSON.stringify(WITH_TAXONOMY), 200, ''],
]

export const INTEL_WISE = JSON.stringify({
  intel_sources: [
    {name: 'Wise', type: 'IP', enabled: true, plugin: 'Wise', config: '{"url":"http://wise:8081"}'},
  ],
})

/** The config directory S2 runs against: intel_wise.json, assets_b.json and a sub-directory. */
export function s2ConfigDir(dir = mkdtempSync(path.join(tmpdir(), 'dsiem-frontend-config-'))): string {
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'intel_wise.json'), INTEL_WISE)
  writeFileSync(
    path.join(dir, 'assets_b.json'),
    JSON.stringify({assets: [{name: 'x', cidr: '10.0.0.0/8', value: 2}]}),
  )
  mkdirSync(path.join(dir, 'subdir'))
  return dir
}

/** S2 with --writeableConfig: [method, path, body, status, response body or undefined to skip], in order. */
export const S2_TABLE: readonly (readonly [string, string, string, number, string | undefined])[] = [
  [
    'POST',
    '/config/payload.exe',
    'zpl01t',
    418,
    'Not a valid filename, should be in any_N4m3_you_want.json format\n',
  ],
  ['POST', '/config/valid.json', '{}', 201, 'File valid.json uploaded successfully\n'],
  ...['intel', 'vuln', 'directives', 'assets'].map(
    (kind) =>
      [
        'POST',
        `/config/${kind}_hack.json`,
        '{ "foo":"bar"}',
        418,
        "Invalid content detected, parsing error message is: content doesn't have a valid entry\n",
      ] as const,
  ),
  [
    'DELETE',
    '/config/payload.exe',
    '',
    418,
    'Not a valid filename, should be in any_N4m3-that_you_want.json format\n',
  ],
  ['DELETE', '/config/valid.json', '', 200, ''],
  ['DELETE', '/config/doesntexist.json', '', 400, 'cannot delete doesntexist.json'],
  ['GET', '/config/', '', 200, undefined],
  ['GET', '/config/intel_wise.json', '', 200, INTEL_WISE],
  ['GET', '/config/doesntexist.json', '', 400, 'cannot open doesntexist.json'],
  ['GET', '/config/a.json', '', 400, 'cannot open a.json'],
  [
    'GET',
    '/config/payload.exe',
    '',
    418,
    'Not a valid filename, should be in any_N4m3-that_you_want.json format\n',
  ],
  ['GET', '/config/dir/asdad/', '', 404, undefined],
  ['GET', '/config/test.json.foo', '', 418, undefined],
  ['GET', '/config/..dot_in_fname.json', '', 418, undefined],
  ['GET', encodeURI('/config/ʘunicode.json'), '', 418, undefined],
  ['GET', '/config/_.json', '', 418, undefined],
]
