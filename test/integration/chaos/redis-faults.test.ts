/**
 * The Redis-mode faults do what the campaign says they do, on a real redis-server: a restart
 * from an older RDB or AOF copy really loses what was written after the copy, a wipe really
 * empties it, kill -9 restarts from what it persisted, `maxmemory` refuses writes until
 * restored; the TCP proxy's cut refuses, its stall holds replies silently and its delay
 * delays. (A fault that silently did nothing would make every campaign pass.)
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { RedisServerProcess, type RedisPersistence } from '../../../scripts/chaos/redis-server.ts'
import { startTcpProxy, type TcpProxy } from '../../../scripts/chaos/tcp-proxy.ts'
import { relayPorts } from '../../../scripts/chaos/relay-process.ts'
import { waitFor } from '../../fixtures/wait.ts'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function server(persistence: RedisPersistence): Promise<RedisServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-chaos-redis-'))
  const [port] = await relayPorts(1, Math.random)
  const redis = new RedisServerProcess({ port: port as number, dir: join(dir, 'redis'), persistence, logFile: join(dir, 'redis.log') })
  cleanup.push(async () => {
    await redis.dispose()
    await rm(dir, { recursive: true, force: true })
  })
  await redis.start()
  return redis
}

/** Every file of the AOF directory, concatenated. */
async function aofText(dir: string): Promise<string> {
  const aof = join(dir, 'appendonlydir')
  const files = await readdir(aof)
  return (await Promise.all(files.map((f) => readFile(join(aof, f), 'latin1')))).join('')
}

/** A client that fails fast (no offline queue, no retries), as the relay's are. */
function client(port: number): Redis {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  r.on('error', () => undefined)
  cleanup.push(async () => void r.disconnect())
  return r
}

describe('chaos Redis faults', () => {
  for (const persistence of ['rdb', 'aof'] as const) {
    it(`${persistence}: restart from the older copy loses what came after it; kill -9 keeps what was persisted; wipe empties`, async () => {
      const redis = await server(persistence)
      await redis.command(['SET', 'before', '1'])
      const copy = `${redis.spec.dir}-copy`
      await redis.copyPersisted(copy)
      await redis.command(['SET', 'after', '2'])
      // What kill -9 keeps: RDB mode snapshots on demand here (as `save 2 1` does within 2 s);
      // AOF mode keeps what reached the file (written on every command, fsynced every second).
      if (persistence === 'rdb') await redis.copyPersisted(`${redis.spec.dir}-unused`)
      else await waitFor(async () => (await aofText(redis.spec.dir)).includes('after'), { message: 'SET after in the AOF' })
      await redis.kill9()
      expect(redis.running).toBe(false)
      await redis.start()
      expect(await redis.command(['GET', 'after'])).toBe('2')

      await redis.kill9()
      await redis.restorePersisted(copy)
      await redis.start()
      expect(await redis.command(['GET', 'before'])).toBe('1')
      expect(await redis.command(['GET', 'after'])).toBeNull()

      await redis.kill9()
      await redis.wipe()
      await redis.start()
      expect(await redis.command(['DBSIZE'])).toBe(0)
      expect(redis.starts).toBe(4)
    })
  }

  it('maxmemory refuses writes until restored', async () => {
    const redis = await server('rdb')
    await redis.setRefusingWrites(true)
    await expect(redis.command(['XADD', 's', '*', 'u', 'x'])).rejects.toThrow(/OOM/)
    expect(await redis.command(['GET', 'missing'])).toBeNull() // reads still served
    await redis.setRefusingWrites(false)
    expect(await redis.command(['XADD', 's', '*', 'u', 'x'])).toMatch(/^\d+-\d+$/)
  })

  it('the TCP proxy passes, cuts and refuses, stalls silently and delays', async () => {
    const redis = await server('rdb')
    const proxy: TcpProxy = await startTcpProxy(redis.spec.port)
    cleanup.push(() => proxy.close())
    const a = client(proxy.port)
    await a.connect()
    expect(await a.call('PING')).toBe('PONG')
    expect(proxy.openLinks()).toBe(1)

    proxy.setMode('refuse')
    await expect(a.call('PING')).rejects.toThrow()
    const b = client(proxy.port)
    await expect(b.connect().then(() => b.call('PING'))).rejects.toThrow()
    proxy.setMode('pass')

    const c = client(proxy.port)
    await c.connect()
    proxy.setMode('stall')
    let answered = false
    const pending = c.call('PING').then((r) => { answered = true; return r })
    await new Promise((r) => setTimeout(r, 300)) // the stall's own length: nothing may arrive within it
    expect(answered).toBe(false)
    proxy.setMode('pass')
    expect(await pending).toBe('PONG')

    proxy.setDelay(150)
    const t0 = Date.now()
    expect(await c.call('PING')).toBe('PONG')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290) // 150 ms each way
  })
})
