import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { Scene, client, keysOf, metric, redisUp, relayDoc, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

describe('3 relays on one Redis', () => {
  it('stock y-websocket clients on different relays converge, with no peer list', async () => {
    const redis = scene.redis = await startRedis()
    const members = scene.members = await Promise.all([0, 1, 2].map((i) => startRedisMember({ id: `r${i}`, redisUrl: redis.url })))
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const clients = scene.clients = members.map((m) => client(m.url, 'shared'))
    await Promise.all(clients.map(synced))
    for (let k = 0; k < 20; k++) clients.forEach((c, i) => c.doc.getMap('m').set(`c${i}-${k}`, k))
    const all = clients.flatMap((_, i) => Array.from({ length: 20 }, (_, k) => `c${i}-${k}`)).sort()
    await until('every client holds every write', () => clients.every((c) => keysOf(c.doc).length === all.length))
    for (const c of clients) expect(keysOf(c.doc)).toEqual(all)
    for (const m of members) expect(keysOf(await relayDoc(m.httpUrl, 'shared'))).toEqual(all)
    // Deletions travel too.
    clients[0]!.doc.getMap('m').delete('c1-0')
    await until('the deletion reached every client', () => clients.every((c) => !c.doc.getMap('m').has('c1-0')))
    // Updates went through Redis, counted per relay.
    for (const m of members) expect(await metric(m.httpUrl, 'tandem_redis_entries_sent_total', { kind: 'update' })).toBeGreaterThan(0)
    for (const m of members) expect(await metric(m.httpUrl, 'tandem_redis_up')).toBe(1)
    // Trimmed once every relay's disk covers it: the stream does not keep the history.
    const inspect = new Redis(redis.url)
    try {
      expect(await inspect.xlen('tandem:{shared}:log')).toBeGreaterThan(0)
      // Every relay acknowledges what it stored, each on its own flush: the first may trim
      // before the others' first ack (they read those entries already).
      await until('every relay acknowledged what it stored', async () => Object.keys(await inspect.hgetall('tandem:{shared}:acks')).length === 3)
      await until('the stream is trimmed to what some relay has not stored', async () => (await inspect.xlen('tandem:{shared}:log')) <= 1)
      expect(Object.keys(await inspect.hgetall('tandem:{shared}:acks')).sort()).toEqual(['r0', 'r1', 'r2'])
    } finally {
      inspect.disconnect()
    }
  })
})

describe('awareness between relays on one Redis', () => {
  it('a client on one relay sees the cursor of a client on another, and its removal when it leaves', async () => {
    const redis = scene.redis = await startRedis()
    const members = scene.members = await Promise.all([0, 1].map((i) => startRedisMember({ id: `aw${i}`, redisUrl: redis.url })))
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const [a, b] = scene.clients = members.map((m) => client(m.url, 'cursors'))
    await Promise.all([a!, b!].map(synced))
    a!.provider.awareness.setLocalStateField('user', { name: 'ada' })
    const aId = a!.doc.clientID
    await until('b sees a\'s awareness through Redis', () =>
      (b!.provider.awareness.getStates().get(aId) as { user?: { name: string } } | undefined)?.user?.name === 'ada')
    a!.destroy() // the relay removes a's state and tells the other relay
    await until('b sees a leave', () => !b!.provider.awareness.getStates().has(aId), 10_000)
  })
})
