/**
 * The same workloads through @automerge/automerge and loro-crdt, so tandem's numbers have
 * peers: counter increments from 10 replicas (Automerge `Counter`, `LoroCounter`) and map churn
 * over `live` keys (put/delete), merging every 1,000 operations, encoded size at checkpoints.
 */
import * as A from '@automerge/automerge'
import { LoroDoc } from 'loro-crdt'
import * as prng from 'lib0/prng'
import type { SizeRow } from './ydoc-workloads.ts'

const REPLICAS = 10

function run<D> (workload: string, variant: string, total: number, checkpoints: number[], init: (i: number) => D, op: (d: D, r: number, k: number) => D, makeMerge: () => (docs: D[]) => D[], size: (d: D) => number): SizeRow[] {
  let docs = Array.from({ length: REPLICAS }, (_, i) => init(i))
  const merge = makeMerge()
  const rows: SizeRow[] = []
  const start = performance.now()
  for (let k = 0; k < total; k++) {
    const r = k % REPLICAS
    docs[r] = op(docs[r]!, r, k)
    if ((k + 1) % 1000 === 0 || k + 1 === total) docs = merge(docs)
    if (checkpoints.includes(k + 1)) rows.push({ workload, variant, ops: k + 1, bytes: size(docs[0]!), ms: performance.now() - start })
  }
  return rows
}

type AmCounter = { c: A.Counter }
type AmMap = { m: Record<string, boolean> }
const actor = (i: number) => (i + 1).toString(16).padStart(32, '0')

/** Star merge through a persistent hub document (as the Yjs workloads do). */
function amMerge<T> (): (docs: A.Doc<T>[]) => A.Doc<T>[] {
  let hub: A.Doc<T> | null = null
  return docs => {
    for (const d of docs) hub = hub ? A.merge(hub, d) : A.clone(d, { actor: actor(98) })
    return docs.map(d => A.merge(d, hub!))
  }
}

/** Counter increments from 10 replicas through Automerge and Loro. */
export function peerCounterSizes (peer: 'automerge' | 'loro', total: number, checkpoints: number[]): SizeRow[] {
  const w = `counter, ${REPLICAS} replicas`
  const base = A.change(A.init<AmCounter>({ actor: actor(99) }), d => { d.c = new A.Counter(0) })
  return peer === 'automerge'
    ? run<A.Doc<AmCounter>>(w, 'automerge Counter', total, checkpoints,
      i => A.clone(base, { actor: actor(i) }), d => A.change(d, x => { x.c.increment(1) }), amMerge, d => A.save(d).length)
    : run<LoroDoc>(w, 'loro LoroCounter', total, checkpoints,
      i => { const d = new LoroDoc(); d.setPeerId(BigInt(i + 1)); return d },
      d => { d.getCounter('c').increment(1); d.commit(); return d },
      loroMerge, d => d.export({ mode: 'snapshot' }).length)
}

/** Star merge through a persistent hub document, exchanging only what each side lacks. */
function loroMerge (): (docs: LoroDoc[]) => LoroDoc[] {
  const hub = new LoroDoc()
  return docs => {
    for (const d of docs) hub.import(d.export({ mode: 'update', from: hub.oplogVersion() }))
    for (const d of docs) d.import(hub.export({ mode: 'update', from: d.oplogVersion() }))
    return docs
  }
}

/** Map put/delete churn over `live` keys from 10 replicas through Automerge and Loro. */
export function peerMapChurnSizes (peer: 'automerge' | 'loro', total: number, checkpoints: number[], live = 1000): SizeRow[] {
  const w = `set churn, ${live} live, ${REPLICAS} replicas`
  const churn = <D>(add: (d: D, e: string) => D, del: (d: D, e: string) => D) => {
    const gen = prng.create(42)
    const settled: string[] = []; let fresh: string[] = []; let next = 0
    return (d: D, _r: number, k: number): D => {
      if (k % 1000 === 0) { settled.push(...fresh); fresh = [] }
      if (settled.length + fresh.length < live || settled.length === 0) { const e = `e${next++}`; fresh.push(e); return add(d, e) }
      const i = prng.int32(gen, 0, settled.length - 1); const v = settled[i]!
      settled[i] = settled[settled.length - 1]!; settled.pop()
      return del(d, v)
    }
  }
  const base = A.change(A.init<AmMap>({ actor: actor(99) }), d => { d.m = {} })
  return peer === 'automerge'
    ? run<A.Doc<AmMap>>(w, 'automerge map (key per element)', total, checkpoints, i => A.clone(base, { actor: actor(i) }),
      churn<A.Doc<AmMap>>((d, e) => A.change(d, x => { x.m[e] = true }), (d, e) => A.change(d, x => { delete x.m[e] })), amMerge, d => A.save(d).length)
    : run<LoroDoc>(w, 'loro LoroMap (key per element)', total, checkpoints, i => { const d = new LoroDoc(); d.setPeerId(BigInt(i + 1)); return d },
      churn<LoroDoc>((d, e) => { d.getMap('m').set(e, true); d.commit(); return d }, (d, e) => { d.getMap('m').delete(e); d.commit(); return d }),
      loroMerge, d => d.export({ mode: 'snapshot' }).length)
}
