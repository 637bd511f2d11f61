/**
 * Observed-remove map whose fields are themselves CRDTs: counters, add-wins sets,
 * registers (siblings kept, each with its write time) and nested maps, all sharing the map's
 * one causal context (Almeida et al.'s ORMap over dot stores).
 *
 * Semantics: removing a field removes what the remover observed; a concurrent update to the
 * field was not observed, so it survives (update wins over remove, the usual OR-Map rule).
 * For a counter field the survivor is the concurrently updating replica's whole contribution
 * (Riak's "reset-remove" counter): a remove resets what it saw, not what it did not.
 * Fields are typed: a field name holds one kind; if two replicas concurrently create the same
 * name with different kinds, both exist internally and {@link ORMap.value} shows the first in
 * the order map, set, counter, register.
 *
 * Values are immutable; `apply` returns the delta of one operation, to `merge` locally and ship.
 */
import { nextDot, contextOf, emptyContext, type Dot } from './causal-context.ts'
import { type Causal, type DotMap, type DotFun, type DotStore, joinCausal, causalEquals, dotsOf, writeCausal, readCausal, emptyMap } from './dot-store.ts'
import { check, readFramed, TypeTag, writeFramed } from './frame.ts'
import { canonicalJson, parseJson, type Json } from './json-value.ts'
import { systemClock, type Clock } from './lww-register.ts'

/** An ORMap state (or delta). */
export interface ORMap extends Causal<DotMap> {}

/** The kinds of field an ORMap holds. */
export type FieldKind = 'counter' | 'set' | 'register' | 'map'

/** One operation on a field (the field is the last element of the path). */
export type MapOp =
  | { readonly type: 'increment', readonly n?: number }
  | { readonly type: 'decrement', readonly n?: number }
  | { readonly type: 'add', readonly value: unknown }
  | { readonly type: 'remove', readonly value: unknown }
  | { readonly type: 'set', readonly value: unknown }
  | { readonly type: 'delete' }

/** One concurrent value of a register field: the value, the writer and its clock. */
export interface RegisterSibling { readonly value: unknown, readonly replica: string, readonly time: number, readonly dot: Dot }

/** The plain value of a map: field name → number (counter), array (set), siblings (register) or nested map. */
export interface MapValue { [field: string]: number | unknown[] | RegisterSibling[] | MapValue }

const PREFIX: Record<FieldKind, string> = { map: 'm:', set: 's:', counter: 'c:', register: 'r:' }
const KIND_OF: Record<string, FieldKind> = { 'm:': 'map', 's:': 'set', 'c:': 'counter', 'r:': 'register' }
const ORDER = ['m:', 's:', 'c:', 'r:']

/** Internal key of a field. */
export const fieldKey = (kind: FieldKind, name: string): string => PREFIX[kind] + name

function storeAt (x: ORMap, path: readonly string[]): DotMap | undefined {
  let cur: DotStore | undefined = x.store
  for (const p of path) {
    cur = cur?.kind === 'map' ? cur.entries.get(PREFIX.map + p) : undefined
  }
  return cur?.kind === 'map' ? cur : undefined
}

function wrap (path: readonly string[], key: string, inner: DotStore): DotMap {
  let s: DotMap = { kind: 'map', entries: new Map([[key, inner]]) }
  for (let i = path.length - 1; i >= 0; i--) s = { kind: 'map', entries: new Map([[PREFIX.map + path[i]!, s]]) }
  return s
}

function counterAmount (n: number | undefined): number {
  const v = n ?? 1
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`counter amount must be a non-negative safe integer, got ${v}`)
  return v
}

export const ORMap = {
  /** The empty map. */
  empty (): ORMap { return { store: emptyMap, ctx: emptyContext } },
  /**
   * Delta of `op` on the field `path[path.length - 1]` inside the nested maps `path[0..-1]`,
   * on behalf of `replica`. Register writes take their time from `clock` (default Date.now).
   */
  apply (x: ORMap, replica: string, path: readonly string[], op: MapOp, clock: Clock = systemClock): ORMap {
    if (path.length === 0) throw new RangeError('ORMap.apply: empty path')
    const parents = path.slice(0, -1)
    const name = path[path.length - 1]!
    const parent = storeAt(x, parents)
    if (op.type === 'delete') {
      const dots: Dot[] = []
      for (const kind of Object.values(PREFIX)) dotsOf(parent?.entries.get(kind + name), dots)
      return { store: emptyMap, ctx: contextOf(dots) }
    }
    const dot = nextDot(x.ctx, replica)
    if (op.type === 'increment' || op.type === 'decrement') {
      const key = fieldKey('counter', name)
      const own = ((parent?.entries.get(key) as DotFun | undefined)?.entries ?? []).filter(e => e.dot.replica === replica)
      let p = 0; let n = 0
      for (const e of own) { const [ep, en] = e.value as [number, number]; p += ep; n += en }
      const amount = counterAmount(op.n)
      if (op.type === 'increment') p += amount; else n += amount
      return { store: wrap(parents, key, { kind: 'fun', entries: [{ dot, value: [p, n] }] }), ctx: contextOf([dot, ...own.map(e => e.dot)]) }
    }
    if (op.type === 'add' || op.type === 'remove') {
      const key = fieldKey('set', name)
      const elem = canonicalJson(op.value)
      const old = dotsOf((parent?.entries.get(key) as DotMap | undefined)?.entries.get(elem))
      if (op.type === 'remove') return { store: emptyMap, ctx: contextOf(old) }
      const inner: DotMap = { kind: 'map', entries: new Map([[elem, { kind: 'set', dots: [dot] }]]) }
      return { store: wrap(parents, key, inner), ctx: contextOf([dot, ...old]) }
    }
    const key = fieldKey('register', name)
    const old = dotsOf(parent?.entries.get(key))
    const value = { v: op.value as Json, t: clock() }
    return { store: wrap(parents, key, { kind: 'fun', entries: [{ dot, value }] }), ctx: contextOf([dot, ...old]) }
  },
  /** The map as plain data (see {@link MapValue}). */
  value (x: ORMap): MapValue { return mapValue(x.store) },
  /** Least upper bound (dot-store join). */
  merge (a: ORMap, b: ORMap): ORMap { return joinCausal(a, b) },
  /** Structural equality. */
  equals (a: ORMap, b: ORMap): boolean { return causalEquals(a, b) },
  /** Compact binary form. */
  encode (x: ORMap): Uint8Array { return writeFramed(TypeTag.ORMap, enc => writeCausal(enc, x)) },
  /** Inverse of {@link ORMap.encode}; throws {@link CrdtCodecError} on bad bytes. */
  decode (bytes: Uint8Array): ORMap {
    return readFramed(TypeTag.ORMap, 'ORMap', bytes, dec => {
      const c = readCausal<DotMap>(dec, 'map')
      validate(c.store)
      return c
    })
  },
}

function validate (m: DotMap): void {
  for (const [k, v] of m.entries) {
    const kind = KIND_OF[k.slice(0, 2)]
    check(kind !== undefined, `unknown ORMap field key ${JSON.stringify(k)}`)
    if (kind === 'map') { check(v.kind === 'map', 'nested map field is not a dot map'); validate(v) }
    if (kind === 'set') check(v.kind === 'map' && [...v.entries.values()].every(e => e.kind === 'set'), 'set field is malformed')
    if (kind === 'counter') {
      check(v.kind === 'fun' && v.entries.every(e => Array.isArray(e.value) && e.value.length === 2 && e.value.every(n => Number.isSafeInteger(n) && (n as number) >= 0)), 'counter field is malformed')
    }
    if (kind === 'register') {
      check(v.kind === 'fun' && v.entries.every(e => typeof e.value === 'object' && e.value !== null && 'v' in e.value && typeof (e.value as { t?: unknown }).t === 'number'), 'register field is malformed')
    }
  }
}

function mapValue (m: DotMap): MapValue {
  const out: MapValue = {}
  const keys = [...m.entries.keys()].sort((a, b) => ORDER.indexOf(a.slice(0, 2)) - ORDER.indexOf(b.slice(0, 2)) || (a < b ? -1 : a > b ? 1 : 0))
  for (const k of keys) {
    const name = k.slice(2)
    if (name in out) continue
    const s = m.entries.get(k)!
    const kind = KIND_OF[k.slice(0, 2)]
    if (kind === 'map') out[name] = mapValue(s as DotMap)
    else if (kind === 'set') out[name] = [...(s as DotMap).entries.keys()].sort().map(e => parseJson<unknown>(e))
    else if (kind === 'counter') out[name] = (s as DotFun).entries.reduce((acc, e) => acc + (e.value as number[])[0]! - (e.value as number[])[1]!, 0)
    else {
      out[name] = (s as DotFun).entries.map(e => {
        const r = e.value as { v: unknown, t: number }
        return { value: r.v, time: r.t, replica: e.dot.replica, dot: e.dot }
      })
    }
  }
  return out
}
