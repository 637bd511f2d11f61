/**
 * Grow-only counter: one non-decreasing count per replica; the value is their sum, merge is
 * the per-replica maximum. State is O(replicas).
 *
 * Values are immutable. Mutators return a delta (itself a GCounter holding only the changed
 * entry); apply it with `merge(state, delta)` locally and ship it to other replicas.
 *
 * @example
 * let a = GCounter.empty()
 * const d = GCounter.increment(a, 'alice', 5)
 * a = GCounter.merge(a, d)         // value 5; send `d` (or GCounter.encode(d)) to peers
 */
import * as encoding from 'lib0/encoding'
import { check, readCount, readFramed, TypeTag, writeFramed } from './frame.ts'
import * as decoding from 'lib0/decoding'

/** A grow-only counter state (or delta). */
export interface GCounter { readonly counts: ReadonlyMap<string, number> }

function assertAmount (n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`counter amount must be a non-negative safe integer, got ${n}`)
}

export const GCounter = {
  /** The bottom element (value 0). */
  empty (): GCounter { return { counts: new Map() } },
  /** Delta that adds `n` (default 1) on behalf of `replica`. */
  increment (x: GCounter, replica: string, n = 1): GCounter {
    assertAmount(n)
    return { counts: new Map([[replica, (x.counts.get(replica) ?? 0) + n]]) }
  },
  /** Least upper bound: per-replica maximum. Commutative, associative, idempotent. */
  merge (a: GCounter, b: GCounter): GCounter {
    if (b.counts.size === 0) return a
    const counts = new Map(a.counts)
    for (const [r, c] of b.counts) if (c > (counts.get(r) ?? 0)) counts.set(r, c)
    return { counts }
  },
  /** The counter's value: the sum over replicas. */
  value (x: GCounter): number {
    let s = 0
    for (const c of x.counts.values()) s += c
    return s
  },
  /** Whether two states are equal (zero entries count as absent). */
  equals (a: GCounter, b: GCounter): boolean {
    const nz = (m: ReadonlyMap<string, number>) => [...m].filter(([, c]) => c !== 0)
    const ea = nz(a.counts)
    return ea.length === nz(b.counts).length && ea.every(([r, c]) => b.counts.get(r) === c)
  },
  /** Compact binary form: `[tag][ver] n (replica varString, count varUint)* crc32`. */
  encode (x: GCounter): Uint8Array { return writeFramed(TypeTag.GCounter, enc => writeGCounter(enc, x)) },
  /** Inverse of {@link GCounter.encode}; throws {@link CrdtCodecError} on bad bytes. */
  decode (bytes: Uint8Array): GCounter { return readFramed(TypeTag.GCounter, 'GCounter', bytes, readGCounter) },
}

/** Writes a GCounter payload (used inside other codecs). */
export function writeGCounter (enc: encoding.Encoder, x: GCounter): void {
  const entries = [...x.counts].filter(([, c]) => c !== 0)
  encoding.writeVarUint(enc, entries.length)
  for (const [r, c] of entries) { encoding.writeVarString(enc, r); encoding.writeVarUint(enc, c) }
}

/** Reads a GCounter payload. */
export function readGCounter (dec: decoding.Decoder): GCounter {
  const counts = new Map<string, number>()
  for (let n = readCount(dec); n > 0; n--) {
    const r = decoding.readVarString(dec)
    const c = readCount(dec)
    check(!counts.has(r) && c > 0, 'duplicate or zero counter entry')
    counts.set(r, c)
  }
  return { counts }
}
