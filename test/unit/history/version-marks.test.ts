/**
 * Version marks (relay/history/version-marks.ts): the codec round-trips every field, refuses
 * whatever is malformed with a MarkError (never another error), and the merge order is
 * last-writer-wins by (decision time, relay id).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeMark, encodeMark, MarkError, markOrder, markWins, type VersionMark } from '../../../relay/history/version-marks.ts'

const mark: VersionMark = {
  room: 'notes/é', id: '0123456789abcdef', at: 1_800_000_000_123, relay: 'relay-a', removed: false, time: 1_800_000_000_000,
  kind: 'restore', name: 'Draft sent to legal', namedBy: { id: 'u1', name: 'Ada', verified: true }, restoredFrom: 'fedcba9876543210',
  authors: [{ id: 'u1', name: 'Ada', verified: true }, { name: 'guest', verified: false }], inserted: 12, deleted: 3, state: new Uint8Array([0, 0]),
}
const anyRoom = (): boolean => true
const decode = (bytes: Uint8Array, max = 1 << 20): VersionMark => decodeMark(bytes, max, anyRoom)

function refusal(bytes: Uint8Array, max = 1 << 20): string {
  try {
    decode(bytes, max)
    return 'ok'
  } catch (error) {
    expect(error).toBeInstanceOf(MarkError)
    return (error as Error).message
  }
}

describe('version marks', () => {
  it('round-trip every field; a tombstone carries no state or name', () => {
    expect(decode(encodeMark(mark))).toEqual(mark)
    const { name: _n, namedBy: _b, state: _s, ...rest } = mark
    const tombstone: VersionMark = { ...rest, removed: true }
    expect(decode(encodeMark(tombstone))).toEqual(tombstone)
    // Without its state (as the history stores it) a live mark does not pass as one from the cluster.
    expect(refusal(encodeMark(mark, false))).toMatch(/without a state/)
  })

  it('refuse a mark over the size bound, a bad room, an over-long name, truncations and trailing bytes', () => {
    const bytes = encodeMark(mark)
    expect(refusal(bytes, bytes.byteLength - 1)).toMatch(/bytes/)
    expect(() => decodeMark(bytes, 1 << 20, () => false)).toThrow(MarkError)
    expect(refusal(encodeMark({ ...mark, name: 'x'.repeat(201) }))).toMatch(/name/)
    expect(refusal(encodeMark({ ...mark, name: '  ' }))).toMatch(/empty version name/)
    expect(refusal(encodeMark({ ...mark, relay: '' }))).toMatch(/relay id/)
    for (let cut = 0; cut < bytes.length; cut++) expect(refusal(bytes.subarray(0, cut))).not.toBe('ok')
    expect(refusal(new Uint8Array([...bytes, 0]))).toMatch(/trailing/)
  })

  it('never throw anything but MarkError on random bytes (fast-check, seed 27)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      refusal(bytes)
    }), { seed: 27, numRuns: 2000 })
  })

  it('order: the later decision wins, the greater relay id on a tie, an equal one does not', () => {
    expect(markWins({ at: 2, relay: 'a' }, { at: 1, relay: 'z' })).toBe(true)
    expect(markWins({ at: 1, relay: 'z' }, { at: 2, relay: 'a' })).toBe(false)
    expect(markWins({ at: 1, relay: 'b' }, { at: 1, relay: 'a' })).toBe(true)
    expect(markWins({ at: 1, relay: 'a' }, { at: 1, relay: 'a' })).toBe(false)
    // The string order Redis compares agrees with it.
    const pairs: Array<[number, string, number, string]> = [[2, 'a', 1, 'z'], [1, 'b', 1, 'a'], [1_800_000_000_000, 'a', 999, 'b']]
    for (const [a1, r1, a2, r2] of pairs) expect(markOrder({ at: a1, relay: r1 }) > markOrder({ at: a2, relay: r2 })).toBe(markWins({ at: a1, relay: r1 }, { at: a2, relay: r2 }))
  })
})
