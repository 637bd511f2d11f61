import { afterEach, describe, expect, it } from 'vitest'
import { Scene, client, freePorts, keysOf, redisUp, relayDoc, spawnRedisMember, startRedis, synced, until } from './redis-fixture.ts'

const ROOM = 'crash'
const scene = new Scene()
afterEach(() => scene.teardown())

describe('kill -9 with Redis', () => {
  it('a relay killed during writes restarts on its disk and catches up; nothing acknowledged is lost', async () => {
    const redis = scene.redis = await startRedis()
    const ports = await freePorts(3)
    const procs = scene.procs = await Promise.all(ports.map((port, i) => spawnRedisMember({ id: `k${i}`, port, redisUrl: redis.url })))
    await Promise.all(procs.map((p) => redisUp(p.httpUrl)))
    const clients = scene.clients = procs.map((p) => client(p.url, ROOM))
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
    await until('k2 stored the first burst of every client', async () =>
      keysOf(await relayDoc(procs[2]!.httpUrl, ROOM)).length >= 90)
    const victim = procs[2]!
    burst([0, 1, 2], 30, 10) // in flight when it dies
    victim.kill('SIGKILL')
    await victim.exited
    burst([0, 1], 40, 30) // while it is away
    procs[2] = await spawnRedisMember({ id: 'k2', port: ports[2]!, redisUrl: redis.url, dataDir: victim.dataDir })
    const all = [...written].sort()
    // k2's client reconnects by itself and resends what k2 never stored.
    await until('every relay holds every write', async () => {
      const docs = await Promise.all(procs.map((p) => relayDoc(p.httpUrl, ROOM)))
      return docs.every((d) => keysOf(d).length === all.length)
    }, 30_000)
    for (const p of procs) expect(keysOf(await relayDoc(p.httpUrl, ROOM))).toEqual(all)
    await until('clients converge', () => clients.every((c) => keysOf(c.doc).length === all.length))
    // New writes after the restart flow both ways through Redis.
    clients[2]!.doc.getMap('m').set('after', 1)
    clients[0]!.doc.getMap('m').set('after0', 1)
    await until('post-restart writes reach every client', () =>
      clients.every((c) => c.doc.getMap('m').has('after') && c.doc.getMap('m').has('after0')))
  }, 120_000) // three relay processes started through tsx, one twice
})
