/**
 * The last-writer-wins types inside a Y.Doc: `lwwRegister`, and the baselines `lww.counter`
 * (read-modify-write of one number) and `lww.set` (the whole set as one value). Each replica's
 * slice is a pure-core {@link LWWRegister} holding its latest write; the value is the greatest
 * write over all slices by (time, replica). Same storage layout and cost as the CRDTs, so the
 * comparison is on equal terms: only the merge differs, and concurrent updates are lost.
 */
import type * as Y from 'yjs'
import { LWWRegister, type Clock, systemClock } from '../core/lww-register.ts'
import { LWWCounter as CoreLWWCounter, LWWSet as CoreLWWSet } from '../core/lww-baselines.ts'
import { ReplicaSlices, type EmbedOptions, type SliceCodec } from './replica-slices.ts'
import { joinAll } from './counter.ts'

/** Options of the LWW types: an injectable clock (tests skew it). */
export interface LWWOptions extends EmbedOptions { clock?: Clock }

const lwwSlices: SliceCodec<LWWRegister<unknown>> = { empty: LWWRegister.empty, encode: LWWRegister.encode, decode: LWWRegister.decode, merge: LWWRegister.merge }

abstract class LWWBase<T> extends ReplicaSlices<LWWRegister<unknown>> {
  protected readonly clock: Clock
  private cache: { version: number, state: LWWRegister<T> } = { version: -1, state: LWWRegister.empty() }
  constructor (doc: Y.Doc, kind: string, name: string, options: LWWOptions = {}) {
    super(doc, kind, name, lwwSlices, options)
    this.clock = options.clock ?? systemClock
  }
  /** The winning write over all replicas. */
  state (): LWWRegister<T> {
    if (this.cache.version !== this.version) {
      this.cache = { version: this.version, state: joinAll(this.slices.values(), LWWRegister.empty(), LWWRegister.merge) as LWWRegister<T> }
    }
    return this.cache.state
  }
  protected writeDelta (delta: LWWRegister<unknown>): void { this.writeOwn(LWWRegister.merge(this.own, delta)) }
}

/** `lwwRegister(doc, name)`: one JSON value, last writer (by clock, then replica id) wins. */
export class LWWRegisterHandle<T> extends LWWBase<T> {
  constructor (doc: Y.Doc, name: string, options?: LWWOptions) { super(doc, 'lww-register', name, options) }
  /** Writes `value` at `clock()`. */
  set (value: T): void { this.writeDelta(LWWRegister.set(this.state(), this.replica, value, this.clock)) }
  /** The winning value (undefined before any write). */
  get value (): T | undefined { return LWWRegister.value(this.state()) }
  toJSON (): T | null { return this.value ?? null }
}

/** `lww.counter(doc, name)`: the baseline counter; increments read, add and overwrite. */
export class LWWCounterHandle extends LWWBase<number> {
  constructor (doc: Y.Doc, name: string, options?: LWWOptions) { super(doc, 'lww-counter', name, options) }
  increment (n = 1): void { this.writeDelta(CoreLWWCounter.increment(this.state(), this.replica, n, this.clock)) }
  decrement (n = 1): void { this.writeDelta(CoreLWWCounter.decrement(this.state(), this.replica, n, this.clock)) }
  get value (): number { return CoreLWWCounter.value(this.state()) }
  toJSON (): number { return this.value }
}

/** `lww.set(doc, name)`: the baseline set; every add or delete overwrites the whole set. */
export class LWWSetHandle<T> extends LWWBase<T[]> {
  constructor (doc: Y.Doc, name: string, options?: LWWOptions) { super(doc, 'lww-set', name, options) }
  add (value: T): void { this.writeDelta(CoreLWWSet.add(this.state(), this.replica, value, this.clock)) }
  delete (value: T): void { this.writeDelta(CoreLWWSet.remove(this.state(), this.replica, value, this.clock)) }
  has (value: T): boolean { return CoreLWWSet.has(this.state(), value) }
  values (): T[] { return CoreLWWSet.value(this.state()) }
  get size (): number { return this.values().length }
  toJSON (): T[] { return this.values() }
}

