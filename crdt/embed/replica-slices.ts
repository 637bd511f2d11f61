/**
 * The storage layout every embedded CRDT shares: one top-level Y.Map per CRDT
 * (`crdt:<kind>:<name>`), with ONE key per replica holding that replica's slice of the state,
 * encoded as bytes (ContentBinary). The CRDT's value is the join of all slices.
 *
 * Why: a replica's writes are overwrites of its own single key, so Yjs keeps one live item per
 * replica (plus a small tombstone per overwrite when the replica interleaves other edits;
 * consecutive overwrites by one client merge into one deleted range). Size is bounded by live
 * state plus replicas, not by the number of operations. Several mutations inside one
 * `doc.transact` are coalesced into one write at the end of the transaction.
 *
 * Pruning a departed replica folds its slice into the pruner's own slice (Akka-style) and
 * deletes its key; because slices are joined, the value does not change.
 */
import type * as Y from 'yjs'
import { CrdtCodecError } from '../core/codec-error.ts'

/** How a slice type is stored and combined. */
export interface SliceCodec<S> {
  empty (): S
  encode (s: S): Uint8Array
  decode (bytes: Uint8Array): S
  /** Join of two slices (used to fold a pruned replica into the pruner's slice). */
  merge (a: S, b: S): S
}

/** Options shared by every embedded CRDT. */
export interface EmbedOptions {
  /** This replica's id (unique per concurrent writer). Default: `String(doc.clientID)`. */
  replica?: string
  /** Called when a remote slice cannot be decoded (the slice is ignored, nothing else changes). */
  onInvalid?: (replica: string, error: CrdtCodecError) => void
}

/** What an observer is told: whether the change came from this handle. */
export interface ChangeEvent { readonly local: boolean }

/** Base of every embedded CRDT handle. */
export abstract class ReplicaSlices<S> {
  /** The Y.Map holding the slices (one key per replica). */
  readonly ymap: Y.Map<Uint8Array>
  /** This handle's replica id. */
  readonly replica: string
  protected readonly slices = new Map<string, S>()
  /** Bumped on every change, so subclasses can cache derived values. */
  protected version = 0
  private readonly listeners = new Set<(e: ChangeEvent) => void>()
  private flushScheduled = false
  private readonly onInvalid: EmbedOptions['onInvalid']
  private readonly handler: (e: Y.YMapEvent<Uint8Array>) => void

  constructor (readonly doc: Y.Doc, kind: string, name: string, protected readonly codec: SliceCodec<S>, options: EmbedOptions = {}) {
    this.ymap = doc.getMap<Uint8Array>(`crdt:${kind}:${name}`)
    this.replica = options.replica ?? String(doc.clientID)
    this.onInvalid = options.onInvalid
    for (const key of this.ymap.keys()) this.load(key)
    this.handler = e => {
      if (e.transaction.origin === this) return
      for (const key of e.keysChanged) this.load(key as string)
      this.slicesChanged()
      this.emit(false)
    }
    this.ymap.observe(this.handler)
  }

  /** This replica's current slice. */
  protected get own (): S { return this.slices.get(this.replica) ?? this.codec.empty() }

  private load (key: string): void {
    const bytes = this.ymap.get(key)
    // A key reads as absent when a replica's newer slice is still pending (its update arrived
    // out of order: Yjs applies the delete of the old item before the new item can integrate),
    // or after a prune (the pruner's slice then holds the same state). Either way the last
    // slice we decoded is still valid: keep it, so values never flicker and removals are not lost.
    if (bytes === undefined) return
    try {
      const s = this.codec.decode(bytes)
      // Another session with the same replica id (or a restart): keep both contributions.
      this.slices.set(key, key === this.replica && this.slices.has(key) ? this.codec.merge(this.slices.get(key)!, s) : s)
    } catch (err) {
      if (!(err instanceof CrdtCodecError)) throw err
      this.onInvalid?.(key, err)
    }
  }

  /** Remote slices changed: subclasses drop cached views. */
  protected slicesChanged (): void { this.version++ }

  /** Replaces this replica's slice and writes it (once per transaction). */
  protected writeOwn (s: S, beforeEmit?: () => void): void {
    this.slices.set(this.replica, s)
    this.version++
    beforeEmit?.()
    const tr = this.doc._transaction
    if (tr) {
      if (!this.flushScheduled) {
        this.flushScheduled = true
        this.doc.once('afterTransaction', () => { this.flushScheduled = false; this.flush() })
      }
    } else {
      this.flush()
    }
    this.emit(true)
  }

  private flush (): void {
    const s = this.slices.get(this.replica)
    if (s === undefined) return
    const bytes = this.codec.encode(s)
    this.doc.transact(() => this.ymap.set(this.replica, bytes), this)
  }

  private emit (local: boolean): void {
    for (const fn of [...this.listeners]) fn({ local })
  }

  /** Calls `fn` after every change (local or remote); returns the function that stops it. */
  observe (fn: (e: ChangeEvent) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  /** Replica ids that currently hold a key in the document. */
  replicas (): string[] { return [...this.ymap.keys()].sort() }

  /**
   * Folds the slice of a departed replica into this replica's slice and deletes its key. The
   * value does not change. Run it for replicas that are gone for good, from one place (e.g. an
   * admin task), after their final state has synced here.
   */
  prune (replica: string): void {
    if (replica === this.replica) throw new RangeError('a replica cannot prune itself')
    const other = this.slices.get(replica)
    if (other === undefined) return
    this.doc.transact(() => {
      this.writeOwn(this.codec.merge(this.own, other))
      this.slices.delete(replica)
      this.ymap.delete(replica)
      this.slicesChanged()
    }, this)
  }

  /** Stops listening to the document. */
  destroy (): void {
    this.ymap.unobserve(this.handler)
    this.listeners.clear()
  }
}
