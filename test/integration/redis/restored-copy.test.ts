/**
 * A relay restarted on an old copy of its data directory: the copy lacks deletions made after
 * it was taken (deletions move no state vector), and its read positions in Redis claim more
 * than it holds. At the heal it must get every deletion into its store without anyone opening
 * the room there: the data's lineage shows the copy is old, and the catch-up carries a
 * delete-set fingerprint, answered with the delete set when it differs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { Redis } from 'ioredis'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import { Scene, client, keysOf, metric, redisUp, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const ROOM = 'restored'
const scene = new Scene()
afterEach(() => scene.teardown())

describe('a relay restarted on an old copy of its data directory', () => {
  it('gets the deletions made since the copy into its store at the heal, with no client on it', async () => {
    const redis = scene.redis = await startRedis()
    const a = await startRedisMember({ id: 'a', redisUrl: redis.url })
    scene.members.push(a)
    let b = await startRedisMember({ id: 'b', redisUrl: redis.url })
    await Promise.all([a, b].map((m) => redisUp(m.httpUrl)))
    const onA = client(a.url, ROOM)
    scene.clients.push(onA)
    await synced(onA)
    for (const k of ['k0', 'k1', 'k2', 'k3']) onA.doc.getMap('m').set(k, k)
    onA.doc.getText('t').insert(0, 'hello world')
    let onB = client(b.url, ROOM)
    await synced(onB)
    await until('b holds the writes', () => keysOf(onB.doc).length === 4 && onB.doc.getText('t').toString() === 'hello world')
    onB.destroy()
    const dataDir = b.dataDir
    await b.stop(false)
    const copy = mkdtempSync(join(tmpdir(), 'tandem-redis-copy-'))
    cpSync(dataDir, copy, { recursive: true })

    // b runs again on its real directory and stores the deletions (and records positions past them).
    b = await startRedisMember({ id: 'b', redisUrl: redis.url, dataDir })
    await redisUp(b.httpUrl)
    onB = client(b.url, ROOM)
    await synced(onB)
    onA.doc.getMap('m').delete('k1')
    onA.doc.getMap('m').delete('k3')
    onA.doc.getText('t').delete(5, 6)
    await until('b\'s client sees the deletions', () => keysOf(onB.doc).join() === 'k0,k2' && onB.doc.getText('t').toString() === 'hello')
    const inspect = new Redis(redis.url)
    try {
      const end = (await inspect.call('XREVRANGE', `tandem:{${ROOM}}:log`, '+', '-', 'COUNT', 1) as Array<[string]>)[0]![0]
      await until('b recorded a read position past the deletions', async () => {
        const acked = String(await inspect.call('HGET', `tandem:{${ROOM}}:acks`, 'b') ?? '0-0|').split('|')[0]!
        const [am, as] = acked.split('-').map(Number) as [number, number]
        const [em, es] = end.split('-').map(Number) as [number, number]
        return am > em || (am === em && as >= es)
      })
    } finally {
      inspect.disconnect()
    }
    onB.destroy()
    await b.stop(false)

    // The old copy back in place; b restarts with no client and no HTTP read of the room.
    rmSync(dataDir, { recursive: true, force: true })
    cpSync(copy, dataDir, { recursive: true })
    rmSync(copy, { recursive: true, force: true })
    b = await startRedisMember({ id: 'b', redisUrl: redis.url, dataDir })
    await until('b caught up the restored room', async () => (await metric(b.httpUrl, 'tandem_redis_catch_ups_total', { kind: 'restored' }) ?? 0) >= 1, 20_000)
    await b.stop(false)

    const store = await LevelDbStorage.open(dataDir)
    try {
      const doc = new Y.Doc()
      for (const u of await store.load(ROOM)) Y.applyUpdate(doc, u)
      expect(keysOf(doc)).toEqual(['k0', 'k2'])
      expect(doc.getText('t').toString()).toBe('hello')
    } finally {
      await store.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 90_000)
})
