/**
 * How often each binding fails the structure property (structure.property.test.ts), and how:
 *   npx tsx test/property/editor/structure-rates.ts [runs per seed, default 100]
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

const runs = Number(process.argv[2] ?? 100)
const seeds = [20261203, 21, 22, 23, 24, 25, 26, 27]
const scenarios = seeds.flatMap((seed) => fc.sample(scenarioArb, { seed, numRuns: runs }))

const bindings: Array<[label: string, flavor: Flavor, checkEachStep: boolean]> = [
  ['blocks', 'blocks', false],
  ['tandem', 'tandem', false],
  ['stock', 'stock', false],
  ['blocks, with the per-step checks CI runs', 'blocks', true],
]
for (const [label, flavor, checkEachStep] of bindings) {
  const reasons = new Map<string, number>()
  let failed = 0
  for (const s of scenarios) {
    try {
      runScenario(s, Array(s.editors).fill(flavor), undefined, checkEachStep)
    } catch (error) {
      failed++
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
