/**
 * `--explain`: one concrete interleaving, taken from a run, that shows how a strategy lost an
 * update. It finds the first key whose final value misses the intent, picks the write that
 * was lost (or, for a counter, the first two increments that did not see each other after
 * which the value already missed one) and the concurrent write it lost to, and tells their
 * story from the {@link WriteLedger}: who wrote what when, what each writer had seen and read,
 * when each write reached the other writer, the value once both were everywhere, the end.
 */
import { lostUpdates, visible, type ObservedOp } from './intent.ts'
import { simulate, type ScenarioConfig, type ScenarioRun } from './scenario.ts'
import { matrixScenario, type SuiteResult } from './suite.ts'
import { strategy, type StrategyName } from './strategies/index.ts'
import type { Op, TimedOp, WorkloadKind } from './workload.ts'

/** A short description of an operation. */
export function describeOp (key: string, op: Op): string {
  switch (op.t) {
    case 'inc': return `increments ${key}`
    case 'add': return `adds '${op.elem}' to ${key}`
    case 'remove': return `removes '${op.elem}' from ${key}`
    case 'field': return `sets ${key}.${op.field} = '${op.value}'`
    case 'write': return `writes ${key} = '${op.value}'`
  }
}

const ms = (t: number | null): string => t === null ? 'never' : `${t.toFixed(1)} ms`
const concurrent = (a: ObservedOp, b: ObservedOp): boolean => !a.observed.has(b.id) && !b.observed.has(a.id)
const fieldOf = (o: ObservedOp): string => o.op.t === 'field' ? o.op.field : ''

type Pair = readonly [ObservedOp, ObservedOp]

/**
 * Candidate (lost write, write it lost to) pairs of `key`, best first; for a counter, every
 * pair of increments that did not see each other.
 */
function culprits (kind: WorkloadKind, ops: readonly ObservedOp[], value: unknown): Pair[] {
  const pairOf = (w: ObservedOp, ...prefer: ((o: ObservedOp) => boolean)[]): Pair | null => {
    for (const ok of [...prefer, () => true]) {
      const c = ops.find(o => o !== w && o.replica !== w.replica && concurrent(o, w) && ok(o))
      if (c) return [w, c]
    }
    return null
  }
  const found = (p: Pair | null): Pair[] => p ? [p] : []
  if (kind === 'counter') {
    const out: Pair[] = []
    for (let i = 0; i < ops.length; i++) for (let j = i + 1; j < ops.length; j++) if (ops[i]!.replica !== ops[j]!.replica && concurrent(ops[i]!, ops[j]!)) out.push([ops[i]!, ops[j]!])
    return out
  }
  if (kind === 'set') {
    const present = new Set(Array.isArray(value) ? value.map(String) : [])
    for (const a of ops) {
      if (a.op.t !== 'add') continue
      const elem = a.op.elem
      const sameElem = (o: ObservedOp): boolean => (o.op.t === 'add' || o.op.t === 'remove') && o.op.elem === elem
      const intended = !ops.some(r => r.op.t === 'remove' && r.op.elem === elem && r.observed.has(a.id))
      if (intended && !present.has(elem)) return found(pairOf(a, o => o.op.t === 'remove' && sameElem(o)))
      if (!intended && present.has(elem)) {
        const remove = ops.find(r => r.op.t === 'remove' && r.op.elem === elem && r.observed.has(a.id))!
        return found(pairOf(remove, sameElem))
      }
    }
    return []
  }
  for (const w of ops) {
    if (ops.some(o => o !== w && fieldOf(o) === fieldOf(w) && o.observed.has(w.id))) continue
    const v = kind === 'map' && value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[fieldOf(w)] : value
    if (visible(v, (w.op as { value: string }).value)) continue
    return found(pairOf(w, o => fieldOf(o) === fieldOf(w)))
  }
  return []
}

const firstLine = (r: ScenarioRun['result'], key: string): string =>
  `  ${r.strategy} in ${r.workload}, ${r.topology}, ${r.concurrency} concurrent writer${r.concurrency > 1 ? 's' : ''}, key ${key}:`
const show = (v: unknown): string => { const t = JSON.stringify(v) ?? 'nothing'; return t.length > 120 ? `${t.slice(0, 117)}...` : t }

/**
 * The story of one lost update in the scenario `config`, as lines of text; null if it lost
 * nothing. Runs it twice (same seed, same interleaving): once to find the loss, once with probes
 * reading what each writer saw and the value once both writes had reached every replica.
 */
export function explainScenario (config: ScenarioConfig, stream?: readonly TimedOp[]): { run: ScenarioRun, story: string[] | null } {
  const run = simulate(config, stream)
  const kind = run.result.workload as WorkloadKind
  const byKey = new Map<string, ObservedOp[]>()
  for (const o of run.observed) { let l = byKey.get(o.key); if (!l) byKey.set(o.key, l = []); l.push(o) }
  for (const [key, ops] of byKey) {
    const value = run.read(key)
    const lost = lostUpdates(kind, ops, () => value)
    if (lost === 0) continue
    const pairs = culprits(kind, ops, value)
    if (pairs.length === 0) continue
    // Second pass: what each writer read, and the value when both writes were everywhere.
    const before = new Map<number, unknown>()
    const when = (p: Pair): number => Math.max(...p.map(o => run.ledger.records.get(o.id)!.allHaveMs ?? Infinity)) + 0.0005
    const settled = new Map<Pair, unknown>()
    simulate(config, stream, {
      beforeWrite: (op, read) => { if (op.key === key) before.set(op.id, read(op.replica, key)) },
      at: pairs.filter(p => Number.isFinite(when(p))).map(p => ({ time: when(p), run: read => settled.set(p, read(0, key)) })),
    })
    // For a counter, the first pair after which the value already misses an increment.
    const intendedAt = (t: number): number => ops.filter(o => (run.ledger.records.get(o.id)!.allHaveMs ?? Infinity) <= t).length
    const pair = kind === 'counter' ? (pairs.find(p => settled.has(p) && settled.get(p) !== intendedAt(when(p))) ?? pairs[0]!) : pairs[0]!
    const [a, b] = [...pair].sort((x, y) => x.time - y.time || x.id - y.id) as unknown as Pair
    const seen = (o: ObservedOp): number => ops.filter(x => x.id !== o.id && o.observed.has(x.id)).length
    const lines = [firstLine(run.result, key)]
    for (const o of [a, b]) {
      const rec = run.ledger.records.get(o.id)!
      lines.push(`    t=${ms(o.time)}  r${o.replica} ${describeOp(key, o.op)}; it had seen ${seen(o)} earlier write${seen(o) === 1 ? '' : 's'} of ${key} and read ${show(before.get(o.id))}; accepted for its user at ${ms(rec.acceptedMs)}`)
    }
    const aAtB = run.ledger.records.get(a.id)!.hasMs[b.replica] ?? null
    const bAtA = run.ledger.records.get(b.id)!.hasMs[a.replica] ?? null
    lines.push(`    neither had seen the other: r${a.replica}'s write reached r${b.replica} at ${ms(aAtB)}, r${b.replica}'s reached r${a.replica} at ${ms(bAtA)}`)
    if (settled.has(pair)) {
      const t = when(pair)
      lines.push(`    at ${ms(Math.round(t * 10) / 10)}, once both were on every replica: ${key} = ${show(settled.get(pair))}${kind === 'counter' ? ` (${intendedAt(t)} increments had reached every replica)` : ''}`)
    }
    lines.push(`    in the end: ${key} = ${show(value)} on every replica${kind === 'counter' ? ` (${ops.length} increments)` : ''}; ${lost} update${lost === 1 ? '' : 's'} of ${key} lost`)
    return { run, story: lines }
  }
  return { run, story: null }
}

/**
 * One story per strategy that lost updates in the suite result `r`, re-running the scenario it
 * comes from (same seed, so the same interleaving); strategies that lost nothing get one line.
 * Prefers 2 concurrent writers (the smallest interleaving), then 4, 8 and 1.
 */
export function explainSuite (r: SuiteResult): string[] {
  const out: string[] = [`Lost updates explained (seed ${r.config.seed}${r.config.quick ? ', quick' : ''}): one interleaving from the run per strategy that lost any.`, '']
  const rank = (c: number): number => [2, 4, 8, 1].indexOf(c)
  for (const row of r.tradeoff) {
    const s = strategy(row.strategy as StrategyName)
    if (row.lostUpdates === 0) { out.push(`${s.name}: lost nothing in ${row.ops} operations. ${s.loses}`, ''); continue }
    const candidates = r.scenarios.filter(x => x.strategy === s.name && x.lostUpdates > 0)
      .map((x, i) => ({ x, i })).sort((a, b) => rank(a.x.concurrency) - rank(b.x.concurrency) || a.i - b.i).map(c => c.x)
    let story: string[] | null = null
    for (const x of candidates) {
      const e = explainScenario(matrixScenario(r.config.quick, r.config.seed, s, x.topology, x.workload as WorkloadKind, x.concurrency))
      if (e.run.result.lostUpdates !== x.lostUpdates) throw new Error(`re-running ${s.name} ${x.workload} ${x.topology} c=${x.concurrency} gave ${e.run.result.lostUpdates} lost updates, the suite had ${x.lostUpdates}`)
      story = e.story
      if (story) break
    }
    out.push(`${s.name}: lost ${row.lostUpdates} of ${row.ops} operations. ${s.loses}`)
    out.push(...(story ?? ['  (no pair of concurrent writes found behind the loss)']), '')
  }
  return out
}
