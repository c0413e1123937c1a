// Upstream's S2 (server_test.go TestServerStartupAndFileServer) over real HTTP: /config listing,
// download, upload with the per-prefix content checks, delete, file-name rules, and the read-only and
// unreadable-directory cases.

import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {uploadContentError} from '../../src/roles/http/config-routes.js'
import {send, startFrontendHarness, type FrontendHarness} from '../helpers/frontend-harness.js'
import {S2_TABLE, s2ConfigDir} from '../helpers/upstream-tables.js'

describe('/config with writeable config (S2)', () => {
  let h: FrontendHarness
  let dir: string
  before(async () => {
    dir = s2ConfigDir()
    h = await startFrontendHarness({config: {writeableConfig: true}, configDir: dir})
  })
  after(async () => {
    await h.close()
  })

  for (const [method, urlPath, body, status, text] of S2_TABLE) {
    it(`${method} ${decodeURI(urlPath)}${body === '' ? '' : ` ${body}`} → ${status}`, async () => {
      const response = await send(h.base, method, urlPath, body === '' ? undefined : body)
      assert.equal(response.status, status, response.body)
      if (text !== undefined) assert.equal(response.body, text)
    })
  }

  it('GET /config → 301 to /config/', async () => {
    const response = await send(h.base, 'GET', '/config')
    assert.equal(response.status, 301)
    assert.equal(response.headers['location'], '/config/')
  })

  it('GET /config/ lists every entry, sorted, pretty-printed like Go', async () => {
    const response = await send(h.base, 'GET', '/config/')
    assert.equal(response.status, 200)
    assert.equal(
      response.body,
      '{\n  "files": [\n' +
        ['assets_b.json', 'intel_wise.json', 'subdir']
          .map((name) => `    {\n      "filename": "${name}"\n    }`)
          .join(',\n') +
        '\n  ]\n}',
    )
  })

  it('an upload replaces the file (mode 0600); content checks accept ≥ 1 entry', async () => {
    const assets = JSON.stringify({assets: [{name: 'y', cidr: '192.168.0.0/16', value: 3}]})
    const response = await send(h.base, 'POST', '/config/assets_new.json', assets)
    assert.equal(response.status, 201)
    assert.equal(readFileSync(path.join(dir, 'assets_new.json'), 'utf8'), assets)
    assert.equal(statSync(path.join(dir, 'assets_new.json')).mode & 0o777, 0o600)
    const shorter = JSON.stringify({assets: [{name: 'z', cidr: '10.0.0.0/8', value: 1}]})
    assert.equal((await send(h.base, 'POST', '/config/assets_new.json', shorter)).status, 201)
    assert.equal(readFileSync(path.join(dir, 'assets_new.json'), 'utf8'), shorter, 'truncated, not appended')
  })

  it('content that does not decode is refused with Go-style messages', async () => {
    const syntax = await send(h.base, 'POST', '/config/directives_x.json', 'zpl01t')
    assert.equal(syntax.status, 418)
    assert.match(syntax.body, /^Invalid content detected, parsing error message is: invalid character 'z'/)
    const type = await send(h.base, 'POST', '/config/assets_x.json', '{"assets":"nope"}')
    assert.equal(type.status, 418)
    assert.match(type.body, /parsing error message is: json: cannot unmarshal string/)
    assert.equal(existsSync(path.join(dir, 'assets_x.json')), false)
  })

  it('a directory name is a read error (500), deeper paths are unknown (404)', async () => {
    mkdirSync(path.join(dir, 'adir.json'))
    assert.equal((await send(h.base, 'GET', '/config/adir.json')).status, 500)
    assert.equal((await send(h.base, 'GET', '/config/subdir/x.json')).status, 404)
  })
})

describe('uploadContentError', () => {
  it('applies the check of the file name prefix only', () => {
    assert.equal(uploadContentError('valid.json', 'not even json'), undefined)
    assert.equal(uploadContentError('intel_a.json', '{"intel_sources":[{"name":"a"}]}'), undefined)
    assert.equal(
      uploadContentError('vuln_a.json', '{"vuln_sources":[]}'),
      "content doesn't have a valid entry",
    )
    assert.equal(uploadContentError('directives_a.json', '{"directives":[{"id":1}]}'), undefined)
    assert.equal(uploadContentError('assets_a.json', ''), 'unexpected end of JSON input')
  })
})

describe('/config read-only and unreadable', () => {
  it('without writeable config, POST and DELETE answer 405 and change nothing', async () => {
    const dir = s2ConfigDir()
    const h = await startFrontendHarness({configDir: dir})
    try {
      assert.equal((await send(h.base, 'POST', '/config/valid.json', '{}')).status, 405)
      assert.equal((await send(h.base, 'DELETE', '/config/intel_wise.json')).status, 405)
      assert.equal(existsSync(path.join(dir, 'valid.json')), false)
      assert.equal(existsSync(path.join(dir, 'intel_wise.json')), true)
      assert.equal((await send(h.base, 'GET', '/config/intel_wise.json')).status, 200)
    } finally {
      await h.close()
    }
  })

  it('an unreadable config dir → GET /config/ 500 "Error reading config directory"', async () => {
    const h = await startFrontendHarness({configDir: '\\/\\/\\/\\/'})
    try {
      const response = await send(h.base, 'GET', '/config/')
      assert.equal(response.status, 500)
      assert.equal(response.body, 'Error reading config directory')
      assert.equal((await send(h.base, 'GET', '/config/intel_wise.json')).status, 400)
    } finally {
      await h.close()
    }
  })

  it('an empty config dir lists "files": null, as Go marshals a nil slice', async () => {
    const h = await startFrontendHarness({configDir: mkdtempSync(path.join(tmpdir(), 'dsiem-empty-'))})
    try {
      const response = await send(h.base, 'GET', '/config/')
      assert.equal(response.body, '{\n  "files": null\n}')
    } finally {
      await h.close()
    }
  })
})
