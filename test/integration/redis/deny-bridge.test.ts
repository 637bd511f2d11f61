/**
 * The deny bridge's rules on a real Redis, without relays: the write script keeps the later
 * decision per jti (a revocation wins a tie) and publishes only what it wrote; a sync reads
 * the hash, merges it, writes what the list holds newer and deletes expired entries.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import pino from 'pino'
import { DenyList, type DenyEntry } from '../../../relay/auth/deny-list.ts'
import { DENY_WRITE_LUA, DenyBridge } from '../../../relay/redis/deny-bridge.ts'
import { createRedisMetrics } from '../../../relay/redis/redis-metrics.ts'
import { Registry } from 'prom-client'
import { startRedis, until, type RedisServer } from './redis-fixture.ts'

const HASH = 'tandem:deny'
const CHANNEL = 'tandem:deny:changes'
let redis: RedisServer | null = null
const open: Redis[] = []
afterEach(async () => {
  for (const c of open.splice(0)) c.disconnect()
  await redis?.stop()
  redis = null
})

function connect(url: string): Redis {
  const c = new Redis(url, { protocol: 2 })
  open.push(c)
  return c
}

const until_ = Math.floor(Date.now() / 1000) + 600
const entry = (at: number, lifted = false): DenyEntry => ({ jti: 't', until: until_, at, ...(lifted ? { lifted: true } : {}) })

/** Writes `e` with the script; returns whether it was written. */
async function write(c: Redis, e: DenyEntry): Promise<boolean> {
  const n = await c.eval(DENY_WRITE_LUA, 1, HASH, CHANNEL, 'test', e.jti, JSON.stringify(e), e.at, e.lifted ? '1' : '0')
  return n === 1
}

describe('the deny write script (last writer wins per jti in Redis)', () => {
  const cases: Array<{ name: string; stored: DenyEntry | 'junk'; incoming: DenyEntry; written: boolean }> = [
    { name: 'a later decision replaces an earlier one', stored: entry(100), incoming: entry(200, true), written: true },
    { name: 'an earlier decision does not replace a later one', stored: entry(200, true), incoming: entry(100), written: false },
    { name: 'a tie: the revocation replaces the lifted one', stored: entry(100, true), incoming: entry(100), written: true },
    { name: 'a tie: the lifted one does not replace the revocation', stored: entry(100), incoming: entry(100, true), written: false },
    { name: 'the same decision again is not rewritten', stored: entry(100), incoming: entry(100), written: false },
    { name: 'an unreadable stored value is replaced', stored: 'junk', incoming: entry(1), written: true },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      redis = await startRedis()
      const cmd = connect(redis.url)
      const sub = connect(redis.url)
      const heard: string[] = []
      sub.on('message', (_ch: string, m: string) => heard.push(m))
      await sub.subscribe(CHANNEL)
      if (c.stored === 'junk') await cmd.hset(HASH, 't', '{nope')
      else await write(cmd, c.stored)
      await sub.ping() // the seed's message (published before this reply) is in
      heard.length = 0
      expect(await write(cmd, c.incoming)).toBe(c.written)
      const expected = c.written ? c.incoming : c.stored
      const held = await cmd.hget(HASH, 't')
      if (expected === 'junk') expect(held).toBe('{nope')
      else expect(JSON.parse(held!)).toEqual(expected)
      await cmd.ping() // the publish (if any) reached the subscriber before this reply
      await sub.ping()
      if (c.written) expect(heard.map((m) => JSON.parse(m))).toEqual([{ from: 'test', entries: [c.incoming] }])
      else expect(heard).toEqual([])
    })
  }
})

describe('the deny bridge\'s sync', () => {
  it('merges the hash, writes what the list holds newer, deletes expired entries, leaves junk and logs it', async () => {
    redis = await startRedis()
    const cmd = connect(redis.url)
    const seed = connect(redis.url)
    const now = Date.now()
    const soon = Math.floor(now / 1000) + 600
    await seed.hset(HASH,
      'from-redis', JSON.stringify({ jti: 'from-redis', until: soon, at: now }),
      'older-in-redis', JSON.stringify({ jti: 'older-in-redis', until: soon, at: now - 5000 }),
      'expired', JSON.stringify({ jti: 'expired', until: Math.floor(now / 1000) - 10, at: now - 60_000 }),
      'junk', 'not json')
    const list = new DenyList()
    await list.add('only-here')
    await list.merge([{ jti: 'older-in-redis', until: soon, at: now - 1000, lifted: true }], { edge: 'test' })
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (l: string) => { lines.push(l) } })
    const bridge = new DenyBridge({ instance: 'me#1', hash: HASH, channel: CHANNEL, cmd, sub: connect(redis.url), denyList: list, metrics: createRedisMetrics(new Registry()), logger })
    await until('the sync wrote this list\'s entries', async () => (await seed.hget(HASH, 'only-here')) !== null)
    await bridge.idle()
    expect(list.has('from-redis')).toBe(true)
    expect(JSON.parse((await seed.hget(HASH, 'older-in-redis'))!)).toMatchObject({ lifted: true, at: now - 1000 })
    expect(await seed.hget(HASH, 'expired')).toBeNull()
    expect(await seed.hget(HASH, 'junk')).toBe('not json')
    expect(lines.some((l) => l.includes('not deny entries ignored'))).toBe(true)
    bridge.stop()
  })
})
