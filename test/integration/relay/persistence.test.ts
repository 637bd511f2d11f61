import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { spawnRelay, startRelay, tempDataDir } from '../../fixtures/relay.ts'
import { connectProvider, RawClient, waitConverged } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { MESSAGE_SYNC, SYNC_STEP_1, encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { MemoryStorage } from '../../../relay/storage/memory.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function dataDir(): Promise<string> {
  const dir = await tempDataDir()
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Writes through a raw socket and waits for the saved acknowledgement to cover them. */
async function writeAndWaitSaved(url: string, room: string, edit: (doc: Y.Doc) => void): Promise<Y.Doc> {
  const client = await RawClient.connect(url, room)
  client.subscribeSaved()
  const doc = new Y.Doc()
  doc.on('update', (u: Uint8Array) => client.send(encodeSyncUpdate(u)))
  edit(doc)
  await client.waitSaved(doc)
  client.close()
  return doc
}

describe('persistence', () => {
  it('keeps every write across a graceful restart', async () => {
    const data = await dataDir()
    const first = await startRelay({ data })
    const a = await connectProvider(first.url, 'doc')
    a.doc.getText('t').insert(0, 'persisted text')
    a.doc.getMap('m').set('k', 'v')
    const b = await connectProvider(first.url, 'doc')
    await waitConverged([a.doc, b.doc])
    a.destroy()
    b.destroy()
    await first.stop()
    const second = await startRelay({ data })
    cleanups.push(() => second.stop())
    const c = await connectProvider(second.url, 'doc')
    cleanups.push(() => c.destroy())
    expect(c.doc.getText('t').toString()).toBe('persisted text')
    expect(c.doc.getMap('m').get('k')).toBe('v')
  })

  it('keeps every acknowledged write across kill -9 of the relay process', async () => {
    const data = await dataDir()
    const first = await spawnRelay({ dataDir: data })
    cleanups.push(() => first.kill('SIGKILL'))
    const doc = await writeAndWaitSaved(first.url, 'crash', (d) => {
      for (let i = 0; i < 100; i++) d.getText('t').insert(i, String(i % 10))
      d.getArray('a').push([1, 2, 3])
    })
    first.kill('SIGKILL')
    expect((await first.waitExit()).signal).toBe('SIGKILL')
    const second = await spawnRelay({ dataDir: data })
    cleanups.push(async () => {
      second.kill('SIGTERM')
      await second.waitExit()
    })
    const c = await connectProvider(second.url, 'crash')
    cleanups.push(() => c.destroy())
    expect(c.doc.getText('t').toString()).toBe(doc.getText('t').toString())
    expect(c.doc.getArray('a').toArray()).toEqual([1, 2, 3])
  })

  it('SIGTERM shuts down gracefully: sockets closed with 1001, storage flushed, exit 0', async () => {
    const data = await dataDir()
    const relay = await spawnRelay({ dataDir: data, args: ['--flush-ms', '60000'] })
    cleanups.push(() => relay.kill('SIGKILL'))
    const client = await RawClient.connect(relay.url, 'term')
    const doc = new Y.Doc()
    doc.on('update', (u: Uint8Array) => client.send(encodeSyncUpdate(u)))
    doc.getText('t').insert(0, 'flushed at shutdown')
    const probe = await connectProvider(relay.url, 'term')
    await waitFor(() => probe.doc.getText('t').toString() === 'flushed at shutdown')
    probe.destroy()
    relay.kill('SIGTERM')
    expect(await client.waitClosed()).toBe(1001)
    expect((await relay.waitExit()).code).toBe(0)
    const again = await startRelay({ data })
    cleanups.push(() => again.stop())
    const c = await connectProvider(again.url, 'term')
    cleanups.push(() => c.destroy())
    expect(c.doc.getText('t').toString()).toBe('flushed at shutdown')
  })

  it('concurrent first connections to a stored room all receive the stored state first', async () => {
    const data = await dataDir()
    const first = await startRelay({ data })
    const stored = await writeAndWaitSaved(first.url, 'stored', (d) => d.getText('t').insert(0, 'stored state'))
    await first.stop()
    const second = await startRelay({ data })
    cleanups.push(() => second.stop())
    const storedSv = Y.encodeStateVector(stored)
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(second.url, 'stored')))
    cleanups.push(() => clients.forEach((c) => c.close()))
    await waitFor(() => clients.every((c) => c.frames.length > 0))
    for (const client of clients) {
      const decoder = decoding.createDecoder(client.frames[0]!)
      expect(decoding.readVarUint(decoder)).toBe(MESSAGE_SYNC)
      expect(decoding.readVarUint(decoder)).toBe(SYNC_STEP_1)
      expect(decoding.readVarUint8Array(decoder)).toEqual(storedSv)
    }
  })

  it('a room whose load fails is refused with 4503, and its stored data is untouched', async () => {
    const storage = new MemoryStorage()
    const source = new Y.Doc()
    source.getText('t').insert(0, 'precious')
    await storage.append('r', [Y.encodeStateAsUpdate(source)], Y.encodeStateVector(source))
    let failing = true
    const flaky = Object.assign(Object.create(storage) as MemoryStorage, {
      load: (room: string) => (failing ? Promise.reject(new Error('disk on fire')) : storage.load(room)),
    })
    const relay = await startRelay({ storageAdapter: flaky })
    cleanups.push(() => relay.stop())
    const clients = await Promise.all([RawClient.connect(relay.url, 'r'), RawClient.connect(relay.url, 'r')])
    for (const c of clients) expect(await c.waitClosed()).toBe(4503)
    for (const c of clients) expect(c.frames).toEqual([])
    expect(await storage.load('r')).toHaveLength(1)
    failing = false
    const ok = await connectProvider(relay.url, 'r')
    cleanups.push(() => ok.destroy())
    expect(ok.doc.getText('t').toString()).toBe('precious')
  })

  it('idle rooms are flushed and unloaded, and reload with their data', async () => {
    const relay = await startRelay({ idleMs: 20 })
    cleanups.push(() => relay.stop())
    const a = await connectProvider(relay.url, 'idle')
    a.doc.getText('t').insert(0, 'survives unload')
    const b = await connectProvider(relay.url, 'idle')
    await waitConverged([a.doc, b.doc])
    a.destroy()
    b.destroy()
    await waitFor(() => relay.relay.rooms.peek('idle') === undefined, { message: 'room unloaded' })
    expect((await relay.relay.storage.load('idle')).length).toBeGreaterThan(0)
    const c = await connectProvider(relay.url, 'idle')
    cleanups.push(() => c.destroy())
    expect(c.doc.getText('t').toString()).toBe('survives unload')
  })

  it('saved acknowledgements go only to subscribers; a stock client never receives type 100', async () => {
    const relay = await startRelay()
    cleanups.push(() => relay.stop())
    const stock = await RawClient.connect(relay.url, 'acks')
    cleanups.push(() => stock.close())
    const doc = await writeAndWaitSaved(relay.url, 'acks', (d) => d.getText('t').insert(0, 'x'))
    const probe = await connectProvider(relay.url, 'acks')
    cleanups.push(() => probe.destroy())
    await waitConverged([doc, probe.doc])
    await waitFor(() => stock.frames.length >= 2)
    expect(stock.frames.every((f) => f[0] !== 100)).toBe(true)
    expect(stock.saved).toBeNull()
  })
})
