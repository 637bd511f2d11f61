/**
 * Updates that arrive before the updates they depend on (a client that reconnected through
 * another path, a peer relay's catch-up, a reordering proxy) are kept by Yjs as pending
 * structs until their dependencies come. Each of them must still be forwarded and stored when
 * it arrives, however many are already waiting: a relay that stores only the first one loses
 * the others on a restart.
 */
import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { spawnRelay, startRelay, tempDataDir } from '../../fixtures/relay.ts'
import { RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { MESSAGE_SAVED, encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

/** One writer's edits as separate updates, each depending on the one before. */
function chainOfUpdates(count: number): { updates: Uint8Array[]; text: string } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const text = doc.getText('t')
  for (let i = 0; i < count; i++) text.insert(text.length, `w${i} `)
  return { updates, text: text.toString() }
}

/** What LevelDB in `data` holds for `room` rebuilds `text`, with nothing waiting for dependencies. */
async function expectOnDisk(data: string, room: string, text: string): Promise<void> {
  const storage = await LevelDbStorage.open(data)
  try {
    const doc = new Y.Doc()
    for (const u of await storage.load(room)) Y.applyUpdate(doc, u)
    expect(doc.getText('t').toString()).toBe(text)
    expect(doc.store.pendingStructs).toBeNull()
  } finally {
    await storage.close()
  }
}

/** Counts the sync updates a raw client received, ignoring everything else. */
const syncUpdates = (client: RawClient): number => client.frames.filter((f) => f[0] === 0 && f[1] === 2).length

describe('updates ahead of their dependencies', () => {
  for (const order of ['last-first', 'shuffled'] as const) {
    it(`are each forwarded and stored when they arrive (${order}), in LevelDB on disk`, async () => {
      const data = await tempDataDir()
      cleanups.push(() => rm(data, { recursive: true, force: true }))
      const relay = await startRelay({ data, flushMs: 10 })
      cleanups.push(() => relay.stop())
      const room = `ooo-${order}`
      const { updates, text } = chainOfUpdates(8)
      const sequence = order === 'last-first' ? [...updates].reverse() : [updates[5], updates[2], updates[7], updates[1], updates[6], updates[0], updates[4], updates[3]]
      const writer = await RawClient.connect(relay.url, room)
      const reader = await RawClient.connect(relay.url, room)
      // The relay greets a client (sync step 1) once it joined the room: from then on it is
      // forwarded every update, rather than getting the room's state in its sync step 2.
      await waitFor(() => reader.frames.length > 0, { message: 'reader joined the room' })
      for (const update of sequence) writer.send(encodeSyncUpdate(update!))
      await waitFor(() => syncUpdates(reader) >= updates.length, { message: 'every update forwarded' })
      writer.close()
      reader.close()
      // A graceful stop flushes; what is then on disk rebuilds the whole text, nothing pending.
      await relay.stop()
      await expectOnDisk(data, room, text)
    })
  }

  it('are on disk once the saved acknowledgement covers them, across kill -9 of the relay process', async () => {
    // No graceful stop: nothing may rely on a last compaction from the live doc. The ack covers
    // the whole chain only once the last missing update arrived; by then every update of the
    // chain must have been stored, or the ack claims what a crash loses.
    const data = await tempDataDir()
    cleanups.push(() => rm(data, { recursive: true, force: true }))
    const relay = await spawnRelay({ dataDir: data, args: ['--flush-ms', '10'] })
    cleanups.push(() => relay.kill('SIGKILL'))
    const room = 'ooo-kill'
    const { updates, text } = chainOfUpdates(8)
    const full = new Y.Doc()
    for (const u of updates) Y.applyUpdate(full, u)
    const [client, clock] = [...Y.decodeStateVector(Y.encodeStateVector(full))][0]!
    const writer = await RawClient.connect(relay.url, room)
    writer.subscribeSaved()
    const acks = (): number => writer.frames.filter((f) => f[0] === MESSAGE_SAVED).length
    for (const i of [6, 3, 7, 1, 5, 2, 4, 0]) {
      // One flush each (an ack follows every stored batch): each arrives while others wait.
      const before = acks()
      writer.send(encodeSyncUpdate(updates[i]!))
      await waitFor(() => acks() > before, { message: `ack after update ${i}` })
    }
    await waitFor(() => (writer.saved?.get(client) ?? 0) >= clock, { message: 'saved ack covering the whole chain' })
    relay.kill('SIGKILL')
    expect((await relay.waitExit()).signal).toBe('SIGKILL')
    await expectOnDisk(data, room, text)
  })
})
