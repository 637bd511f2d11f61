/**
 * Multi-value register: a write supersedes every value it observed; concurrent writes are all
 * kept as siblings (by their dots), for the application or the user to resolve. `resolve`
 * is just a write that observed every sibling. State is a DotFun plus a compact causal context:
 * O(siblings + replicas).
 *
 * Values are JSON, immutable; mutators return deltas.
 */
import { nextDot, contextOf, emptyContext, type Dot } from './causal-context.ts'
import { type Causal, type DotFun, joinCausal, causalEquals, dotsOf, writeCausal, readCausal, emptyFun } from './dot-store.ts'
import { readFramed, TypeTag, writeFramed } from './frame.ts'
import type { Json } from './json-value.ts'

/** A multi-value register state (or delta). */
export interface MVRegister<T = unknown> extends Causal<DotFun> { readonly __value?: T }

/** One concurrent value with the dot (replica, counter) of the write that made it. */
export interface Sibling<T> { readonly value: T, readonly dot: Dot }

export const MVRegister = {
  /** The unwritten register (no siblings). */
  empty<T> (): MVRegister<T> { return { store: emptyFun, ctx: emptyContext } },
  /** Delta writing `value` for `replica`, superseding every sibling it observes. */
  set<T> (x: MVRegister<T>, replica: string, value: T): MVRegister<T> {
    const dot = nextDot(x.ctx, replica)
    return { store: { kind: 'fun', entries: [{ dot, value: value as Json }] }, ctx: contextOf([dot, ...dotsOf(x.store)]) }
  },
  /** Same as {@link MVRegister.set}: a write that observed all siblings resolves the conflict. */
  resolve<T> (x: MVRegister<T>, replica: string, value: T): MVRegister<T> { return MVRegister.set(x, replica, value) },
  /** Siblings with their dots, ordered by dot. */
  siblings<T> (x: MVRegister<T>): Sibling<T>[] { return x.store.entries.map(e => ({ value: e.value as T, dot: e.dot })) },
  /** Concurrent values (one unless there is a conflict; none if never written). */
  value<T> (x: MVRegister<T>): T[] { return x.store.entries.map(e => e.value as T) },
  /** Least upper bound. */
  merge<T> (a: MVRegister<T>, b: MVRegister<T>): MVRegister<T> { return joinCausal(a, b) },
  /** Structural equality. */
  equals (a: MVRegister, b: MVRegister): boolean { return causalEquals(a, b) },
  /** Compact binary form. */
  encode (x: MVRegister): Uint8Array { return writeFramed(TypeTag.MVRegister, enc => writeCausal(enc, x)) },
  /** Inverse of {@link MVRegister.encode}; throws {@link CrdtCodecError} on bad bytes. */
  decode<T> (bytes: Uint8Array): MVRegister<T> {
    return readFramed(TypeTag.MVRegister, 'MVRegister', bytes, dec => readCausal<DotFun>(dec, 'fun'))
  },
}
