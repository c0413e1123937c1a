import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {communityId, createUidSource} from '../../src/sensor/flow/flow-table.js'

describe('community_id (v1)', () => {
  it("matches the spec's published TCP example, with seed 0 and seed 1", () => {
    const flow = {origH: '128.232.110.120', origP: 34855, respH: '66.35.250.204', respP: 80}
    assert.equal(communityId(flow, 6), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=')
    assert.equal(communityId(flow, 6, 1), '1:3V71V58M3Ksw/yuFALMcW0LAHvc=')
  })

  it('is the same for both directions of a flow', () => {
    const forward = communityId({origH: '10.0.0.2', origP: 53, respH: '10.0.0.1', respP: 40000}, 17)
    const backward = communityId({origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 53}, 17)
    assert.equal(forward, backward)
    assert.notEqual(forward, communityId({origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 53}, 6))
  })

  it('keeps the direction of one-way ICMP messages but not of echo pairs', () => {
    const oneWay = communityId({origH: '10.0.0.9', origP: 3, respH: '10.0.0.1', respP: 1}, 1)
    const reversed = communityId({origH: '10.0.0.1', origP: 3, respH: '10.0.0.9', respP: 1}, 1)
    assert.notEqual(oneWay, reversed)
    const request = communityId({origH: '10.0.0.9', origP: 8, respH: '10.0.0.1', respP: 0}, 1)
    const reply = communityId({origH: '10.0.0.1', origP: 0, respH: '10.0.0.9', respP: 8}, 1)
    assert.equal(request, reply)
  })

  it('hashes IPv6 addresses as 16 bytes and gives up on garbage', () => {
    const v6 = communityId({origH: '2001:db8::1', origP: 1234, respH: '2001:db8::2', respP: 443}, 6)
    assert.match(v6, /^1:[A-Za-z0-9+/]{27}=$/)
    assert.notEqual(v6, communityId({origH: '2001:db8::1', origP: 1234, respH: '2001:db8::3', respP: 443}, 6))
    assert.equal(communityId({origH: 'not-an-ip', origP: 1, respH: '10.0.0.1', respP: 2}, 6), '')
  })
})

describe('connection uids', () => {
  it("look like Zeek's: C and base62 of 96 bits", () => {
    const next = createUidSource()
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const uid = next()
      assert.match(uid, /^C[0-9A-Za-z]{2,17}$/)
      seen.add(uid)
    }
    assert.equal(seen.size, 1000, 'no repeats')
  })

  it('repeat with a seed and differ between seeds', () => {
    const a = createUidSource(42)
    const b = createUidSource(42)
    const c = createUidSource(43)
    const first = [a(), a(), a()]
    assert.deepEqual([b(), b(), b()], first)
    assert.notDeepEqual([c(), c(), c()], first)
    assert.notEqual(first[0], first[1])
  })
})
