/**
 * `/health` tells the truth about peer links: the `peers` component is ok only when every
 * known peer is linked and caught up, and says which peer is not and why.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { freePorts, startMember, until, wsUrl, writeLocal, type Member } from './cluster.ts'

let members: Member[] = []

afterEach(async () => {
  for (const m of members) await m.stop(true)
  members = []
})

interface Health { ok: boolean; components: Record<string, { ok: boolean; detail?: string }> }
const health = async (m: Member): Promise<Health> => (await fetch(`${m.httpUrl}/health`)).json() as Promise<Health>

describe('peers health', () => {
  it('degraded until every known peer is linked, with the reason per peer; degraded again when a link goes down', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [wsUrl(pb)], topology: 'mesh' })
    members.push(a)
    const before = await health(a)
    expect(before.ok).toBe(false)
    expect(before.components.peers).toEqual({ ok: false, detail: expect.stringMatching(new RegExp(`^${wsUrl(pb)}: not linked yet since `)) })
    const b = await startMember({ id: 'b', port: pb, peers: [], topology: 'mesh' })
    members.push(b)
    await until('a healthy', async () => (await health(a)).ok)
    await until('b healthy', async () => (await health(b)).ok)
    expect((await health(a)).components.peers).toEqual({ ok: true, detail: 'b: linked' })
    expect((await health(b)).components.peers).toEqual({ ok: true, detail: 'a: linked' })
    await b.stop(true)
    members = [a]
    await until('a degraded', async () => !(await health(a)).ok)
    expect((await health(a)).components.peers?.detail).toMatch(/^b: link down \(1001 relay is shutting down\) since /)
  })

  it('ok only once caught up: when a fresh relay first reports ok, it already holds every room its peer had', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
    members.push(a)
    const ROOMS = 150
    for (let i = 0; i < ROOMS; i++) await writeLocal(a, `room-${i}`, (d) => d.getText('t').insert(0, `content of room ${i} `.repeat(20)))
    await until('a stored every room', async () => (await a.relay.storage.listRooms()).length === ROOMS)
    const b = await startMember({ id: 'b', port: pb, peers: [a.url], topology: 'mesh' })
    members.push(b)
    // Watch b's health as closely as the event loop allows; the moment it says ok, b must hold everything.
    let sawCatchingUp = false
    for (;;) {
      const h = await health(b)
      if (h.components.peers?.detail?.startsWith('a: catching up')) sawCatchingUp = true
      if (h.ok) break
      await new Promise((r) => setImmediate(r))
    }
    const missing: string[] = []
    for (let i = 0; i < ROOMS; i++) {
      const loaded = [...b.relay.rooms.loaded()].find((r) => r.name === `room-${i}`)
      const d = new Y.Doc()
      if (loaded) Y.applyUpdate(d, loaded.encodeStateAsUpdate())
      if (!d.getText('t').toString().startsWith(`content of room ${i} `)) missing.push(`room-${i}`)
    }
    expect(missing).toEqual([])
    expect(sawCatchingUp).toBe(true)
  })
})
