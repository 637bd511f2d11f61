/**
 * Updates that arrive before the updates they depend on (a client that reconnected through
 * another path, a peer relay's catch-up, a reordering proxy) are kept by Yjs as pending
 * structs until their dependencies come. Each of them must still be forwarded and stored when
 * it arrives, however many are already waiting: a relay that stores only the first one loses
 * the others on a restart.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startRelay } from '../../fixtures/relay.ts'
import { RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate } from '../../../relay/protocol.ts'
import { MemoryStorage } from '../../../relay/storage/memory.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** One writer's edits as separate updates, each depending on the one before. */
function chainOfUpdates(count: number): { updates: Uint8Array[]; text: string } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const text = doc.getText('t')
  for (let i = 0; i < count; i++) text.insert(text.length, `w${i} `)
  return { updates, text: text.toString() }
}

/** Counts the sync updates a raw client received, ignoring everything else. */
const syncUpdates = (client: RawClient): number => client.frames.filter((f) => f[0] === 0 && f[1] === 2).length

describe('updates ahead of their dependencies', () => {
  for (const order of ['last-first', 'shuffled'] as const) {
    it(`are each forwarded and stored when they arrive (${order})`, async () => {
      const storage = new MemoryStorage()
      const relay = await startRelay({ storageAdapter: storage, flushMs: 10 })
      cleanups.push(() => relay.stop())
      const { updates, text } = chainOfUpdates(8)
      const sequence = order === 'last-first' ? [...updates].reverse() : [updates[5], updates[2], updates[7], updates[1], updates[6], updates[0], updates[4], updates[3]]
      const writer = await RawClient.connect(relay.url, `ooo-${order}`)
      const reader = await RawClient.connect(relay.url, `ooo-${order}`)
      cleanups.push(() => writer.close(), () => reader.close())
      for (const update of sequence) writer.send(encodeSyncUpdate(update!))
      await waitFor(() => syncUpdates(reader) >= updates.length, { message: 'every update forwarded' })
      await relay.relay.rooms.flushAll()
      // What is stored rebuilds the whole text, with nothing left pending.
      await waitFor(async () => {
        const doc = new Y.Doc()
        for (const u of await storage.load(`ooo-${order}`)) Y.applyUpdate(doc, u)
        return doc.getText('t').toString() === text && doc.store.pendingStructs === null ? true : null
      }, { message: 'every update stored' })
    })
  }
})
