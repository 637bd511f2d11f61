/**
 * How often each binding fails the structure property (structure.property.test.ts), and how:
 *   npx tsx test/property/editor/structure-rates.ts [runs per seed, default 100]
 * Runs the same seeded scenarios on the block layout, on tandem's y-prosemirror option and on
 * stock y-prosemirror, and prints failures per binding grouped by the first check that failed.
 * The checks are the property's end-state checks (converged, valid, view = Yjs content, nothing
 * lost or doubled, runs whole, no boundary no one made); the per-step "view = Yjs content" check,
 * which the block layout must also pass in CI, is left out: y-prosemirror keeps an empty
 * fragment under a view's empty paragraph, which is not a structure failure.
 */
import fc from 'fast-check'
import type { Flavor } from './headless-editor.ts'
import { runScenario, scenarioArb } from './structure-scenario.ts'

const runs = Number(process.argv[2] ?? 100)
const seeds = [20261203, 21, 22, 23, 24, 25, 26, 27]
const scenarios = seeds.flatMap((seed) => fc.sample(scenarioArb, { seed, numRuns: runs }))

for (const flavor of ['blocks', 'tandem', 'stock'] as Flavor[]) {
  const reasons = new Map<string, number>()
  let failed = 0
  for (const s of scenarios) {
    try {
      runScenario(s, Array(s.editors).fill(flavor), undefined, false)
    } catch (error) {
      failed++
      const reason = String((error as Error).message)
        .replace(/U\+[0-9a-f]+/g, 'X')
        .replace(/\b[A-D]\b/g, 'E')
        .replace(/: \{.*$/, '')
        .slice(0, 90)
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }
  }
  const pct = ((100 * failed) / scenarios.length).toFixed(1)
  console.log(`${flavor.padEnd(7)} ${failed}/${scenarios.length} scenarios fail (${pct}%)`)
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${reason}`)
}
