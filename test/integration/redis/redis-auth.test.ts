/**
 * Redis with credentials and TLS: a password (`redis://:PW@`), an ACL user
 * (`redis://USER:PW@`), `rediss://` verified against `--redis-ca`; a refused password or
 * certificate is logged and shown in /health (never the password), and the relay keeps
 * serving its clients from local storage meanwhile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { LogLines, Scene, client, freePorts, health, keysOf, redisUp, relayDoc, spawnRedisMember, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'
import { makeTestCerts, type TestCerts } from './test-certs.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

/** `url` (redis[s]://HOST:PORT) with credentials. */
const withAuth = (url: string, user: string, password: string): string => url.replace('://', `://${user}:${encodeURIComponent(password)}@`)

/** Two relays on `urls` share room `room`: a stock client on each, each sees the other's write. */
async function shareARoom(httpUrls: string[], wsUrls: string[], room: string): Promise<void> {
  const [a, b] = wsUrls.map((u) => client(u, room))
  scene.clients.push(a!, b!)
  await Promise.all([synced(a!), synced(b!)])
  a!.doc.getMap('m').set('from-a', 1)
  b!.doc.getMap('m').set('from-b', 2)
  await until('each client sees the other relay\'s write', () => keysOf(a!.doc).length === 2 && keysOf(b!.doc).length === 2)
  for (const h of httpUrls) expect(keysOf(await relayDoc(h, room))).toEqual(['from-a', 'from-b'])
}

/** /health body, /metrics text and every log line, none of which may hold `secret`. */
async function expectNowhere(secret: string, httpUrl: string, logs: string): Promise<void> {
  const healthBody = await (await fetch(`${httpUrl}/health`)).text()
  const metricsText = await (await fetch(`${httpUrl}/metrics`)).text()
  expect(logs.length).toBeGreaterThan(0)
  expect(logs).not.toContain(secret)
  expect(healthBody).not.toContain(secret)
  expect(metricsText).not.toContain(secret)
}

describe('Redis with a password (--requirepass)', () => {
  const PASSWORD = 'right-pw-5d1c0e9a'
  const WRONG = 'wrong-pw-7f3a9c44'

  it('two relays given the password share a room; the logs show the URL with the password redacted', async () => {
    const redis = scene.redis = await startRedis({ args: ['--requirepass', PASSWORD] })
    const url = withAuth(redis.url, '', PASSWORD)
    const logs = new LogLines()
    scene.members = [
      await startRedisMember({ id: 'pw0', redisUrl: url, logs }),
      await startRedisMember({ id: 'pw1', redisUrl: url }),
    ]
    await Promise.all(scene.members.map((m) => redisUp(m.httpUrl)))
    await shareARoom(scene.members.map((m) => m.httpUrl), scene.members.map((m) => m.url), 'pw-room')
    const connected = logs.withMessage('Redis connected and caught up')
    expect(connected.length).toBeGreaterThan(0)
    expect(connected[0]!.url).toBe(`redis://:***@127.0.0.1:${redis.port}`)
    await expectNowhere(PASSWORD, scene.members[0]!.httpUrl, logs.text())
  })

  it('a wrong password: the refusal is logged and in /health (not the password), and clients are still served', async () => {
    const redis = scene.redis = await startRedis({ args: ['--requirepass', PASSWORD] })
    const logs = new LogLines()
    const m = await startRedisMember({ id: 'badpw', redisUrl: withAuth(redis.url, '', WRONG), logs })
    scene.members = [m]
    await until('the refusal is logged', () => logs.withMessage('Redis refused the credentials').length > 0)
    const refused = logs.withMessage('Redis refused the credentials')
    expect(refused).toHaveLength(1) // once, not once per retry
    expect(String(refused[0]!.reason)).toMatch(/WRONGPASS/)
    expect(refused[0]!.url).toBe(`redis://:***@127.0.0.1:${redis.port}`)
    const h = await health(m.httpUrl)
    expect(h.components.redis).toMatchObject({ ok: false })
    expect(h.components.redis!.detail).toMatch(/WRONGPASS/)
    // Served from local storage as when Redis is away.
    const c = client(m.url, 'local-room')
    scene.clients.push(c)
    await synced(c)
    c.doc.getMap('m').set('k', 1)
    await until('the relay stored the write', async () => keysOf(await relayDoc(m.httpUrl, 'local-room')).includes('k'))
    // Still the reason shown after the retries meanwhile (not "connection closed").
    expect((await health(m.httpUrl)).components.redis!.detail).toMatch(/WRONGPASS/)
    await expectNowhere(WRONG, m.httpUrl, logs.text())
  })

  it('no password at all against a protected Redis: NOAUTH is logged and shown', async () => {
    const redis = scene.redis = await startRedis({ args: ['--requirepass', PASSWORD] })
    const logs = new LogLines()
    const m = await startRedisMember({ id: 'nopw', redisUrl: redis.url, logs })
    scene.members = [m]
    await until('/health shows NOAUTH', async () => /NOAUTH/.test((await health(m.httpUrl)).components.redis?.detail ?? ''))
    expect(logs.withMessage('Redis refused the credentials')).toHaveLength(1)
  })
})

describe('Redis with an ACL user', () => {
  it('redis://alice:PW@ connects as alice where the default user is disabled; the default user with her password is refused', async () => {
    const PW = 'alice-pw-9e2b7d13'
    const redis = scene.redis = await startRedis({ args: ['--user', 'default', 'off', '--user', 'alice', 'on', `>${PW}`, '~*', '&*', '+@all'] })
    const alice = withAuth(redis.url, 'alice', PW)
    const logs = new LogLines()
    scene.members = [
      await startRedisMember({ id: 'acl0', redisUrl: alice, logs }),
      await startRedisMember({ id: 'acl1', redisUrl: alice }),
    ]
    await Promise.all(scene.members.map((m) => redisUp(m.httpUrl)))
    await shareARoom(scene.members.map((m) => m.httpUrl), scene.members.map((m) => m.url), 'acl-room')
    const inspect = new Redis(alice)
    try {
      const list = String(await inspect.call('CLIENT', 'LIST'))
      const tandem = list.split('\n').filter((l) => l.includes('name=tandem:'))
      expect(tandem.length).toBe(6) // cmd, read, sub of each relay
      for (const line of tandem) expect(line).toContain('user=alice')
    } finally {
      inspect.disconnect()
    }
    expect(logs.withMessage('Redis connected and caught up')[0]!.url).toBe(`redis://alice:***@127.0.0.1:${redis.port}`)
    await expectNowhere(PW, scene.members[0]!.httpUrl, logs.text())
    // The default user is off: alice's password without her name does not get in.
    const other = await startRedisMember({ id: 'acl-default', redisUrl: withAuth(redis.url, '', PW) })
    scene.members.push(other)
    await until('the default user is refused', async () => /WRONGPASS/.test((await health(other.httpUrl)).components.redis?.detail ?? ''))
  })
})

describe('Redis over TLS (rediss://)', () => {
  let certs: TestCerts
  beforeAll(() => { certs = makeTestCerts() })
  afterAll(() => certs.remove())

  it('with the CA that signed the server\'s certificate, two relays share a room', async () => {
    const redis = scene.redis = await startRedis({ tls: certs })
    expect(redis.url.startsWith('rediss://')).toBe(true)
    const ca = certs.read(certs.ca)
    scene.members = [
      await startRedisMember({ id: 'tls0', redisUrl: redis.url, ca }),
      await startRedisMember({ id: 'tls1', redisUrl: redis.url, ca }),
    ]
    await Promise.all(scene.members.map((m) => redisUp(m.httpUrl)))
    await shareARoom(scene.members.map((m) => m.httpUrl), scene.members.map((m) => m.url), 'tls-room')
  })

  it('with another CA, or the system CAs, the certificate is refused and /health says so', async () => {
    const redis = scene.redis = await startRedis({ tls: certs })
    const logs = new LogLines()
    const wrong = await startRedisMember({ id: 'tls-wrong', redisUrl: redis.url, ca: certs.read(certs.otherCa), logs })
    const system = await startRedisMember({ id: 'tls-system', redisUrl: redis.url })
    scene.members = [wrong, system]
    for (const m of scene.members) {
      await until(`${m.id}: /health names the certificate failure`, async () =>
        /certificate|verify/i.test((await health(m.httpUrl)).components.redis?.detail ?? ''))
    }
    const down = logs.withMessage('Redis unreachable')
    expect(down.length).toBe(1)
    expect(String(down[0]!.reason)).toMatch(/certificate|verify/i)
    // The plain port is off: no way around TLS.
    for (const m of scene.members) expect((await health(m.httpUrl)).components.redis?.ok).toBe(false)
  })

  it('the CLI: --redis rediss://alice:PW@ with --redis-ca connects, and its output never holds the password', async () => {
    const PW = 'cli-pw-3b8e6f21'
    const redis = scene.redis = await startRedis({ tls: certs, args: ['--user', 'default', 'off', '--user', 'alice', 'on', `>${PW}`, '~*', '&*', '+@all'] })
    const [port] = await freePorts(1)
    const proc = await spawnRedisMember({ id: 'cli-tls', redisUrl: withAuth(redis.url, 'alice', PW), port: port!, args: ['--redis-ca', certs.ca] })
    scene.procs.push(proc)
    await redisUp(proc.httpUrl, 30_000)
    await until('the connect line is logged', () => proc.output().includes('Redis connected and caught up'))
    expect(proc.output()).toContain(`rediss://alice:***@127.0.0.1:${redis.port}`)
    await expectNowhere(PW, proc.httpUrl, proc.output())
  }, 90_000)

  it('the CLI refuses an unreadable --redis-ca with one clear line naming the flag and the file', async () => {
    const [port] = await freePorts(1)
    await expect(spawnRedisMember({ id: 'cli-noca', redisUrl: 'rediss://127.0.0.1:1', port: port!, args: ['--redis-ca', '/nonexistent/ca.pem'] }))
      .rejects.toThrow(/--redis-ca \/nonexistent\/ca.pem: cannot read it/)
  }, 90_000)
})
