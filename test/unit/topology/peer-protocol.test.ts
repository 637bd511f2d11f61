import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import {
  MAX_PATH_LENGTH, PeerProtocolError, decodeFrame, encodeFrame, type PeerFrame,
} from '../../../relay/topology/peer-protocol.ts'
import { proveSecret, verifySecret, createNonce } from '../../../relay/topology/peer-auth.ts'
import { backoffDelay } from '../../../relay/topology/backoff.ts'

const doc = new Y.Doc()
doc.getText('t').insert(0, 'hello')
const update = Y.encodeStateAsUpdate(doc)
const sv = Y.encodeStateVector(doc)

const frames: PeerFrame[] = [
  { kind: 'hello', version: 1, id: 'relay-a', nonce: new Uint8Array(32).fill(7) },
  { kind: 'auth', mac: new Uint8Array(32).fill(9) },
  { kind: 'digest', complete: true, entries: [{ room: 'a', stateVector: sv, flags: 0 }, { room: 'b/é', stateVector: new Uint8Array([0]), flags: 1 }] },
  { kind: 'digest', complete: true, entries: [] },
  { kind: 'sync1', room: 'room', stateVector: sv },
  { kind: 'sync2', room: 'room', path: ['a'], update },
  { kind: 'update', room: 'room', path: ['a', 'b', 'c'], update },
  { kind: 'ack', room: 'room', stateVector: sv },
]

function code(bytes: Uint8Array): string {
  try {
    decodeFrame(bytes)
    return 'ok'
  } catch (err) {
    expect(err).toBeInstanceOf(PeerProtocolError)
    return (err as PeerProtocolError).code
  }
}

describe('peer protocol', () => {
  it('round-trips every frame kind', () => {
    for (const f of frames) expect(decodeFrame(encodeFrame(f))).toEqual(f)
  })

  it('refuses truncated frames, trailing bytes, unknown kinds, bad lengths and names', () => {
    const upd = encodeFrame(frames[6] as PeerFrame)
    for (let cut = 0; cut < upd.length; cut++) expect(code(upd.slice(0, cut))).toBe('truncated')
    expect(code(new Uint8Array([...upd, 0]))).toBe('trailing-bytes')
    expect(code(new Uint8Array([42]))).toBe('unknown-kind')
    expect(code(encodeFrame({ kind: 'auth', mac: new Uint8Array(31) }))).toBe('bad-length')
    expect(code(encodeFrame({ kind: 'hello', version: 1, id: 'x', nonce: new Uint8Array(3) }))).toBe('bad-length')
    expect(code(encodeFrame({ kind: 'sync1', room: '', stateVector: sv }))).toBe('bad-room')
    expect(code(encodeFrame({ kind: 'sync1', room: 'x'.repeat(257), stateVector: sv }))).toBe('bad-room')
    const long = Array.from({ length: MAX_PATH_LENGTH + 1 }, (_, i) => `r${i}`)
    expect(code(encodeFrame({ kind: 'update', room: 'r', path: long, update }))).toBe('path-too-long')
  })

  it('never throws anything but PeerProtocolError on random bytes (fast-check, seed 11)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      code(bytes)
    }), { seed: 11, numRuns: 2000 })
  })
})

describe('peer auth', () => {
  it('verifies the right secret only, bound to nonce and both ids', () => {
    const nonce = createNonce()
    const proof = proveSecret('s3cret', nonce, 'a', 'b')
    expect(verifySecret('s3cret', nonce, 'a', 'b', proof)).toBe(true)
    expect(verifySecret('other', nonce, 'a', 'b', proof)).toBe(false)
    expect(verifySecret('s3cret', createNonce(), 'a', 'b', proof)).toBe(false)
    expect(verifySecret('s3cret', nonce, 'b', 'a', proof)).toBe(false)
    expect(verifySecret('s3cret', nonce, 'a', 'b', proof.slice(1))).toBe(false)
  })
})

describe('backoff', () => {
  it('grows exponentially, stays within bounds, jitters', () => {
    const opts = { initialMs: 100, maxMs: 5000 }
    expect(backoffDelay(0, opts, () => 0)).toBe(50)
    expect(backoffDelay(0, opts, () => 0.999)).toBeLessThanOrEqual(100)
    expect(backoffDelay(3, opts, () => 0.999)).toBeGreaterThan(700)
    for (let a = 0; a < 100; a++) {
      const d = backoffDelay(a, opts, Math.random)
      expect(d).toBeGreaterThanOrEqual(50)
      expect(d).toBeLessThanOrEqual(5000)
    }
  })
})
