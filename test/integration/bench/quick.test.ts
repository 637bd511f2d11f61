/**
 * Runs the `npm run bench -- --quick` configuration in-process and checks the invariants the
 * project rests on. Trace replays: the automerge-paper trace as a 5,000-transaction prefix
 * (checked against a plain-string replay of the same prefix; the full trace is checked
 * against endContent by `npm run bench`), and the clownschool trace in full against endContent.
 */
import { describe, expect, it } from 'vitest'
import { runSuite, replaySequential, replayConcurrent, type SuiteResult } from '../../../crdt-bench/sim/index.ts'

describe('crdt-bench --quick', () => {
  let first: SuiteResult
  it('runs, and is deterministic for a seed (two runs, identical JSON)', () => {
    first = runSuite({ quick: true, seed: 1, skipTraces: true })
    const second = runSuite({ quick: true, seed: 1, skipTraces: true })
    expect(JSON.stringify(second)).toBe(JSON.stringify(first))
    expect(first.scenarios.length).toBe(7 * 4 * 4 * 4)
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
