import { afterEach, describe, expect, it } from 'vitest'
import {
  Scene, client, freePorts, keysOf, redisUp, relayDoc, spawnRedisMember, startRedis, startRedisMember, synced, until,
} from './redis-fixture.ts'

const ROOM = 'crash'
const scene = new Scene()
afterEach(() => scene.teardown())

describe('kill -9 with Redis', () => {
  it('a relay killed during writes restarts on its disk and catches up; nothing acknowledged is lost', async () => {
    const redis = scene.redis = await startRedis()
    // The victim is a child process (kill -9); the two survivors run in-process.
    const [port] = await freePorts(1)
    const survivors = scene.members = await Promise.all(['k0', 'k1'].map((id) => startRedisMember({ id, redisUrl: redis.url })))
    const victim = await spawnRedisMember({ id: 'k2', port: port!, redisUrl: redis.url })
    scene.procs.push(victim)
    const urls = [...survivors.map((m) => m.httpUrl), victim.httpUrl]
    await Promise.all(urls.map((u) => redisUp(u)))
    const clients = scene.clients = [...survivors.map((m) => m.url), victim.url].map((u) => client(u, ROOM))
    await Promise.all(clients.map(synced))
    const written: string[] = []
    const burst = (who: number[], from: number, count: number): void => {
      for (let k = from; k < from + count; k++) {
        for (const i of who) {
          clients[i]!.doc.getMap('m').set(`c${i}-${k}`, k)
          written.push(`c${i}-${k}`)
        }
      }
    }
    burst([0, 1, 2], 0, 30)
    // (a deadline, not a pace: under a full parallel test run the child relay can take longer than 15 s)
    await until('k2 stored the first burst of every client', async () =>
      keysOf(await relayDoc(victim.httpUrl, ROOM)).length >= 90, 45_000)
    burst([0, 1, 2], 30, 10) // in flight when it dies
    victim.kill('SIGKILL')
    await victim.exited
    burst([0, 1], 40, 30) // while it is away
    const restarted = await spawnRedisMember({ id: 'k2', port: port!, redisUrl: redis.url, dataDir: victim.dataDir })
    scene.procs.push(restarted)
    urls[2] = restarted.httpUrl
    const all = [...written].sort()
    // k2's client reconnects by itself and resends what k2 never stored; k2 reads the rest from Redis.
    await until('every relay holds every write', async () => {
      // The restarted relay answers 404 until the room is back in its store: what it held only
      // in memory when killed (nothing it had acknowledged) comes back from Redis and clients.
      const docs = await Promise.all(urls.map((u) => relayDoc(u, ROOM).catch(() => null)))
      return docs.every((d) => d !== null && keysOf(d).length === all.length)
    }, 30_000)
    for (const u of urls) expect(keysOf(await relayDoc(u, ROOM))).toEqual(all)
    await until('clients converge', () => clients.every((c) => keysOf(c.doc).length === all.length))
    // New writes after the restart flow both ways through Redis.
    clients[2]!.doc.getMap('m').set('after', 1)
    clients[0]!.doc.getMap('m').set('after0', 1)
    await until('post-restart writes reach every client', () =>
      clients.every((c) => c.doc.getMap('m').has('after') && c.doc.getMap('m').has('after0')))
  }, 120_000) // a relay process started through tsx, twice
})
