/**
 * `npm run bench:relay:replay` — the `automerge-paper` trace typed by one client through a
 * server, one update per keystroke (trace transaction), to 3 other clients: time until all 3
 * hold the final text, against Yjs alone typing the same edits in one process (and, for
 * reference, Yjs alone with 3 in-process replicas applying every update).
 *
 * The writer sends in bursts of `--burst` keystrokes and yields to the event loop between
 * bursts, so sockets drain; the readers are in this process (as the writer is), so the
 * through-server time includes their applying every update.
 *
 * Flags: --only NAME[,NAME], --txns N (a prefix of the trace; default all 259,778),
 *        --burst N (default 200), --json PATH (default crdt-bench/results/relay-replay.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'
import { applyPatches, loadTrace } from '../sim/traces.ts'
import { BenchClient } from './bench-client.ts'
import { bundleServers } from './process.ts'
import { argValue, selectTargets, withServer } from './targets.ts'

type Patch = readonly [number, number, string]
const trace = loadTrace('automerge-paper')
const txnCount = Math.min(Number(argValue('--txns') ?? Infinity), trace.txns.length)
const burst = Number(argValue('--burst') ?? 200)
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay-replay.json'
const txns: ReadonlyArray<readonly Patch[]> = trace.txns.slice(0, txnCount).map((t) => t.patches as readonly Patch[])

function type(doc: Y.Doc, patches: readonly Patch[]): void {
  const text = doc.getText('t')
  doc.transact(() => applyPatches(text, patches))
}

/** Yjs alone: one doc typing every transaction; with `replicas`, each update applied to them too. */
function yjsAlone(replicas: number): { ms: number; text: string } {
  const start = performance.now()
  const doc = new Y.Doc()
  const others = Array.from({ length: replicas }, () => new Y.Doc())
  if (replicas > 0) doc.on('update', (u: Uint8Array) => { for (const o of others) Y.applyUpdate(o, u) })
  for (const patches of txns) type(doc, patches)
  const ms = performance.now() - start
  const text = (others[0] ?? doc).getText('t').toString()
  return { ms, text }
}

const expected = yjsAlone(0)
const withReplicas = yjsAlone(3)
if (withReplicas.text !== expected.text) throw new Error('replicas diverged')
if (txnCount === trace.txns.length && expected.text !== trace.endContent) throw new Error('replay does not match endContent')

const bundle = await bundleServers()
const rows: Array<{ server: string; ms: number; vsYjsAlone: number; vsYjsWithReplicas: number }> = []
for (const target of selectTargets(argValue('--only')).filter((t) => t.name !== 'forwarder')) {
  process.stderr.write(`bench:relay:replay ${target.name} …\n`)
  const ms = await withServer(bundle, target, async (url) => {
    const room = 'paper'
    const clients = Array.from({ length: 4 }, () => new BenchClient(url, room, target.dialect))
    await Promise.all(clients.map((c) => c.synced))
    const [writer, ...readers] = clients
    const finalLength = expected.text.length
    const start = performance.now()
    for (let i = 0; i < txns.length; i++) {
      type(writer!.doc, txns[i]!)
      if (i % burst === burst - 1) await new Promise((r) => setImmediate(r))
    }
    const deadline = Date.now() + 600_000
    while (!readers.every((r) => r.doc.getText('t').length === finalLength && r.doc.getText('t').toString() === expected.text)) {
      if (Date.now() > deadline) throw new Error('readers did not reach the final text')
      await new Promise((r) => setTimeout(r, 5))
    }
    const elapsed = performance.now() - start
    for (const c of clients) c.close()
    return elapsed
  })
  rows.push({ server: target.name, ms, vsYjsAlone: ms / expected.ms, vsYjsWithReplicas: ms / withReplicas.ms })
}

console.log(`\nbench:relay:replay — automerge-paper, ${txnCount} keystrokes, 1 writer → 3 readers\n`)
console.log(`Yjs alone: ${expected.ms.toFixed(0)} ms; with 3 in-process replicas: ${withReplicas.ms.toFixed(0)} ms\n`)
console.log('| server | all 3 readers hold the final text, ms | vs Yjs alone | vs Yjs + 3 replicas |')
console.log('| --- | ---: | ---: | ---: |')
for (const r of rows) console.log(`| ${r.server} | ${r.ms.toFixed(0)} | ${r.vsYjsAlone.toFixed(2)}× | ${r.vsYjsWithReplicas.toFixed(2)}× |`)
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({ txns: txnCount, burst, yjsAloneMs: expected.ms, yjsWithReplicasMs: withReplicas.ms, rows, at: new Date().toISOString() }, null, 2))
console.log(`\nwrote ${jsonPath}`)
