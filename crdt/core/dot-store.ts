/**
 * Dot stores, the building blocks of the causal CRDTs (ORSet, MVRegister, ORMap):
 * a DotSet (set of dots), a DotFun (dot → value) and a DotMap (key → dot store), each
 * paired with a causal context. The join rule is the same at every level: a dot survives if
 * both sides hold it, or if one side holds it and the other side has never seen it. A dot seen
 * and dropped by one side is removed without any tombstone: the context remembers it, and the
 * context is compact (version vector + cloud).
 *
 * Stores are immutable; `join` returns new stores and shares unchanged subtrees.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { contains, type CausalContext, type Dot, joinContext, contextEquals, writeContext, readContext } from './causal-context.ts'
import { check, readCount, readRef } from './frame.ts'
import { canonicalJson, parseJson, type Json } from './json-value.ts'

/** A set of dots (e.g. the adds of one ORSet element). Dots sorted by replica, then counter. */
export interface DotSet { readonly kind: 'set', readonly dots: readonly Dot[] }
/** A map from dot to a JSON value (e.g. the concurrent writes of an MVRegister). */
export interface DotFun { readonly kind: 'fun', readonly entries: readonly DotEntry[] }
/** One entry of a {@link DotFun}. */
export interface DotEntry { readonly dot: Dot, readonly value: Json }
/** A map from key to nested dot store (e.g. an ORSet's elements, an ORMap's fields). */
export interface DotMap { readonly kind: 'map', readonly entries: ReadonlyMap<string, DotStore> }
/** Any dot store. */
export type DotStore = DotSet | DotFun | DotMap
/** A dot store with the causal context it was built under. */
export interface Causal<S extends DotStore> { readonly store: S, readonly ctx: CausalContext }

export const emptySet: DotSet = { kind: 'set', dots: [] }
export const emptyFun: DotFun = { kind: 'fun', entries: [] }
export const emptyMap: DotMap = { kind: 'map', entries: new Map() }

function emptyOf (kind: DotStore['kind']): DotStore {
  return kind === 'set' ? emptySet : kind === 'fun' ? emptyFun : emptyMap
}

/** Whether a store holds no dot. */
export function isEmpty (s: DotStore): boolean {
  return s.kind === 'map' ? s.entries.size === 0 : s.kind === 'set' ? s.dots.length === 0 : s.entries.length === 0
}

/** Total order on dots: replica id, then counter. */
export function compareDots (a: Dot, b: Dot): number {
  return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : a.counter - b.counter
}

const sameDot = (a: Dot, b: Dot): boolean => a.replica === b.replica && a.counter === b.counter

/** Join of two stores of the same kind under their contexts. */
export function joinStore (a: DotStore, ca: CausalContext, b: DotStore, cb: CausalContext): DotStore {
  if (a.kind !== b.kind) {
    // Only reachable from hand-built values: resolve deterministically by kind order.
    if (isEmpty(a)) return joinStore(emptyOf(b.kind), ca, b, cb)
    if (isEmpty(b)) return joinStore(a, ca, emptyOf(a.kind), cb)
    return a.kind > b.kind ? a : b
  }
  if (a.kind === 'set') {
    const bd = (b as DotSet).dots
    const out = a.dots.filter(d => bd.some(x => sameDot(x, d)) || !contains(cb, d))
    for (const d of bd) if (!a.dots.some(x => sameDot(x, d)) && !contains(ca, d)) out.push(d)
    return { kind: 'set', dots: out.sort(compareDots) }
  }
  if (a.kind === 'fun') {
    const be = (b as DotFun).entries
    const out = a.entries.filter(e => be.some(x => sameDot(x.dot, e.dot)) || !contains(cb, e.dot))
    for (const e of be) if (!a.entries.some(x => sameDot(x.dot, e.dot)) && !contains(ca, e.dot)) out.push(e)
    return { kind: 'fun', entries: out.sort((x, y) => compareDots(x.dot, y.dot)) }
  }
  const bm = (b as DotMap).entries
  if (bm.size > a.entries.size) return joinStore(b, cb, a, ca)
  // Start from a copy of the larger side and patch: keys only in `a` change only if `cb` saw them.
  const out = new Map(a.entries)
  const cbEmpty = cb.vv.size === 0 && cb.cloud.size === 0
  if (!cbEmpty) {
    for (const [k, av] of a.entries) {
      if (bm.has(k) || !anySeen(av, cb)) continue
      const j = dropSeen(av, cb)
      if (isEmpty(j)) out.delete(k); else out.set(k, j)
    }
  }
  for (const [k, bv] of bm) {
    const av = a.entries.get(k)
    const j = av ? joinStore(av, ca, bv, cb) : dropSeen(bv, ca)
    if (isEmpty(j)) out.delete(k); else out.set(k, j)
  }
  return { kind: 'map', entries: out }
}

/** `s` joined with an empty store under `c`: drops the dots `c` has seen; returns `s` itself if none. */
function dropSeen (s: DotStore, c: CausalContext): DotStore {
  if (c.vv.size === 0 && c.cloud.size === 0) return s
  if (!anySeen(s, c)) return s
  return joinStore(s, emptyContextFor, emptyOf(s.kind), c)
}
function anySeen (s: DotStore, c: CausalContext): boolean {
  if (s.kind === 'set') { for (const d of s.dots) if (contains(c, d)) return true; return false }
  if (s.kind === 'fun') { for (const e of s.entries) if (contains(c, e.dot)) return true; return false }
  for (const v of s.entries.values()) if (anySeen(v, c)) return true
  return false
}
const emptyContextFor: CausalContext = { vv: new Map(), cloud: new Map() }

/** Join of two causal values: the lattice merge of ORSet, MVRegister and ORMap. */
export function joinCausal<S extends DotStore> (a: Causal<S>, b: Causal<S>): Causal<S> {
  return { store: joinStore(a.store, a.ctx, b.store, b.ctx) as S, ctx: joinContext(a.ctx, b.ctx) }
}

/** Every dot held by a store (recursively). */
export function dotsOf (s: DotStore | undefined, out: Dot[] = []): Dot[] {
  if (!s) return out
  if (s.kind === 'set') out.push(...s.dots)
  else if (s.kind === 'fun') for (const e of s.entries) out.push(e.dot)
  else for (const v of s.entries.values()) dotsOf(v, out)
  return out
}

/** Structural equality of stores. */
export function storeEquals (a: DotStore, b: DotStore): boolean {
  if (a.kind !== b.kind) return false
  if (a.kind === 'set') {
    const bd = (b as DotSet).dots
    return a.dots.length === bd.length && a.dots.every((d, i) => sameDot(d, bd[i]!))
  }
  if (a.kind === 'fun') {
    const be = (b as DotFun).entries
    return a.entries.length === be.length && a.entries.every((e, i) => sameDot(e.dot, be[i]!.dot) && canonicalJson(e.value) === canonicalJson(be[i]!.value))
  }
  const bm = (b as DotMap).entries
  if (a.entries.size !== bm.size) return false
  for (const [k, v] of a.entries) {
    const o = bm.get(k)
    if (!o || !storeEquals(v, o)) return false
  }
  return true
}

/** Equality of causal values (store and context). */
export function causalEquals (a: Causal<DotStore>, b: Causal<DotStore>): boolean {
  return storeEquals(a.store, b.store) && contextEquals(a.ctx, b.ctx)
}

/** Replica ids mentioned by a store. */
export function storeReplicas (s: DotStore, out = new Set<string>()): Set<string> {
  for (const d of dotsOf(s)) out.add(d.replica)
  return out
}

const KIND_CODE = { set: 0, fun: 1, map: 2 } as const

/** Writes a store with replica ids as indices into `table`. */
export function writeStore (enc: encoding.Encoder, s: DotStore, table: Map<string, number>): void {
  encoding.writeUint8(enc, KIND_CODE[s.kind])
  if (s.kind === 'set') {
    encoding.writeVarUint(enc, s.dots.length)
    for (const d of s.dots) { encoding.writeVarUint(enc, table.get(d.replica)!); encoding.writeVarUint(enc, d.counter) }
  } else if (s.kind === 'fun') {
    encoding.writeVarUint(enc, s.entries.length)
    for (const e of s.entries) {
      encoding.writeVarUint(enc, table.get(e.dot.replica)!)
      encoding.writeVarUint(enc, e.dot.counter)
      encoding.writeVarString(enc, canonicalJson(e.value))
    }
  } else {
    encoding.writeVarUint(enc, s.entries.size)
    for (const [k, v] of s.entries) { encoding.writeVarString(enc, k); writeStore(enc, v, table) }
  }
}

function readDot (dec: decoding.Decoder, table: readonly string[], ctx: CausalContext, seen: Set<string>): Dot {
  const replica = readRef(dec, table)
  const counter = readCount(dec)
  const dot = { replica, counter }
  check(counter > 0 && contains(ctx, dot), 'dot outside the causal context')
  const id = `${counter}@${replica}`
  check(!seen.has(id), 'dot stored twice')
  seen.add(id)
  return dot
}

/**
 * Reads a store written by {@link writeStore}. Enforces the causal invariants: every dot is
 * in `ctx`, no dot appears twice, no nested store is empty.
 */
export function readStore (dec: decoding.Decoder, table: readonly string[], ctx: CausalContext, seen = new Set<string>(), depth = 0): DotStore {
  check(depth < 64, 'dot store nested too deep')
  const kind = decoding.readUint8(dec)
  const n = readCount(dec)
  check(n <= dec.arr.length, 'entry count exceeds input')
  if (kind === 0) {
    const dots: Dot[] = []
    for (let i = 0; i < n; i++) dots.push(readDot(dec, table, ctx, seen))
    return { kind: 'set', dots: dots.sort(compareDots) }
  }
  if (kind === 1) {
    const entries: DotEntry[] = []
    for (let i = 0; i < n; i++) {
      const dot = readDot(dec, table, ctx, seen)
      entries.push({ dot, value: parseJson<Json>(decoding.readVarString(dec)) })
    }
    return { kind: 'fun', entries: entries.sort((x, y) => compareDots(x.dot, y.dot)) }
  }
  check(kind === 2, `unknown dot store kind ${kind}`)
  const entries = new Map<string, DotStore>()
  for (let i = 0; i < n; i++) {
    const k = decoding.readVarString(dec)
    check(!entries.has(k), 'duplicate key')
    const v = readStore(dec, table, ctx, seen, depth + 1)
    check(!isEmpty(v), 'empty nested store')
    entries.set(k, v)
  }
  return { kind: 'map', entries }
}

export { readContext, writeContext }

/** Writes a causal value: replica table, context, store. */
export function writeCausal (enc: encoding.Encoder, c: Causal<DotStore>): void {
  const replicas = [...new Set([...c.ctx.vv.keys(), ...c.ctx.cloud.keys(), ...storeReplicas(c.store)])].sort()
  const table = new Map(replicas.map((r, i) => [r, i]))
  encoding.writeVarUint(enc, replicas.length)
  for (const r of replicas) encoding.writeVarString(enc, r)
  writeContext(enc, c.ctx, table)
  writeStore(enc, c.store, table)
}

/** Reads a causal value written by {@link writeCausal}; the top store must be of `kind`. */
export function readCausal<S extends DotStore> (dec: decoding.Decoder, kind: S['kind']): Causal<S> {
  const n = readCount(dec)
  check(n <= dec.arr.length, 'replica table exceeds input')
  const table: string[] = []
  for (let i = 0; i < n; i++) table.push(decoding.readVarString(dec))
  check(new Set(table).size === n, 'duplicate replica id')
  const ctx = readContext(dec, table)
  const store = readStore(dec, table, ctx)
  check(store.kind === kind, `expected a ${kind} store, found ${store.kind}`)
  return { store: store as S, ctx }
}

/** The store without the dots `keep` rejects; empty nested stores are dropped. Returns `s` if unchanged. */
export function filterStore<S extends DotStore> (s: S, keep: (d: Dot) => boolean): S {
  if (s.kind === 'set') {
    const dots = s.dots.filter(keep)
    return (dots.length === s.dots.length ? s : { kind: 'set', dots }) as S
  }
  if (s.kind === 'fun') {
    const entries = s.entries.filter(e => keep(e.dot))
    return (entries.length === s.entries.length ? s : { kind: 'fun', entries }) as S
  }
  let changed = false
  const out = new Map<string, DotStore>()
  for (const [k, v] of (s as DotMap).entries) {
    const f = filterStore(v, keep)
    if (f !== v) changed = true
    if (!isEmpty(f)) out.set(k, f)
  }
  return (changed ? { kind: 'map', entries: out } : s) as S
}

/** String identity of a dot, for sets of dots. */
export const dotId = (d: Dot): string => `${d.counter}@${d.replica}`

/**
 * The dots of `s` that `reference` also holds at the same place (same keys), dropping empty
 * nested stores. O(size of `s`). Returns `s` itself if nothing is dropped.
 */
export function retainIn<S extends DotStore> (s: S, reference: DotStore | undefined): S {
  if (s.kind === 'set') {
    const ref = reference?.kind === 'set' ? reference.dots : []
    return filterStore(s, d => ref.some(x => sameDot(x, d)))
  }
  if (s.kind === 'fun') {
    const ref = reference?.kind === 'fun' ? reference.entries : []
    return filterStore(s, d => ref.some(x => sameDot(x.dot, d)))
  }
  const ref = reference?.kind === 'map' ? reference.entries : new Map<string, DotStore>()
  let changed = false
  const out = new Map<string, DotStore>()
  for (const [k, v] of (s as DotMap).entries) {
    const f = retainIn(v, ref.get(k))
    if (f !== v) changed = true
    if (!isEmpty(f)) out.set(k, f)
  }
  return (changed ? { kind: 'map', entries: out } : s) as S
}
