/**
 * `npm run bench:crdt [-- --quick]`: tandem's CRDTs against their LWW baselines and against
 * Automerge and Loro. Prints tables and writes crdt-bench/results/crdt.json.
 * Figures are printed, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { coreThroughput, type ThroughputRow } from './core-throughput.ts'
import { counterSizes, orSetChurnSizes, type SizeRow } from './ydoc-workloads.ts'
import { peerCounterSizes, peerMapChurnSizes } from './peer-workloads.ts'

const quick = process.argv.includes('--quick')
const OPS = quick ? 10_000 : 100_000
const CHECKPOINTS = quick ? [1_000, 5_000, 10_000] : [10_000, 50_000, 100_000]
// Automerge takes ~1-2 ms per single-op change here, so its runs are capped to keep the bench short.
const AM_OPS = quick ? 2_000 : 10_000
const AM_CHECKPOINTS = quick ? [500, 1_000, 2_000] : [1_000, 5_000, 10_000]

const fmt = (n: number) => n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)
function table (headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map(r => r.map(c => typeof c === 'number' ? fmt(c) : c))
  const lines = [headers, headers.map(() => '---'), ...cells].map(r => `| ${r.join(' | ')} |`)
  return lines.join('\n')
}

const started = performance.now()
const log = (s: string) => process.stdout.write(`${s}\n`)
log(`# bench:crdt (${quick ? 'quick' : 'full'}; ${OPS.toLocaleString('en-US')} ops per Y.Doc workload)\n`)

const core = coreThroughput(quick ? 3_000 : 30_000)
const byPair = new Map<string, ThroughputRow[]>()
for (const r of core) byPair.set(r.pair, [...(byPair.get(r.pair) ?? []), r])
log('## Pure core: each CRDT vs its LWW baseline (10 replicas)\n')
log(table(['pair', 'type', 'mutations/s', 'merges/s', 'encoded bytes', 'mutation speed vs LWW', 'size vs LWW'],
  [...byPair.values()].flatMap(([crdt, base]) => [crdt!, base!].map(r => [r.pair, r.type, r.mutationsPerSec, r.mergesPerSec, r.encodedBytes,
    `${(r.mutationsPerSec / base!.mutationsPerSec).toFixed(2)}x`, `${(r.encodedBytes / base!.encodedBytes).toFixed(2)}x`]))))

const sizes: SizeRow[] = [
  ...counterSizes(OPS, CHECKPOINTS),
  ...peerCounterSizes('loro', OPS, CHECKPOINTS),
  ...peerCounterSizes('automerge', AM_OPS, AM_CHECKPOINTS),
  ...orSetChurnSizes(OPS, CHECKPOINTS),
  ...peerMapChurnSizes('loro', OPS, CHECKPOINTS),
  ...peerMapChurnSizes('automerge', AM_OPS, AM_CHECKPOINTS),
]
for (const workload of new Set(sizes.map(r => r.workload))) {
  const rows = sizes.filter(r => r.workload === workload)
  const variants = [...new Set(rows.map(r => r.variant))]
  const ref = rows.filter(r => r.variant === variants[0]).at(-1)!
  log(`\n## Encoded document size: ${workload} (bytes after N ops; merged every 1,000 ops)\n`)
  log(table(['variant', 'ops → bytes', 'bytes per 1k ops (last interval)', 'final vs tandem', 'ops/s'],
    variants.map(v => {
      const vr = rows.filter(r => r.variant === v)
      const last = vr.at(-1)!; const prev = vr.at(-2)!
      const growth = (last.bytes - prev.bytes) / ((last.ops - prev.ops) / 1000)
      return [v, vr.map(r => `${r.ops.toLocaleString('en-US')} → ${r.bytes.toLocaleString('en-US')}`).join(', '), growth,
        last.ops === ref.ops ? `${(last.bytes / ref.bytes).toFixed(2)}x` : `(at ${last.ops.toLocaleString('en-US')} ops)`, last.ops / (last.ms / 1000)]
    })))
}

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'crdt.json')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, JSON.stringify({ quick, ops: OPS, automergeOps: AM_OPS, node: process.version, date: new Date().toISOString(), core, sizes }, null, 2))
log(`\nwrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
