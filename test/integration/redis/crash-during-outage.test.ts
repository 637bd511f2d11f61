import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { RawClient } from '../../fixtures/clients.ts'
import {
  Scene, client, freePorts, keysOf, redisUp, spawnRedisMember, startRedis, startRedisMember, synced, until,
} from './redis-fixture.ts'

const ROOM = 'crash-outage'
const scene = new Scene()
afterEach(() => scene.teardown())

describe('a relay killed while Redis is away', () => {
  it('publishes on restart what it acknowledged meanwhile (structs and deletions), once a client opens the room', async () => {
    const redis = scene.redis = await startRedis()
    const [port] = await freePorts(1)
    const y = await startRedisMember({ id: 'y', redisUrl: redis.url })
    scene.members.push(y)
    const x = await spawnRedisMember({ id: 'x', port: port!, redisUrl: redis.url })
    scene.procs.push(x)
    await Promise.all([y.httpUrl, x.httpUrl].map((u) => redisUp(u)))
    const onY = client(y.url, ROOM)
    scene.clients.push(onY)
    await synced(onY)
    // A writer on x that is gone for good after the crash: its writes then live only on x's disk.
    const raw = await RawClient.connect(x.url, ROOM)
    scene.closers.push(raw)
    raw.subscribeSaved()
    const doc = new Y.Doc()
    doc.on('update', (u: Uint8Array) => raw.send(encodeSyncUpdate(u)))
    doc.getMap('m').set('early', 1)
    doc.getMap('m').set('doomed', 1)
    await raw.waitSaved(doc)
    await until('y\'s client sees the early writes', () => onY.doc.getMap('m').has('doomed'))

    await redis.stop()
    await until('x says Redis is down', async () => (await (await fetch(`${x.httpUrl}/health`)).json() as { components: { redis?: { ok: boolean } } }).components.redis?.ok === false)
    for (let k = 0; k < 5; k++) doc.getMap('m').set(`outage-${k}`, k)
    doc.getMap('m').delete('doomed')
    await raw.waitSavedAll(doc) // acknowledged, the deletion too (the ack carries the stored delete set): on x's disk
    x.kill('SIGKILL')
    await x.exited
    raw.close()

    await redis.start() // empty
    await redisUp(y.httpUrl)
    const x2 = await spawnRedisMember({ id: 'x', port: port!, redisUrl: redis.url, dataDir: x.dataDir })
    scene.procs.push(x2)
    await redisUp(x2.httpUrl)
    const onX = client(x2.url, ROOM) // a new client opens the room on x
    scene.clients.push(onX)
    await synced(onX)
    const expected = ['early', ...Array.from({ length: 5 }, (_, k) => `outage-${k}`)].sort()
    await until('y\'s client holds what x acknowledged while Redis was away, deletion included', () =>
      keysOf(onY.doc).join() === expected.join(), 20_000).catch(async (err: Error) => {
      const redisLines = async (u: string): Promise<string> => (await (await fetch(`${u}/metrics`)).text()).split('\n').filter((l) => l.startsWith('tandem_redis')).join('; ')
      throw new Error(`${err.message}; y's client has ${keysOf(onY.doc).join()}, x's client has ${keysOf(onX.doc).join()}; y: ${await redisLines(y.httpUrl)}; x: ${await redisLines(x2.httpUrl)}`)
    })
    expect(keysOf(onX.doc)).toEqual(expected)
  }, 120_000)
})
