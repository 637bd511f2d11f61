import { afterEach, describe, expect, it } from 'vitest'
import { Scene, client, keysOf, metric, redisUp, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

describe('two relays given one --id', () => {
  it('the second notices (metric, log), keeps its read positions per process, and both still converge', async () => {
    const redis = scene.redis = await startRedis()
    const first = await startRedisMember({ id: 'same', redisUrl: redis.url })
    scene.members.push(first)
    await redisUp(first.httpUrl)
    const second = await startRedisMember({ id: 'same', redisUrl: redis.url })
    scene.members.push(second)
    await redisUp(second.httpUrl) // after waiting out the lease the first keeps renewing
    expect(await metric(first.httpUrl, 'tandem_redis_id_conflict')).toBe(0)
    expect(await metric(second.httpUrl, 'tandem_redis_id_conflict')).toBe(1)
    const [a, b] = scene.clients = [first, second].map((m) => client(m.url, 'twins'))
    await Promise.all([a!, b!].map(synced))
    for (let k = 0; k < 10; k++) {
      a!.doc.getMap('m').set(`a${k}`, k)
      b!.doc.getMap('m').set(`b${k}`, k)
    }
    await until('both clients hold all 20 writes', () => keysOf(a!.doc).length === 20 && keysOf(b!.doc).length === 20)
  })
})
