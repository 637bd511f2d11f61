/**
 * Replays real editing traces through Yjs and checks the result against the trace's
 * `endContent`:
 * - a sequential trace (automerge-paper) through one Y.Text;
 * - a concurrent trace (clownschool) with one Y.Doc per agent: before a transaction, the
 *   agent's doc receives exactly the updates of the transaction's causal past that it lacks
 *   (so its text is the version the patch positions refer to), the patch is applied, and the
 *   update it produced is kept; at the end every agent doc is merged and compared.
 */
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'

type Patch = readonly [number, number, string]
interface Txn { readonly patches: readonly Patch[], readonly parents?: readonly number[], readonly agent?: number }
interface Trace { readonly endContent: string, readonly txns: readonly Txn[], readonly numAgents?: number }

/** Result of one trace replay. */
export interface TraceResult {
  trace: string
  mode: 'sequential' | 'concurrent'
  /** Transactions replayed (all of them unless a prefix was asked for). */
  txns: number
  totalTxns: number
  /** Whether the result equals the expected text (endContent, or for a prefix the plain-string replay). */
  matches: boolean
  checkedAgainst: 'endContent' | 'string replay of the prefix'
  finalLength: number
  /** Encoded size of the final Y.Doc (bytes). */
  docBytes: number
  ms: number
}

/** Loads a gzipped trace from crdt-bench/traces/. */
export function loadTrace (name: string): Trace {
  const path = fileURLToPath(new URL(`../traces/${name}.json.gz`, import.meta.url))
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Trace
}

/** Applies one trace transaction's patches (position, deleted count, inserted text) to `text`. */
export function applyPatches (text: Y.Text, patches: readonly Patch[]): void {
  for (const [pos, del, ins] of patches) {
    if (del > 0) text.delete(pos, del)
    if (ins.length > 0) text.insert(pos, ins)
  }
}

/** Replays a sequential trace (or its first `limit` transactions) through one Y.Text. */
export function replaySequential (name: string, limit = Infinity): TraceResult {
  const trace = loadTrace(name)
  const t0 = performance.now()
  const doc = new Y.Doc()
  doc.clientID = 1
  const text = doc.getText('t')
  const n = Math.min(limit, trace.txns.length)
  let expected = ''
  for (let i = 0; i < n; i++) {
    const patches = trace.txns[i]!.patches
    doc.transact(() => applyPatches(text, patches))
    if (n < trace.txns.length) {
      for (const [pos, del, ins] of patches) expected = [...expected].slice(0, pos).join('') + ins + [...expected].slice(pos + del).join('')
    }
  }
  const full = n === trace.txns.length
  const got = text.toString()
  return {
    trace: name, mode: 'sequential', txns: n, totalTxns: trace.txns.length,
    matches: got === (full ? trace.endContent : expected),
    checkedAgainst: full ? 'endContent' : 'string replay of the prefix',
    finalLength: got.length, docBytes: Y.encodeStateAsUpdate(doc).length, ms: Math.round(performance.now() - t0),
  }
}

/** Replays a concurrent trace with one Y.Doc per agent; the full trace is checked against endContent. */
export function replayConcurrent (name: string): TraceResult {
  const trace = loadTrace(name)
  const t0 = performance.now()
  const agents = trace.numAgents ?? 1 + Math.max(...trace.txns.map(t => t.agent ?? 0))
  const docs = Array.from({ length: agents }, (_, a) => { const d = new Y.Doc(); d.clientID = a + 1; return d })
  const has: Set<number>[] = docs.map(() => new Set())
  const updates: Uint8Array[] = []
  for (let i = 0; i < trace.txns.length; i++) {
    const txn = trace.txns[i]!
    const a = txn.agent ?? 0
    const doc = docs[a]!
    // Everything in the causal past of the parents that this doc lacks, oldest first.
    const missing: number[] = []
    const stack = [...(txn.parents ?? [])]
    const visited = new Set<number>()
    while (stack.length > 0) {
      const p = stack.pop()!
      if (visited.has(p) || has[a]!.has(p)) continue
      visited.add(p)
      missing.push(p)
      stack.push(...(trace.txns[p]!.parents ?? []))
    }
    missing.sort((x, y) => x - y)
    if (missing.length > 0) {
      doc.transact(() => { for (const p of missing) Y.applyUpdate(doc, updates[p]!) })
      for (const p of missing) has[a]!.add(p)
    }
    let captured: Uint8Array | null = null
    const onUpdate = (u: Uint8Array): void => { captured = u }
    doc.on('update', onUpdate)
    doc.transact(() => applyPatches(doc.getText('t'), txn.patches))
    doc.off('update', onUpdate)
    updates.push(captured ?? new Uint8Array([0, 0]))
    has[a]!.add(i)
  }
  const final = new Y.Doc()
  Y.applyUpdate(final, Y.mergeUpdates(updates))
  const got = final.getText('t').toString()
  return {
    trace: name, mode: 'concurrent', txns: trace.txns.length, totalTxns: trace.txns.length,
    matches: got === trace.endContent, checkedAgainst: 'endContent',
    finalLength: got.length, docBytes: Y.encodeStateAsUpdate(final).length, ms: Math.round(performance.now() - t0),
  }
}
