import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startLinkProxy, type LinkProxy } from '../../fixtures/link-proxy.ts'
import { freePorts, keysOf, metric, startMember, until, writeLocal, wsUrl, type Member } from './cluster.ts'

const ROOM = 'part'
let members: Member[] = []
let proxies: LinkProxy[] = []

afterEach(async () => {
  for (const p of proxies) await p.close()
  for (const m of members) await m.stop(true)
  members = []
  proxies = []
})

const write = (m: Member, fn: (d: Y.Doc) => void): Promise<void> => writeLocal(m, ROOM, fn)

const docOf = async (m: Member): Promise<Y.Doc> => (await m.relay.rooms.get(ROOM)).doc

/** a ← b through a proxy (b dials a via the proxy), mesh. */
async function pair(): Promise<{ a: Member; b: Member; proxy: LinkProxy }> {
  const [pa, pb] = await freePorts(2) as [number, number]
  const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
  const proxy = await startLinkProxy(wsUrl(pa))
  const b = await startMember({ id: 'b', port: pb, peers: [proxy.url], topology: 'mesh' })
  members = [a, b]
  proxies = [proxy]
  await until('link up', () => a.ext.node!.linkedPeers().includes('b') && b.ext.node!.linkedPeers().includes('a'))
  return { a, b, proxy }
}

describe('partitions and heal', () => {
  it('a refused link (cut, redials refused) heals and both sides converge, deletions included', async () => {
    const { a, b, proxy } = await pair()
    await write(a, (d) => d.getText('t').insert(0, 'hello world'))
    await until('b has text', async () => (await docOf(b)).getText('t').toString() === 'hello world')
    proxy.setMode('refuse')
    await until('link down on both sides', () => a.ext.node!.linkedPeers().length === 0 && b.ext.node!.linkedPeers().length === 0)
    expect(await metric(a.httpUrl, 'tandem_peer_link_up', { peer: 'b' })).toBe(0)
    await write(a, (d) => d.getMap('m').set('from-a', 1))
    await write(b, (d) => d.getMap('m').set('from-b', 1))
    // A delete-only change does not move the state vector: catch-up must still carry it.
    await write(b, (d) => d.getText('t').delete(0, 6))
    expect(keysOf(await docOf(a))).toEqual(['from-a'])
    proxy.setMode('pass')
    await until('converged after heal', async () => {
      const [da, db] = [await docOf(a), await docOf(b)]
      return keysOf(da).length === 2 && keysOf(db).length === 2 && da.getText('t').toString() === 'world'
        && db.getText('t').toString() === 'world'
    })
    expect(await metric(b.httpUrl, 'tandem_peer_link_changes_total', { peer: 'a', state: 'up' })).toBeGreaterThanOrEqual(2)
  })

  it('frames dropped on a link that stays up: unacknowledged rooms are re-checked after heal', async () => {
    const { a, b, proxy } = await pair()
    proxy.setMode('drop')
    await write(a, (d) => d.getMap('m').set('lost-on-the-wire', 1))
    await write(b, (d) => d.getMap('m').set('also-lost', 1))
    await until('drops seen', () => proxy.dropped >= 2)
    await until('lag shows the unacknowledged update', () => a.ext.node!.lagReport().some((l) => l.unacked > 0))
    expect(keysOf(await docOf(b))).toEqual(['also-lost'])
    proxy.setMode('pass')
    await until('converged after heal', async () => keysOf(await docOf(a)).length === 2 && keysOf(await docOf(b)).length === 2)
    await until('lag drained', () => a.ext.node!.lagReport().every((l) => l.unacked === 0))
  })

  it('out-of-causal-order updates over a delayed link are held, persisted, and applied when the dependency arrives', async () => {
    // a, b, c in mesh; the a–c link goes through a proxy that holds frames.
    const [pa, pb, pc] = await freePorts(3) as [number, number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
    const proxy = await startLinkProxy(wsUrl(pa))
    const b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh' })
    // c does not ask b for the missing dependency here (test/integration/topology/gaps.test.ts does).
    const c = await startMember({ id: 'c', port: pc, peers: [proxy.url, wsUrl(pb)], topology: 'mesh', askMissing: false })
    members = [a, b, c]
    proxies = [proxy]
    await until('links up', () => [a, b, c].every((m) => m.ext.node!.linkedPeers().length === 2))
    await Promise.all([a, b, c].map((m) => m.relay.rooms.get(ROOM)))
    // Let the load-time exchanges finish: a warm-up write everywhere, lag drained.
    await write(a, (d) => d.getMap('m').set('warm', 1))
    await until('warm-up everywhere', async () => (await Promise.all([a, b, c].map(docOf))).every((d) => d.getMap('m').has('warm'))
      && [a, b, c].every((m) => m.ext.node!.lagReport().every((l) => l.unacked === 0)))
    proxy.hold()
    await write(a, (d) => d.getText('t').insert(0, 'first '))
    await until('b has a\'s text', async () => (await docOf(b)).getText('t').toString() === 'first ')
    // b's write depends on a's; c receives it from b (mesh: b does not re-forward a's) before a's.
    await write(b, (d) => d.getText('t').insert(6, 'second'))
    await until('c holds b\'s update as pending', async () => (await docOf(c)).store.pendingStructs !== null)
    expect((await docOf(c)).getText('t').toString()).toBe('')
    // The pending update is on disk: c's storage holds b's structs.
    await until('pending persisted', async () => {
      const stored = await c.relay.storage.load(ROOM)
      if (stored.length === 0) return false
      const meta = Y.parseUpdateMeta(Y.mergeUpdates(stored))
      return [...meta.to.values()].some((clock) => clock >= 6)
    })
    proxy.release()
    await until('c applied both', async () => (await docOf(c)).getText('t').toString() === 'first second')
    expect((await docOf(c)).store.pendingStructs).toBeNull()
  })
})
