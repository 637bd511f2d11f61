/**
 * `orSet(doc, name)`: an add-wins observed-remove set of JSON values inside a Y.Doc.
 * A concurrent add and delete of the same element keeps the element; a delete removes only
 * the adds it observed. Removed elements leave nothing behind once every replica has seen
 * the removal (see {@link CausalSlices}).
 */
import type * as Y from 'yjs'
import { ORSet } from '../core/or-set.ts'
import type { DotMap } from '../core/dot-store.ts'
import type { EmbedOptions } from './replica-slices.ts'
import { CausalSlices } from './causal-slices.ts'

/** An add-wins set embedded in a Y.Doc. */
export class ORSetHandle<T> extends CausalSlices<DotMap> {
  constructor (doc: Y.Doc, name: string, options?: EmbedOptions) { super(doc, 'or-set', name, 'map', options) }
  /** Adds `value` (a JSON value; equal values are one element). */
  add (value: T): void { this.applyDelta(ORSet.add(this.view(), this.replica, value)) }
  /** Removes `value` as observed now; a concurrent add elsewhere survives. */
  delete (value: T): void { if (this.has(value)) this.applyDelta(ORSet.remove(this.view(), value)) }
  /** Removes every element observed now. */
  clear (): void { if (this.size > 0) this.applyDelta(ORSet.clear(this.view())) }
  has (value: T): boolean { return ORSet.has(this.view(), value) }
  /** Elements in canonical-JSON order. */
  values (): T[] { return ORSet.value<T>(this.view()) }
  get size (): number { return ORSet.size(this.view()) }
  toJSON (): T[] { return this.values() }
}
