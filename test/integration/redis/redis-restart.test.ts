import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { RawClient } from '../../fixtures/clients.ts'
import { Scene, client, health, keysOf, metric, redisUp, relayDoc, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const ROOM = 'outage'
const scene = new Scene()
afterEach(() => scene.teardown())

/** A writer on one relay that subscribes to saved acknowledgements (type 100). */
async function writer(url: string): Promise<{ doc: Y.Doc; raw: RawClient; write(key: string): void }> {
  const raw = await RawClient.connect(url, ROOM)
  scene.closers.push(raw)
  raw.subscribeSaved()
  const doc = new Y.Doc()
  doc.on('update', (update: Uint8Array) => raw.send(encodeSyncUpdate(update)))
  return { doc, raw, write: (key) => doc.getMap('m').set(key, key) }
}

describe('Redis restarted empty while clients keep writing', () => {
  it('loses nothing acknowledged; everything converges once it is back', async () => {
    const redis = scene.redis = await startRedis()
    const members = scene.members = await Promise.all(['a', 'b', 'c'].map((id) => startRedisMember({ id, redisUrl: redis.url })))
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const clients = scene.clients = members.map((m) => client(m.url, ROOM))
    await Promise.all(clients.map(synced))
    const writers = await Promise.all(members.map((m) => writer(m.url)))
    const acked: string[] = []
    const round = async (tag: string, count: number): Promise<void> => {
      for (let k = 0; k < count; k++) writers.forEach((w, i) => w.write(`${tag}-${i}-${k}`))
      await Promise.all(writers.map((w) => w.raw.waitSaved(w.doc)))
      writers.forEach((_, i) => { for (let k = 0; k < count; k++) acked.push(`${tag}-${i}-${k}`) })
    }
    await round('before', 10)
    await until('readers see the first round', () => clients.every((c) => keysOf(c.doc).length === 30))

    await redis.stop()
    await until('every relay says Redis is down', async () =>
      (await Promise.all(members.map((m) => health(m.httpUrl)))).every((h) => h.components.redis?.ok === false && h.status === 'degraded'))
    await round('during', 10) // acknowledged from each relay's own disk
    // Each relay still serves its own clients meanwhile.
    await until('local readers see their relay\'s writers', () => clients.every((c, i) => c.doc.getMap('m').has(`during-${i}-9`)))
    for (const m of members) expect(await metric(m.httpUrl, 'tandem_redis_up')).toBe(0)

    await redis.start() // same port, empty: no save, no AOF
    await round('restart', 5) // while the relays reconnect
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    await round('after', 5)

    const all = [...acked].sort()
    await until('every relay holds every acknowledged write', async () => {
      const docs = await Promise.all(members.map((m) => relayDoc(m.httpUrl, ROOM)))
      return docs.every((d) => keysOf(d).length === all.length)
    }, 30_000)
    for (const m of members) expect(keysOf(await relayDoc(m.httpUrl, ROOM))).toEqual(all)
    await until('every client converges', () => clients.every((c) => keysOf(c.doc).length === all.length))
    const resets = await Promise.all(members.map((m) => metric(m.httpUrl, 'tandem_redis_resets_total')))
    expect(resets.every((n) => (n ?? 0) >= 1)).toBe(true)
  })
})
