import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { freePorts, keysOf, metric, startMember, until, wsUrl, type Member } from './cluster.ts'

let members: Member[] = []

afterEach(async () => {
  for (const m of members) await m.stop(true)
  members = []
})

async function write(m: Member, room: string, key: string): Promise<void> {
  const r = await m.relay.rooms.get(room)
  const d = new Y.Doc()
  Y.applyUpdate(d, r.encodeStateAsUpdate())
  const before = Y.encodeStateVector(d)
  d.getMap('m').set(key, 1)
  r.applyUpdate(Y.encodeStateAsUpdate(d, before), 'test-client')
}

describe('catch-up after downtime', () => {
  it('a restarted relay receives only the rooms that changed, and loads no other', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
    let b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh' })
    members = [a, b]
    await until('link up', () => a.ext.node!.linkedPeers().includes('b'))
    const rooms = Array.from({ length: 30 }, (_, i) => `room-${i}`)
    for (const room of rooms) await write(a, room, 'v1')
    await until('b stored every room', async () => (await b.relay.storage.listRooms()).length === rooms.length
      && a.ext.node!.lagReport().every((l) => l.unacked === 0))
    const dataDir = b.dataDir
    await b.stop()
    await until('a sees b down', () => a.ext.node!.linkedPeers().length === 0)
    await write(a, 'room-3', 'v2')
    await write(a, 'room-7', 'v2')
    await write(a, 'room-new', 'v1')
    const sentBefore = (await metric(a.httpUrl, 'tandem_peer_catchup_rooms_total', { peer: 'b', direction: 'sent' })) ?? 0
    b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', dataDir })
    members = [a, b]
    await until('b caught up', async () => keysOf((await b.relay.rooms.get('room-7')).doc).includes('v2')
      && keysOf((await b.relay.rooms.get('room-3')).doc).includes('v2')
      && (await b.relay.storage.listRooms()).includes('room-new'))
    const sent = (await metric(a.httpUrl, 'tandem_peer_catchup_rooms_total', { peer: 'b', direction: 'sent' }))! - sentBefore
    expect(sent).toBe(3)
    // Unchanged rooms were compared by state vector from storage, never loaded on b.
    expect([...b.relay.rooms.loaded()].map((r) => r.name).sort()).toEqual(['room-3', 'room-7', 'room-new'])
  })
})
