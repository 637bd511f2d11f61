/**
 * One trust domain for a cluster of peer relays: a token revoked on one relay is refused by
 * every relay of the mesh, star or ring, cuts the connections that hold it everywhere,
 * survives restarts, reaches a relay that was down when it was made, and a lifted revocation
 * is lifted everywhere and stays lifted. Real relays, real sockets, real LevelDB and deny
 * files on disk.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Topology } from '../../../relay/topology/index.ts'
import { SECRET as AUTH_SECRET, token, tryUpgrade } from '../auth/helpers.ts'
import { freePorts, peersFor, startMember, until, type Member } from './cluster.ts'

let members: Member[] = []
const sockets: Array<{ terminate(): void }> = []

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate()
  for (const m of members) await m.stop(true)
  members = []
})

const admin = (): Promise<string> => token({ rooms: ['*'], admin: true, jti: `admin-${Math.random()}` })

async function revoke(m: Member, jti: string): Promise<void> {
  const res = await fetch(`${m.httpUrl}/api/auth/deny`, {
    method: 'POST', headers: { authorization: `Bearer ${await admin()}`, 'content-type': 'application/json' }, body: JSON.stringify({ jti }),
  })
  expect(res.status).toBe(200)
}

async function lift(m: Member, jti: string): Promise<void> {
  const res = await fetch(`${m.httpUrl}/api/auth/deny/${jti}`, { method: 'DELETE', headers: { authorization: `Bearer ${await admin()}` } })
  expect(await res.json()).toEqual({ ok: true, removed: true })
}

/** The HTTP status of an upgrade to `room` with `tokenValue` (closing the socket if it opened). */
async function upgradeStatus(m: Member, room: string, tokenValue: string): Promise<number> {
  const r = await tryUpgrade(m.url, room, { token: tokenValue })
  r.ws.terminate()
  return r.status
}

async function cluster(topology: Topology, n: number, dataDirs?: string[]): Promise<Member[]> {
  const ports = await freePorts(n)
  const started = await Promise.all(ports.map((port, i) => startMember({
    id: `r${i}`, port, peers: peersFor(topology, ports, i), topology, ...(topology === 'star' ? { hub: 'r0' } : {}),
    authSecret: AUTH_SECRET, ...(dataDirs ? { dataDir: dataDirs[i] as string } : {}),
  })))
  members.push(...started)
  await linked(started, topology)
  return started
}

async function linked(ms: Member[], topology: Topology): Promise<void> {
  const want = (i: number): number => topology === 'mesh' ? ms.length - 1 : topology === 'star' ? (i === 0 ? ms.length - 1 : 1) : 2
  await until('cluster linked', () => ms.every((m, i) => m.ext.node!.linkedPeers().length === want(i)))
}

describe('a revocation holds on every relay of the cluster', () => {
  for (const topology of ['mesh', 'star', 'ring'] as Topology[]) {
    it(`${topology}: revoked on one relay, a live connection elsewhere is cut (4403) and every relay refuses the token (403)`, async () => {
      const ms = await cluster(topology, 3)
      const jti = `t-${topology}`
      const t = await token({ rooms: ['doc'], jti })
      // Revoked on a spoke (star) or any relay; the holder sits on the relay farthest from it.
      const [origin, holder] = [ms[1] as Member, ms[2] as Member]
      const live = await tryUpgrade(holder.url, 'doc', { token: t })
      sockets.push(live.ws)
      expect(live.status).toBe(101)
      for (const m of ms) expect(await upgradeStatus(m, 'doc', t)).toBe(101)
      await revoke(origin, jti)
      await until('the live connection on another relay was cut', () => live.closeCode === 4403)
      for (const m of ms) await until(`${m.id} refuses the token`, async () => (await upgradeStatus(m, 'doc', t)) === 403)
      // Another token is untouched.
      expect(await upgradeStatus(holder, 'doc', await token({ rooms: ['doc'], jti: 'other' }))).toBe(101)
    })
  }

  it('survives restarts, reaches a relay that was down when it was made, and a lift is lifted everywhere for good', async () => {
    const ms = await cluster('mesh', 3)
    const dirs = ms.map((m) => m.dataDir)
    const t = await token({ rooms: ['doc'], jti: 'revoked-while-down' })
    const u = await token({ rooms: ['doc'], jti: 'lifted-later' })
    // r2 is down while r0 revokes.
    await (ms[2] as Member).stop()
    await revoke(ms[0] as Member, 'revoked-while-down')
    await revoke(ms[0] as Member, 'lifted-later')
    await until('r1 refuses', async () => (await upgradeStatus(ms[1] as Member, 'doc', t)) === 403)
    const ports = ms.map((m) => m.port)
    const r2 = await startMember({ id: 'r2', port: ports[2] as number, peers: peersFor('mesh', ports, 2), topology: 'mesh', authSecret: AUTH_SECRET, dataDir: dirs[2] as string })
    members[2] = r2
    await until('r2 caught up on link up', async () => (await upgradeStatus(r2, 'doc', t)) === 403 && (await upgradeStatus(r2, 'doc', u)) === 403)
    // Lifted on r1: lifted everywhere.
    await lift(ms[1] as Member, 'lifted-later')
    for (const m of [ms[0] as Member, ms[1] as Member, r2]) await until(`${m.id} lifted it`, async () => (await upgradeStatus(m, 'doc', u)) === 101)
    // Every relay restarted from its own files, all at once: the revocation holds, the lift holds.
    for (const m of [ms[0] as Member, ms[1] as Member, r2]) await m.stop()
    members = []
    for (const m of await cluster('mesh', 3, dirs)) {
      expect(await upgradeStatus(m, 'doc', t)).toBe(403)
      expect(await upgradeStatus(m, 'doc', u)).toBe(101)
    }
  })
})
