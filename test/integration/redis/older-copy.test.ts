/**
 * A Redis restarted from an RDB copy older than the relays' data (same epoch, the end of a
 * room's stream gone): the relay that wrote the lost entries republishes the room, so a relay
 * that had not read them yet — its link to Redis was cut meanwhile — still gets them. Found by
 * the Redis fault campaign (seed 108); before the fix the relay stayed without them, with
 * `/health` ok. Real redis-server, real relay processes, a real TCP proxy.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { RelayProcess, relayPorts } from '../../../scripts/chaos/relay-process.ts'
import { RedisServerProcess } from '../../../scripts/chaos/redis-server.ts'
import { startTcpProxy, type TcpProxy } from '../../../scripts/chaos/tcp-proxy.ts'
import { client, metric, relayDoc, until, type Client } from '../topology/cluster.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const text = (d: Y.Doc): string => d.getText('t').toString()

describe('Redis restarted from an older copy', () => {
  it('a write whose stream entry Redis lost still reaches a relay that had not read it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-older-copy-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const ports = await relayPorts(3, Math.random)
    const redis = new RedisServerProcess({ port: ports[2]!, dir: join(dir, 'redis'), persistence: 'rdb', logFile: join(dir, 'redis.log') })
    await redis.start()
    cleanup.push(() => redis.dispose())
    const proxies: TcpProxy[] = [await startTcpProxy(redis.spec.port), await startTcpProxy(redis.spec.port)]
    cleanup.push(async () => { for (const p of proxies) await p.close() })
    const relay = (id: string, port: number, url: string): RelayProcess => new RelayProcess({
      id, port, dataDir: join(dir, id), faultFile: join(dir, `${id}.fault`), logFile: join(dir, `${id}.log`),
      topology: 'mesh', peers: [], secret: '', entry: 'tsx', redis: url,
    })
    const a = relay('a', ports[0]!, proxies[0]!.url)
    const b = relay('b', ports[1]!, proxies[1]!.url)
    await a.start()
    await b.start()
    cleanup.push(() => a.dispose(), () => b.dispose())
    const clients: Client[] = [client(a.url, 'room'), client(b.url, 'room')]
    cleanup.push(() => { for (const c of clients) c.destroy() })
    const [ca, cb] = clients as [Client, Client]
    cb.doc.getText('t').insert(0, 'one\n')
    await until('a has one', () => text(ca.doc).includes('one'), 20_000)
    // The copy Redis will come back from: it holds "one", not what follows.
    await redis.copyPersisted(join(dir, 'copy'))
    proxies[0]!.setMode('refuse')
    cb.doc.getText('t').insert(0, 'two\n')
    await until('b stored two', async () => text(await relayDoc(b.httpUrl, 'room')).includes('two'), 20_000)
    await redis.kill9()
    await redis.restorePersisted(join(dir, 'copy'))
    await redis.start()
    proxies[0]!.setMode('pass')
    await until('a got two', async () => text(await relayDoc(a.httpUrl, 'room')).includes('two'), 20_000)
    expect(text(await relayDoc(a.httpUrl, 'room'))).toBe(text(await relayDoc(b.httpUrl, 'room')))
    expect(await metric(b.httpUrl, 'tandem_redis_catch_ups_total', { kind: 'regressed' })).toBeGreaterThanOrEqual(1)
  })
})
