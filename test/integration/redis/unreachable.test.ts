import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Scene, client, deadPort, health, keysOf, metric, redisUp, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

describe('Redis unreachable', () => {
  it('every relay keeps serving its own clients, says so in /health and metrics, and catches up once Redis is there', async () => {
    const port = await deadPort()
    const url = `redis://127.0.0.1:${port}`
    const members = scene.members = await Promise.all(['a', 'b'].map((id) => startRedisMember({ id, redisUrl: url })))
    for (const m of members) {
      const h = await health(m.httpUrl)
      expect(h.status).toBe('degraded')
      expect(h.components.redis?.ok).toBe(false)
      expect(await metric(m.httpUrl, 'tandem_redis_up')).toBe(0)
      expect(await metric(m.httpUrl, 'tandem_health_ok', { component: 'redis' })).toBe(0)
    }
    // Two clients on relay a converge through a alone.
    const a1 = client(members[0]!.url, 'alone')
    const a2 = client(members[0]!.url, 'alone')
    const b1 = client(members[1]!.url, 'alone')
    const clients = scene.clients = [a1, a2, b1]
    await Promise.all(clients.map(synced))
    a1.doc.getMap('m').set('from-a1', 1)
    b1.doc.getMap('m').set('from-b1', 1)
    await until('a2 sees a1 through relay a', () => a2.doc.getMap('m').has('from-a1'))
    // The HTTP API keeps accepting writes too.
    const doc = new Y.Doc()
    doc.getMap('m').set('from-http', 1)
    const res = await fetch(`${members[1]!.httpUrl}/api/rooms/alone/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(doc)) })
    expect(res.status).toBe(200)
    await until('b1 sees the HTTP write', () => b1.doc.getMap('m').has('from-http'))
    expect(a1.doc.getMap('m').has('from-b1')).toBe(false) // nothing links a and b but Redis
    expect(await metric(members[0]!.httpUrl, 'tandem_redis_unpublished_rooms')).toBe(1)

    scene.redis = await startRedis(port)
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const all = ['from-a1', 'from-b1', 'from-http']
    await until('both relays\' clients hold everything written while Redis was away', () =>
      clients.every((c) => keysOf(c.doc).join() === all.join()))
    // Rooms loaded while Redis was away share awareness once it is there.
    // Awareness is ephemeral pub/sub: one published before the other relay's subscriber has
    // re-subscribed is gone (a client renews its state every 15 s), so it is set again while
    // waiting, as a renewal would.
    let renewals = 0
    await until('b1 sees a1\'s awareness', () => {
      a1.provider.awareness.setLocalStateField('user', { name: 'a1', renewals: renewals++ })
      return b1.provider.awareness.getStates().has(a1.doc.clientID)
    })
    for (const m of members) {
      expect((await health(m.httpUrl)).status).toBe('ok')
      expect(await metric(m.httpUrl, 'tandem_redis_up')).toBe(1)
      expect(await metric(m.httpUrl, 'tandem_redis_unpublished_rooms')).toBe(0)
    }
  })
})
