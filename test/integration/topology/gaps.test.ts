/**
 * The gaps named at the last landing:
 * - delete-only changes made on a cut-off relay that then goes down before the heal reach
 *   the peers at the heal, without a client opening the room there (the relay's record of
 *   rooms changed while a link was down survives the restart);
 * - an update whose dependency is missing (pending structs) makes the relay ask its other
 *   peers for what it lacks instead of waiting for the slow link.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startLinkProxy, type LinkProxy } from '../../fixtures/link-proxy.ts'
import { freePorts, metric, startMember, until, writeLocal, wsUrl, type Member } from './cluster.ts'

const ROOM = 'gaps'
let members: Member[] = []
let proxies: LinkProxy[] = []

afterEach(async () => {
  for (const p of proxies) await p.close()
  for (const m of members) await m.stop(true).catch(() => undefined)
  members = []
  proxies = []
})

const write = (m: Member, fn: (d: Y.Doc) => void): Promise<void> => writeLocal(m, ROOM, fn)
const textOf = async (m: Member): Promise<string> => (await m.relay.rooms.get(ROOM)).doc.getText('t').toString()

describe('topology gaps', () => {
  it('a delete-only change on a cut-off relay that restarts before the heal reaches its peer at the heal', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
    const proxy = await startLinkProxy(wsUrl(pa))
    let b = await startMember({ id: 'b', port: pb, peers: [proxy.url], topology: 'mesh' })
    members = [a, b]
    proxies = [proxy]
    await until('link up', () => a.ext.node!.linkedPeers().includes('b') && b.ext.node!.linkedPeers().includes('a'))
    await write(a, (d) => d.getText('t').insert(0, 'hello world'))
    await until('b has the text', async () => (await textOf(b)) === 'hello world')
    await until('lag drained', () => [a, b].every((m) => m.ext.node!.lagReport().every((l) => l.unacked === 0)))
    proxy.setMode('refuse')
    await until('link down', () => a.ext.node!.linkedPeers().length === 0 && b.ext.node!.linkedPeers().length === 0)
    // Delete-only: the state vector does not move.
    await write(b, (d) => d.getText('t').delete(0, 6))
    await (await b.relay.rooms.get(ROOM)).flush()
    expect(await textOf(b)).toBe('world')
    // b goes down before the heal and comes back: a fresh process knows nothing of the cut.
    const dataDir = b.dataDir
    await b.stop(false)
    b = await startMember({ id: 'b', port: pb, peers: [proxy.url], topology: 'mesh', dataDir })
    members = [a, b]
    expect(b.relay.rooms.peek(ROOM)).toBeUndefined()
    proxy.setMode('pass')
    await until('a has the deletion', async () => (await textOf(a)) === 'world', 10_000)
  })

  it('a relay holding an update with a missing dependency asks its other peers for it', async () => {
    // a, b, c in mesh; the a–c link holds every frame for the whole test.
    const [pa, pb, pc] = await freePorts(3) as [number, number, number]
    // No unacknowledged-update probe during the test: only the request can fetch the dependency.
    const slow = { resyncAfterMs: 600_000 }
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh', ...slow })
    const proxy = await startLinkProxy(wsUrl(pa))
    const b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', ...slow })
    const c = await startMember({ id: 'c', port: pc, peers: [proxy.url, wsUrl(pb)], topology: 'mesh', ...slow })
    members = [a, b, c]
    proxies = [proxy]
    await until('links up', () => [a, b, c].every((m) => m.ext.node!.linkedPeers().length === 2))
    await Promise.all([a, b, c].map((m) => m.relay.rooms.get(ROOM)))
    await write(a, (d) => d.getMap('m').set('warm', 1))
    await until('warm-up everywhere', async () => (await Promise.all([a, b, c].map(async (m) => (await m.relay.rooms.get(ROOM)).doc))).every((d) => d.getMap('m').has('warm'))
      && [a, b, c].every((m) => m.ext.node!.lagReport().every((l) => l.unacked === 0)))
    proxy.hold()
    await write(a, (d) => d.getText('t').insert(0, 'first '))
    await until('b has a\'s text', async () => (await textOf(b)) === 'first ')
    // b's write depends on a's; c gets it from b while a's own frame to c is held.
    await write(b, (d) => d.getText('t').insert(6, 'second'))
    await until('c has both without the held link', async () => (await textOf(c)) === 'first second', 10_000)
    expect((await c.relay.rooms.get(ROOM)).doc.store.pendingStructs).toBeNull()
    expect(await metric(c.httpUrl, 'tandem_peer_missing_requests_total')).toBeGreaterThanOrEqual(1)
    proxy.release()
  })
})
