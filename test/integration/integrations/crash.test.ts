/**
 * Relays as child processes, killed with SIGKILL: a feed consumer that resumes with Last-Event-ID
 * after the restart misses nothing (the last event covers everything the restarted relay stored;
 * the ids go on increasing; the log after restart holds exactly what was streamed), and a full
 * webhook outbox — plus a change still in its debounce window — is delivered after the restart,
 * signed and in order per room.
 */
import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { join } from 'node:path'
import { spawnRelay, startRelay, tempDataDir, type SpawnedRelay } from '../../fixtures/relay.ts'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import { openLevelStore } from '../../../relay/integrations/store.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { HttpWriter, Receiver, SseConsumer, WEBHOOK_SECRET, covers, decodeSv, delivered, expectOrdered, expectSigned, seqOf, waitEvents } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function dataDir(): Promise<string> {
  const dir = await tempDataDir('tandem-integrations-')
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function spawn(dir: string, args: string[] = []): Promise<SpawnedRelay> {
  const child = await spawnRelay({ dataDir: dir, args: ['--history', 'off', ...args] })
  cleanups.push(async () => {
    child.kill('SIGKILL')
    await child.waitExit()
  })
  return child
}

async function kill9(child: SpawnedRelay): Promise<void> {
  child.kill('SIGKILL')
  await child.waitExit()
}

/** The room's stored state vector on `child`. */
async function storedSv(child: SpawnedRelay, room: string): Promise<Map<number, number>> {
  const res = await fetch(`${child.httpUrl}/api/rooms/${room}/update`)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))
  return Y.decodeStateVector(Y.encodeStateVector(doc))
}

async function metric(child: SpawnedRelay, name: string): Promise<number> {
  const text = await (await fetch(`${child.httpUrl}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
}

describe('integrations across kill -9', () => {
  it('a feed consumer resuming with Last-Event-ID after a kill -9 and restart misses nothing', async () => {
    const dir = await dataDir()
    let child = await spawn(dir)
    const consumer = await SseConsumer.open(`${child.httpUrl}/api/rooms/doc/events`)
    cleanups.push(() => consumer.close())
    const writer = new HttpWriter(child.httpUrl, 'doc')
    let writing = true
    const loop = (async () => {
      while (writing) await writer.write('x').catch(() => undefined)
    })()
    await waitEvents(consumer, 25, 30_000)
    await kill9(child) // while the writer writes: some updates were applied but not stored, some stored but maybe not announced
    writing = false
    await loop
    await waitFor(() => consumer.ended, { message: 'the stream cut by the kill' })
    const before = consumer.changed()

    child = await spawn(dir)
    const resumed = await SseConsumer.open(`${child.httpUrl}/api/rooms/doc/events`, { lastEventId: consumer.lastEventId! })
    cleanups.push(() => resumed.close())
    const stored = await storedSv(child, 'doc')
    expect(stored.get(writer.doc.clientID) ?? 0).toBeGreaterThan(0)
    // every stored change is announced: the last event received covers the stored state
    await waitFor(() => {
      const last = resumed.changed().at(-1) ?? before.at(-1)
      return last !== undefined && covers(decodeSv(last.stateVector), stored)
    }, { timeoutMs: 20_000, message: 'an event covering everything stored' })
    expect(resumed.resets()).toEqual([])
    const ids = [...before, ...resumed.changed()].map((e) => seqOf(e.id))
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!)
    // the log holds exactly what was streamed: a consumer resuming from the first id gets the rest
    const replay = await SseConsumer.open(`${child.httpUrl}/api/rooms/doc/events`, { lastEventId: before[0]!.id })
    cleanups.push(() => replay.close())
    const expected = [...before.slice(1), ...resumed.changed()].map((e) => e.id)
    await waitFor(() => replay.events.length >= expected.length, { message: 'the replay' })
    expect(replay.changed().slice(0, expected.length).map((e) => e.id)).toEqual(expected)
  }, 120_000)

  it('delivers a full outbox, and a change still in its debounce window, after a kill -9 and restart', async () => {
    const rec = new Receiver(3)
    await rec.up()
    cleanups.push(() => rec.down())
    rec.forceStatus = 503
    const dir = await dataDir()
    const args = ['--webhook', rec.url, '--webhook-secret', WEBHOOK_SECRET, '--webhook-debounce-ms', '1500', '--webhook-max-wait-ms', '3000', '--webhook-retry-max-ms', '300']
    let child = await spawn(dir, args)
    const writers = ['r0', 'r1', 'r2', 'r3', 'r4'].map((room) => new HttpWriter(child.httpUrl, room))
    for (const writer of writers) for (let i = 0; i < 3; i++) expect(await writer.write(`${i};`)).toBe(200)
    // created (at once) and changed (after the debounce) of every room wait in the outbox
    await waitFor(async () => (await metric(child, 'tandem_webhook_outbox_messages')) >= 10, { timeoutMs: 30_000, message: 'a full outbox' })
    const refusedBefore = new Set(rec.requests.map((q) => q.headers['webhook-id']))
    expect(refusedBefore.size).toBeGreaterThan(0)
    // a change whose event is durable but whose room.changed is still debounced
    const late = await SseConsumer.open(`${child.httpUrl}/api/rooms/late/events`)
    cleanups.push(() => late.close())
    const lateWriter = new HttpWriter(child.httpUrl, 'late')
    await lateWriter.write('late')
    await waitEvents(late, 1)
    await kill9(child)
    expect(rec.accepted()).toEqual([])

    rec.forceStatus = null
    child = await spawn(dir, args)
    await waitFor(() => [...writers, lateWriter].every((w) => delivered(rec, w)), { timeoutMs: 60_000, message: 'every room delivered after the restart' })
    for (const room of ['r0', 'r1', 'r2', 'r3', 'r4', 'late']) {
      expect(rec.accepted().filter((m) => m.data.room === room)[0]?.type).toBe('room.created')
    }
    // the messages refused before the kill were sent again under the same ids (or superseded by a newer room.changed)
    const accepted = rec.accepted()
    for (const id of refusedBefore) {
      const first = rec.requests.find((q) => q.headers['webhook-id'] === id)!
      const body = JSON.parse(first.body) as { type: string; data: { room: string; eventId: string } }
      const again = accepted.some((m) => m.id === id) ||
        (body.type === 'room.changed' && accepted.some((m) => m.type === 'room.changed' && m.data.room === body.data.room && seqOf(m.data.eventId as string) >= seqOf(body.data.eventId)))
      expect(again, `${body.type} of ${body.data.room} (${id})`).toBe(true)
    }
    expectSigned(rec)
    expectOrdered(rec)
    await waitFor(async () => (await metric(child, 'tandem_webhook_outbox_messages')) === 0, { message: 'the outbox emptied' })
  }, 120_000)

  it('announces a change stored just before a crash that came before its event (the crash mark), with its webhook', async () => {
    const rec = new Receiver()
    await rec.up()
    cleanups.push(() => rec.down())
    const dir = await dataDir()
    const options = { data: dir, keepData: true, history: false, webhooks: [rec.url], webhookSecret: WEBHOOK_SECRET, webhookDebounceMs: 50, webhookMaxWaitMs: 200 }
    let r = await startRelay(options)
    const consumer = await SseConsumer.open(`${r.httpUrl}/api/rooms/doc/events`)
    cleanups.push(() => consumer.close())
    const writer = new HttpWriter(r.httpUrl, 'doc')
    await writer.write('before;')
    await waitEvents(consumer, 1)
    await waitFor(() => delivered(rec, writer), { message: 'first change delivered' })
    await r.stop()
    // What a kill -9 between the room's append and its event leaves: the update in the room's
    // store, the room's crash mark in the integrations store, no event.
    const before = Y.encodeStateVector(writer.doc)
    writer.doc.getText('t').insert(0, 'stored, never announced;')
    const storage = await LevelDbStorage.open(dir)
    await storage.append('doc', [Y.encodeStateAsUpdate(writer.doc, before)], Y.encodeStateVector(writer.doc))
    await storage.close()
    const store = await openLevelStore(join(dir, 'integrations'), true)
    await store.batch([{ type: 'put', key: 'dirty\u0000doc', value: JSON.stringify({ owned: true, created: false }) }])
    await store.close()

    r = await startRelay(options)
    cleanups.push(() => r.stop())
    const resumed = await SseConsumer.open(`${r.httpUrl}/api/rooms/doc/events`, { lastEventId: consumer.lastEventId! })
    cleanups.push(() => resumed.close())
    await waitEvents(resumed, 1)
    expect(resumed.events[0]!.event).toBe('changed')
    const event = resumed.changed()[0]!
    expect(covers(decodeSv(event.stateVector), new Map([[writer.doc.clientID, writer.clock()]]))).toBe(true)
    expect(event.authors).toEqual([])
    await waitFor(() => delivered(rec, writer), { message: 'the recovered change delivered' })
    expectSigned(rec)
    expectOrdered(rec)
  }, 60_000)
})
