import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import {
  MAX_PATH_LENGTH, PeerProtocolError, decodeFrame, encodeFrame, type PeerFrame,
} from '../../../relay/topology/peer-protocol.ts'
import { createNonce, deriveKeys, proof, verifyProof, type Transcript } from '../../../relay/topology/peer-auth.ts'
import { FrameOpener, FrameSealer, SealError, TAG_BYTES } from '../../../relay/topology/peer-seal.ts'
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
  { kind: 'deny', entries: [{ jti: 'j1', until: 1_900_000_000, at: 1_800_000_000_123 }, { jti: 'j2', until: 1, at: 2, lifted: true }] },
  { kind: 'deny', entries: [] },
  { kind: 'versions', marks: [update, new Uint8Array([1, 2, 3])] },
  { kind: 'versions', marks: [] },
  { kind: 'versionIndex', done: true, entries: [{ room: 'room', id: '0123456789abcdef', at: 1_800_000_000_123, relay: 'relay-a' }] },
  { kind: 'versionIndex', done: false, entries: [] },
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
    expect(code(encodeFrame({ kind: 'deny', entries: [{ jti: 'x'.repeat(257), until: 1, at: 1 }] }))).toBe('bad-id')
    expect(code(encodeFrame({ kind: 'deny', entries: [{ jti: 'x', until: NaN, at: 1 }] }))).toBe('bad-length')
    // A count the frame cannot hold is refused before anything is allocated for it.
    expect(code(new Uint8Array([7, 0xff, 0xff, 0xff, 0x0f]))).toBe('bad-length')
    expect(code(new Uint8Array([9, 0xff, 0xff, 0xff, 0x0f]))).toBe('bad-length')
    expect(code(new Uint8Array([10, 1, 0xff, 0xff, 0xff, 0x0f]))).toBe('bad-length')
    expect(code(encodeFrame({ kind: 'versionIndex', done: true, entries: [{ room: '', id: '0123456789abcdef', at: 1, relay: 'a' }] }))).toBe('bad-room')
    expect(code(encodeFrame({ kind: 'versionIndex', done: true, entries: [{ room: 'r', id: '0123456789abcdef', at: NaN, relay: 'a' }] }))).toBe('bad-length')
    expect(code(encodeFrame({ kind: 'versionIndex', done: true, entries: [{ room: 'r', id: '0123456789abcdef', at: 1, relay: '' }] }))).toBe('bad-id')
  })

  it('never throws anything but PeerProtocolError on random bytes (fast-check, seed 11)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      code(bytes)
    }), { seed: 11, numRuns: 2000 })
  })
})

describe('peer handshake keys', () => {
  const t: Transcript = { version: 2, dialerId: 'a', dialerNonce: createNonce(), listenerId: 'b', listenerNonce: createNonce() }

  it('a proof verifies for its role, secret and transcript only', () => {
    const keys = deriveKeys('s3cret', t)
    const dialer = proof(keys, 'dialer')
    expect(verifyProof(deriveKeys('s3cret', { ...t }), 'dialer', dialer)).toBe(true)
    // Another role (reflection), secret, nonce of either side, id of either side, or version: worthless.
    expect(verifyProof(keys, 'listener', dialer)).toBe(false)
    expect(verifyProof(deriveKeys('other', t), 'dialer', dialer)).toBe(false)
    expect(verifyProof(deriveKeys('s3cret', { ...t, dialerNonce: createNonce() }), 'dialer', dialer)).toBe(false)
    expect(verifyProof(deriveKeys('s3cret', { ...t, listenerNonce: createNonce() }), 'dialer', dialer)).toBe(false)
    expect(verifyProof(deriveKeys('s3cret', { ...t, dialerId: 'c' }), 'dialer', dialer)).toBe(false)
    expect(verifyProof(deriveKeys('s3cret', { ...t, listenerId: 'c' }), 'dialer', dialer)).toBe(false)
    expect(verifyProof(deriveKeys('s3cret', { ...t, version: 1 }), 'dialer', dialer)).toBe(false)
    // The two sides swapped (the relaying attack: each relay sees the other's hello as a dialer's).
    const swapped = { ...t, dialerId: t.listenerId, dialerNonce: t.listenerNonce, listenerId: t.dialerId, listenerNonce: t.dialerNonce }
    expect(verifyProof(deriveKeys('s3cret', swapped), 'listener', proof(keys, 'listener'))).toBe(false)
    expect(verifyProof(keys, 'dialer', dialer.slice(1))).toBe(false)
  })

  it('ids are length-prefixed: ("ab","c") and ("a","bc") give different keys', () => {
    const n = createNonce()
    const k1 = deriveKeys('s', { version: 2, dialerId: 'ab', dialerNonce: n, listenerId: 'c', listenerNonce: n })
    const k2 = deriveKeys('s', { version: 2, dialerId: 'a', dialerNonce: n, listenerId: 'bc', listenerNonce: n })
    expect(k1.th.equals(k2.th)).toBe(false)
  })

  it('four distinct keys per session', () => {
    const k = deriveKeys('s3cret', t)
    const all = [k.finished.dialer, k.finished.listener, k.frames.dialer, k.frames.listener].map((b) => b.toString('hex'))
    expect(new Set(all).size).toBe(4)
  })
})

describe('sealed frames', () => {
  const keys = deriveKeys('s3cret', { version: 2, dialerId: 'a', dialerNonce: createNonce(), listenerId: 'b', listenerNonce: createNonce() })
  const frames3 = [new Uint8Array([5, 1, 2]), new Uint8Array([5, 3]), new Uint8Array(0)]

  it('open in order what was sealed, and hide the frame', () => {
    const sealer = new FrameSealer(keys.frames.dialer)
    const opener = new FrameOpener(keys.frames.dialer)
    for (const f of frames3) {
      const sealed = sealer.seal(f)
      expect(sealed.length).toBe(f.length + TAG_BYTES)
      expect(opener.open(sealed)).toEqual(Buffer.from(f))
    }
    // The same bytes sealed twice differ (the nonce is the sequence number).
    const s2 = new FrameSealer(keys.frames.dialer)
    expect(s2.seal(frames3[0]!).equals(s2.seal(frames3[0]!))).toBe(false)
  })

  it('refuse a flipped bit, a replay, a reorder, a drop, a truncation and the other direction\'s key', () => {
    const attempt = (mutate: (sealed: Buffer[]) => Buffer[], key = keys.frames.dialer): unknown => {
      const sealer = new FrameSealer(keys.frames.dialer)
      const sealed = mutate(frames3.map((f) => sealer.seal(f)))
      const opener = new FrameOpener(key)
      try {
        for (const s of sealed) opener.open(s)
        return 'opened'
      } catch (err) {
        return err
      }
    }
    for (let byte = 0; byte < 3 + TAG_BYTES; byte++) {
      expect(attempt(([a, ...rest]) => { const x = Buffer.from(a!); x[byte % x.length]! ^= 1; return [x, ...rest] })).toBeInstanceOf(SealError)
    }
    expect(attempt(([a, b]) => [a!, a!, b!])).toBeInstanceOf(SealError)
    expect(attempt(([a, b, c]) => [b!, a!, c!])).toBeInstanceOf(SealError)
    expect(attempt(([a, , c]) => [a!, c!])).toBeInstanceOf(SealError)
    expect(attempt(([a]) => [a!.subarray(0, 5)])).toBeInstanceOf(SealError)
    expect(attempt((s) => s, keys.frames.listener)).toBeInstanceOf(SealError)
    expect(attempt((s) => s)).toBe('opened')
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
