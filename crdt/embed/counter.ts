/**
 * `counter(doc, name)`: a PN-counter inside a Y.Doc. Each replica's slice is a
 * {@link PNCounter} holding its own totals (plus those of replicas it pruned); the value is
 * the join of all slices. Concurrent increments all count: the value is exactly the sum of
 * increments minus decrements.
 */
import type * as Y from 'yjs'
import { PNCounter } from '../core/pn-counter.ts'
import { ReplicaSlices, type EmbedOptions, type SliceCodec } from './replica-slices.ts'

export const pnCounterSlices: SliceCodec<PNCounter> = PNCounter

/** Merged state of a set of PN-counter slices. */
export function joinAll<S> (slices: Iterable<S>, empty: S, merge: (a: S, b: S) => S): S {
  let acc = empty
  for (const s of slices) acc = merge(acc, s)
  return acc
}

/** A PN-counter embedded in a Y.Doc. */
export class Counter extends ReplicaSlices<PNCounter> {
  private cache = { version: -1, value: 0 }
  constructor (doc: Y.Doc, name: string, options?: EmbedOptions) { super(doc, 'counter', name, pnCounterSlices, options) }
  /** Adds `n` (a non-negative safe integer, default 1). */
  increment (n = 1): void { const own = this.own; this.writeOwn(PNCounter.merge(own, PNCounter.increment(own, this.replica, n))) }
  /** Subtracts `n` (a non-negative safe integer, default 1). */
  decrement (n = 1): void { const own = this.own; this.writeOwn(PNCounter.merge(own, PNCounter.decrement(own, this.replica, n))) }
  /** The merged state (a pure-core PNCounter). */
  state (): PNCounter { return joinAll(this.slices.values(), PNCounter.empty(), PNCounter.merge) }
  /** Sum of all increments minus all decrements seen so far. */
  get value (): number {
    if (this.cache.version !== this.version) this.cache = { version: this.version, value: PNCounter.value(this.state()) }
    return this.cache.value
  }
  toJSON (): number { return this.value }
}
