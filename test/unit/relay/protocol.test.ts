import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import {
  ProtocolError,
  decodeClientMessage,
  decodeSaved,
  encodeSaved,
  encodeSavedSubscribe,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  encodeQueryAwareness,
  isSaved,
} from '../../../relay/protocol.ts'

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
