/**
 * One deny list for every relay on a Redis: a token revoked on relay A is cut and refused on
 * relay B within a second, across restarts of B (graceful and kill -9), across Redis being
 * away (and coming back empty); a lifted revocation is lifted everywhere and stays lifted;
 * junk on the deny channel is logged and ignored.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { SECRET, token, tryUpgrade, type UpgradeResult } from '../auth/helpers.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { LogLines, Scene, freePorts, health, metric, redisUp, spawnRedisMember, startRedis, startRedisMember, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

const ROOM = 'doc'
const HASH = 'tandem:deny'
const CHANNEL = 'tandem:deny:changes'

/** A relay on `redisUrl` that checks tokens signed with {@link SECRET}. */
function member(id: string, redisUrl: string, extra: { dataDir?: string; logs?: LogLines } = {}) {
  return startRedisMember({ id, redisUrl, config: { authSecret: SECRET }, ...extra })
}

const admin = (): Promise<string> => token({ rooms: [], admin: true })

async function revoke(httpUrl: string, jti: string): Promise<void> {
  const res = await fetch(`${httpUrl}/api/auth/deny`, { method: 'POST', headers: { authorization: `Bearer ${await admin()}`, 'content-type': 'application/json' }, body: JSON.stringify({ jti }) })
  expect(res.status).toBe(200)
}

async function lift(httpUrl: string, jti: string): Promise<void> {
  const res = await fetch(`${httpUrl}/api/auth/deny/${jti}`, { method: 'DELETE', headers: { authorization: `Bearer ${await admin()}` } })
  expect(await res.json()).toEqual({ ok: true, removed: true })
}

/** The HTTP status of an upgrade to `url` with `tok` (101: admitted); the socket is closed at teardown. */
async function upgradeStatus(url: string, tok: string): Promise<number> {
  const r = await tryUpgrade(url, ROOM, { token: tok })
  scene.closers.push({ close: () => r.ws.terminate() })
  return r.status
}

async function open(url: string, tok: string): Promise<UpgradeResult> {
  const r = await tryUpgrade(url, ROOM, { token: tok })
  scene.closers.push({ close: () => r.ws.terminate() })
  expect(r.status).toBe(101)
  return r
}

/** The entry Redis holds for `jti`. */
async function stored(redisUrl: string, jti: string): Promise<Record<string, unknown> | null> {
  const r = new Redis(redisUrl)
  try {
    const raw = await r.hget(HASH, jti)
    return raw === null ? null : JSON.parse(raw) as Record<string, unknown>
  } finally {
    r.disconnect()
  }
}

describe('one deny list through Redis', () => {
  it('a token revoked on A is cut (4403) on B within a second and refused there (403)', async () => {
    const redis = scene.redis = await startRedis()
    const [a, b] = scene.members = [await member('da', redis.url), await member('db', redis.url)]
    await Promise.all([redisUp(a!.httpUrl), redisUp(b!.httpUrl)])
    const tok = await token({ rooms: [ROOM], jti: 'revoked-1' })
    const other = await open(b!.url, await token({ rooms: [ROOM], jti: 'kept-1' }))
    const live = await open(b!.url, tok)
    const started = Date.now()
    await revoke(a!.httpUrl, 'revoked-1')
    expect(await waitFor(() => live.closeCode, { timeoutMs: 1000, message: 'B cuts the revoked token' })).toBe(4403)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await upgradeStatus(b!.url, tok)).toBe(403)
    expect(other.closeCode).toBeNull()
    expect(await stored(redis.url, 'revoked-1')).toMatchObject({ jti: 'revoked-1' })
    expect(await metric(a!.httpUrl, 'tandem_redis_entries_sent_total', { kind: 'deny' })).toBe(1)
    // B heard it and wrote nothing back (the Redis edge never re-sends what it merged).
    expect(await metric(b!.httpUrl, 'tandem_redis_entries_sent_total', { kind: 'deny' }) ?? 0).toBe(0)
  })

  it('a lifted revocation is lifted on every relay, and a relay that still holds the revocation does not bring it back', async () => {
    const redis = scene.redis = await startRedis()
    const [a, b, c] = scene.members = [await member('la', redis.url), await member('lb', redis.url), await member('lc', redis.url)]
    await Promise.all(scene.members.map((m) => redisUp(m.httpUrl)))
    const tok = await token({ rooms: [ROOM], jti: 'lift-me' })
    await revoke(a!.httpUrl, 'lift-me')
    await until('C refuses the token', async () => await upgradeStatus(c!.url, tok) === 403, 2000)
    // C leaves with the revocation on its disk; it is lifted meanwhile.
    await c!.stop(false)
    scene.members = [a!, b!]
    await lift(a!.httpUrl, 'lift-me')
    await until('B admits the token again', async () => await upgradeStatus(b!.url, tok) === 101, 2000)
    expect(await stored(redis.url, 'lift-me')).toMatchObject({ jti: 'lift-me', lifted: true })
    // C comes back holding the older revocation: Redis's later decision wins on C, and C writes nothing back.
    const c2 = await member('lc', redis.url, { dataDir: c!.dataDir })
    scene.members.push(c2)
    await redisUp(c2.httpUrl)
    await until('C admits the token', async () => await upgradeStatus(c2.url, tok) === 101, 5000)
    // Every relay reconnects (connections killed by Redis): each reads the list again; nothing comes back.
    const received = await Promise.all(scene.members.map(async (m) => await metric(m.httpUrl, 'tandem_redis_entries_received_total', { kind: 'deny' }) ?? 0))
    const inspect = new Redis(redis.url)
    try {
      await inspect.call('CLIENT', 'KILL', 'TYPE', 'normal')
      await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    } finally {
      inspect.disconnect()
    }
    for (const [i, m] of scene.members.entries()) {
      await until(`${m.id} read the list again after reconnecting`, async () =>
        (await metric(m.httpUrl, 'tandem_redis_entries_received_total', { kind: 'deny' }) ?? 0) > received[i]!)
    }
    for (const m of scene.members) expect(await upgradeStatus(m.url, tok)).toBe(101)
    expect(await stored(redis.url, 'lift-me')).toMatchObject({ jti: 'lift-me', lifted: true })
  })

  it('a revocation made on A while Redis is down reaches B once Redis is back (empty): B cuts and refuses it', async () => {
    const redis = scene.redis = await startRedis()
    const [a, b] = scene.members = [await member('oa', redis.url), await member('ob', redis.url)]
    await Promise.all([redisUp(a!.httpUrl), redisUp(b!.httpUrl)])
    const tok = await token({ rooms: [ROOM], jti: 'while-away' })
    const live = await open(b!.url, tok)
    await redis.stop()
    await until('both relays see Redis gone', async () =>
      (await Promise.all([a!, b!].map(async (m) => (await health(m.httpUrl)).components.redis?.ok === false))).every(Boolean))
    await revoke(a!.httpUrl, 'while-away')
    expect(await upgradeStatus(a!.url, tok)).toBe(403)
    expect(await upgradeStatus(b!.url, tok)).toBe(101) // B cannot know yet
    expect(live.closeCode).toBeNull()
    await redis.start() // empty: A refills it
    expect(await waitFor(() => live.closeCode, { timeoutMs: 15_000, message: 'B cuts the token once Redis is back' })).toBe(4403)
    expect(await upgradeStatus(b!.url, tok)).toBe(403)
    expect(await stored(redis.url, 'while-away')).toMatchObject({ jti: 'while-away' })
  })

  it('B restarted gracefully on an empty disk still refuses the token (the list comes from Redis)', async () => {
    const redis = scene.redis = await startRedis()
    const [a, b] = scene.members = [await member('ga', redis.url), await member('gb', redis.url)]
    await Promise.all([redisUp(a!.httpUrl), redisUp(b!.httpUrl)])
    const tok = await token({ rooms: [ROOM], jti: 'graceful' })
    await revoke(a!.httpUrl, 'graceful')
    await until('B refuses', async () => await upgradeStatus(b!.url, tok) === 403, 2000)
    await b!.stop(true) // wipes its data dir, deny file included
    scene.members = [a!]
    const b2 = await member('gb', redis.url)
    scene.members.push(b2)
    await until('the new B refuses the token', async () => await upgradeStatus(b2.url, tok) === 403, 5000)
  })

  it('B killed -9 and restarted refuses the token it had seen and the one revoked while it was dead', async () => {
    const redis = scene.redis = await startRedis()
    const a = await member('ka', redis.url)
    scene.members = [a]
    const [port] = await freePorts(1)
    const b = await spawnRedisMember({ id: 'kb', redisUrl: redis.url, port: port!, args: ['--auth-secret', SECRET] })
    scene.procs.push(b)
    await Promise.all([redisUp(a.httpUrl), redisUp(b.httpUrl, 30_000)])
    const seen = await token({ rooms: [ROOM], jti: 'seen-before-kill' })
    const later = await token({ rooms: [ROOM], jti: 'revoked-while-dead' })
    const live = await open(b.url, seen)
    await revoke(a.httpUrl, 'seen-before-kill')
    expect(await waitFor(() => live.closeCode, { timeoutMs: 1000, message: 'B cuts the revoked token' })).toBe(4403)
    b.kill('SIGKILL')
    await b.exited
    await revoke(a.httpUrl, 'revoked-while-dead')
    const b2 = await spawnRedisMember({ id: 'kb', redisUrl: redis.url, port: port!, dataDir: b.dataDir, args: ['--auth-secret', SECRET] })
    scene.procs.push(b2)
    await until('the restarted B refuses both tokens', async () =>
      await upgradeStatus(b2.url, seen) === 403 && await upgradeStatus(b2.url, later) === 403, 15_000)
  }, 120_000) // a relay process started through tsx, twice

  it('junk on the deny channel is logged once per message and ignored; revocations keep flowing', async () => {
    const redis = scene.redis = await startRedis()
    const logs = new LogLines()
    const [a, b] = scene.members = [await member('ja', redis.url, { logs }), await member('jb', redis.url)]
    await Promise.all([redisUp(a!.httpUrl), redisUp(b!.httpUrl)])
    const pub = new Redis(redis.url)
    const good = { jti: 'forged-but-well-formed', until: Math.floor(Date.now() / 1000) + 600, at: Date.now() }
    try {
      await pub.publish(CHANNEL, 'not json {')
      await pub.publish(CHANNEL, JSON.stringify({ from: 'x', entries: 5 }))
      await pub.publish(CHANNEL, JSON.stringify({ from: 'x', entries: [{ jti: 'no-times' }, good] }))
    } finally {
      pub.disconnect()
    }
    await until('each junk message is logged', () =>
      logs.withMessage('not JSON').length === 1 && logs.withMessage('not {from, entries}').length === 1 && logs.withMessage('malformed entries').length === 1)
    // The well-formed entry beside the malformed one applied.
    expect(await upgradeStatus(a!.url, await token({ rooms: [ROOM], jti: good.jti }))).toBe(403)
    // Still working: a revocation on B reaches A.
    const tok = await token({ rooms: [ROOM], jti: 'after-junk' })
    const live = await open(a!.url, tok)
    await revoke(b!.httpUrl, 'after-junk')
    expect(await waitFor(() => live.closeCode, { timeoutMs: 1000, message: 'A cuts the token revoked on B' })).toBe(4403)
    expect((await health(a!.httpUrl)).components.redis?.ok).toBe(true)
    expect(logs.withMessage('not JSON')).toHaveLength(1)
  })
})
