/**
 * The saved acknowledgement (type 100) and deletions, on real LevelDB: a deletion moves no
 * state vector, so the ack carries the stored delete set; a delete-only change is reported
 * saved only by the flush that stores it, and survives kill -9 once reported.
 */
import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { spawnRelay, startRelay, tempDataDir } from '../../fixtures/relay.ts'
import { connectProvider, RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate, isSaved } from '../../../relay/wire/protocol.ts'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import { FailingStorage } from '../../../relay/storage/failing.ts'
import { SavedTracker, type SavedState } from '../../../editor/saved-status.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function dataDir(): Promise<string> {
  const dir = await tempDataDir('tandem-saved-ds-')
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A doc whose updates go to the relay over a raw socket subscribed to saved acks. */
async function writer(url: string, room: string): Promise<{ doc: Y.Doc; client: RawClient }> {
  const client = await RawClient.connect(url, room)
  cleanups.push(() => client.close())
  client.subscribeSaved()
  const doc = new Y.Doc()
  doc.on('update', (u: Uint8Array) => client.send(encodeSyncUpdate(u)))
  return { doc, client }
}

describe('saved acknowledgement and deletions', () => {
  it('a delete-only change is not reported saved until the flush that stores it', async () => {
    const data = await dataDir()
    const storage = new FailingStorage(await LevelDbStorage.open(data))
    const relay = await startRelay({ data, storageAdapter: storage, flushMs: 10 })
    cleanups.push(() => relay.stop())
    const { doc, client } = await writer(relay.url, 'deletes')
    const text = doc.getText('t')
    text.insert(0, 'keep this, drop this')
    await client.waitSavedAll(doc)
    const acksBefore = client.frames.length

    storage.failing = true // the deletion reaches the relay but cannot be stored
    const sv = Y.encodeStateVector(doc)
    text.delete(9, 11)
    expect(Y.encodeStateVector(doc)).toEqual(sv) // a deletion moves no state vector
    const refusedBefore = storage.refused
    await waitFor(() => storage.refused >= refusedBefore + 2, { message: 'two refused appends of the deletion' })
    // The relay holds the deletion in memory: a fresh subscriber is told what is stored, without it.
    const late = await RawClient.connect(relay.url, 'deletes')
    cleanups.push(() => late.close())
    late.subscribeSaved()
    await waitFor(() => late.savedAck, { message: 'ack to the late subscriber' })
    expect(late.saved).toEqual(Y.decodeStateVector(sv)) // the state vector alone would say "saved"
    expect(isSaved(doc, late.savedAck!)).toBe(false)
    expect(isSaved(doc, client.savedAck!)).toBe(false)
    expect(client.frames.length).toBe(acksBefore) // no flush succeeded, so no ack was sent

    storage.failing = false
    await client.waitSavedAll(doc) // the retry that stores the deletion acknowledges it
    await late.waitSavedAll(doc)
    const stored = new Y.Doc()
    for (const u of await storage.load('deletes')) Y.applyUpdate(stored, u)
    expect(stored.getText('t').toString()).toBe('keep this')
  })

  it("the editor's saved indicator shows a delete-only change as saving until it is stored", async () => {
    const data = await dataDir()
    const storage = new FailingStorage(await LevelDbStorage.open(data))
    const relay = await startRelay({ data, storageAdapter: storage, flushMs: 10 })
    cleanups.push(() => relay.stop())
    const tab = await connectProvider(relay.url, 'indicator')
    cleanups.push(() => tab.destroy())
    const states: SavedState[] = []
    const tracker = new SavedTracker(tab.provider, tab.doc, (s) => states.push(s))
    cleanups.push(() => tracker.destroy())
    tab.doc.getText('t').insert(0, 'hello world')
    await waitFor(() => tracker.state === 'saved' && states.includes('saving'), { message: 'insert saved' })

    storage.failing = true
    tab.doc.getText('t').delete(5, 6)
    expect(tracker.state).toBe('saving')
    const refusedBefore = storage.refused
    await waitFor(() => storage.refused >= refusedBefore + 2, { message: 'two refused appends of the deletion' })
    expect(tracker.state).toBe('saving')
    storage.failing = false
    await waitFor(() => tracker.state === 'saved', { message: 'deletion saved' })
    const stored = new Y.Doc()
    for (const u of await storage.load('indicator')) Y.applyUpdate(stored, u)
    expect(stored.getText('t').toString()).toBe('hello')
  })

  it('a deletion reported saved is there after kill -9 and restart', async () => {
    const data = await dataDir()
    const first = await spawnRelay({ dataDir: data })
    cleanups.push(() => first.kill('SIGKILL'))
    const { doc, client } = await writer(first.url, 'crash-deletes')
    const text = doc.getText('t')
    text.insert(0, 'abcdefghij')
    doc.getMap('m').set('k', 1)
    await client.waitSavedAll(doc)
    text.delete(2, 5) // delete-only: no clock moves
    doc.getMap('m').delete('k')
    expect(isSaved(doc, client.savedAck!)).toBe(false)
    await client.waitSavedAll(doc)
    first.kill('SIGKILL')
    await first.waitExit()

    const second = await spawnRelay({ dataDir: data })
    cleanups.push(() => second.kill('SIGKILL'))
    const reader = await connectProvider(second.url, 'crash-deletes')
    cleanups.push(() => reader.destroy())
    expect(reader.doc.getText('t').toString()).toBe('abhij')
    expect(reader.doc.getMap('m').has('k')).toBe(false)
    // A fresh subscriber on the restarted relay is told the deletions are stored.
    const again = await RawClient.connect(second.url, 'crash-deletes')
    cleanups.push(() => again.close())
    again.subscribeSaved()
    await again.waitSavedAll(doc)
  }, 60_000)
})
