/**
 * tandem's CRDTs inside a Y.Doc, beside the text. They sync through any Yjs transport, persist
 * with the document and work offline. Values are JSON. Each CRDT lives in its own top-level
 * Y.Map (`crdt:<kind>:<name>`) with one key per replica (see `ReplicaSlices`), so a
 * document's size is bounded by live state plus replicas, not by history.
 *
 * @example
 * const doc = new Y.Doc()
 * const likes = counter(doc, 'likes'); likes.increment(); likes.value // 1
 * const tags = orSet<string>(doc, 'tags'); tags.add('crdt')
 * const title = mvRegister<string>(doc, 'title'); title.set('Draft')
 * const card = orMap(doc, 'card', { fields: { votes: 'counter', labels: 'set', status: 'mv' } })
 * const stop = likes.observe(() => render(likes.value)) // stop() to unobserve
 *
 * The pure core (no Yjs) is exported as `core` and from `crdt/core/index.ts`.
 */
import type * as Y from 'yjs'
import { Counter } from './embed/counter.ts'
import { ORSetHandle } from './embed/or-set.ts'
import { MVRegisterHandle, type MVRegisterOptions } from './embed/mv-register.ts'
import { LWWRegisterHandle, LWWCounterHandle, LWWSetHandle, type LWWOptions } from './embed/lww.ts'
import { ORMapHandle, type ORMapOptions } from './embed/or-map.ts'
import type { EmbedOptions } from './embed/replica-slices.ts'

export * as core from './core/index.ts'
export { CrdtCodecError } from './core/codec-error.ts'
export type { RegisterSibling, MapValue } from './core/or-map.ts'
export type { Clock } from './core/lww-register.ts'
export { Counter, ORSetHandle, MVRegisterHandle, LWWRegisterHandle, LWWCounterHandle, LWWSetHandle, ORMapHandle }
export type { EmbedOptions, MVRegisterOptions, LWWOptions, ORMapOptions }
export type { ChangeEvent } from './embed/replica-slices.ts'
export type { RegisterValue } from './embed/mv-register.ts'
export type { FieldPolicy, MapPolicies, ORMapNode } from './embed/or-map.ts'

/** A PN-counter: `.increment(n = 1)`, `.decrement(n = 1)`, `.value`, `.observe(fn)`. */
export function counter (doc: Y.Doc, name: string, options?: EmbedOptions): Counter { return new Counter(doc, name, options) }

/** An add-wins set: `.add(v)`, `.delete(v)`, `.has(v)`, `.values()`, `.observe(fn)`. */
export function orSet<T> (doc: Y.Doc, name: string, options?: EmbedOptions): ORSetHandle<T> { return new ORSetHandle<T>(doc, name, options) }

/** A multi-value register: `.set(v)`, `.values` (siblings), `.resolve(v)`, `.resolved`, `.observe(fn)`. */
export function mvRegister<T> (doc: Y.Doc, name: string, options?: MVRegisterOptions<T>): MVRegisterHandle<T> { return new MVRegisterHandle<T>(doc, name, options) }

/** A last-writer-wins register: `.set(v)`, `.value`, `.observe(fn)`; `options.clock` is injectable. */
export function lwwRegister<T> (doc: Y.Doc, name: string, options?: LWWOptions): LWWRegisterHandle<T> { return new LWWRegisterHandle<T>(doc, name, options) }

/** An observed-remove map with a merge policy per field (see {@link ORMapOptions}). */
export function orMap (doc: Y.Doc, name: string, options?: ORMapOptions): ORMapHandle { return new ORMapHandle(doc, name, options) }

/** The last-writer-wins baselines, with the same methods as `counter` and `orSet`. */
export const lww = {
  /** Read-modify-write of one number under LWW: concurrent increments are lost. */
  counter (doc: Y.Doc, name: string, options?: LWWOptions): LWWCounterHandle { return new LWWCounterHandle(doc, name, options) },
  /** The whole set as one LWW value: concurrent adds on two replicas keep one side. */
  set<T> (doc: Y.Doc, name: string, options?: LWWOptions): LWWSetHandle<T> { return new LWWSetHandle<T>(doc, name, options) },
  /** Same as {@link lwwRegister}. */
  register<T> (doc: Y.Doc, name: string, options?: LWWOptions): LWWRegisterHandle<T> { return new LWWRegisterHandle<T>(doc, name, options) },
}
