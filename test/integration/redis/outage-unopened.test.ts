/**
 * A write a relay acknowledged while Redis was away reaches the other relays when Redis is
 * back without anyone opening the room on that relay again: after the room was unloaded there,
 * and after that relay was killed -9 during the outage and restarted (the rooms with
 * unpublished updates are recorded on disk before the ack).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { RawClient } from '../../fixtures/clients.ts'
import {
  Scene, client, freePorts, health, keysOf, metric, redisUp, spawnRedisMember, startRedis, startRedisMember, synced, until,
} from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

/** Writes `keys` into `room` through a raw client on `url` and resolves once they are acknowledged (stored); the client is closed. */
async function writeAcked(url: string, room: string, keys: string[]): Promise<void> {
  const raw = await RawClient.connect(url, room)
  raw.subscribeSaved()
  const doc = new Y.Doc()
  doc.on('update', (u: Uint8Array) => raw.send(encodeSyncUpdate(u)))
  for (const k of keys) doc.getMap('m').set(k, 1)
  await raw.waitSaved(doc)
  raw.close()
}

describe('writes acknowledged while Redis is away, with no one opening the room again', () => {
  it('are published when Redis returns though the room was unloaded on the relay that took them', async () => {
    const redis = scene.redis = await startRedis()
    const a = await startRedisMember({ id: 'a', redisUrl: redis.url, idleMs: 100 })
    const b = await startRedisMember({ id: 'b', redisUrl: redis.url })
    scene.members.push(a, b)
    await Promise.all([a, b].map((m) => redisUp(m.httpUrl)))
    const onB = client(b.url, 'unloaded')
    scene.clients.push(onB)
    await synced(onB)

    await redis.stop()
    await until('a sees Redis down', async () => (await health(a.httpUrl)).components.redis?.ok === false)
    await writeAcked(a.url, 'unloaded', ['during-outage'])
    await until('a unloaded the room', async () => await metric(a.httpUrl, 'tandem_rooms_loaded') === 0)
    expect(await metric(a.httpUrl, 'tandem_redis_unpublished_rooms')).toBe(1)

    await redis.start()
    await until('b\'s client gets the write taken by a during the outage', () => onB.doc.getMap('m').has('during-outage'), 15_000)
    await until('a has nothing left to publish', async () => await metric(a.httpUrl, 'tandem_redis_unpublished_rooms') === 0)
  }, 60_000)

  it('are published after the relay that took them was killed -9 during the outage and restarted', async () => {
    // b holds the room open throughout: only a's record on disk can make a2 publish the write.
    const redis = scene.redis = await startRedis()
    const [port] = await freePorts(1)
    const b = await startRedisMember({ id: 'b', redisUrl: redis.url })
    scene.members.push(b)
    const a = await spawnRedisMember({ id: 'a', port: port!, redisUrl: redis.url })
    scene.procs.push(a)
    await Promise.all([a.httpUrl, b.httpUrl].map((u) => redisUp(u)))
    const onB = client(b.url, 'killed')
    scene.clients.push(onB)
    await synced(onB)

    await redis.stop()
    await until('a sees Redis down', async () => (await health(a.httpUrl)).components.redis?.ok === false)
    await writeAcked(a.url, 'killed', ['acked-then-killed'])
    a.kill('SIGKILL')
    await a.exited

    await redis.start() // empty
    await redisUp(b.httpUrl)
    const a2 = await spawnRedisMember({ id: 'a', port: port!, redisUrl: redis.url, dataDir: a.dataDir })
    scene.procs.push(a2)
    // Nobody opens the room on a2: a2 republishes it because its data directory says so.
    await until('b\'s client gets the write a acknowledged before its kill -9', () => onB.doc.getMap('m').has('acked-then-killed'), 20_000)
    expect(keysOf(onB.doc)).toEqual(['acked-then-killed'])
    expect(await metric(a2.httpUrl, 'tandem_redis_entries_sent_total', { kind: 'republish' })).toBeGreaterThanOrEqual(1)
    await until('a2 has nothing left to publish', async () => await metric(a2.httpUrl, 'tandem_redis_unpublished_rooms') === 0)
  }, 120_000)
})
