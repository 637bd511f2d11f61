/**
 * Every relay on a Redis answers `GET /api/rooms/:room` (JSON and update) for a room another
 * relay holds, though it never loaded the room and has nothing of it on disk; a room that no
 * relay holds is still a quick 404.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Scene, client, metric, redisUp, relayDoc, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

describe('a room read over HTTP on a relay that never held it', () => {
  it('is loaded and caught up from the relay that holds it (even only on its disk) before the answer', async () => {
    const redis = scene.redis = await startRedis()
    // a unloads a room 100 ms after its last client: the room is then only on a's disk.
    const a = await startRedisMember({ id: 'a', redisUrl: redis.url, idleMs: 100 })
    const b = await startRedisMember({ id: 'b', redisUrl: redis.url })
    scene.members.push(a, b)
    await Promise.all([a, b].map((m) => redisUp(m.httpUrl)))

    const writer = client(a.url, 'held')
    await synced(writer)
    writer.doc.getMap('m').set('title', 'from a')
    writer.doc.getText('t').insert(0, 'hello')
    await until('a stored the writes', async () => (await relayDoc(a.httpUrl, 'held')).getText('t').toString() === 'hello')
    writer.destroy()
    await until('a unloaded the room', async () => await metric(a.httpUrl, 'tandem_rooms_loaded') === 0)
    expect(await metric(b.httpUrl, 'tandem_rooms_loaded')).toBe(0)

    const json = await fetch(`${b.httpUrl}/api/rooms/held`)
    expect(json.status).toBe(200)
    expect(await json.json()).toMatchObject({ m: { title: 'from a' }, t: 'hello' })
    const update = await fetch(`${b.httpUrl}/api/rooms/held/update`)
    expect(update.status).toBe(200)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await update.arrayBuffer()))
    expect(doc.getText('t').toString()).toBe('hello')
  }, 60_000)

  it('answers 404 quickly for a room no relay holds', async () => {
    const redis = scene.redis = await startRedis()
    const a = await startRedisMember({ id: 'a', redisUrl: redis.url })
    const b = await startRedisMember({ id: 'b', redisUrl: redis.url })
    scene.members.push(a, b)
    await Promise.all([a, b].map((m) => redisUp(m.httpUrl)))
    const started = Date.now()
    expect((await fetch(`${b.httpUrl}/api/rooms/nowhere`)).status).toBe(404)
    expect((await fetch(`${b.httpUrl}/api/rooms/nowhere/update`)).status).toBe(404)
    expect(Date.now() - started).toBeLessThan(1000) // no wait for catch-up answers
    expect(await metric(b.httpUrl, 'tandem_rooms_loaded')).toBe(0)
  })
})
