/**
 * `orMap(doc, name, { fields })`: an observed-remove map inside a Y.Doc whose merge policy is
 * chosen per field:
 * - `'lww'`: last writer wins by (time, replica) among concurrent writes;
 * - `'mv'`: keep every concurrent write as a sibling (read returns them all);
 * - `'counter'`: a PN-counter (increments from everyone add up);
 * - `'set'`: an add-wins set;
 * - `{ aggregate(siblings) }`: a custom aggregator that receives every concurrent write with
 *   its replica and time and returns the value to read;
 * - `{ map: { ... } }`: a nested map with its own field policies.
 * Fields not listed use `options.default` (default `'lww'`). Deleting a field removes what the
 * deleter observed; a concurrent update survives (update wins over delete).
 */
import type * as Y from 'yjs'
import { ORMap, type MapOp, type MapValue, type RegisterSibling } from '../core/or-map.ts'
import { compareWrites } from '../core/lww-register.ts'
import type { DotMap } from '../core/dot-store.ts'
import { systemClock, type Clock } from '../core/lww-register.ts'
import type { EmbedOptions } from './replica-slices.ts'
import { CausalSlices } from './causal-slices.ts'

/** How a field merges concurrent updates. */
export type FieldPolicy =
  | 'lww' | 'mv' | 'counter' | 'set'
  | { readonly aggregate: (siblings: RegisterSibling[]) => unknown }
  | { readonly map: MapPolicies }

/** Field policies of one map level. */
export interface MapPolicies { readonly fields?: Readonly<Record<string, FieldPolicy>>, readonly default?: FieldPolicy }

/** Options of `orMap`. */
export interface ORMapOptions extends EmbedOptions, MapPolicies {
  /** Clock for register write times (default Date.now). */
  clock?: Clock
}

/** The ORMap store inside the Y.Doc. */
export class ORMapStore extends CausalSlices<DotMap> {
  readonly clock: Clock
  private cache = { version: -1, value: {} as MapValue }
  constructor (doc: Y.Doc, name: string, options: ORMapOptions = {}) {
    super(doc, 'or-map', name, 'map', options)
    this.clock = options.clock ?? systemClock
  }
  /** Applies one operation at `path`. */
  apply (path: readonly string[], op: MapOp): void {
    this.applyDelta(ORMap.apply(this.view(), this.replica, path, op, this.clock))
  }
  /** The raw map value (registers as siblings). */
  raw (): MapValue {
    if (this.cache.version !== this.version) this.cache = { version: this.version, value: ORMap.value(this.view()) }
    return this.cache.value
  }
}

/** One level of an embedded ORMap (the root or a nested map field). */
export class ORMapNode {
  constructor (protected readonly store: ORMapStore, readonly path: readonly string[], private readonly policies: MapPolicies) {}

  /** The policy of `field`. */
  policy (field: string): FieldPolicy { return this.policies.fields?.[field] ?? this.policies.default ?? 'lww' }

  private rawHere (): MapValue {
    let v: unknown = this.store.raw()
    for (const p of this.path) v = (v as MapValue | undefined)?.[p]
    return (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as MapValue
  }

  /** Writes a register field (policy lww, mv or custom aggregator). */
  set (field: string, value: unknown): void { this.store.apply([...this.path, field], { type: 'set', value }) }
  /** Adds `n` to a counter field. */
  increment (field: string, n = 1): void { this.store.apply([...this.path, field], { type: 'increment', n }) }
  /** Subtracts `n` from a counter field. */
  decrement (field: string, n = 1): void { this.store.apply([...this.path, field], { type: 'decrement', n }) }
  /** Adds an element to a set field. */
  add (field: string, value: unknown): void { this.store.apply([...this.path, field], { type: 'add', value }) }
  /** Removes an element from a set field (observed adds only). */
  remove (field: string, value: unknown): void { this.store.apply([...this.path, field], { type: 'remove', value }) }
  /** Deletes a field of any kind (a concurrent update to it survives). */
  delete (field: string): void { this.store.apply([...this.path, field], { type: 'delete' }) }
  /** A nested map field. */
  map (field: string): ORMapNode {
    const p = this.policy(field)
    return new ORMapNode(this.store, [...this.path, field], typeof p === 'object' && 'map' in p ? p.map : {})
  }
  /** Every concurrent write of a register field, with replica and time. */
  siblings (field: string): RegisterSibling[] {
    const v = this.rawHere()[field]
    return Array.isArray(v) && v.every(isSibling) ? v as RegisterSibling[] : []
  }
  /** Whether `field` is present. */
  has (field: string): boolean { return field in this.rawHere() }
  /** Present field names. */
  keys (): string[] { return Object.keys(this.rawHere()).sort() }
  /** The value of `field`, merged by its policy. */
  get (field: string): unknown {
    const raw = this.rawHere()[field]
    if (raw === undefined) return undefined
    const p = this.policy(field)
    if ((typeof p === 'object' && 'map' in p) || (typeof raw === 'object' && !Array.isArray(raw))) return this.map(field).toJSON()
    if (p === 'counter' || p === 'set') return raw
    if (!Array.isArray(raw) || !raw.every(isSibling)) return raw
    const s = raw as RegisterSibling[]
    if (p === 'mv') return s.map(x => x.value)
    if (typeof p === 'object') return p.aggregate(s)
    return s.reduce((a, b) => compareWrites(a, b) >= 0 ? a : b).value
  }
  /** The whole map as plain JSON, every field merged by its policy. */
  toJSON (): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const k of this.keys()) out[k] = this.get(k)
    return out
  }
}

function isSibling (x: unknown): boolean {
  return typeof x === 'object' && x !== null && 'dot' in x && 'replica' in x && 'time' in x
}

/** The root of an embedded ORMap: a map node plus the store's lifecycle methods. */
export class ORMapHandle extends ORMapNode {
  constructor (doc: Y.Doc, name: string, options: ORMapOptions = {}) {
    super(new ORMapStore(doc, name, options), [], options)
  }
  /** This handle's replica id. */
  get replica (): string { return this.store.replica }
  /** The Y.Map holding the slices. */
  get ymap (): Y.Map<Uint8Array> { return this.store.ymap }
  observe (fn: Parameters<ORMapStore['observe']>[0]): () => void { return this.store.observe(fn) }
  prune (replica: string): void { this.store.prune(replica) }
  replicas (): string[] { return this.store.replicas() }
  destroy (): void { this.store.destroy() }
  /** The merged pure-core state. */
  state (): ORMap { return this.store.view() }
}
