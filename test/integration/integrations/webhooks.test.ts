/**
 * Webhooks to a real HTTP receiver on 127.0.0.1: one that fails half the requests at random and
 * is down for a while still gets every change of every room (the last accepted `room.changed` of
 * each room covers everything written), every request's signature verifies with the
 * `standardwebhooks` library, no request of a room overlaps another of that room, and a room's
 * messages never go back in its event order (`room.created` first). An endpoint failing longer
 * than `--webhook-pause-after-ms` is paused (health, metrics) and resumes when it answers; in a
 * mesh each change is delivered by the relay that accepted it only; `version.created` goes through
 * the same outbox; `--webhook-include json` adds the document.
 */
import { describe, expect, it } from 'vitest'
import { startRelay, type StartedRelay, type StartRelayOptions } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { SECRET, token } from '../auth/helpers.ts'
import { createRelay, type Relay } from '../../../relay/server/server.ts'
import { topologyExtension } from '../../../relay/topology/index.ts'
import { enqueueVersionCreated } from '../../../relay/integrations/index.ts'
import { freePorts, peersFor } from '../topology/cluster.ts'
import { startRedis, startRedisMember } from '../redis/redis-fixture.ts'
import { HttpWriter, Receiver, SseConsumer, WEBHOOK_SECRET, covers, decodeSv, delivered, expectOrdered, expectSigned, seqOf } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function relay(options: StartRelayOptions): Promise<StartedRelay> {
  const r = await startRelay(options)
  cleanups.push(() => r.stop())
  return r
}

async function receiver(seed = 1): Promise<Receiver> {
  const rec = new Receiver(seed)
  await rec.up()
  cleanups.push(() => rec.down())
  return rec
}

// History off: its version.created webhooks (rooms quiet for 30 s) are the history suite's to test.
const FAST = { webhookSecret: WEBHOOK_SECRET, webhookDebounceMs: 100, webhookMaxWaitMs: 400, webhookRetryMaxMs: 2000, history: false }

describe('webhooks', () => {
  it('reach a receiver that fails half the requests and is down for a while: every change, signed, in order per room', async () => {
    const rec = await receiver(7)
    rec.failRate = 0.5
    const r = await relay({ ...FAST, authSecret: SECRET, webhooks: [rec.url] })
    const writers = await Promise.all(['a', 'b', 'c', 'd'].map(async (room, i) => new HttpWriter(r.httpUrl, room, await token({ rooms: [room], sub: `user-${i}`, name: `User ${i}` }))))
    for (let round = 0; round < 30; round++) {
      if (round === 10) await rec.down()
      for (const writer of writers) expect(await writer.write(`${round};`)).toBe(200)
      // versions (never coalesced) make long queues per room: their order is checked too
      if (round % 3 === 0) for (const writer of writers) expect(await enqueueVersionCreated(r.relay.rooms, writer.room, { version: round })).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 60))
      if (round === 20) await rec.up()
    }
    await waitFor(() => writers.every((w) => delivered(rec, w)), { timeoutMs: 90_000, intervalMs: 100, message: 'every room delivered' })
    const versions = Array.from({ length: 10 }, (_, k) => k * 3)
    await waitFor(() => writers.every((w) => rec.accepted().filter((m) => m.type === 'version.created' && m.data.room === w.room).length >= versions.length), { timeoutMs: 90_000, message: 'every version delivered' })
    for (const writer of writers) {
      // each version accepted once (an id is retried until accepted, then never again), in order
      expect(rec.accepted().filter((m) => m.type === 'version.created' && m.data.room === writer.room).map((m) => m.data.version)).toEqual(versions)
    }
    expect(rec.requests.some((q) => q.status === 500)).toBe(true)
    expectSigned(rec)
    expectOrdered(rec)
    for (const [i, writer] of writers.entries()) {
      const accepted = rec.accepted().filter((m) => m.data.room === writer.room && m.type !== 'version.created')
      expect(accepted[0]).toMatchObject({ type: 'room.created', data: { room: writer.room, authors: [{ id: `user-${i}`, name: `User ${i}` }] } })
      const changed = accepted.filter((m) => m.type === 'room.changed')
      for (const m of changed) {
        expect(Object.keys(m.data).sort()).toEqual(['authors', 'eventId', 'room', 'stateVector', 'url'])
        expect(m.data.authors).toEqual([{ id: `user-${i}`, name: `User ${i}` }])
        expect(Number.isNaN(Date.parse(m.timestamp))).toBe(false)
      }
      // each accepted state covers the one before (nothing older delivered after something newer)
      for (let k = 1; k < changed.length; k++) expect(covers(decodeSv(changed[k]!.data.stateVector as string), decodeSv(changed[k - 1]!.data.stateVector as string))).toBe(true)
      // the url reads the room (with a token)
      const res = await fetch(changed.at(-1)!.data.url as string, { headers: { authorization: `Bearer ${await token({ rooms: [writer.room], right: 'read' })}` } })
      expect(((await res.json()) as { t: string }).t).toBe(writer.doc.getText('t').toString())
    }
    // a message that failed is retried under the same id, or superseded by a newer one of its room
    const acceptedIds = new Set(rec.accepted().map((m) => m.id))
    for (const request of rec.requests.filter((q) => q.status >= 300)) {
      const body = JSON.parse(request.body) as { type: string; data: { room: string; eventId: string } }
      const later = body.type === 'room.changed' && rec.accepted().some((m) => m.data.room === body.data.room && m.type === body.type && seqOf(m.data.eventId as string) >= seqOf(body.data.eventId))
      expect(acceptedIds.has(request.headers['webhook-id'] as string) || later).toBe(true)
    }
  }, 150_000)

  it('pauses an endpoint failing longer than --webhook-pause-after-ms (health, metrics) and resumes when it answers', async () => {
    const rec = await receiver()
    const port = rec.port
    await rec.down()
    const r = await relay({ ...FAST, webhooks: [rec.url], webhookPauseAfterMs: 800 })
    const health = async () => ((await (await fetch(`${r.httpUrl}/health`)).json()) as { status: string; components: Record<string, { ok: boolean; detail?: string }> })
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${r.httpUrl}/metrics`)).text())?.[1])
    expect((await health()).components.webhooks).toEqual({ ok: true })
    const writer = new HttpWriter(r.httpUrl, 'doc')
    await writer.write('x')
    await waitFor(async () => (await health()).status === 'degraded', { timeoutMs: 30_000, message: 'webhooks degraded' })
    const degraded = await health()
    expect(degraded.components.webhooks!.ok).toBe(false)
    expect(degraded.components.webhooks!.detail).toContain(`http://127.0.0.1:${port}`)
    expect(await metric('tandem_webhook_paused_endpoints')).toBe(1)
    expect(await metric('tandem_webhook_outbox_messages')).toBeGreaterThanOrEqual(1)
    await rec.up(port)
    await waitFor(() => delivered(rec, writer), { timeoutMs: 30_000, message: 'delivered after the pause' })
    await waitFor(async () => (await health()).components.webhooks?.ok === true, { message: 'webhooks ok again' })
    expect(await metric('tandem_webhook_paused_endpoints')).toBe(0)
    await waitFor(async () => (await metric('tandem_webhook_outbox_messages')) === 0, { message: 'outbox empty' })
    expect(await metric('tandem_webhook_deliveries_total{result="delivered"}')).toBeGreaterThanOrEqual(2)
    expectSigned(rec)
  }, 90_000)

  it('in a mesh, delivers each change from the relay that accepted it, not from every relay', async () => {
    const rec = await receiver()
    const ports = await freePorts(2)
    const relays: Relay[] = []
    for (const [i, port] of ports.entries()) {
      const ext = topologyExtension({ id: `r${i}`, peers: peersFor('mesh', ports, i), topology: 'mesh', peerSecret: 'mesh-secret-0123456789', backoff: { initialMs: 50, maxMs: 400 } })
      const relayI = await createRelay({ host: '127.0.0.1', port, id: `r${i}`, storage: 'memory', logLevel: 'silent', webhooks: [rec.url], ...FAST }, { extensions: [ext] })
      cleanups.push(() => relayI.close())
      relays.push(relayI)
    }
    const feeds = await Promise.all(relays.map((x) => SseConsumer.open(`${x.httpUrl}/api/events`)))
    cleanups.push(() => feeds.forEach((f) => f.close()))
    const logOf = (feed: SseConsumer) => feed.changed()[0]?.id.replace(/-\d+$/, '')
    const onA = new HttpWriter(relays[0]!.httpUrl, 'shared')
    const onB = new HttpWriter(relays[1]!.httpUrl, 'shared')
    await onA.write('from A;')
    // both relays store it (both feeds announce it), one delivers it
    await waitFor(() => feeds.every((f) => f.changed().length >= 1), { message: 'both relays announced the change' })
    await waitFor(() => delivered(rec, onA), { message: 'delivered' })
    await onB.write('from B;')
    await waitFor(() => feeds.every((f) => f.changed().some((e) => covers(decodeSv(e.stateVector), new Map([[onB.doc.clientID, onB.clock()]])))), { message: 'both relays have B\'s change' })
    await waitFor(() => delivered(rec, onB), { message: 'B\'s change delivered' })
    // wait past the debounce for any stray delivery from the relay that did not accept a change
    const settled = rec.requests.length
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(rec.requests.length).toBe(settled)
    const [logA, logB] = feeds.map(logOf)
    const fromLog = (m: { data: Record<string, unknown> }) => (m.data.eventId as string).replace(/-\d+$/, '')
    const accepted = rec.accepted()
    // A's change: announced (created, changed) by A only; B's change: changed by B only
    expect(accepted.filter((m) => m.type === 'room.created').map(fromLog)).toEqual([logA])
    const changed = accepted.filter((m) => m.type === 'room.changed')
    expect(changed.filter((m) => covers(decodeSv(m.data.stateVector as string), new Map([[onA.doc.clientID, onA.clock()]])) && !covers(decodeSv(m.data.stateVector as string), new Map([[onB.doc.clientID, 1]]))).map(fromLog)).toEqual([logA])
    expect(changed.filter((m) => covers(decodeSv(m.data.stateVector as string), new Map([[onB.doc.clientID, onB.clock()]]))).map(fromLog)).toEqual([logB])
    expectSigned(rec)
  }, 60_000)

  it('through Redis, delivers each change from the relay that accepted it; a room feed on another relay follows the room', async () => {
    const rec = await receiver()
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const members = []
    for (const id of ['ra', 'rb']) {
      const member = await startRedisMember({ id, redisUrl: redis.url, config: { webhooks: [rec.url], ...FAST } })
      cleanups.push(() => member.stop())
      members.push(member)
    }
    const [a, b] = members as [typeof members[0], typeof members[0]]
    // a room feed on B: B holds the room while it is followed, so A's changes reach it
    const onA = new HttpWriter(a.httpUrl, 'doc')
    await onA.write('first;')
    const feedB = await SseConsumer.open(`${b.httpUrl}/api/rooms/doc/events`)
    cleanups.push(() => feedB.close())
    await onA.write('second;')
    await waitFor(() => feedB.changed().some((e) => covers(decodeSv(e.stateVector), new Map([[onA.doc.clientID, onA.clock()]]))), { message: 'B announced A\'s change' })
    await waitFor(() => delivered(rec, onA), { message: 'delivered' })
    const settled = rec.requests.length
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(rec.requests.length).toBe(settled)
    const logB = feedB.changed()[0]!.id.replace(/-\d+$/, '')
    const logs = new Set(rec.accepted().map((m) => (m.data.eventId as string).replace(/-\d+$/, '')))
    expect(logs.size).toBe(1)
    expect(logs.has(logB)).toBe(false)
    expect(rec.accepted().map((m) => m.type)).toEqual(['room.created', 'room.changed', 'room.changed'].slice(0, rec.accepted().length))
    expectSigned(rec)
  }, 60_000)

  it('sends version.created through the same outbox, after the room\'s earlier messages; --webhook-include json adds the document', async () => {
    const rec = await receiver()
    const r = await relay({ ...FAST, webhooks: [rec.url], webhookInclude: 'json', storage: 'memory' })
    const writer = new HttpWriter(r.httpUrl, 'doc')
    await writer.write('hello')
    await waitFor(() => delivered(rec, writer), { message: 'delivered' })
    expect(await enqueueVersionCreated(r.relay.rooms, 'doc', { version: 'v1', label: 'first draft' })).toBe(true)
    await waitFor(() => rec.accepted().some((m) => m.type === 'version.created'), { message: 'version.created' })
    const messages = rec.accepted()
    expect(messages.map((m) => m.type)).toEqual(['room.created', 'room.changed', 'version.created'])
    expect(messages[1]!.data.doc).toEqual({ t: 'hello' })
    expect(messages[2]!.data).toEqual({ room: 'doc', version: 'v1', label: 'first draft', url: `${r.httpUrl}/api/rooms/doc` })
    expectSigned(rec)
    // a relay without webhooks has nothing to send it to
    const plain = await relay({ storage: 'memory' })
    expect(await enqueueVersionCreated(plain.relay.rooms, 'doc', { version: 'v1' })).toBe(false)
  }, 60_000)
})
