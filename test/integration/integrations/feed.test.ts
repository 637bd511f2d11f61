/**
 * The change feed over real HTTP: a `changed` event for each stored change (room, state vector,
 * authors from the token, time; the document with `?include=json`), a consumer that disconnects
 * and resumes with Last-Event-ID gets exactly what a consumer that stayed got, a Last-Event-ID that
 * is unknown or past the retention window gets a `reset`, and the tokens gate both feeds.
 */
import { describe, expect, it } from 'vitest'
import { startRelay, type StartedRelay, type StartRelayOptions } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { SECRET, token } from '../auth/helpers.ts'
import { resolveConfig } from '../../../relay/config/config.ts'
import { createRelay } from '../../../relay/server/server.ts'
import { createLogger } from '../../../relay/observability/logger.ts'
import { integrationsExtension } from '../../../relay/integrations/index.ts'
import { HttpWriter, SseConsumer, covers, decodeSv, seqOf, waitEvents } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function relay(options: StartRelayOptions = {}): Promise<StartedRelay> {
  const r = await startRelay(options)
  cleanups.push(() => r.stop())
  return r
}

async function consume(url: string, opts: { lastEventId?: string; token?: string } = {}): Promise<SseConsumer> {
  const consumer = await SseConsumer.open(url, opts)
  cleanups.push(() => consumer.close())
  return consumer
}

describe('change feed', () => {
  it('announces each stored change with its room, state vector, authors and time; ?include=json adds the document', async () => {
    const r = await relay({ authSecret: SECRET })
    const read = await token({ rooms: ['doc'], right: 'read' })
    const feed = await consume(`${r.httpUrl}/api/rooms/doc/events`, { token: read })
    const withDoc = await consume(`${r.httpUrl}/api/rooms/doc/events?include=json`, { token: read })
    expect(feed.status).toBe(200)
    const writer = new HttpWriter(r.httpUrl, 'doc', await token({ rooms: ['doc'], sub: 'u1', name: 'Ann' }))
    const before = Date.now()
    expect(await writer.write('hello')).toBe(200)
    await waitEvents(feed, 1)
    const [event] = feed.changed()
    expect(event).toMatchObject({ room: 'doc', authors: [{ id: 'u1', name: 'Ann' }] })
    expect(feed.events[0]!.id).toBe(event!.id)
    expect(covers(decodeSv(event!.stateVector), new Map([[writer.doc.clientID, writer.clock()]]))).toBe(true)
    expect(Date.parse(event!.time)).toBeGreaterThanOrEqual(before - 1000)
    expect(event!.doc).toBeUndefined()
    await waitEvents(withDoc, 1)
    expect(withDoc.changed()[0]!.doc).toEqual({ t: 'hello' })

    // a second writer: the next event names only who wrote since the last one
    const other = new HttpWriter(r.httpUrl, 'doc', await token({ rooms: ['doc'], sub: 'u2' }))
    expect(await other.write('!')).toBe(200)
    await waitEvents(feed, 2)
    expect(feed.changed()[1]!.authors).toEqual([{ id: 'u2' }])
    expect(seqOf(feed.changed()[1]!.id)).toBeGreaterThan(seqOf(event!.id))
  })

  it('gives a consumer that resumes with Last-Event-ID exactly what a consumer that stayed got, in order', async () => {
    const r = await relay()
    const stayed = await consume(`${r.httpUrl}/api/rooms/doc/events`)
    let resumer = await consume(`${r.httpUrl}/api/rooms/doc/events`)
    const all = await consume(`${r.httpUrl}/api/events`)
    const writer = new HttpWriter(r.httpUrl, 'doc')
    const noise = new HttpWriter(r.httpUrl, 'other')
    for (let i = 0; i < 5; i++) {
      await writer.write(`a${i}`)
      await noise.write(`n${i}`)
      await waitEvents(resumer, i + 1)
    }
    const firstPart = resumer.events.slice()
    resumer.close()
    for (let i = 0; i < 10; i++) {
      await writer.write(`b${i}`)
      await noise.write(`m${i}`)
      await waitFor(() => decodeSv(stayed.changed().at(-1)?.stateVector ?? 'AA==').get(writer.doc.clientID) === writer.clock(), { message: 'the change announced' })
    }
    resumer = await consume(`${r.httpUrl}/api/rooms/doc/events`, { lastEventId: firstPart.at(-1)!.id! })
    await waitFor(() => resumer.events.length + firstPart.length >= stayed.events.length, { message: 'the resumed consumer caught up' })
    const ids = (events: typeof firstPart) => events.map((e) => `${e.event} ${e.id}`)
    expect([...ids(firstPart), ...ids(resumer.events)]).toEqual(ids(stayed.events))
    expect(stayed.changed().every((e) => e.room === 'doc')).toBe(true)
    // the all-rooms feed has both rooms, in increasing id order
    await waitFor(() => all.changed().filter((e) => e.room === 'doc').length === stayed.events.length, { message: 'all-rooms feed' })
    const seqs = all.changed().map((e) => seqOf(e.id))
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(all.changed().map((e) => e.room))).toEqual(new Set(['doc', 'other']))
    // the last event covers the room's whole state
    expect(covers(decodeSv(stayed.changed().at(-1)!.stateVector), new Map([[writer.doc.clientID, writer.clock()]]))).toBe(true)
  })

  it('answers an unknown or malformed Last-Event-ID with a reset, then goes on live', async () => {
    const r = await relay()
    for (const bad of ['nonsense', 'zzzz-5', '', `x-${Number.MAX_SAFE_INTEGER}`]) {
      const consumer = await consume(`${r.httpUrl}/api/rooms/doc/events`, { lastEventId: bad })
      await waitEvents(consumer, 1)
      expect(consumer.events[0]).toMatchObject({ event: 'reset' })
      expect(consumer.resets()[0]).toEqual({ room: 'doc', reason: 'unknown event id' })
    }
    // an id of this log but ahead of it is unknown too
    const live = await consume(`${r.httpUrl}/api/rooms/doc/events`)
    await new HttpWriter(r.httpUrl, 'doc').write('x')
    await waitEvents(live, 1)
    const ahead = live.events[0]!.id!.replace(/-\d+$/, '-999999')
    const consumer = await consume(`${r.httpUrl}/api/rooms/doc/events`, { lastEventId: ahead })
    await waitEvents(consumer, 1)
    expect(consumer.resets()).toEqual([{ room: 'doc', reason: 'unknown event id' }])
    // after the reset: live events, and the reset's id resumes from there
    await new HttpWriter(r.httpUrl, 'doc').write('y')
    await waitEvents(consumer, 2)
    expect(consumer.events[1]!.event).toBe('changed')
    const all = await consume(`${r.httpUrl}/api/events`, { lastEventId: 'garbage' })
    await waitEvents(all, 1)
    expect(all.resets()).toEqual([{ reason: 'unknown event id' }])
  })

  it('sends a reset to a consumer whose Last-Event-ID is past the retention window', async () => {
    const r = await relay({ feedMaxEvents: 3 })
    const consumer = await consume(`${r.httpUrl}/api/rooms/doc/events`)
    const writer = new HttpWriter(r.httpUrl, 'doc')
    await writer.write('first')
    await waitEvents(consumer, 1)
    const first = consumer.events[0]!.id!
    for (let i = 0; i < 12; i++) {
      await writer.write(`${i}`)
      await waitEvents(consumer, i + 2)
    }
    // pruned down to the cap in the background
    await waitFor(async () => {
      const late = await SseConsumer.open(`${r.httpUrl}/api/rooms/doc/events`, { lastEventId: first })
      await waitEvents(late, 1)
      late.close()
      return late.events[0]!.event === 'reset' ? late : null
    }, { message: 'a reset past the window' }).then((late) => {
      expect(late.resets()).toEqual([{ room: 'doc', reason: 'past the retention window' }])
    })
    // a recent id still resumes
    const recent = consumer.events.at(-3)!.id!
    const resumed = await consume(`${r.httpUrl}/api/rooms/doc/events`, { lastEventId: recent })
    await waitEvents(resumed, 2)
    expect(resumed.events.map((e) => e.id)).toEqual(consumer.events.slice(-2).map((e) => e.id))
  })

  it('lets a read token read a room feed; refuses no token (401) and another room\'s token (403); the all-rooms feed needs admin', async () => {
    const r = await relay({ authSecret: SECRET })
    const status = async (path: string, t?: string) => {
      const consumer = await consume(`${r.httpUrl}${path}`, t === undefined ? {} : { token: t })
      consumer.close()
      return consumer.status
    }
    expect(await status('/api/rooms/doc/events', await token({ rooms: ['doc'], right: 'read' }))).toBe(200)
    expect(await status('/api/rooms/doc/events')).toBe(401)
    expect(await status('/api/rooms/doc/events', 'not-a-token')).toBe(401)
    expect(await status('/api/rooms/doc/events', await token({ rooms: ['elsewhere'] }))).toBe(403)
    expect(await status('/api/events')).toBe(401)
    expect(await status('/api/events', await token({ rooms: ['*'] }))).toBe(403)
    expect(await status('/api/events', await token({ rooms: ['*'], admin: true }))).toBe(200)
    expect(await status('/api/rooms/doc/events?include=xml', await token({ rooms: ['doc'] }))).toBe(400)
  })

  it('keeps the all-rooms feed open on an open relay, like every room', async () => {
    const r = await relay()
    const all = await consume(`${r.httpUrl}/api/events`)
    expect(all.status).toBe(200)
    await new HttpWriter(r.httpUrl, 'a').write('x')
    await waitEvents(all, 1)
    expect(all.changed()[0]!.room).toBe('a')
  })

  it('sends heartbeat comments while nothing happens, and ends a stream whose token expired or was revoked', async () => {
    // the built-in extension beats every 15 s: one of its own beats every 100 ms
    const config = resolveConfig({ host: '127.0.0.1', port: 0, storage: 'memory', authSecret: SECRET, logLevel: 'silent' })
    const extension = integrationsExtension(config, { openAccess: () => false, heartbeatMs: 100 })
    const relayRef = await createRelay(config, { integrations: false, extensions: [extension], logger: createLogger('silent') })
    cleanups.push(() => relayRef.close())
    extension.listening(relayRef.httpUrl)
    const consumer = await consume(`${relayRef.httpUrl}/api/rooms/doc/events`, { token: await token({ rooms: ['doc'], right: 'read' }) })
    await waitFor(() => consumer.comments >= 4, { message: 'heartbeats' })
    expect(consumer.events).toEqual([])
    expect(consumer.ended).toBe(false)
    // a token that expires while the stream is open: the stream ends at the next check
    const short = await token({ rooms: ['doc'], right: 'read', ttlSeconds: 1 })
    const expiring = await consume(`${relayRef.httpUrl}/api/rooms/doc/events`, { token: short })
    expect(expiring.status).toBe(200)
    await waitFor(() => expiring.ended, { timeoutMs: 15_000, message: 'the expired stream ended' })
    expect(consumer.ended).toBe(false)
    // a token revoked while the stream is open (the deny list): ended too
    const revocable = await consume(`${relayRef.httpUrl}/api/rooms/doc/events`, { token: await token({ rooms: ['doc'], right: 'read', jti: 'feed-token-1' }) })
    expect(revocable.status).toBe(200)
    const deny = await fetch(`${relayRef.httpUrl}/api/auth/deny`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token({ rooms: ['*'], admin: true })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: 'feed-token-1' }),
    })
    expect(deny.status).toBe(200)
    await waitFor(() => revocable.ended, { message: 'the revoked stream ended' })
    expect(consumer.ended).toBe(false)
  })
})
