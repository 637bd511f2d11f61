/**
 * One storage conformance suite, run against every adapter (memory, LevelDB).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import type { StorageAdapter } from '../../../relay/storage/types.ts'
import { MemoryStorage } from '../../../relay/storage/memory.ts'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import { tempDataDir } from '../../fixtures/relay.ts'

interface Harness {
  open(): Promise<StorageAdapter>
  /** Close and open again (memory: the same instance, as nothing survives a process). */
  reopen(storage: StorageAdapter): Promise<StorageAdapter>
  persistent: boolean
  cleanup(): Promise<void>
}

const harnesses: Record<string, () => Promise<Harness>> = {
  memory: async () => ({
    open: async () => new MemoryStorage(),
    reopen: async (s) => s,
    persistent: false,
    cleanup: async () => {},
  }),
  leveldb: async () => {
    const dir = await tempDataDir('tandem-store-')
    return {
      open: () => LevelDbStorage.open(dir, { compactAfter: 1_000_000 }),
      reopen: async (s) => {
        await s.close()
        return LevelDbStorage.open(dir, { compactAfter: 1_000_000 })
      },
      persistent: true,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
}

function edits(n: number, clientID = 1): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, String(i % 10))
  return { doc, updates }
}

function docOf(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return doc
}

for (const [name, make] of Object.entries(harnesses)) {
  describe(`storage conformance: ${name}`, () => {
    let h: Harness
    let storage: StorageAdapter | null = null
    afterEach(async () => {
      await storage?.close()
      storage = null
      await h.cleanup()
    })
    const open = async (): Promise<StorageAdapter> => {
      h = await make()
      storage = await h.open()
      return storage
    }

    it('an unknown room is empty, with no state vector, and not listed', async () => {
      const s = await open()
      expect(await s.load('nope')).toEqual([])
      expect(await s.getStateVector('nope')).toBeNull()
      expect(await s.listRooms()).toEqual([])
    })

    it('appends come back in order, with the state vector, and the room is listed', async () => {
      const s = await open()
      const { doc, updates } = edits(20)
      await s.append('r', updates.slice(0, 10), Y.encodeStateVector(docOf(updates.slice(0, 10))))
      await s.append('r', updates.slice(10), Y.encodeStateVector(doc))
      const loaded = await s.load('r')
      expect(loaded.map((u) => Buffer.from(u).toString('hex'))).toEqual(updates.map((u) => Buffer.from(u).toString('hex')))
      expect(await s.getStateVector('r')).toEqual(Y.encodeStateVector(doc))
      expect(await s.listRooms()).toEqual(['r'])
    })

    it('rooms are separate, including names that prefix each other', async () => {
      const s = await open()
      const a = edits(3, 1)
      const b = edits(4, 2)
      await s.append('room', a.updates, Y.encodeStateVector(a.doc))
      await s.append('room/x', b.updates, Y.encodeStateVector(b.doc))
      expect(docOf(await s.load('room')).getText('t').toString()).toBe('012')
      expect(docOf(await s.load('room/x')).getText('t').toString()).toBe('0123')
      expect((await s.listRooms()).sort()).toEqual(['room', 'room/x'])
    })

    it('a room whose name starts above U+FFFF is listed, loaded and keeps its vector', async () => {
      const s = await open()
      const { doc, updates } = edits(5)
      await s.append('😀 room', updates, Y.encodeStateVector(doc))
      await s.append('plain', updates.slice(0, 1), Y.encodeStateVector(docOf(updates.slice(0, 1))))
      storage = await h.reopen(s)
      expect((await storage.listRooms()).sort()).toEqual(['plain', '😀 room'])
      expect(docOf(await storage.load('😀 room')).getText('t').toString()).toBe('01234')
      expect(await storage.getStateVector('😀 room')).toEqual(Y.encodeStateVector(doc))
    })

    it('appends survive close and reopen', async () => {
      const s = await open()
      const { doc, updates } = edits(15)
      await s.append('r', updates, Y.encodeStateVector(doc))
      storage = await h.reopen(s)
      expect(docOf(await storage.load('r')).getText('t').toString()).toBe(doc.getText('t').toString())
      expect(await storage.getStateVector('r')).toEqual(Y.encodeStateVector(doc))
      const more = edits(1, 9)
      await storage.append('r', more.updates, Y.encodeStateVector(more.doc))
      expect(await storage.load('r')).toHaveLength(16)
    })

    it('the state vector of the last of many appends survives close and reopen', async () => {
      const s = await open()
      const { doc, updates } = edits(12)
      for (let i = 0; i < updates.length; i += 3) {
        const upTo = updates.slice(0, i + 3)
        await s.append('r', updates.slice(i, i + 3), Y.encodeStateVector(docOf(upTo)))
        expect(await s.getStateVector('r')).toEqual(Y.encodeStateVector(docOf(upTo)))
      }
      storage = await h.reopen(s)
      expect(await storage.getStateVector('r')).toEqual(Y.encodeStateVector(doc))
      expect(await storage.listRooms()).toEqual(['r'])
    })

    it('compaction keeps the same doc in fewer entries', async () => {
      const s = await open()
      const { doc, updates } = edits(50)
      await s.append('r', updates, Y.encodeStateVector(doc))
      await s.compact('r')
      const loaded = await s.load('r')
      expect(loaded.length).toBe(1)
      const back = docOf(loaded)
      expect(back.getText('t').toString()).toBe(doc.getText('t').toString())
      expect(Y.encodeStateVector(back)).toEqual(Y.encodeStateVector(doc))
      if (h.persistent) {
        storage = await h.reopen(s)
        expect(docOf(await storage.load('r')).getText('t').toString()).toBe(doc.getText('t').toString())
      }
    })

    it('appends made during a compaction are kept', async () => {
      const s = await open()
      const { doc, updates } = edits(200, 1)
      await s.append('r', updates.slice(0, 150), Y.encodeStateVector(doc))
      const compaction = s.compact('r')
      const rest = updates.slice(150)
      const appends = rest.map((u) => s.append('r', [u], Y.encodeStateVector(doc)))
      const other = edits(5, 2)
      appends.push(s.append('r', other.updates, Y.encodeStateVector(doc)))
      await Promise.all([compaction, ...appends])
      const back = docOf(await s.load('r'))
      const expected = docOf([...updates, ...other.updates])
      expect(back.getText('t').toString()).toBe(expected.getText('t').toString())
      expect(Y.encodeStateVector(back)).toEqual(Y.encodeStateVector(expected))
    })

    it('a snapshot compaction replaces the log with the snapshot, keeps appends made meanwhile, and survives reopen', async () => {
      const s = await open()
      const { doc, updates } = edits(120, 1)
      await s.append('r', updates.slice(0, 100), Y.encodeStateVector(docOf(updates.slice(0, 100))))
      // The snapshot covers every update appended before the compaction is asked for (the
      // contract), including an append still in flight.
      const snapshot = Y.encodeStateAsUpdate(docOf(updates.slice(0, 110)))
      const other = edits(5, 2)
      const before = s.append('r', updates.slice(100, 110), Y.encodeStateVector(doc))
      const compaction = s.compact('r', snapshot)
      const after = s.append('r', [...updates.slice(110), ...other.updates], Y.encodeStateVector(doc))
      await Promise.all([before, compaction, after])
      const loaded = await s.load('r')
      expect(loaded.length).toBe(1 + 10 + other.updates.length)
      const expected = docOf([...updates, ...other.updates])
      const back = docOf(loaded)
      expect(back.getText('t').toString()).toBe(expected.getText('t').toString())
      expect(Y.encodeStateVector(back)).toEqual(Y.encodeStateVector(expected))
      await s.compact('r', Y.encodeStateAsUpdate(expected))
      expect(await s.load('r')).toHaveLength(1)
      if (h.persistent) {
        storage = await h.reopen(s)
        const reopened = await storage.load('r')
        expect(reopened).toHaveLength(1)
        expect(docOf(reopened).getText('t').toString()).toBe(expected.getText('t').toString())
        const more = edits(1, 9)
        await storage.append('r', more.updates, Y.encodeStateVector(more.doc))
        await storage.compact('r', Y.encodeStateAsUpdate(docOf([...updates, ...other.updates, ...more.updates])))
        expect(await storage.load('r')).toHaveLength(1)
      }
    })

    it('an append asked for after a snapshot compaction is kept, whether it comes before, while or after the store loads the room', async () => {
      // A freshly opened store learns the room's sequence numbers first. An append asked for
      // after the compaction, at any point of that, must not take a number below the
      // snapshot's, which deletes everything below its own.
      const stored = edits(10, 1).updates
      let s = await open()
      await s.append('r', stored, Y.encodeStateVector(docOf(stored)))
      for (let depth = 0; depth < 12; depth++) {
        s = storage = await h.reopen(s)
        // The snapshot covers everything appended so far (the contract); the late append not.
        const compaction = s.compact('r', Y.encodeStateAsUpdate(docOf(stored)))
        for (let i = 0; i < depth; i++) await new Promise((r) => setImmediate(r))
        const late = edits(1, 100 + depth).updates
        const append = s.append('r', late, Y.encodeStateVector(docOf(late)))
        await Promise.all([compaction, append])
        stored.push(...late)
        const back = await s.load('r')
        expect(back[back.length - 1], `append ${depth} turns after the compaction`).toEqual(late[0])
        expect(docOf(back).getText('t').toString()).toBe(docOf(stored).getText('t').toString())
      }
    })

    it('an update handed over as a view into a larger buffer is stored as exactly its bytes', async () => {
      // The relay stores the update's part of the frame it forwarded, not a copy of its own.
      const s = await open()
      const { doc, updates } = edits(5, 1)
      const views = updates.map((u, i) => {
        const around = new Uint8Array(u.byteLength + 7 + i).fill(0xff)
        around.set(u, 3 + i)
        return around.subarray(3 + i, 3 + i + u.byteLength)
      })
      await s.append('r', views, Y.encodeStateVector(doc))
      const loaded = await s.load('r')
      expect(loaded).toEqual(updates)
      if (h.persistent) {
        storage = await h.reopen(s)
        expect(await storage.load('r')).toEqual(updates)
      }
    })

    it('concurrent appends to many rooms are all stored (one group commit)', async () => {
      const s = await open()
      const rooms = Array.from({ length: 20 }, (_, i) => ({ name: `g${i}`, ...edits(10, i + 1) }))
      await Promise.all(rooms.flatMap((r) => r.updates.map((u) => s.append(r.name, [u], Y.encodeStateVector(r.doc)))))
      for (const r of rooms) expect(docOf(await s.load(r.name)).getText('t').toString()).toBe(r.doc.getText('t').toString())
      expect((await s.listRooms()).length).toBe(20)
    })

    it('updates with missing dependencies are stored and complete once the gap arrives', async () => {
      const s = await open()
      const { doc, updates } = edits(3)
      await s.append('r', [updates[2]!], Y.encodeStateVector(new Y.Doc()))
      await s.compact('r')
      expect(docOf(await s.load('r')).getText('t').toString()).toBe('')
      await s.append('r', [updates[0]!, updates[1]!], Y.encodeStateVector(doc))
      await s.compact('r')
      expect(docOf(await s.load('r')).getText('t').toString()).toBe('012')
    })
  })
}
