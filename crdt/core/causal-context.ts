/**
 * Dots and causal contexts (Almeida, Shoker, Baquero: "Delta state replicated data types").
 *
 * A dot `(replica, counter)` names one event. A causal context is the set of dots a state has
 * seen, kept compact as a version vector (every dot up to `vv[r]`) plus a dot cloud (the few
 * dots above the vector that arrived out of order). {@link compact} folds the cloud into the
 * vector whenever it becomes contiguous, so a context is O(replicas) in steady state.
 *
 * Values are immutable: functions return new contexts.
 */
import * as encoding from 'lib0/encoding'
import type * as decoding from 'lib0/decoding'
import { check, readCount, readRef } from './frame.ts'

/** One event: the `counter`-th event of `replica` (counters start at 1). */
export interface Dot { readonly replica: string, readonly counter: number }

/** The set of dots a state has seen: version vector plus cloud of out-of-order dots. */
export interface CausalContext {
  readonly vv: ReadonlyMap<string, number>
  readonly cloud: ReadonlyMap<string, ReadonlySet<number>>
}

/** The empty context. */
export const emptyContext: CausalContext = { vv: new Map(), cloud: new Map() }

/** Whether `ctx` has seen `dot`. */
export function contains (ctx: CausalContext, dot: Dot): boolean {
  return dot.counter <= (ctx.vv.get(dot.replica) ?? 0) || (ctx.cloud.get(dot.replica)?.has(dot.counter) ?? false)
}

/** The highest counter of `replica` seen by `ctx` (0 if none). */
export function maxCounter (ctx: CausalContext, replica: string): number {
  let m = ctx.vv.get(replica) ?? 0
  for (const c of ctx.cloud.get(replica) ?? []) if (c > m) m = c
  return m
}

/** The next fresh dot for `replica`. */
export function nextDot (ctx: CausalContext, replica: string): Dot {
  return { replica, counter: maxCounter(ctx, replica) + 1 }
}

/** A context holding exactly `dots`, compacted. */
export function contextOf (dots: Iterable<Dot>): CausalContext {
  const cloud = new Map<string, Set<number>>()
  for (const d of dots) {
    let s = cloud.get(d.replica)
    if (!s) cloud.set(d.replica, s = new Set())
    s.add(d.counter)
  }
  return compact(new Map(), cloud)
}

/** The union of two contexts, compacted. Shares `a`'s untouched cloud entries. */
export function joinContext (a: CausalContext, b: CausalContext): CausalContext {
  if (b.vv.size === 0 && b.cloud.size === 0) return a
  if (a.vv.size === 0 && a.cloud.size === 0) return b
  const vv = new Map(a.vv)
  for (const [r, c] of b.vv) if (c > (vv.get(r) ?? 0)) vv.set(r, c)
  const cloud = new Map(a.cloud)
  for (const r of new Set([...b.vv.keys(), ...b.cloud.keys()])) {
    const s = new Set<number>(a.cloud.get(r) ?? [])
    for (const c of b.cloud.get(r) ?? []) s.add(c)
    let top = vv.get(r) ?? 0
    while (s.has(top + 1)) top++
    if (top > 0) vv.set(r, top)
    const rest = new Set<number>()
    for (const c of s) if (c > top) rest.add(c)
    if (rest.size > 0) cloud.set(r, rest); else cloud.delete(r)
  }
  return { vv, cloud }
}

function compact (vv: Map<string, number>, cloud: Map<string, Set<number>>): CausalContext {
  const outCloud = new Map<string, ReadonlySet<number>>()
  for (const [r, cs] of cloud) {
    let top = vv.get(r) ?? 0
    while (cs.has(top + 1)) top++
    if (top > 0) vv.set(r, top)
    const rest = new Set<number>()
    for (const c of cs) if (c > top) rest.add(c)
    if (rest.size > 0) outCloud.set(r, rest)
  }
  return { vv, cloud: outCloud }
}

/** Structural equality of two (compacted) contexts. */
export function contextEquals (a: CausalContext, b: CausalContext): boolean {
  if (a.vv.size !== b.vv.size || a.cloud.size !== b.cloud.size) return false
  for (const [r, c] of a.vv) if (b.vv.get(r) !== c) return false
  for (const [r, cs] of a.cloud) {
    const o = b.cloud.get(r)
    if (!o || o.size !== cs.size) return false
    for (const c of cs) if (!o.has(c)) return false
  }
  return true
}

/** Every replica id mentioned by `ctx`. */
export function contextReplicas (ctx: CausalContext): Set<string> {
  return new Set([...ctx.vv.keys(), ...ctx.cloud.keys()])
}

/** Writes `ctx` with replica ids as indices into `table`. */
export function writeContext (enc: encoding.Encoder, ctx: CausalContext, table: Map<string, number>): void {
  encoding.writeVarUint(enc, ctx.vv.size)
  for (const [r, c] of ctx.vv) { encoding.writeVarUint(enc, table.get(r)!); encoding.writeVarUint(enc, c) }
  encoding.writeVarUint(enc, ctx.cloud.size)
  for (const [r, cs] of ctx.cloud) {
    encoding.writeVarUint(enc, table.get(r)!)
    encoding.writeVarUint(enc, cs.size)
    for (const c of cs) encoding.writeVarUint(enc, c)
  }
}

/** Reads a context written by {@link writeContext}; refuses non-compact or invalid contexts. */
export function readContext (dec: decoding.Decoder, table: readonly string[]): CausalContext {
  const vv = new Map<string, number>()
  for (let n = readCount(dec); n > 0; n--) {
    const r = readRef(dec, table)
    const c = readCount(dec)
    check(c > 0 && !vv.has(r), 'bad version vector entry')
    vv.set(r, c)
  }
  const cloud = new Map<string, ReadonlySet<number>>()
  for (let n = readCount(dec); n > 0; n--) {
    const r = readRef(dec, table)
    const s = new Set<number>()
    const top = vv.get(r) ?? 0
    for (let k = readCount(dec); k > 0; k--) {
      const c = readCount(dec)
      check(c > top + 1 && !s.has(c), 'dot cloud entry not above the version vector')
      s.add(c)
    }
    check(s.size > 0 && !cloud.has(r), 'bad dot cloud entry')
    cloud.set(r, s)
  }
  return { vv, cloud }
}
