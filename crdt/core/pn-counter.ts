/**
 * Positive-negative counter: two {@link GCounter}s, increments and decrements; the value is
 * `value(p) - value(n)`. State is O(replicas). Immutable values; mutators return deltas.
 *
 * @example
 * let c = PNCounter.empty()
 * c = PNCounter.merge(c, PNCounter.increment(c, 'alice', 5))
 * c = PNCounter.merge(c, PNCounter.decrement(c, 'bob', 2))
 * PNCounter.value(c) // 3
 */
import { GCounter, readGCounter, writeGCounter } from './g-counter.ts'
import { readFramed, TypeTag, writeFramed } from './frame.ts'

/** A PN-counter state (or delta). */
export interface PNCounter { readonly p: GCounter, readonly n: GCounter }

export const PNCounter = {
  /** The bottom element (value 0). */
  empty (): PNCounter { return { p: GCounter.empty(), n: GCounter.empty() } },
  /** Delta adding `n` (default 1) for `replica`. */
  increment (x: PNCounter, replica: string, n = 1): PNCounter {
    return { p: GCounter.increment(x.p, replica, n), n: GCounter.empty() }
  },
  /** Delta subtracting `n` (default 1) for `replica`. */
  decrement (x: PNCounter, replica: string, n = 1): PNCounter {
    return { p: GCounter.empty(), n: GCounter.increment(x.n, replica, n) }
  },
  /** Least upper bound, component-wise. */
  merge (a: PNCounter, b: PNCounter): PNCounter {
    return { p: GCounter.merge(a.p, b.p), n: GCounter.merge(a.n, b.n) }
  },
  /** Increments minus decrements. */
  value (x: PNCounter): number { return GCounter.value(x.p) - GCounter.value(x.n) },
  /** Structural equality. */
  equals (a: PNCounter, b: PNCounter): boolean { return GCounter.equals(a.p, b.p) && GCounter.equals(a.n, b.n) },
  /** Compact binary form (two GCounter payloads in one frame). */
  encode (x: PNCounter): Uint8Array {
    return writeFramed(TypeTag.PNCounter, enc => { writeGCounter(enc, x.p); writeGCounter(enc, x.n) })
  },
  /** Inverse of {@link PNCounter.encode}; throws {@link CrdtCodecError} on bad bytes. */
  decode (bytes: Uint8Array): PNCounter {
    return readFramed(TypeTag.PNCounter, 'PNCounter', bytes, dec => ({ p: readGCounter(dec), n: readGCounter(dec) }))
  },
}
