import { afterEach, describe, expect, it } from 'vitest'
import { Scene, client, keysOf, metric, redisUp, relayDoc, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

const N = 50

async function writeRoom(room: string): Promise<string[]> {
  const writers = scene.members.map((m) => client(m.url, room))
  scene.clients.push(...writers)
  await Promise.all(writers.map(synced))
  for (let k = 0; k < N; k++) writers.forEach((c, i) => c.doc.getMap('m').set(`w${i}-${k}`, k))
  const every = writers.flatMap((_, i) => Array.from({ length: N }, (_, k) => `w${i}-${k}`)).sort()
  await until('writers hold every write', () => writers.every((c) => keysOf(c.doc).length === every.length))
  writers[0]!.doc.getMap('m').delete('w1-0') // a deletion the new relay must learn too
  const all = every.filter((k) => k !== 'w1-0')
  await until('writers converge', () => writers.every((c) => keysOf(c.doc).join() === all.join()))
  return all
}

describe('a new relay with an empty disk', () => {
  it('serves the full state of a room the others have loaded', async () => {
    const redis = scene.redis = await startRedis()
    scene.members = await Promise.all(['a', 'b'].map((id) => startRedisMember({ id, redisUrl: redis.url })))
    await Promise.all(scene.members.map((m) => redisUp(m.httpUrl)))
    const all = await writeRoom('loaded')
    const fresh = await startRedisMember({ id: 'fresh', redisUrl: redis.url })
    scene.members.push(fresh)
    await redisUp(fresh.httpUrl)
    const reader = client(fresh.url, 'loaded')
    scene.clients.push(reader)
    await until('the new relay\'s client holds the full state', () => keysOf(reader.doc).join() === all.join())
    expect(keysOf(await relayDoc(fresh.httpUrl, 'loaded'))).toEqual(all)
  })

  it('serves the full state of a room unloaded everywhere, its stream trimmed (relays answer from disk)', async () => {
    const redis = scene.redis = await startRedis()
    const members = scene.members = await Promise.all(['a', 'b'].map((id) => startRedisMember({ id, redisUrl: redis.url, idleMs: 100 })))
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const all = await writeRoom('cold')
    for (const c of scene.clients) c.destroy()
    scene.clients = []
    await until('both relays unloaded the room', async () =>
      (await Promise.all(members.map((m) => metric(m.httpUrl, 'tandem_rooms_loaded')))).every((n) => n === 0))
    await until('the stream was trimmed once both relays stored it', async () =>
      ((await metric(members[0]!.httpUrl, 'tandem_redis_trimmed_entries_total')) ?? 0)
      + ((await metric(members[1]!.httpUrl, 'tandem_redis_trimmed_entries_total')) ?? 0) > 0)
    const fresh = await startRedisMember({ id: 'fresh', redisUrl: redis.url })
    members.push(fresh)
    await redisUp(fresh.httpUrl)
    const reader = client(fresh.url, 'cold')
    scene.clients.push(reader)
    await until('the new relay\'s client holds the full state', () => keysOf(reader.doc).join() === all.join())
    const answered = await Promise.all(members.slice(0, 2).map((m) => metric(m.httpUrl, 'tandem_redis_catch_ups_total', { kind: 'answered' })))
    expect(answered.some((n) => (n ?? 0) > 0)).toBe(true)
  })
})
