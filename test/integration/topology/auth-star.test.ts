import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  client, freePorts, keysOf, metric, peersFor, relayDoc, spawnMember, startMember, synced, until, wsUrl,
  type Client, type Member, type Proc,
} from './cluster.ts'

let members: Member[] = []
let procs: Proc[] = []
let clients: Client[] = []

afterEach(async () => {
  for (const c of clients) c.destroy()
  for (const p of procs) {
    p.kill('SIGKILL')
    await p.exited
  }
  for (const m of members) await m.stop(true)
  members = []
  procs = []
  clients = []
})

describe('peer authentication', () => {
  it('a wrong peer secret is refused and logged on both sides, and no data is exchanged', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    // Both dial each other (a relay without peers does not start the topology part).
    const a = await spawnMember({ id: 'a', port: pa, peers: [wsUrl(pb)], topology: 'mesh', secret: 'right' })
    procs.push(a)
    const ca = client(a.url, 'secret-room')
    clients.push(ca)
    await synced(ca)
    ca.doc.getMap('m').set('private', 1)
    await until('a stored it', async () => keysOf(await relayDoc(a.httpUrl, 'secret-room')).length === 1)
    const b = await spawnMember({ id: 'b', port: pb, peers: [a.url], topology: 'mesh', secret: 'wrong' })
    procs.push(b)
    await until('a refused b', async () => ((await metric(a.httpUrl, 'tandem_peer_refused_total')) ?? 0) >= 1)
    await until('b was refused', async () => ((await metric(b.httpUrl, 'tandem_peer_refused_total')) ?? 0) >= 1)
    await until('refusals logged', () => a.output().includes('wrong peer secret') && /refused/.test(b.output()))
    expect(await metric(a.httpUrl, 'tandem_peer_link_up', { peer: 'b' })).toBeUndefined()
    expect(await metric(b.httpUrl, 'tandem_peer_bytes_received_total', { peer: 'a' })).toBeUndefined()
    expect(await metric(a.httpUrl, 'tandem_peer_bytes_received_total', { peer: 'b' })).toBeUndefined()
    // b never stored the room: the relay answers 404 for rooms it does not have.
    expect((await fetch(`${b.httpUrl}/api/rooms/secret-room/update`)).status).toBe(404)
  })
})

describe('star', () => {
  it('spokes replicate through the hub, and only through it', async () => {
    const ports = await freePorts(4)
    members = await Promise.all(ports.map((port, i) => startMember({
      id: `s${i}`, port, peers: peersFor('star', ports, i), topology: 'star', hub: 's0',
    })))
    // Each side marks a link up once it has verified the other, so wait for both ends.
    await until('spokes linked to the hub', () => members[0]!.ext.node!.linkedPeers().length === 3 &&
      members.slice(1).every((m) => m.ext.node!.linkedPeers().length > 0))
    for (const spoke of members.slice(1)) expect(spoke.ext.node!.linkedPeers()).toEqual(['s0'])
    clients = members.slice(1).map((m) => client(m.url, 'star-room'))
    await Promise.all(clients.map(synced))
    clients.forEach((c, i) => { for (let k = 0; k < 20; k++) c.doc.getMap('m').set(`spoke${i}-${k}`, k) })
    await until('every spoke client has every write', () => clients.every((c) => keysOf(c.doc).length === 60))
    const hub = await relayDoc(members[0]!.httpUrl, 'star-room')
    expect(keysOf(hub)).toHaveLength(60)
    // Spokes only ever sent to the hub; the hub forwarded between spokes.
    for (const spoke of ['s1', 's2', 's3']) {
      expect(await metric(members[0]!.httpUrl, 'tandem_peer_updates_sent_total', { peer: spoke })).toBeGreaterThan(0)
    }
    void Y
  })
})

describe('peer endpoint refuses bad input', () => {
  it('data before authentication, malformed frames and text are closed with 4400 and change nothing', async () => {
    const { WebSocket } = await import('ws')
    const { encodeFrame, PEER_CLOSE } = await import('../../../relay/topology/index.ts')
    const [port] = await freePorts(1) as [number]
    const m = await startMember({ id: 'solo', port, peers: [], topology: 'mesh' })
    members.push(m)
    const doc = new Y.Doc()
    doc.getMap('m').set('intruder', 1)
    const attempts: Array<Uint8Array | string> = [
      encodeFrame({ kind: 'update', room: 'victim', path: ['x'], update: Y.encodeStateAsUpdate(doc) }),
      new Uint8Array([250, 1, 2, 3]),
      'hello',
    ]
    for (const payload of attempts) {
      const ws = new WebSocket(`${m.url}/_peer`)
      const code = await new Promise<number>((resolve) => {
        ws.on('open', () => ws.send(payload))
        ws.on('close', (c) => resolve(c))
      })
      expect(code).toBe(PEER_CLOSE.protocol)
    }
    expect(await m.relay.storage.listRooms()).toEqual([])
    expect(m.ext.node!.linkedPeers()).toEqual([])
  })
})
