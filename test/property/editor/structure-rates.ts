/**
 * How often each binding fails the structure property (structure.property.test.ts), and how:
 *   npx tsx test/property/editor/structure-rates.ts [runs per seed, default 100] [--seed N | --seeds A-B] [--blocks]
 * --seed / --seeds replace the default seeds (to re-run one failing seed); --blocks runs the block
 * layout alone. Each failure of the block layout is printed with its seed and run index.
 * Runs the same seeded scenarios on the block layout, on tandem's y-prosemirror option and on
 * stock y-prosemirror, and prints failures per binding grouped by the first check that failed.
 * The checks are the property's end-state checks (converged, valid, view = Yjs content, nothing
 * lost or doubled, runs whole, no boundary no one made). The per-step checks (view = Yjs content
 * after every step, typing writes no marker, the caret keeps following what its writer typed),
 * which the block layout also passes in CI, are reported for it alone: y-prosemirror keeps an
 * empty fragment under a view's empty paragraph, which is not a structure failure.
 */
import fc from 'fast-check'
import type { Flavor } from './headless-editor.ts'
import { runScenario, scenarioArb } from './structure-scenario.ts'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : args.splice(i, 2)[1]
}
const onlyBlocks = args.includes('--blocks') && args.splice(args.indexOf('--blocks'), 1).length > 0
const seedArg = flag('--seed')
const rangeArg = flag('--seeds')
const runs = Number(args[0] ?? 100)
let seeds = [20261203, 21, 22, 23, 24, 25, 26, 27]
if (seedArg !== undefined) seeds = [Number(seedArg)]
if (rangeArg !== undefined) {
  const [a = 0, b = a] = rangeArg.split('-').map(Number)
  seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i)
}
const labelled = seeds.flatMap((seed) => fc.sample(scenarioArb, { seed, numRuns: runs }).map((s, run) => ({ s, seed, run })))
const scenarios = labelled.map((l) => l.s)

const bindings: Array<[label: string, flavor: Flavor, checkEachStep: boolean]> = [
  ['blocks', 'blocks', false],
  ['tandem', 'tandem', false],
  ['stock', 'stock', false],
  ['blocks, with the per-step checks CI runs', 'blocks', true],
].filter(([, flavor]) => !onlyBlocks || flavor === 'blocks') as Array<[string, Flavor, boolean]>
for (const [label, flavor, checkEachStep] of bindings) {
  const reasons = new Map<string, number>()
  let failed = 0
  for (const { s, seed, run } of labelled) {
    try {
      runScenario(s, Array(s.editors).fill(flavor), undefined, checkEachStep)
    } catch (error) {
      failed++
      if (flavor === 'blocks') console.log(`  ${label}: seed ${seed} run ${run}: ${String((error as Error).message).slice(0, 200)}`)
      const reason = String((error as Error).message)
        .replace(/U\+[0-9a-f]+/g, 'X')
        .replace(/\b[A-D]\b/g, 'E')
        .replace(/view .*does not show its Yjs content.*$/, 'view does not show its Yjs content')
        .replace(/differs from A.*$/, 'differs from A')
        .replace(/: \{.*$/, '')
        .slice(0, 90)
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }
  }
  const pct = ((100 * failed) / scenarios.length).toFixed(1)
  console.log(`${label}: ${failed}/${scenarios.length} scenarios fail (${pct}%)`)
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${reason}`)
}
