import { afterEach, describe, expect, it } from 'vitest'
import { freePorts, keysOf, peersFor, startMember, until, type Member } from './cluster.ts'
import type { Topology } from '../../../relay/topology/index.ts'

const ROOM = 'flow'
let members: Array<Member | null> = []

afterEach(async () => {
  for (const m of members) await m?.stop(true)
  members = []
})

async function cluster(topology: Topology): Promise<{ ports: number[] }> {
  const ports = await freePorts(4)
  members = await Promise.all(ports.map((port, i) => startMember({ id: `n${i}`, port, peers: peersFor(topology, ports, i), topology })))
  await until('links up', () => members.every((m) => (m?.ext.node?.linkedPeers().length ?? 0) === (topology === 'mesh' ? 3 : 2)))
  return { ports }
}

async function write(i: number, key: string): Promise<void> {
  const room = await members[i]!.relay.rooms.get(ROOM)
  const Y = await import('yjs')
  const d = new Y.Doc()
  Y.applyUpdate(d, room.encodeStateAsUpdate())
  const before = Y.encodeStateVector(d)
  d.getMap('m').set(key, i)
  // An HTTP-like local write: applied as this relay's own (non-peer) update.
  room.applyUpdate(Y.encodeStateAsUpdate(d, before), 'test-client')
}

async function has(i: number, key: string): Promise<boolean> {
  return keysOf((await members[i]!.relay.rooms.get(ROOM)).doc).includes(key)
}

describe('ring of 4 vs mesh of 4 with one relay down', () => {
  it('ring: a relay down interrupts the flow past it; it resumes when the relay returns', async () => {
    const { ports } = await cluster('ring')
    await write(0, 'before')
    await until('ring delivers around', async () => (await Promise.all([1, 2, 3].map((i) => has(i, 'before')))).every(Boolean))
    const n1 = members[1]!
    const dataDir = n1.dataDir
    await n1.stop()
    members[1] = null
    await until('n0 sees n1 down', () => !members[0]!.ext.node!.linkedPeers().includes('n1'))
    await write(0, 'during')
    // n2 → n3 → n0 still flows: a write on n2 reaches n0 ...
    await write(2, 'marker')
    await until('marker reaches n0 through n3', async () => has(0, 'marker'))
    // ... but n0's write has no way past the gap: by the time n2's later write went round, n0's is nowhere.
    expect(await has(2, 'during')).toBe(false)
    expect(await has(3, 'during')).toBe(false)
    members[1] = await startMember({ id: 'n1', port: ports[1]!, peers: peersFor('ring', ports, 1), topology: 'ring', dataDir })
    await until('ring catches up after n1 returns', async () =>
      (await Promise.all([1, 2, 3].map((i) => has(i, 'during')))).every(Boolean))
  })

  it('mesh: a relay down does not stop the others', async () => {
    await cluster('mesh')
    await members[1]!.stop(true)
    members[1] = null
    await write(0, 'during')
    await write(2, 'marker')
    await until('mesh routes around the dead relay', async () =>
      (await has(2, 'during')) && (await has(3, 'during')) && (await has(0, 'marker')) && (await has(3, 'marker')))
  })
})
