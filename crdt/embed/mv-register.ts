/**
 * `mvRegister(doc, name)`: a multi-value register inside a Y.Doc. Concurrent writes are kept
 * as siblings (each with its replica); a write supersedes every sibling it observed, and
 * `resolve(v)` is such a write. Conflict handlers plug in at both places the literature puts
 * them: `onRead` turns the siblings into one value when reading (Dynamo/Riak style), `onWrite`
 * computes the value actually written from the siblings it replaces and the new value
 * (Bayou-style merge procedure).
 */
import type * as Y from 'yjs'
import { MVRegister } from '../core/mv-register.ts'
import type { DotFun } from '../core/dot-store.ts'
import type { Dot } from '../core/causal-context.ts'
import type { EmbedOptions } from './replica-slices.ts'
import { CausalSlices } from './causal-slices.ts'

/** A concurrent value with the replica that wrote it. */
export interface RegisterValue<T> { readonly value: T, readonly replica: string, readonly dot: Dot }

/** Options: the conflict handlers. */
export interface MVRegisterOptions<T> extends EmbedOptions {
  /** Runs on read when there are two or more siblings; its result is `resolved`. */
  onRead?: (siblings: RegisterValue<T>[]) => T
  /** Runs on every local write; returns the value to write, given the siblings it replaces. */
  onWrite?: (siblings: RegisterValue<T>[], incoming: T) => T
}

/** A multi-value register embedded in a Y.Doc. */
export class MVRegisterHandle<T> extends CausalSlices<DotFun> {
  private readonly onRead: MVRegisterOptions<T>['onRead']
  private readonly onWrite: MVRegisterOptions<T>['onWrite']
  constructor (doc: Y.Doc, name: string, options: MVRegisterOptions<T> = {}) {
    super(doc, 'mv-register', name, 'fun', options)
    this.onRead = options.onRead
    this.onWrite = options.onWrite
  }
  /** Writes `value`, superseding every sibling observed now (through `onWrite` if set). */
  set (value: T): void {
    const v = this.onWrite ? this.onWrite(this.siblings(), value) : value
    this.applyDelta(MVRegister.set(this.view(), this.replica, v))
  }
  /** Resolves a conflict: a write that observed every sibling. */
  resolve (value: T): void { this.applyDelta(MVRegister.resolve(this.view(), this.replica, value)) }
  /** All concurrent values (one when there is no conflict, none before the first write). */
  get values (): T[] { return MVRegister.value<T>(this.view()) }
  /** Siblings with the replica and dot of their write. */
  siblings (): RegisterValue<T>[] {
    return MVRegister.siblings<T>(this.view()).map(s => ({ value: s.value, replica: s.dot.replica, dot: s.dot }))
  }
  /** Whether concurrent writes are waiting to be resolved. */
  get conflicted (): boolean { return this.values.length > 1 }
  /** One value: the only sibling, or `onRead(siblings)` if there are several (else the first). */
  get resolved (): T | undefined {
    const s = this.siblings()
    if (s.length <= 1 || !this.onRead) return s[0]?.value
    return this.onRead(s)
  }
  toJSON (): T[] { return this.values }
}
