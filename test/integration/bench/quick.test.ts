/**
 * Runs the `npm run bench -- --quick` configuration in-process and checks the invariants the
 * project rests on. Trace replays: the automerge-paper trace as a 5,000-transaction prefix
 * (checked against a plain-string replay of the same prefix; the full trace is checked
 * against endContent by `npm run bench`), and the clownschool trace in full against endContent.
 */
import { describe, expect, it } from 'vitest'
import { runSuite, replaySequential, replayConcurrent, explainSuite, strategies, type SuiteResult } from '../../../crdt-bench/sim/index.ts'
import { lostUpdatesChart, tradeoffChart, report } from '../../../crdt-bench/report/index.ts'
import { seriesStyle, spread } from '../../../crdt-bench/report/style.ts'

describe('crdt-bench --quick', () => {
  let first: SuiteResult
  it('runs, and is deterministic for a seed (two runs, identical JSON)', () => {
    first = runSuite({ quick: true, seed: 1, skipTraces: true })
    const second = runSuite({ quick: true, seed: 1, skipTraces: true })
    expect(JSON.stringify(second)).toBe(JSON.stringify(first))
    expect(first.scenarios.length).toBe(9 * 4 * 4 * 4)
    expect(first.tradeoff.map(t => t.strategy)).toEqual(strategies.map(s => s.name))
  }, 180_000) // two whole quick runs: about 20 s on an idle machine, more on a shared one

  it('carries every axis for every strategy, measured in the same run', () => {
    for (const t of first.tradeoff) {
      for (const k of ['lostUpdates', 'writeLatencyP50Ms', 'writeLatencyP99Ms', 'visibleLatencyP99Ms', 'availability', 'convergeMs', 'wireBytesPerOp'] as const) {
        expect(Number.isFinite(t[k]), `${t.strategy}.${k}`).toBe(true)
      }
      expect(t.ops).toBe(first.scenarios.filter(s => s.strategy === t.strategy).reduce((a, s) => a + s.ops, 0))
      expect(t.writeLatencyP99Ms).toBeGreaterThanOrEqual(t.writeLatencyP50Ms)
      expect(t.visibleLatencyP99Ms).toBeGreaterThanOrEqual(t.visibleLatencyP50Ms)
    }
    const row = (name: string) => first.tradeoff.find(t => t.strategy === name)!
    // Multi-leader strategies take every write at once, on both sides of either partition.
    for (const name of ['lww', 'yjs-map', 'crdt', 'crdt-ydoc', 'siblings', 'custom']) {
      expect(row(name)).toMatchObject({ availability: 1, availabilityLeaderCut: 1, writeLatencyP99Ms: 0, refusedWrites: 0 })
    }
    // Single leader: no increment lost, but writes cut off from the leader are refused.
    expect(first.scenarios.filter(s => s.strategy === 'single-leader' && s.workload === 'counter').reduce((a, s) => a + s.lostUpdates, 0)).toBe(0)
    expect(row('single-leader').availability).toBeLessThan(1)
    expect(row('single-leader').refusedWrites).toBeGreaterThan(0)
    expect(row('single-leader').writeLatencyP50Ms).toBeGreaterThanOrEqual(2 * first.config.network.latencyMs)
    // A quorum survives losing the leader's side; a single leader does not.
    expect(row('sync-quorum').availabilityLeaderCut).toBeGreaterThan(row('single-leader').availabilityLeaderCut)
    expect(row('sync-quorum').writeLatencyP50Ms).toBeGreaterThan(row('single-leader').writeLatencyP50Ms)
    // CRDTs: nothing lost, nothing refused, no wait.
    expect(row('crdt')).toMatchObject({ lostUpdates: 0, availability: 1, writeLatencyP50Ms: 0 })
  })

  it('--explain names every losing strategy with an interleaving from the run', () => {
    const text = explainSuite(first).join('\n')
    for (const t of first.tradeoff) {
      if (t.lostUpdates === 0) { expect(text).toContain(`${t.strategy}: lost nothing in ${t.ops} operations`); continue }
      expect(text).toContain(`${t.strategy}: lost ${t.lostUpdates} of ${t.ops} operations`)
      const story = text.slice(text.indexOf(`${t.strategy}: lost ${t.lostUpdates}`)).split('\n\n')[0]!
      expect(story, t.strategy).toMatch(new RegExp(`  ${t.strategy} in (counter|set|map|register), `))
      expect(story, t.strategy).toMatch(/t=\d+\.\d ms {2}r\d .*\n.*t=\d+\.\d ms {2}r\d /)
      expect(story, t.strategy).toContain('neither had seen the other')
      expect(story, t.strategy).toMatch(/update(s)? of k\d lost/)
    }
    // The custom handler's story is an overcount: concurrent increments added as values.
    const custom = text.slice(text.indexOf('custom: lost')).split('\n\n')[0]!
    const [, shown, reached] = /= (\d+) \((\d+) increments had reached every replica\)/.exec(custom)!
    expect(Number(shown)).toBeGreaterThan(Number(reached))
  })

  it('draws a chart a reader can tell apart: distinct colour and marker per strategy, end labels, identical series called out', () => {
    const styles = first.tradeoff.map((_, i) => seriesStyle(i))
    expect(new Set(styles.map(s => s.color)).size).toBe(styles.length)
    expect(new Set(styles.map(s => s.shape)).size).toBe(styles.length)
    const lost = lostUpdatesChart(first)
    expect(lost).toContain('crdt = crdt-ydoc (identical)')
    for (const s of styles) expect(lost).toContain(s.color)
    const trade = tradeoffChart(first)
    for (const t of first.tradeoff) expect(trade).toContain(t.strategy)
    expect(tradeoffChart(first)).toBe(trade)
    expect(report(first)).toContain('| single-leader |')
    const ys = spread([10, 10, 11, 50, 51], 14, 0, 200)
    for (let i = 1; i < ys.length; i++) for (let j = 0; j < i; j++) expect(Math.abs(ys[i]! - ys[j]!)).toBeGreaterThanOrEqual(14)
  })

  it('every CRDT strategy converges with zero lost updates in every scenario', () => {
    const crdt = first.scenarios.filter(s => s.strategy === 'crdt' || s.strategy === 'crdt-ydoc')
    expect(crdt.length).toBe(2 * 4 * 4 * 4)
    for (const s of crdt) expect(s).toMatchObject({ converged: true, lostUpdates: 0 })
    // Siblings keep every concurrent register and field write.
    for (const s of first.scenarios.filter(x => x.strategy === 'siblings' && x.workload === 'register')) expect(s.lostUpdates).toBe(0)
    for (const s of first.skew.filter(x => x.strategy === 'crdt' || x.strategy === 'crdt-ydoc')) expect(s.lostUpdates).toBe(0)
  })

  it('every strategy converges (all replicas read equal values)', () => {
    for (const s of first.scenarios) expect(`${s.strategy}/${s.workload}/${s.topology}/c${s.concurrency}: ${s.converged}`).toMatch(/true$/)
  })

  it('LWW and replica-id precedence lose updates under concurrency, in every workload', () => {
    for (const name of ['lww', 'yjs-map']) {
      for (const w of ['counter', 'set', 'map', 'register']) {
        const lost = first.scenarios.filter(s => s.strategy === name && s.workload === w && s.concurrency > 1).reduce((a, s) => a + s.lostUpdates, 0)
        expect(lost, `${name} ${w}`).toBeGreaterThan(0)
      }
    }
    const skewed = first.skew.find(s => s.strategy === 'lww' && s.clockSkewMs === 1000)!
    expect(skewed.lostUpdates).toBeGreaterThan(0)
    expect(first.skew.find(s => s.strategy === 'lww' && s.clockSkewMs === 0)!.lostUpdates).toBe(0)
  })

  it('every sync protocol converges; BP+RR sends fewer bytes than classic deltas on star and ring', () => {
    for (const s of first.sync) expect(`${s.type} ${s.protocol} ${s.topology}-${s.replicas}: ${s.converged}`).toMatch(/true$/)
    for (const s of first.sync.filter(x => x.protocol === 'bp-rr' && (x.topology === 'star' || x.topology === 'ring'))) {
      const classic = first.sync.find(x => x.protocol === 'delta' && x.type === s.type && x.topology === s.topology && x.replicas === s.replicas)!
      expect(s.wireBytesPerOp).toBeLessThan(classic.wireBytesPerOp)
    }
  })
})

describe('editing traces through Yjs', () => {
  it('automerge-paper prefix (5,000 txns) equals the plain-string replay', () => {
    const r = replaySequential('automerge-paper', 5000)
    expect(r.matches).toBe(true)
    expect(r.checkedAgainst).toBe('string replay of the prefix')
  })
  it('clownschool, full, one Y.Doc per agent, equals endContent', () => {
    const r = replayConcurrent('clownschool')
    expect(r).toMatchObject({ matches: true, checkedAgainst: 'endContent', txns: 23136 })
  }, 120_000)
})
