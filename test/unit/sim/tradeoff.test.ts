/**
 * The trade-off axes on hand-made streams: what single-leader and sync-quorum refuse under a
 * partition, what they lose, and how long a writer waits, against LWW that never waits.
 */
import { describe, expect, it } from 'vitest'
import { calmNetwork, explainScenario, percentile, simulate, strategy, WriteLedger, type NetworkConfig, type StrategyName, type TimedOp } from '../../../crdt-bench/sim/index.ts'
import type { Topology } from '../../../crdt-bench/sim/topology.ts'

const n = 8
/** Every replica increments `x` at t=100 (one burst of eight concurrent writes). */
const everyoneIncrements: TimedOp[] = Array.from({ length: n }, (_, i) => ({ id: i, time: 100 + i % 3, replica: i, key: 'x', op: { t: 'inc' } }))
const cut = (side: number[]): NetworkConfig => ({ ...calmNetwork, partitions: [{ startMs: 0, endMs: 3000, side }] })
const run = (name: StrategyName, network: NetworkConfig, topology: Topology = 'mesh', stream: TimedOp[] = everyoneIncrements, seed = 1) =>
  simulate({ strategy: strategy(name), topology, workload: { kind: 'counter', replicas: n, bursts: 1, concurrency: n, keys: 1, spacingMs: 250 }, network, seed }, stream)

describe('availability under a partition', () => {
  it('single-leader loses no increment, but refuses the writes of the followers cut off from the leader', () => {
    const r = run('single-leader', cut([6, 7]))
    expect(r.result).toMatchObject({ converged: true, lostUpdates: 0, refusedWrites: 2, partitionWrites: 8, partitionAccepted: 6, availability: 0.75 })
    expect(r.read('x')).toBe(6) // the two refused increments never show up
    expect([...r.ledger.records.values()].filter(w => w.refused).map(w => w.op.replica)).toEqual([6, 7])
  })

  it('sync-quorum refuses writes on the minority side, wherever the leader of single-leader is', () => {
    for (const side of [[6, 7], [0, 1, 2]]) {
      const q = run('sync-quorum', cut(side))
      const refused = [...q.ledger.records.values()].filter(w => w.refused).map(w => w.op.replica)
      expect(refused).toEqual(side)
      expect(q.result).toMatchObject({ converged: true, lostUpdates: 0 })
      expect(q.read('x')).toBe(n - side.length)
    }
    // Cutting the leader's side off: single-leader keeps only that minority writing.
    const single = run('single-leader', cut([0, 1, 2]))
    expect(single.result.availability).toBe(3 / 8)
    expect(run('sync-quorum', cut([0, 1, 2])).result.availability).toBe(5 / 8)
  })

  it("LWW's availability is 1: every write is taken at once on both sides (and it loses increments)", () => {
    const r = run('lww', cut([6, 7]))
    expect(r.result).toMatchObject({ availability: 1, refusedWrites: 0, partitionWrites: 8, writeLatencyP99Ms: 0 })
    expect(r.result.lostUpdates).toBeGreaterThan(0)
  })

  it('home-leader queues instead: nothing is refused, the writes whose home is cut off wait for the heal', () => {
    const r = run('home-leader', cut([6, 7]), 'star')
    expect(r.result.refusedWrites).toBe(0)
    expect(r.result.availability).toBeLessThan(1)
    expect(r.read('x')).toBe(n)
    const late = [...r.ledger.records.values()].filter(w => w.acceptedMs! >= 3000)
    expect(late.length).toBeGreaterThan(0)
  })
})

describe('write latency from the simulated network', () => {
  const slow: NetworkConfig = { ...calmNetwork, latencyMs: 50, jitterMs: 10 }

  it("single-leader: a follower's write waits at least the round trip to the leader; the leader's own is immediate", () => {
    for (const topology of ['star', 'mesh', 'ring'] as const) {
      const r = run('single-leader', slow, topology)
      for (const w of r.ledger.records.values()) {
        const wait = w.acceptedMs! - w.op.time
        if (w.op.replica === 0) expect(wait).toBe(0)
        else expect(wait, `${topology} r${w.op.replica}`).toBeGreaterThanOrEqual(2 * slow.latencyMs)
      }
    }
  })

  it('sync-quorum: every write waits at least a round trip (to a majority); LWW and crdt never wait', () => {
    const q = run('sync-quorum', slow)
    for (const w of q.ledger.records.values()) expect(w.acceptedMs! - w.op.time).toBeGreaterThanOrEqual(2 * slow.latencyMs)
    expect(q.result.writeLatencyP50Ms).toBeGreaterThanOrEqual(100)
    for (const name of ['lww', 'crdt'] as const) expect(run(name, slow).result).toMatchObject({ writeLatencyP50Ms: 0, writeLatencyP99Ms: 0 })
  })

  it('a write is on every replica no sooner than one hop after it was made', () => {
    for (const name of ['lww', 'single-leader', 'sync-quorum'] as const) {
      const r = run(name, slow)
      for (const w of r.ledger.records.values()) expect(w.allHaveMs! - w.op.time).toBeGreaterThanOrEqual(slow.latencyMs)
      expect(r.result.visibleLatencyP99Ms).toBeGreaterThanOrEqual(r.result.visibleLatencyP50Ms)
    }
  })

  it('every new field is a pure function of the seed', () => {
    const network: NetworkConfig = { ...cut([6, 7]), dropRate: 0.1, dupRate: 0.1, jitterMs: 60 }
    for (const name of ['single-leader', 'sync-quorum', 'home-leader'] as const) {
      expect(JSON.stringify(run(name, network, 'ring', everyoneIncrements, 3).result)).toBe(JSON.stringify(run(name, network, 'ring', everyoneIncrements, 3).result))
    }
    expect(JSON.stringify(run('sync-quorum', network, 'ring', everyoneIncrements, 3).result)).not.toBe(JSON.stringify(run('sync-quorum', network, 'ring', everyoneIncrements, 4).result))
  })
})

describe('what the ordered strategies still lose', () => {
  it('single-leader and sync-quorum replace one of two concurrent register writes (its writer never saw the other); crdt keeps both', () => {
    const stream: TimedOp[] = [
      { id: 0, time: 100, replica: 3, key: 'x', op: { t: 'write', value: 'r3w0' } },
      { id: 1, time: 101, replica: 5, key: 'x', op: { t: 'write', value: 'r5w1' } },
    ]
    const reg = (name: StrategyName) => simulate({ strategy: strategy(name), topology: 'mesh', workload: { kind: 'register', replicas: n, bursts: 1, concurrency: 2, keys: 1, spacingMs: 250 }, network: calmNetwork, seed: 1 }, stream)
    for (const name of ['single-leader', 'sync-quorum'] as const) expect(reg(name).result).toMatchObject({ converged: true, lostUpdates: 1 })
    expect(reg('crdt').result.lostUpdates).toBe(0)
  })
})

describe('--explain on one scenario', () => {
  it('tells the two concurrent increments LWW merged into one, with times, what each read, and the values', () => {
    const stream: TimedOp[] = [{ id: 0, time: 100, replica: 0, key: 'x', op: { t: 'inc' } }, { id: 1, time: 101, replica: 1, key: 'x', op: { t: 'inc' } }]
    const config = { strategy: strategy('lww'), topology: 'mesh' as const, workload: { kind: 'counter' as const, replicas: 2, bursts: 1, concurrency: 2, keys: 1, spacingMs: 250 }, network: calmNetwork, seed: 1 }
    const { story } = explainScenario({ ...config, writeTimeoutMs: 500 }, stream)
    const text = story!.join('\n')
    expect(text).toContain('lww in counter, mesh, 2 concurrent writers, key x')
    expect(text).toMatch(/t=100\.0 ms {2}r0 increments x; it had seen 0 earlier writes of x and read nothing/)
    expect(text).toMatch(/t=101\.0 ms {2}r1 increments x/)
    expect(text).toContain('neither had seen the other')
    expect(text).toMatch(/once both were on every replica: x = 1 \(2 increments had reached every replica\)/)
    expect(text).toContain('1 update of x lost')
    expect(explainScenario({ ...config, strategy: strategy('crdt') }, stream).story).toBeNull()
  })
})

describe('write ledger', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(xs, 50)).toBe(50)
    expect(percentile(xs, 99)).toBe(99)
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBe(0)
  })

  it('judges only writes whose whole timeout falls inside the partition, and counts a late acceptance as unavailable', () => {
    const l = new WriteLedger(2, [{ startMs: 1000, endMs: 2000, side: [1] }], 500)
    const op = (id: number, time: number): TimedOp => ({ id, time, replica: 0, key: 'x', op: { t: 'inc' } })
    l.attempt(op(0, 1100)); l.settle(0, 'pending', 1100); l.accept(0, 1550) // within 500 ms: available
    l.attempt(op(1, 1200)); l.settle(1, 'pending', 1200); l.accept(1, 2100) // waited for the heal
    l.attempt(op(2, 1300)); l.settle(2, 'refused', 1300)
    l.attempt(op(3, 1600)); l.settle(3, 'pending', 1600); l.accept(3, 2050) // too close to the heal to judge
    l.attempt(op(4, 500)); l.settle(4, undefined, 500) // before the partition
    expect(l.summary()).toMatchObject({ partitionWrites: 3, partitionAccepted: 1, refusedWrites: 1, accepted: 4 })
    expect(l.summary().availability).toBe(0.333)
  })
})
