/**
 * `npm run bench [-- --quick] [--seed N] [--charts] [--explain]`: runs the merge-strategy
 * simulation, the sync-cost matrix and the trace replays; prints the tables; writes
 * crdt-bench/results/bench[-quick].json, bench.html and SVG charts; with `--charts` also
 * refreshes the committed charts in crdt-bench/charts/ (shown in the README); with `--explain`
 * also prints, for each strategy that lost updates, one interleaving from the run that shows how.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runSuite } from './sim/suite.ts'
import { explainSuite } from './sim/explain.ts'
import { report, lostUpdatesChart, syncBytesChart, tradeoffChart, htmlPage, progressBar } from './report/index.ts'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const seedAt = args.indexOf('--seed')
const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 1
if (!Number.isSafeInteger(seed)) throw new Error('--seed needs an integer')

const t0 = performance.now()
const result = runSuite({ quick, seed, progress: progressBar() })
const text = report(result)
const dir = (p: string): string => fileURLToPath(new URL(p, import.meta.url))
mkdirSync(dir('./results/'), { recursive: true })
const suffix = quick ? '-quick' : ''
writeFileSync(dir(`./results/bench${suffix}.json`), JSON.stringify(result, null, 2))
writeFileSync(dir(`./results/bench${suffix}.html`), htmlPage(result, text))
writeFileSync(dir(`./results/lost-updates${suffix}.svg`), lostUpdatesChart(result))
writeFileSync(dir(`./results/sync-bytes${suffix}.svg`), syncBytesChart(result))
writeFileSync(dir(`./results/tradeoff${suffix}.svg`), tradeoffChart(result))
if (args.includes('--charts')) {
  mkdirSync(dir('./charts/'), { recursive: true })
  writeFileSync(dir('./charts/lost-updates.svg'), lostUpdatesChart(result))
  writeFileSync(dir('./charts/sync-bytes.svg'), syncBytesChart(result))
  writeFileSync(dir('./charts/tradeoff.svg'), tradeoffChart(result))
}
const explained = args.includes('--explain') ? `\n\n${explainSuite(result).join('\n')}` : ''
process.stdout.write(`${text}${explained}\n\nseed ${seed}${quick ? ' (quick)' : ''}; ${((performance.now() - t0) / 1000).toFixed(1)} s; results in crdt-bench/results/bench${suffix}.json, bench${suffix}.html\n`)
