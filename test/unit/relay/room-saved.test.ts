/**
 * Room's saved acknowledgement: the delete set it sends is the stored doc's (kept
 * incrementally from the transactions' delete sets, checked against a walk of the store), and
 * never covers a deletion that is still queued.
 */
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import * as Y from 'yjs'
import * as prng from 'lib0/prng'
import { Room, type RoomClient } from '../../../relay/room/room.ts'
import { MemoryStorage } from '../../../relay/storage/memory.ts'
import { RelayMetrics } from '../../../relay/observability/metrics.ts'
import { decodeDeleteSet, decodeSaved, encodeDeleteSet, isSaved, type SavedAck } from '../../../relay/wire/protocol.ts'

/** A subscribed receiver keeping the saved acks it got. */
class Subscriber implements RoomClient {
  readonly savedSubscribed = true
  readonly awarenessIds = new Set<number>()
  acks: SavedAck[] = []
  send(frame: Uint8Array): void {
    if (frame[0] === 100) this.acks.push(decodeSaved(frame))
  }
}

function room(storage = new MemoryStorage()): Room {
  return new Room('r', { storage, flushMs: 1_000_000, compactBytes: Infinity, logger: pino({ level: 'silent' }), metrics: new RelayMetrics(), hooks: { onUpdate() {}, onStored() {} } }, null)
}

describe('room saved acknowledgement', () => {
  it('the incremental delete set equals a walk of the store after random edits (seeded)', async () => {
    const seed = 20261124
    console.info(`room-saved seed ${seed}`)
    const rng = prng.create(seed)
    const r = room()
    const sub = new Subscriber()
    r.clients.add(sub)
    const writers = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
    for (const d of writers) d.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'relay') r.applyUpdate(u, null)
    })
    for (let step = 0; step < 300; step++) {
      const d = prng.oneOf(rng, writers)
      Y.applyUpdate(d, Y.encodeStateAsUpdate(r.doc, Y.encodeStateVector(d)), 'relay')
      const t = d.getText('t')
      if (t.length > 0 && prng.bool(rng)) {
        const at = prng.uint32(rng, 0, t.length - 1)
        t.delete(at, prng.uint32(rng, 1, Math.min(5, t.length - at)))
      } else {
        t.insert(prng.uint32(rng, 0, t.length), prng.word(rng, 1, 4))
      }
      if (prng.uint32(rng, 0, 9) === 0) {
        await r.flush()
        const ack = sub.acks.at(-1)!
        expect(ack.deleteSet).toEqual(decodeDeleteSet(encodeDeleteSet(Y.createDeleteSetFromStructStore(r.doc.store))))
        for (const w of writers) {
          Y.applyUpdate(w, Y.encodeStateAsUpdate(r.doc, Y.encodeStateVector(w)), 'relay')
          expect(isSaved(w, ack)).toBe(true)
        }
      }
    }
    r.destroy()
  })

  it('a queued deletion is not in the acknowledged delete set until its flush', async () => {
    const r = room()
    const sub = new Subscriber()
    r.clients.add(sub)
    const d = new Y.Doc()
    d.on('update', (u: Uint8Array) => r.applyUpdate(u, null))
    d.getText('t').insert(0, 'abcdef')
    await r.flush()
    expect(isSaved(d, sub.acks.at(-1)!)).toBe(true)
    d.getText('t').delete(0, 3)
    expect(r.unsaved).toBe(1)
    const known = r.persistedDeleteSet()
    expect(known === null || isSaved(d, { stateVector: sub.acks.at(-1)!.stateVector, deleteSet: decodeDeleteSet(known) })).toBe(false)
    await r.flush()
    expect(isSaved(d, sub.acks.at(-1)!)).toBe(true)
    r.destroy()
  })
})
