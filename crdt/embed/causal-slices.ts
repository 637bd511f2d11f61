/**
 * Replica slices for the causal CRDTs (ORSet, MVRegister, ORMap) inside a Y.Doc.
 *
 * A replica's slice is a pure-core causal value (dot store + causal context) holding only:
 * - the live dots this replica owns (its own, plus those of replicas it pruned), and
 * - a causal context made of a version vector for the replicas it owns, plus the foreign dots
 *   it removed or overwrote that some other slice still stores.
 * The value is the join of all slices (the ordinary dot-store join). Before each write a
 * replica tidies its slice: it drops its own dots that the joined view shows removed, and it
 * forgets foreign removed dots once no other slice stores them (their owner has seen the
 * removal). So a removed element costs nothing once everyone has seen it, and the document
 * holds O(live dots + replicas) in total, never the history.
 *
 * Caveat: that forgetting is safe once the owner's newer slice is everywhere; a replica that
 * receives the remover's tidy slice before the owner's can briefly show the element again,
 * until the owner's slice arrives (Yjs does not order different clients' updates causally).
 * All replicas converge to the same value regardless of delivery order.
 */
import type * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { type Causal, type DotStore, joinCausal, dotsOf, retainIn, writeCausal, readCausal, emptyMap, emptyFun } from '../core/dot-store.ts'
import { contextOf, joinContext, maxCounter, emptyContext, type CausalContext, type Dot } from '../core/causal-context.ts'
import { readFramed, TypeTag, writeFramed, readTable, writeTable } from '../core/frame.ts'
import { ReplicaSlices, type EmbedOptions, type SliceCodec } from './replica-slices.ts'

/** One replica's slice: its causal value and the replica ids whose dots it owns. */
export interface CausalSlice<S extends DotStore> { readonly c: Causal<S>, readonly owns: ReadonlySet<string> }

/** Codec and join of causal slices whose top store is of `kind`. */
export function causalSliceCodec<S extends DotStore> (kind: S['kind']): SliceCodec<CausalSlice<S>> {
  const empty: Causal<S> = { store: (kind === 'fun' ? emptyFun : emptyMap) as S, ctx: emptyContext }
  return {
    empty: () => ({ c: empty, owns: new Set() }),
    merge: (a, b) => ({ c: joinCausal(a.c, b.c), owns: new Set([...a.owns, ...b.owns]) }),
    encode: s => writeFramed(TypeTag.Slice, enc => {
      writeTable(enc, [...s.owns].sort())
      encoding.writeUint8(enc, kind === 'fun' ? 1 : 2)
      writeCausal(enc, s.c)
    }),
    decode: bytes => readFramed(TypeTag.Slice, 'replica slice', bytes, dec => {
      const owns = new Set(readTable(dec))
      const k = decoding.readUint8(dec)
      if (k !== (kind === 'fun' ? 1 : 2)) throw new Error(`slice holds a ${k === 1 ? 'fun' : 'map'} store`)
      return { c: readCausal<S>(dec, kind), owns }
    }),
  }
}

/** Base of the embedded causal CRDTs: keeps the joined view and applies local deltas. */
export abstract class CausalSlices<S extends DotStore> extends ReplicaSlices<CausalSlice<S>> {
  private viewCache: { version: number, view: Causal<S> } | null = null
  private elsewhere: { version: number, dots: Map<string, Set<number>> } | null = null
  private remoteVersion = 0

  constructor (doc: Y.Doc, kindName: string, name: string, kind: S['kind'], options?: EmbedOptions) {
    super(doc, kindName, name, causalSliceCodec<S>(kind), options)
  }

  protected override slicesChanged (): void { super.slicesChanged(); this.remoteVersion++ }

  /** The joined state of all replicas (a pure-core causal value). */
  view (): Causal<S> {
    if (this.viewCache?.version !== this.version) {
      let v = this.codec.empty().c
      for (const s of this.slices.values()) v = joinCausal(v, s.c)
      this.viewCache = { version: this.version, view: v }
    }
    return this.viewCache.view
  }

  /** Dots stored in slices other than this replica's: replica → counters. */
  private storedElsewhere (): Map<string, Set<number>> {
    if (this.elsewhere?.version !== this.remoteVersion) {
      const dots = new Map<string, Set<number>>()
      for (const [r, s] of this.slices) {
        if (r === this.replica) continue
        for (const d of dotsOf(s.c.store)) {
          let set = dots.get(d.replica)
          if (!set) dots.set(d.replica, set = new Set())
          set.add(d.counter)
        }
      }
      this.elsewhere = { version: this.remoteVersion, dots }
    }
    return this.elsewhere.dots
  }

  /** Applies a local delta (computed by a pure-core mutator against {@link view}). */
  protected applyDelta (delta: Causal<S>): void {
    const view = joinCausal(this.view(), delta)
    const own = this.own
    const joined = joinCausal(own.c, delta)
    const owns = new Set(own.owns).add(this.replica)
    const store = retainIn(joined.store, view.store)
    // Foreign dots this replica removed or overwrote: keep only those another slice still stores.
    const foreign: Dot[] = []
    const elsewhere = this.storedElsewhere()
    for (const r of new Set([...joined.ctx.vv.keys(), ...joined.ctx.cloud.keys()])) {
      if (owns.has(r)) continue
      const stored = elsewhere.get(r)
      if (!stored) continue
      const top = joined.ctx.vv.get(r) ?? 0
      const cloud = joined.ctx.cloud.get(r)
      if (top > 0) {
        for (const c of stored) if (c <= top || cloud?.has(c)) foreign.push({ replica: r, counter: c })
      } else if (cloud) {
        for (const c of cloud) if (stored.has(c)) foreign.push({ replica: r, counter: c })
      }
    }
    const vv = new Map<string, number>()
    for (const r of owns) { const m = maxCounter(joined.ctx, r); if (m > 0) vv.set(r, m) }
    const ctx: CausalContext = joinContext({ vv, cloud: new Map() }, contextOf(foreign))
    this.writeOwn({ c: { store, ctx }, owns }, () => { this.viewCache = { version: this.version, view } })
  }
}
