import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { tempDataDir, type StartedRelay } from '../../fixtures/relay.ts'
import { RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import type { StorageAdapter } from '../../../relay/storage/types.ts'
import { awareness, tryUpgrade } from '../auth/helpers.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)

async function limitHits(r: StartedRelay, limit: string): Promise<number> {
  const text = await (await fetch(`${r.httpUrl}/metrics`)).text()
  return Number(new RegExp(`tandem_limit_exceeded_total\\{limit="${limit}"\\} (\\d+)`).exec(text)?.[1] ?? 0)
}

/** `n` sequential single-character updates of one doc. */
function updates(n: number, size = 1): Uint8Array[] {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (let i = 0; i < n; i++) doc.getText('t').insert(0, 'x'.repeat(size))
  return out
}

describe('limits: each refused with its close code, a log line and a metric', () => {
  it('message size (1009), connections per IP (429), rooms per IP per minute (429, WS and HTTP)', async () => {
    const r = await relay({ maxMessageBytes: 1024, maxConnectionsPerIp: 3, maxRoomsPerMinute: 4 })
    const big = await RawClient.connect(r.url, 'r1')
    big.send(new Uint8Array(2048))
    expect(await big.waitClosed()).toBe(1009)
    expect(await limitHits(r, 'message-size')).toBe(1)
    const released = async (room: string): Promise<boolean> => {
      const probe = await tryUpgrade(r.url, room)
      probe.ws.close()
      await waitFor(() => probe.closeCode !== null || probe.status !== 101)
      return probe.status === 101
    }
    await waitFor(() => released('r1')) // the closed one was released
    const open = [await RawClient.connect(r.url, 'r1'), await RawClient.connect(r.url, 'r1')]
    const c3 = await tryUpgrade(r.url, 'r1')
    expect(c3.status).toBe(101)
    const over = await tryUpgrade(r.url, 'r1')
    expect(over.status).toBe(429)
    expect(over.body).toMatch(/connections/)
    expect(await limitHits(r, 'connections-per-ip')).toBe(1)
    for (const c of open) c.close()
    c3.ws.close()
    await waitFor(() => released('r2'))
    expect(await released('r3')).toBe(true)
    // r4 over HTTP fills the minute's budget of 4 distinct rooms.
    expect((await fetch(`${r.httpUrl}/api/rooms/r4`)).status).toBe(404)
    const fifth = await tryUpgrade(r.url, 'r5')
    expect(fifth.status).toBe(429)
    expect((await fetch(`${r.httpUrl}/api/rooms/r6`)).status).toBe(429)
    expect(await released('r2')).toBe(true) // a room already opened this minute is fine
    expect(r.relay.rooms.peek('r5')).toBeUndefined()
    expect(await limitHits(r, 'rooms-per-minute')).toBe(2)
  })

  it('loopback is limited by default (429 past the connections and the rooms per minute, WS and HTTP)', async () => {
    // No --per-ip-exempt: 127.0.0.1 is counted like any other address (issue 21: a TLS proxy or
    // any process on the relay's host got unlimited connections and room opens). One relay per
    // limit, so that one budget running out cannot be mistaken for the other.
    const conns = await relay({ maxConnectionsPerIp: 2 })
    const held = [await tryUpgrade(conns.url, 'c1'), await tryUpgrade(conns.url, 'c2')]
    expect(held.map((o) => o.status)).toEqual([101, 101])
    const over = await tryUpgrade(conns.url, 'c1')
    expect(over.status).toBe(429)
    expect(over.body).toMatch(/more than 2 connections/)
    expect(await limitHits(conns, 'connections-per-ip')).toBe(1)
    for (const o of held) o.ws.close()

    const rooms = await relay({ maxRoomsPerMinute: 3 })
    const opened = [await tryUpgrade(rooms.url, 'r1'), await tryUpgrade(rooms.url, 'r2')]
    expect((await fetch(`${rooms.httpUrl}/api/rooms/r3`)).status).toBe(404)
    const fourth = await tryUpgrade(rooms.url, 'r4')
    expect(fourth.status).toBe(429)
    expect(fourth.body).toMatch(/more than 3 rooms a minute/)
    expect((await fetch(`${rooms.httpUrl}/api/rooms/r5`)).status).toBe(429)
    expect(rooms.relay.rooms.peek('r4')).toBeUndefined()
    const again = await tryUpgrade(rooms.url, 'r1') // a room already opened this minute is fine
    expect([...opened, again].map((o) => o.status)).toEqual([101, 101, 101])
    expect(await limitHits(rooms, 'rooms-per-minute')).toBe(2)
    expect(await limitHits(rooms, 'connections-per-ip')).toBe(0)
    for (const o of [...opened, again]) o.ws.close()
  })

  it('--per-ip-exempt lifts the per-IP limits for the addresses it lists, and only those', async () => {
    const exempt = await relay({ maxConnectionsPerIp: 1, maxRoomsPerMinute: 1, perIpExempt: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] })
    const open = await Promise.all(['e1', 'e2', 'e3'].map((room) => tryUpgrade(exempt.url, room)))
    expect(open.map((o) => o.status)).toEqual([101, 101, 101])
    expect((await fetch(`${exempt.httpUrl}/api/rooms/e4`)).status).toBe(404)
    expect(await limitHits(exempt, 'connections-per-ip')).toBe(0)
    expect(await limitHits(exempt, 'rooms-per-minute')).toBe(0)
    for (const o of open) o.ws.close()
    // A list that names another address leaves loopback limited (addresses match exactly).
    const other = await relay({ maxConnectionsPerIp: 1, maxRoomsPerMinute: 1, perIpExempt: ['10.0.0.1', '::1'] })
    const first = await tryUpgrade(other.url, 'o1')
    expect(first.status).toBe(101)
    expect((await tryUpgrade(other.url, 'o1')).status).toBe(429)
    first.ws.close()
  })

  it('HTTP body size: 413 with and without Content-Length, nothing stored', async () => {
    const r = await relay({ maxHttpBodyBytes: 1024 })
    const body = Buffer.from(Y.mergeUpdates(updates(1, 4096)))
    expect((await fetch(`${r.httpUrl}/api/rooms/b/update`, { method: 'POST', body })).status).toBe(413)
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(body)
        controller.close()
      },
    })
    const res = await fetch(`${r.httpUrl}/api/rooms/b/update`, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect(await r.relay.storage.load('b')).toEqual([])
    expect(await limitHits(r, 'http-body')).toBe(2)
  })

  it('awareness size (4413) and awareness rate (4429); a small cursor passes', async () => {
    const r = await relay({ maxAwarenessBytes: 512, maxAwarenessPerSecond: 5, rateLimitGraceMs: 300 })
    const ok = await RawClient.connect(r.url, 'aw')
    ok.send(awareness(7, 1, { cursor: 1 }))
    const fat = await RawClient.connect(r.url, 'aw')
    fat.send(awareness(8, 1, { blob: 'x'.repeat(1000) }))
    expect(await fat.waitClosed()).toBe(4413)
    const chatty = await RawClient.connect(r.url, 'aw')
    for (let clock = 1; clock <= 200; clock++) chatty.send(awareness(9, clock, { cursor: clock }))
    expect(await chatty.waitClosed()).toBe(4429)
    expect(ok.closeCode).toBeNull()
    expect(await limitHits(r, 'awareness-size')).toBe(1)
    expect(await limitHits(r, 'awareness-per-second')).toBeGreaterThanOrEqual(1)
    ok.close()
  })

  it('bytes per second: a connection over its byte budget past the grace is closed with 4429', async () => {
    const r = await relay({ maxBytesPerSecond: 16 * 1024, maxMessageBytes: 16 * 1024, rateLimitGraceMs: 300 })
    const c = await RawClient.connect(r.url, 'bytes')
    for (const u of updates(60, 4000)) c.send(encodeSyncUpdate(u))
    expect(await c.waitClosed()).toBe(4429)
    expect(await limitHits(r, 'bytes-per-second')).toBeGreaterThanOrEqual(1)
  })

  it('a burst over the message rate is slowed down, not cut, when it ends within the grace', async () => {
    const r = await relay({ maxMessagesPerSecond: 100, rateLimitGraceMs: 5000 })
    const c = await RawClient.connect(r.url, 'bulk')
    const list = updates(250)
    const started = Date.now()
    for (const u of list) c.send(encodeSyncUpdate(u))
    await waitFor(() => r.relay.rooms.peek('bulk')?.doc.getText('t').length === 250, { timeoutMs: 10_000 })
    // 100 in the burst, then 150 at 100/s: at least ~1.5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200)
    expect(c.closeCode).toBeNull()
    expect(await limitHits(r, 'messages-per-second')).toBeGreaterThanOrEqual(1)
    c.close()
  })

  it('updates held before the room loads: past the bound the connection is closed with 4429, nothing applied', async () => {
    const dir = await tempDataDir()
    const real = await LevelDbStorage.open(join(dir, 'db'))
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'load') return async (room: string) => (await gate, target.load(room))
        const value = Reflect.get(target, prop, receiver) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    }) as StorageAdapter
    const r = await relay({ storageAdapter: slow, maxPendingMessages: 10 })
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const c = await RawClient.connect(r.url, 'pending')
    for (const u of updates(50)) c.send(encodeSyncUpdate(u))
    expect(await c.waitClosed()).toBe(4429)
    release()
    const room = await r.relay.rooms.get('pending')
    expect(room.doc.getText('t').length).toBe(0)
    expect(await limitHits(r, 'pending-messages')).toBe(1)
  })
})
