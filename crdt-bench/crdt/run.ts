/**
 * `npm run bench:crdt [-- --quick]`: tandem's CRDTs against their LWW baselines and against
 * Automerge and Loro. Prints tables and writes crdt-bench/results/crdt.json.
 * Figures are printed, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { coreThroughput, type ThroughputRow } from './core-throughput.ts'
import { counterSizes, interleavedCounterSizes, orSetChurnSizes, type SizeRow } from './ydoc-workloads.ts'
import { peerCounterSizes, peerMapChurnSizes } from './peer-workloads.ts'

const quick = process.argv.includes('--quick')
const OPS = quick ? 10_000 : 100_000
const CHECKPOINTS = quick ? [500, 1_000, 5_000, 10_000] : [1_000, 2_000, 10_000, 20_000, 50_000, 100_000]
// The peers are run for fewer operations to keep the bench near two minutes: Automerge takes
// ~1 ms per single-op change here, and Loro's per-op commit plus merge slows as history grows.
// Their growth per 1,000 ops (and the ratio at equal op counts) is what the comparison shows.
const LORO_OPS = quick ? 5_000 : 20_000
const LORO_CHECKPOINTS = quick ? [1_000, 5_000] : [10_000, 20_000]
const AM_OPS = quick ? 1_000 : 2_000
const AM_CHECKPOINTS = quick ? [500, 1_000] : [1_000, 2_000]

const fmt = (n: number) => n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)
function table (headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map(r => r.map(c => typeof c === 'number' ? fmt(c) : c))
  const lines = [headers, headers.map(() => '---'), ...cells].map(r => `| ${r.join(' | ')} |`)
  return lines.join('\n')
}

/** Size of `row` relative to the reference variant's size at the same op count (if measured there). */
function ratioAt (ref: SizeRow[], row: SizeRow): string {
  const at = ref.find(r => r.ops === row.ops)
  return at ? `${(row.bytes / at.bytes).toFixed(2)}x` : `(at ${row.ops.toLocaleString('en-US')} ops)`
}

const started = performance.now()
const log = (s: string) => process.stdout.write(`${s}\n`)
log(`# bench:crdt (${quick ? 'quick' : 'full'}; ${OPS.toLocaleString('en-US')} ops per Y.Doc workload)\n`)

const core = coreThroughput(quick ? 3_000 : 10_000)
const byPair = new Map<string, ThroughputRow[]>()
for (const r of core) byPair.set(r.pair, [...(byPair.get(r.pair) ?? []), r])
log('## Pure core: each CRDT vs its LWW baseline (10 replicas)\n')
log(table(['pair', 'type', 'mutations/s', 'merges/s', 'encoded bytes', 'mutation speed vs LWW', 'size vs LWW'],
  [...byPair.values()].flatMap(([crdt, base]) => [crdt!, base!].map(r => [r.pair, r.type, r.mutationsPerSec, r.mergesPerSec, r.encodedBytes,
    `${(r.mutationsPerSec / base!.mutationsPerSec).toFixed(2)}x`, `${(r.encodedBytes / base!.encodedBytes).toFixed(2)}x`]))))

// Each workload is printed as soon as it has run.
const INTERLEAVED = quick ? 5_000 : 20_000
const sizes: SizeRow[] = []
const workloads: (() => SizeRow[])[] = [
  () => [...counterSizes(OPS, CHECKPOINTS), ...peerCounterSizes('loro', LORO_OPS, LORO_CHECKPOINTS), ...peerCounterSizes('automerge', AM_OPS, AM_CHECKPOINTS)],
  () => interleavedCounterSizes(INTERLEAVED, [INTERLEAVED / 4, INTERLEAVED / 2, INTERLEAVED]),
  () => [...orSetChurnSizes(OPS, CHECKPOINTS), ...peerMapChurnSizes('loro', LORO_OPS, LORO_CHECKPOINTS), ...peerMapChurnSizes('automerge', AM_OPS, AM_CHECKPOINTS)],
]
for (const run of workloads) {
  const rows = run()
  sizes.push(...rows)
  const workload = rows[0]!.workload
  const variants = [...new Set(rows.map(r => r.variant))]
  const tandem = rows.filter(r => r.variant === variants[0])
  log(`\n## Encoded document size: ${workload} (bytes after N ops; replicas merged every 1,000 ops)\n`)
  log(table(['variant', 'ops → bytes', 'bytes per 1k ops (last interval)', 'last vs tandem at equal ops', 'ops/s'],
    variants.map(v => {
      const vr = rows.filter(r => r.variant === v)
      const last = vr.at(-1)!; const prev = vr.at(-2)!
      const growth = (last.bytes - prev.bytes) / ((last.ops - prev.ops) / 1000)
      return [v, vr.map(r => `${r.ops.toLocaleString('en-US')} → ${r.bytes.toLocaleString('en-US')}`).join(', '), growth,
        ratioAt(tandem, last), last.ops / (last.ms / 1000)]
    })))
}

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'crdt.json')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, JSON.stringify({ quick, ops: OPS, loroOps: LORO_OPS, automergeOps: AM_OPS, node: process.version, date: new Date().toISOString(), core, sizes }, null, 2))
log(`\nwrote ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
