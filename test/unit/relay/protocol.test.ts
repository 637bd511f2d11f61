import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import {
  ProtocolError,
  decodeClientMessage,
  decodeDeleteSet,
  decodeSaved,
  encodeDeleteSet,
  encodeSaved,
  encodeSavedSubscribe,
  encodeStateVectorOf,
  addDeletions,
  mergeDeleted,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  encodeQueryAwareness,
  isSaved,
} from '../../../relay/wire/protocol.ts'

function update(): Uint8Array {
  const d = new Y.Doc()
  d.getText('t').insert(0, 'hello')
  return Y.encodeStateAsUpdate(d)
}

describe('protocol', () => {
  it('round-trips every client message', () => {
    const u = update()
    expect(decodeClientMessage(encodeSyncStep1(new Uint8Array([0])))).toEqual({ type: 'sync-step-1', stateVector: new Uint8Array([0]) })
    expect(decodeClientMessage(encodeSyncStep2(u))).toEqual({ type: 'sync-step-2', update: u })
    expect(decodeClientMessage(encodeSyncUpdate(u))).toEqual({ type: 'sync-update', update: u })
    expect(decodeClientMessage(encodeQueryAwareness())).toEqual({ type: 'query-awareness' })
    expect(decodeClientMessage(encodeSavedSubscribe())).toEqual({ type: 'saved-subscribe' })
  })
  it('saved messages carry the persisted state vector', () => {
    const d = new Y.Doc()
    d.getText('t').insert(0, 'x')
    const saved = decodeSaved(encodeSaved(Y.encodeStateVector(d)))
    expect(isSaved(d, saved)).toBe(true)
    d.getText('t').insert(0, 'y')
    expect(isSaved(d, saved)).toBe(false)
  })
  it('saved messages carry the persisted delete set; a deletion is saved only once it is covered', () => {
    const d = new Y.Doc()
    const t = d.getText('t')
    t.insert(0, 'abcdef')
    const ack = (): Uint8Array => encodeSaved(Y.encodeStateVector(d), encodeDeleteSet(Y.createDeleteSetFromStructStore(d.store)))
    const before = decodeSaved(ack())
    expect(isSaved(d, before)).toBe(true)
    t.delete(1, 2) // moves no state vector
    expect(Y.decodeStateVector(Y.encodeStateVector(d))).toEqual(before.stateVector)
    expect(isSaved(d, before)).toBe(false)
    const after = decodeSaved(ack())
    expect(after.deleteSet?.get(d.clientID)).toEqual([{ clock: 1, len: 2 }])
    expect(isSaved(d, after)).toBe(true)
    t.delete(0, 1) // adjacent: the stored [1,3) does not cover [0,1)
    expect(isSaved(d, after)).toBe(false)
    expect(isSaved(d, decodeSaved(ack()))).toBe(true)
  })
  it('a saved frame without a delete set (old relay) decodes and confirms no deletion', () => {
    const d = new Y.Doc()
    const t = d.getText('t')
    t.insert(0, 'abc')
    const old = decodeSaved(encodeSaved(Y.encodeStateVector(d)))
    expect(old.deleteSet).toBeNull()
    expect(isSaved(d, old)).toBe(true)
    expect(isSaved(d, old.stateVector)).toBe(true) // a bare state vector still works
    t.delete(0, 1)
    expect(isSaved(d, old)).toBe(false)
    expect(isSaved(d, old.stateVector)).toBe(false)
    // Old decoders read the state vector first and ignore the rest of the frame.
    const frame = encodeSaved(Y.encodeStateVector(d), encodeDeleteSet(Y.createDeleteSetFromStructStore(d.store)))
    expect(frame.subarray(0, encodeSaved(Y.encodeStateVector(d)).length)).toEqual(encodeSaved(Y.encodeStateVector(d)))
  })
  it('the delete set codec is the Yjs v1 format (the ds part of Y.encodeSnapshot)', () => {
    const d = new Y.Doc()
    d.getText('t').insert(0, 'abcdefgh')
    d.getText('t').delete(5, 2)
    d.getText('t').delete(1, 1)
    const ds = Y.createDeleteSetFromStructStore(d.store)
    const snapshot = Y.encodeSnapshot(Y.createSnapshot(ds, new Map()))
    const bytes = encodeDeleteSet(ds)
    expect(snapshot.subarray(0, bytes.length)).toEqual(bytes)
    expect(decodeDeleteSet(bytes).get(d.clientID)).toEqual([{ clock: 1, len: 1 }, { clock: 5, len: 2 }])
    for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeDeleteSet(bytes.subarray(0, cut))).toThrow(ProtocolError)
  })
  it('mergeDeleted unites delete sets without modifying them (an UndoManager may hold one)', () => {
    const d = new Y.Doc()
    const t = d.getText('t')
    t.insert(0, 'abcdefgh')
    const seen: Array<Y.Transaction['deleteSet']> = []
    d.on('afterTransaction', (tr: Y.Transaction) => { if (tr.deleteSet.clients.size > 0) seen.push(tr.deleteSet) })
    t.delete(2, 2) // clocks 2..3
    t.delete(2, 2) // clocks 4..5, adjacent
    const before = JSON.stringify(seen.map((ds) => [...ds.clients]))
    expect(mergeDeleted(seen).get(d.clientID)).toEqual([{ clock: 2, len: 4 }])
    expect(JSON.stringify(seen.map((ds) => [...ds.clients]))).toBe(before)
    expect(mergeDeleted(seen)).toEqual(mergeDeleted([Y.createDeleteSetFromStructStore(d.store)]))
  })
  it('sync frames are the lib0 encoding (varUint type, varUint step, varUint8Array payload) at every length class', () => {
    for (const length of [0, 1, 127, 128, 200, 16_383, 16_384, 70_000, 2_097_152]) {
      const payload = new Uint8Array(length).map((_, i) => i * 7)
      for (const [encode, step] of [[encodeSyncStep1, 0], [encodeSyncStep2, 1], [encodeSyncUpdate, 2]] as const) {
        const e = encoding.createEncoder()
        encoding.writeVarUint(e, 0)
        encoding.writeVarUint(e, step)
        encoding.writeVarUint8Array(e, payload)
        // Compared as buffers: vitest's element-wise toEqual takes seconds per 2 MiB array.
        const [got, want] = [encode(payload), encoding.toUint8Array(e)]
        expect(got.byteLength).toBe(want.byteLength)
        expect(Buffer.compare(got, want), `length ${length}, step ${step}`).toBe(0)
      }
    }
  })

  it('encodeStateVectorOf gives the bytes of Y.encodeStateVector (property, seeded)', () => {
    // Writers by client id and insert length; client ids span one to five varint bytes.
    const writes = fc.array(fc.tuple(fc.constantFrom(1, 127, 128, 300, 70_000, 2 ** 31 - 1), fc.integer({ min: 1, max: 200 })), { maxLength: 8 })
    fc.assert(
      fc.property(writes, (list) => {
        const doc = new Y.Doc()
        for (const [client, length] of list) {
          const writer = new Y.Doc()
          writer.clientID = client
          Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc))
          writer.getText('t').insert(0, 'x'.repeat(length))
          Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer))
        }
        expect(encodeStateVectorOf(doc.store)).toEqual(Y.encodeStateVector(doc))
      }),
      { seed: 4242, numRuns: 200 },
    )
  })

  it('addDeletions in place equals mergeDeleted (property, seeded)', () => {
    const range = fc.record({ clock: fc.nat(60), len: fc.integer({ min: 0, max: 6 }) })
    const set = fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(range, { maxLength: 6 })), { maxLength: 3 })
      .map((entries) => ({ clients: new Map(entries) }) as unknown as Y.Snapshot['ds'])
    fc.assert(
      fc.property(set, fc.array(set, { maxLength: 5 }), (base, added) => {
        const into = mergeDeleted([base])
        const copy = JSON.stringify(added.map((ds) => [...ds.clients]))
        addDeletions(into, added)
        const expected = mergeDeleted([base, ...added])
        for (const [client, list] of into) if (list.length === 0) into.delete(client)
        expect(into).toEqual(expected)
        expect(JSON.stringify(added.map((ds) => [...ds.clients]))).toBe(copy)
      }),
      { seed: 777, numRuns: 300 },
    )
  })
  it('isSaved is range inclusion per client (property, seeded)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(40), fc.integer({ min: 1, max: 8 })), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(40), fc.integer({ min: 1, max: 8 })), { maxLength: 8 }),
        (storedRanges, docRanges) => {
          const d = new Y.Doc()
          const t = d.getText('t')
          t.insert(0, 'x'.repeat(60))
          const id = d.clientID
          // Delete the doc's items at the given clocks (one char = one clock, inserted in order).
          const deleted = new Set<number>()
          for (const [c, l] of docRanges) for (let k = c; k < Math.min(c + l, 60); k++) deleted.add(k)
          const stored = new Set<number>()
          for (const [c, l] of storedRanges) for (let k = c; k < c + l; k++) stored.add(k)
          // One single-clock range each, unmerged: coverage must hold across adjacent ranges.
          const ds = Y.createDeleteSet()
          ds.clients.set(id, [...stored].sort((a, b) => a - b).map((k) => ({ clock: k, len: 1 }) as (typeof ds.clients extends Map<number, Array<infer I>> ? I : never)))
          Y.transact(d, () => {
            for (const k of [...deleted].sort((a, b) => b - a)) t.delete(k, 1)
          })
          const saved = decodeSaved(encodeSaved(Y.encodeStateVector(d), encodeDeleteSet(ds)))
          expect(isSaved(d, saved)).toBe([...deleted].every((k) => stored.has(k)))
        },
      ),
      { seed: 4242, numRuns: 200 },
    )
  })
  it('every truncation of a real frame is refused with a typed error', () => {
    const frame = encodeSyncUpdate(update())
    for (let cut = 0; cut < frame.length; cut++) {
      expect(() => decodeClientMessage(frame.subarray(0, cut)), `cut ${cut}`).toThrow(ProtocolError)
    }
  })
  it('codes: malformed, unknown type, invalid update', () => {
    const code = (f: Uint8Array): string => {
      try {
        decodeClientMessage(f)
        return 'ok'
      } catch (e) {
        return (e as ProtocolError).code
      }
    }
    expect(code(new Uint8Array([0, 2, 10, 1]))).toBe('malformed-message')
    expect(code(new Uint8Array([7]))).toBe('unknown-message')
    expect(code(new Uint8Array([0, 9, 0]))).toBe('unknown-message')
    expect(code(new Uint8Array([100, 1]))).toBe('unknown-message')
    // A junk update inside a well-framed message is refused by Room.applyUpdate (4422, see
    // test/integration/relay/bad-input.test.ts), not by the framing.
    expect(decodeClientMessage(new Uint8Array([0, 2, 3, 255, 255, 255]))).toEqual({ type: 'sync-update', update: new Uint8Array([255, 255, 255]) })
    expect(code(new Uint8Array([1, 1, 1]))).toBe('invalid-update')
  })
  it('random bytes never throw anything but ProtocolError (seeded)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        try {
          decodeClientMessage(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError)
        }
      }),
      { seed: 7, numRuns: 2000 },
    )
  })
})
