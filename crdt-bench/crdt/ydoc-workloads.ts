/**
 * Encoded size of a Y.Doc under long workloads, measured at checkpoints to show whether it
 * grows with history: counter increments from 10 replicas (tandem's `counter`, the LWW
 * baseline, and the naive per-replica-key Y.Map of yjs#741), also with each replica
 * interleaving writes to a second CRDT; and ORSet churn over 1,000 live elements.
 */
import * as Y from 'yjs'
import * as prng from 'lib0/prng'
import { counter, orSet, lww } from '../../crdt/index.ts'

export interface SizeRow { workload: string, variant: string, ops: number, bytes: number, ms: number }

const REPLICAS = 10

function makeDocs (): Y.Doc[] {
  return Array.from({ length: REPLICAS }, (_, i) => { const d = new Y.Doc(); d.clientID = i + 1; return d })
}

/** Star sync through a hub: every replica ends with every update. */
function syncAll (docs: Y.Doc[], hub: Y.Doc): void {
  for (const d of docs) Y.applyUpdate(hub, Y.encodeStateAsUpdate(d, Y.encodeStateVector(hub)))
  for (const d of docs) Y.applyUpdate(d, Y.encodeStateAsUpdate(hub, Y.encodeStateVector(d)))
}

function measure (workload: string, variant: string, total: number, checkpoints: number[], setup: (docs: Y.Doc[]) => (replica: number, k: number) => void): SizeRow[] {
  const docs = makeDocs(); const hub = new Y.Doc()
  const op = setup(docs)
  const rows: SizeRow[] = []
  const start = performance.now()
  for (let k = 0; k < total; k++) {
    op(k % REPLICAS, k)
    if ((k + 1) % 1000 === 0 || k + 1 === total) syncAll(docs, hub)
    if (checkpoints.includes(k + 1)) rows.push({ workload, variant, ops: k + 1, bytes: Y.encodeStateAsUpdate(hub).length, ms: performance.now() - start })
  }
  return rows
}

/** Counter increments from 10 replicas, stored as tandem's counter, LWW, and the naive Y.Map. */
export function counterSizes (total: number, checkpoints: number[]): SizeRow[] {
  const w = `counter, ${REPLICAS} replicas`
  return [
    ...measure(w, 'tandem counter', total, checkpoints, docs => { const c = docs.map(d => counter(d, 'x')); return r => c[r]!.increment() }),
    ...measure(w, 'tandem lww.counter (loses updates)', total, checkpoints, docs => { const c = docs.map(d => lww.counter(d, 'x')); return r => c[r]!.increment() }),
    ...measure(w, 'naive Y.Map per-replica keys', total, checkpoints, docs => {
      const m = docs.map(d => d.getMap<number>('x'))
      return r => { const key = String(r); m[r]!.set(key, (m[r]!.get(key) ?? 0) + 1) }
    }),
  ]
}

/**
 * The same, but each replica alternates between two CRDTs (or two keys), so its overwrites of
 * one key are no longer consecutive in its Yjs clock and each leaves a small tombstone.
 */
export function interleavedCounterSizes (total: number, checkpoints: number[]): SizeRow[] {
  const w = `counter, ${REPLICAS} replicas, each alternating 2 CRDTs`
  return [
    ...measure(w, 'tandem counter, interleaved with a 2nd counter', total, checkpoints, docs => {
      const a = docs.map(d => counter(d, 'x')); const b = docs.map(d => counter(d, 'y'))
      return (r, k) => (Math.floor(k / REPLICAS) % 2 ? b : a)[r]!.increment()
    }),
    ...measure(w, 'naive Y.Map, interleaved with a 2nd key', total, checkpoints, docs => {
      const m = docs.map(d => d.getMap<number>('x'))
      return (r, k) => { const key = `${r}:${Math.floor(k / REPLICAS) % 2}`; m[r]!.set(key, (m[r]!.get(key) ?? 0) + 1) }
    }),
    ...measure(w, 'tandem counter, interleaved, 10 ops per transaction', total, checkpoints, docs => {
      const a = docs.map(d => counter(d, 'x')); const b = docs.map(d => counter(d, 'y'))
      return (r, k) => { if (k % 100 < REPLICAS) docs[r]!.transact(() => { for (let j = 0; j < 10; j++) { a[r]!.increment(); b[r]!.increment() } }) }
    }),
  ]
}

/** Add/remove churn over `live` elements from 10 replicas. */
export function orSetChurnSizes (total: number, checkpoints: number[], live = 1000): SizeRow[] {
  const w = `set churn, ${live} live, ${REPLICAS} replicas`
  // Deletes pick an element added before the last sync, so the deleting replica has seen it.
  const churn = (add: (r: number, e: string) => void, del: (r: number, e: string) => void) => {
    const gen = prng.create(42)
    const settled: string[] = []; let fresh: string[] = []
    let next = 0
    return (r: number, k: number): void => {
      if (k % 1000 === 0) { settled.push(...fresh); fresh = [] }
      if (settled.length + fresh.length < live || settled.length === 0) { const e = `e${next++}`; fresh.push(e); add(r, e); return }
      const i = prng.int32(gen, 0, settled.length - 1)
      const victim = settled[i]!
      settled[i] = settled[settled.length - 1]!; settled.pop()
      del(r, victim)
    }
  }
  return [
    ...measure(w, 'tandem orSet', total, checkpoints, docs => { const s = docs.map(d => orSet<string>(d, 's')); return churn((r, e) => s[r]!.add(e), (r, e) => s[r]!.delete(e)) }),
    ...measure(w, 'naive Y.Map as set (key per element)', total, checkpoints, docs => {
      const m = docs.map(d => d.getMap<boolean>('s'))
      return churn((r, e) => m[r]!.set(e, true), (r, e) => m[r]!.delete(e))
    }),
  ]
}
