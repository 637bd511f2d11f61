/**
 * Only the subscriber connection dropped (`CLIENT KILL TYPE pubsub`, as a proxy or failover
 * may do): `/health` and `tandem_redis_up` say Redis is degraded, naming the subscriber, until it
 * is back; awareness published while it was away is not lost.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { HealthReport } from '../../../relay/observability/health.ts'
import { Scene, client, metric, redisUp, startRedis, startRedisMember, synced, until } from './redis-fixture.ts'

const scene = new Scene()
afterEach(() => scene.teardown())

describe('the subscriber connection killed alone', () => {
  it('degrades health naming the subscriber until it is back, and awareness set meanwhile reaches the other relay', async () => {
    const redis = scene.redis = await startRedis()
    const members = scene.members = await Promise.all(['sa', 'sb'].map((id) => startRedisMember({ id, redisUrl: redis.url })))
    await Promise.all(members.map((m) => redisUp(m.httpUrl)))
    const [a, b] = members as [typeof members[0], typeof members[0]]
    const [onA, onB] = scene.clients = [client(a.url, 'cursors'), client(b.url, 'cursors')]
    await Promise.all([synced(onA!), synced(onB!)])
    // Every health change, as it happens (no polling window to miss).
    const reports: Array<{ relay: string; report: HealthReport }> = []
    for (const m of members) m.relay.health.onChange((report) => reports.push({ relay: m.id, report }))

    const inspect = new Redis(redis.url)
    try {
      expect(Number(await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBe(2) // one subscriber per relay, nothing else
    } finally {
      inspect.disconnect()
    }
    // Set in the same turn as the kill: published while both subscribers are away.
    onA!.provider.awareness.setLocalStateField('user', { name: 'ada' })
    for (const m of members) await redisUp(m.httpUrl)

    for (const id of ['sa', 'sb']) {
      const mine = reports.filter((r) => r.relay === id).map((r) => r.report.components.redis)
      const degraded = mine.findIndex((r) => r?.ok === false)
      expect(degraded, `${id} reported the subscriber down`).toBeGreaterThanOrEqual(0)
      expect(mine[degraded]!.detail).toMatch(/^subscriber: /)
      expect(mine.at(-1)).toEqual({ ok: true })
    }
    for (const m of members) expect(await metric(m.httpUrl, 'tandem_redis_up')).toBe(1)
    // Clients renew their awareness every 15 s: seen within 5 s, it came from the relays' resend.
    const clientA = onA!.doc.clientID
    await until('b\'s client sees a\'s cursor set while the subscribers were away', () =>
      (onB!.provider.awareness.getStates().get(clientA) as { user?: { name: string } } | undefined)?.user?.name === 'ada', 5000)
  })
})
