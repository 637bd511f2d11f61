import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { deleteSetFingerprint, type FingerprintRoom } from '../../../relay/topology/delete-fingerprints.ts'
import { deletesDiffer, roomsToSend } from '../../../relay/topology/catch-up.ts'
import { decodeFrame, encodeFrame } from '../../../relay/topology/peer-protocol.ts'

const asRoom = (d: Y.Doc): FingerprintRoom => ({
  name: 'r', stateVector: () => Y.encodeStateVector(d), encodeStateAsUpdate: (sv) => Y.encodeStateAsUpdate(d, sv),
})

describe('delete-set fingerprints', () => {
  it('are equal for equal deletions whatever order the updates arrived in (fast-check, seed 24)', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 1000 }),
      (ops, shuffleSeed) => {
        // Three writers produce updates (inserts and deletes); replicas receive them in two orders.
        const writers = [1, 2, 3].map((id) => { const d = new Y.Doc(); d.clientID = id; return d })
        const updates: Uint8Array[] = []
        for (const [w, del, pos, len] of ops) {
          const d = writers[w]!
          for (const u of updates) Y.applyUpdate(d, u)
          const t = d.getText('t')
          const before = Y.encodeStateVector(d)
          if (del && t.length > 0) t.delete(pos % t.length, 1 + (len % Math.min(3, t.length - (pos % t.length))))
          else t.insert(pos % (t.length + 1), 'xyz'.slice(0, 1 + (len % 3)))
          updates.push(Y.encodeStateAsUpdate(d, before))
        }
        const inOrder = new Y.Doc()
        for (const u of updates) Y.applyUpdate(inOrder, u)
        const shuffled = [...updates]
        let s = shuffleSeed
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2 ** 31
          const j = s % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        const otherOrder = new Y.Doc()
        for (const u of shuffled) Y.applyUpdate(otherOrder, u)
        expect(otherOrder.getText('t').toString()).toBe(inOrder.getText('t').toString())
        expect(Buffer.from(deleteSetFingerprint(asRoom(otherOrder))).toString('hex')).toBe(Buffer.from(deleteSetFingerprint(asRoom(inOrder))).toString('hex'))
      },
    ), { seed: 24, numRuns: 100 })
  })

  it('a deletion changes the fingerprint though not the state vector', () => {
    const d = new Y.Doc()
    d.getText('t').insert(0, 'keep this, remove this')
    const old = new Y.Doc()
    Y.applyUpdate(old, Y.encodeStateAsUpdate(d))
    d.getText('t').delete(9, 13)
    expect(Y.encodeStateVector(d)).toEqual(Y.encodeStateVector(old))
    const [a, b] = [deleteSetFingerprint(asRoom(d)), deleteSetFingerprint(asRoom(old))]
    expect(a).toHaveLength(8)
    expect(deletesDiffer({ room: 'r', stateVector: new Uint8Array([0]), flags: 0, deletes: a }, { room: 'r', stateVector: new Uint8Array([0]), flags: 0, deletes: b })).toBe(true)
    // Equal vectors, different deletions: exchanged; unknown on either side: not.
    const sv = Y.encodeStateVector(d)
    expect(roomsToSend([{ room: 'r', stateVector: sv, flags: 0, deletes: a }], [{ room: 'r', stateVector: sv, flags: 0, deletes: b }])).toHaveLength(1)
    expect(roomsToSend([{ room: 'r', stateVector: sv, flags: 0, deletes: a }], [{ room: 'r', stateVector: sv, flags: 0, deletes: a }])).toHaveLength(0)
    expect(roomsToSend([{ room: 'r', stateVector: sv, flags: 0, deletes: a }], [{ room: 'r', stateVector: sv, flags: 0 }])).toHaveLength(0)
  })

  it('travel in the digest', () => {
    const frame = { kind: 'digest' as const, complete: true, entries: [
      { room: 'a', stateVector: new Uint8Array([0]), flags: 0, deletes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
      { room: 'b', stateVector: new Uint8Array([0]), flags: 1 },
    ] }
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame)
  })
})
