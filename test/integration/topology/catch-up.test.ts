import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { freePorts, keysOf, metric, startMember, until, wsUrl, type Member } from './cluster.ts'

let members: Member[] = []

afterEach(async () => {
  for (const m of members) await m.stop(true)
  members = []
})

async function edit(m: Member, room: string, change: (map: Y.Map<number>) => void): Promise<void> {
  const r = await m.relay.rooms.get(room)
  const d = new Y.Doc()
  Y.applyUpdate(d, r.encodeStateAsUpdate())
  const before = Y.encodeStateVector(d)
  change(d.getMap('m'))
  r.applyUpdate(Y.encodeStateAsUpdate(d, before), 'test-client')
}

const write = (m: Member, room: string, key: string): Promise<void> => edit(m, room, (map) => map.set(key, 1))

/** Nothing sent and unacknowledged on any link of `members`. */
const drained = (members: Member[]): boolean => members.every((m) => m.ext.node!.lagReport().every((l) => l.unacked === 0))

describe('catch-up after downtime', () => {
  it('a restarted relay receives only the rooms that changed, and loads no other', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
    let b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh' })
    members = [a, b]
    await until('link up', () => a.ext.node!.linkedPeers().includes('b'))
    const rooms = Array.from({ length: 30 }, (_, i) => `room-${i}`)
    for (const room of rooms) await write(a, room, 'v1')
    // stored on b, and nothing in flight either way (b answers a's digest with what it has)
    await until('b stored every room', async () => (await b.relay.storage.listRooms()).length === rooms.length && drained([a, b]))
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

  it('an update a peer already has is acknowledged at once, not left for the probe', async () => {
    // No probe of unacknowledged updates within the test: only an ack can drain the lag.
    const probe = { resyncAfterMs: 120_000 }
    const [pa, pb] = await freePorts(2) as [number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh', ...probe })
    let b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', ...probe })
    members = [a, b]
    await until('link up', () => a.ext.node!.linkedPeers().includes('b'))
    // a room with a deletion: every exchange about it carries its delete set
    await edit(a, 'notes', (map) => map.set('gone', 1))
    await edit(a, 'notes', (map) => map.delete('gone'))
    await until('b stored the room', async () => (await b.relay.storage.listRooms()).includes('notes') && drained([a, b]))
    // b again, with nothing loaded
    const dataDir = b.dataDir
    await b.stop()
    await until('a sees b down', () => a.ext.node!.linkedPeers().length === 0)
    b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', dataDir, ...probe })
    members = [a, b]
    await until('link up again', () => a.ext.node!.linkedPeers().includes('b') && b.ext.node!.linkedPeers().includes('a'))
    // Loading the room on b sends its delete set to a, which has it; a answers b's sync step 1
    // with its own, which b has. Neither stores anything, so only an ack for a no-op drains it.
    await b.relay.rooms.get('notes')
    expect(drained([b])).toBe(false)
    await until('every update sent is acknowledged', () => drained([a, b]), 10_000)
    expect(keysOf((await b.relay.rooms.get('notes')).doc)).toEqual([])
  })
})
