/**
 * Add-wins observed-remove set, optimised form (Almeida et al. "delta-state" AWSet).
 *
 * State: a DotMap from element (canonical JSON) to the dots of the adds that are still live,
 * plus a compact causal context. `add` mints a fresh dot and supersedes the element's observed
 * dots; `remove` only puts the element's observed dots in the delta's context. A removed element
 * leaves no tombstone: the context (version vector + cloud) already records its dots, so
 * metadata is bounded by live elements plus replicas, never by history. A concurrent add and
 * remove of one element: the add's fresh dot was not observed by the remove, so the add wins.
 *
 * Elements are JSON values, identified by canonical JSON (object keys sorted).
 * Values are immutable; mutators return deltas to `merge` locally and ship.
 */
import { nextDot, contextOf, type CausalContext } from './causal-context.ts'
import { type Causal, type DotMap, type DotSet, joinCausal, causalEquals, dotsOf, writeCausal, readCausal, emptyMap } from './dot-store.ts'
import { readFramed, TypeTag, writeFramed, check } from './frame.ts'
import { canonicalJson, parseJson } from './json-value.ts'
import { emptyContext } from './causal-context.ts'

/** An add-wins ORSet state (or delta) of JSON elements `T`. */
export interface ORSet<T = unknown> extends Causal<DotMap> { readonly __element?: T }

export const ORSet = {
  /** The empty set. */
  empty<T> (): ORSet<T> { return { store: emptyMap, ctx: emptyContext } },
  /** Delta adding `value` on behalf of `replica` (a fresh dot; supersedes observed adds). */
  add<T> (x: ORSet<T>, replica: string, value: T): ORSet<T> {
    const key = canonicalJson(value)
    const dot = nextDot(x.ctx, replica)
    const old = dotsOf(x.store.entries.get(key))
    const store: DotMap = { kind: 'map', entries: new Map([[key, { kind: 'set', dots: [dot] } satisfies DotSet]]) }
    return { store, ctx: contextOf([dot, ...old]) }
  },
  /** Delta removing `value` as observed now (concurrent, unobserved adds survive). */
  remove<T> (x: ORSet<T>, value: T): ORSet<T> {
    return { store: emptyMap, ctx: contextOf(dotsOf(x.store.entries.get(canonicalJson(value)))) }
  },
  /** Delta removing every element observed now. */
  clear<T> (x: ORSet<T>): ORSet<T> {
    return { store: emptyMap, ctx: contextOf(dotsOf(x.store)) }
  },
  /** Whether `value` is in the set. */
  has<T> (x: ORSet<T>, value: T): boolean { return x.store.entries.has(canonicalJson(value)) },
  /** Elements, in canonical-JSON order. */
  value<T> (x: ORSet<T>): T[] {
    return [...x.store.entries.keys()].sort().map(k => parseJson<T>(k))
  },
  /** Number of elements. */
  size (x: ORSet): number { return x.store.entries.size },
  /** Least upper bound (dot-store join). */
  merge<T> (a: ORSet<T>, b: ORSet<T>): ORSet<T> { return joinCausal(a, b) },
  /** Equality of state (elements, dots and context). */
  equals (a: ORSet, b: ORSet): boolean { return causalEquals(a, b) },
  /** The causal context (what this state has seen). */
  context (x: ORSet): CausalContext { return x.ctx },
  /** Compact binary form: replica table, context, element → dots. */
  encode (x: ORSet): Uint8Array { return writeFramed(TypeTag.ORSet, enc => writeCausal(enc, x)) },
  /** Inverse of {@link ORSet.encode}; throws {@link CrdtCodecError} on bad bytes. */
  decode<T> (bytes: Uint8Array): ORSet<T> {
    return readFramed(TypeTag.ORSet, 'ORSet', bytes, dec => {
      const c = readCausal<DotMap>(dec, 'map')
      for (const [k, v] of c.store.entries) {
        check(v.kind === 'set', 'ORSet element is not a dot set')
        parseJson(k)
      }
      return c
    })
  },
}
