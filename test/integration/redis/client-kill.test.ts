/**
 * Connections dropped by Redis itself (`CLIENT KILL`, as a proxy or failover does) while the
 * first redial succeeds at once: commands in flight must fail, not hang — the blocking read
 * of each relay is always in flight.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { Scene, client, keysOf, metric, redisUp, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

describe('connections killed by Redis', () => {
  it('every relay redials and keeps reading: writes still flow both ways, and the relays stop promptly', async () => {
    const redis = scene.redis = await startRedis()
    const members = scene.members = await Promise.all(['ck0', 'ck1'].map((id) => startRedisMember({ id, redisUrl: redis.url })))
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const [a, b] = scene.clients = members.map((m) => client(m.url, 'killed'))
    await Promise.all([synced(a!), synced(b!)])
    a!.doc.getMap('m').set('before', 1)
    await until('b sees the first write', () => b!.doc.getMap('m').has('before'))
    const inspect = new Redis(redis.url)
    try {
      expect(Number(await inspect.call('CLIENT', 'KILL', 'TYPE', 'normal'))).toBeGreaterThanOrEqual(4) // cmd and read of each relay
    } finally {
      inspect.disconnect()
    }
    for (const m of members) {
      await until(`${m.id} reconnected`, async () => (await metric(m.httpUrl, 'tandem_redis_reconnects_total') ?? 0) >= 1)
      await redisUp(m.httpUrl)
    }
    a!.doc.getMap('m').set('after-a', 1)
    b!.doc.getMap('m').set('after-b', 1)
    await until('both writes after the kill reach both clients', () =>
      [a!, b!].every((c) => c.doc.getMap('m').has('after-a') && c.doc.getMap('m').has('after-b')), 10_000)
    expect(keysOf(a!.doc)).toEqual(['after-a', 'after-b', 'before'])
    for (const c of scene.clients) c.destroy()
    scene.clients = []
    const started = Date.now()
    for (const m of members) await m.stop()
    scene.members = []
    expect(Date.now() - started).toBeLessThan(5000) // a read left pending would hold stop() forever
  })
})
