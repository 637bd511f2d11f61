/**
 * What the sync protocols need from a state-based CRDT, for the two pure `crdt/` types the
 * sync benchmark uses ({@link GCounter} and the add-wins {@link ORSet}):
 * join, equality, codec, the join-decomposition difference Δ(a, x) of Enes et al. (the part
 * of `a` not already in `x`, used to remove redundant state), and a Yjs-style digest (the
 * state vector) with the diff a peer answers to a digest.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { core } from '../../crdt/index.ts'
import { contains, contextOf, type Dot } from '../../crdt/core/causal-context.ts'
import { dotsOf } from '../../crdt/core/dot-store.ts'

const { GCounter, ORSet } = core

/** A state-based CRDT as seen by a sync protocol. */
export interface SyncLattice<S> {
  readonly name: string
  empty (): S
  merge (a: S, b: S): S
  equals (a: S, b: S): boolean
  isBottom (s: S): boolean
  encode (s: S): Uint8Array
  /** Δ(a, x): the join of the irreducible parts of `a` not below `x`. */
  difference (a: S, x: S): S
  /** The digest (state vector) of `s`. */
  digest (s: S): Uint8Array
  /** What `s` has that the peer with `digest` lacks (bottom if nothing). */
  diff (s: S, digest: Uint8Array): S
  /** A random local mutation at `replica` (returns the delta). */
  mutate (s: S, replica: string, rand: () => number): S
}

export const gcounterLattice: SyncLattice<core.GCounter> = {
  name: 'GCounter',
  empty: GCounter.empty,
  merge: GCounter.merge,
  equals: GCounter.equals,
  isBottom: s => s.counts.size === 0,
  encode: GCounter.encode,
  difference (a, x) {
    const counts = new Map<string, number>()
    for (const [r, c] of a.counts) if (c > (x.counts.get(r) ?? 0)) counts.set(r, c)
    return { counts }
  },
  digest (s) {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, s.counts.size)
    for (const [r, c] of s.counts) { encoding.writeVarString(enc, r); encoding.writeVarUint(enc, c) }
    return encoding.toUint8Array(enc)
  },
  diff (s, digest) { return gcounterLattice.difference(s, { counts: readVector(digest) }) },
  mutate: (s, r) => GCounter.increment(s, r, 1),
}

function readVector (bytes: Uint8Array): Map<string, number> {
  const dec = decoding.createDecoder(bytes)
  const m = new Map<string, number>()
  for (let n = decoding.readVarUint(dec); n > 0; n--) { const r = decoding.readVarString(dec); m.set(r, decoding.readVarUint(dec)) }
  return m
}

type Set_ = core.ORSet<number>

/** Every dot of `ctx`'s replicas above what `other` has seen, in `ctx` (both contexts). */
function newDots (a: core.CausalContext, other: core.CausalContext): Dot[] {
  const out: Dot[] = []
  for (const [r, top] of a.vv) for (let c = (other.vv.get(r) ?? 0) + 1; c <= top; c++) { const d = { replica: r, counter: c }; if (!contains(other, d)) out.push(d) }
  for (const [r, cs] of a.cloud) for (const c of cs) { const d = { replica: r, counter: c }; if (!contains(other, d)) out.push(d) }
  return out
}

const key = (d: Dot): string => `${d.replica}:${d.counter}`

/** The part of `a` restricted to the dots `keep` (store entries with those dots, context = keep). */
function restrict (a: Set_, keep: Dot[]): Set_ {
  if (keep.length === 0) return ORSet.empty()
  const ks = new Set(keep.map(key))
  const entries = new Map<string, { kind: 'set', dots: Dot[] }>()
  for (const [e, s] of a.store.entries) {
    const dots = dotsOf(s).filter(d => ks.has(key(d)))
    if (dots.length > 0) entries.set(e, { kind: 'set', dots })
  }
  return { store: { kind: 'map', entries }, ctx: contextOf(keep) }
}

function encodeContext (ctx: core.CausalContext): Uint8Array {
  return ORSet.encode({ store: { kind: 'map', entries: new Map() }, ctx })
}

export const orsetLattice: SyncLattice<Set_> = {
  name: 'ORSet',
  empty: () => ORSet.empty<number>(),
  merge: ORSet.merge,
  equals: ORSet.equals,
  isBottom: s => s.store.entries.size === 0 && s.ctx.vv.size === 0 && s.ctx.cloud.size === 0,
  encode: ORSet.encode,
  difference (a, x) {
    const keep = newDots(a.ctx, x.ctx)
    // Removals `a` knows of that `x` still holds live.
    const live = new Set(dotsOf(a.store).map(key))
    for (const d of dotsOf(x.store)) if (contains(a.ctx, d) && !live.has(key(d))) keep.push(d)
    return restrict(a, keep)
  },
  digest: s => encodeContext(s.ctx),
  diff (s, digest) {
    const remote = ORSet.decode<number>(digest).ctx
    const live = dotsOf(s.store)
    const liveKeys = new Set(live.map(key))
    // Yjs-style: the structs the peer has not seen, plus the whole delete set.
    const keep = live.filter(d => !contains(remote, d))
    for (const d of newDots(s.ctx, { vv: new Map(), cloud: new Map() })) if (!liveKeys.has(key(d))) keep.push(d)
    return restrict(s, keep)
  },
  mutate (s, r, rand) {
    const live = ORSet.value(s)
    if (live.length > 0 && rand() < 0.4) return ORSet.remove(s, live[Math.floor(rand() * live.length)]!)
    return ORSet.add(s, r, Math.floor(rand() * 100))
  },
}
