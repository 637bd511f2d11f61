import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { ACK_AND_TRIM_LUA } from '../../../relay/redis/ack-trim.ts'
import { Scene, startRedis } from './redis-fixture.ts'

const scene = new Scene()
let redis: Redis | null = null
afterEach(async () => {
  redis?.disconnect()
  redis = null
  await scene.teardown()
})

describe('ack-and-trim script (real redis-server)', () => {
  it('trims below the lowest position of the relays it remembers, forgets silent ones, sets TTLs', async () => {
    scene.redis = await startRedis()
    redis = new Redis(scene.redis.url)
    const ids: string[] = []
    for (let i = 1; i <= 10; i++) ids.push(await redis.xadd('log', `${i}-0`, 'u', 'x') as string)
    const ackTrim = (id: string, pos: string, now: number, forgetMs = 1000): Promise<number> =>
      redis!.eval(ACK_AND_TRIM_LUA, 2, 'acks', 'log', id, pos, now, forgetMs, 60_000) as Promise<number>

    expect(await ackTrim('a', '7-0', 10_000)).toBe(6) // only a remembered: keep 7..10
    expect(await redis.xlen('log')).toBe(4)
    expect(await ackTrim('b', '8-0', 10_100)).toBe(0) // min(a 7, b 8) = 7: nothing new to trim
    expect(await ackTrim('a', '10-0', 10_200)).toBe(1) // min(a 10, b 8) = 8
    expect((await redis.xrange('log', '-', '+')).map(([id]) => id)).toEqual(['8-0', '9-0', '10-0'])
    // b silent for longer than forgetMs: forgotten, no longer holds the stream back.
    expect(await ackTrim('a', '10-0', 11_500)).toBe(2)
    expect(Object.keys(await redis.hgetall('acks'))).toEqual(['a'])
    expect(await redis.pttl('acks')).toBeGreaterThan(0)
    expect(await redis.pttl('log')).toBeGreaterThan(0)
  })
})
