/**
 * Typed and remote keys of the block layout headless at the given sizes (the part of
 * `headless.ts` that the per-key figures come from, without the other layouts or the open):
 *   npx tsx crdt-bench/editor/keys-headless.ts [CHARS...] (default 50000 500000; BENCH_KEYS, default 200;
 *   BENCH_ONLY=typed or remote for one of them, e.g. under `node --cpu-prof --import tsx`)
 */
import { remoteKeys, typedKeys } from './headless.ts'

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0)
const keys = Number(process.env['BENCH_KEYS'] ?? 200)
const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
for (const chars of sizes.length ? sizes : [50_000, 500_000]) {
  const only = process.env['BENCH_ONLY']
  const typed = only === 'remote' ? { ms: [] } : typedKeys('blocks', chars, keys, 20)
  const remote = only === 'typed' ? [] : remoteKeys('blocks', chars, keys, 20)
  process.stdout.write(`${chars} chars: typed ${p50(typed.ms).toFixed(3)} ms/key, remote ${p50(remote).toFixed(3)} ms/key (p50 of ${keys})\n`)
}
