import { describe, expect, it } from 'vitest'
import { Network, calmNetwork, neighbours, nextHops, runScenario, strategy, lostUpdates, type TimedOp } from '../../../crdt-bench/sim/index.ts'
import { lwwStrategy } from '../../../crdt-bench/sim/strategies/lww.ts'

describe('network model', () => {
  it('delivers every message despite heavy drops, by retransmission', () => {
    const net = new Network<number>(2, { ...calmNetwork, dropRate: 0.5, rtoMs: 50 }, 7)
    const got = new Set<number>()
    net.onReceive((_to, _from, m) => got.add(m))
    for (let i = 0; i < 200; i++) net.send(0, 1, i, 10)
    net.run()
    expect(got.size).toBe(200)
    expect(net.stats.drops).toBeGreaterThan(50)
    expect(net.stats.retransmissions).toBe(net.stats.drops)
    expect(net.stats.bytes).toBe(10 * net.stats.messages)
  })

  it('holds messages across a partition and delivers them after it heals', () => {
    const net = new Network<string>(3, { ...calmNetwork, rtoMs: 100, partitions: [{ startMs: 0, endMs: 1000, side: [2] }] }, 1)
    const at: Record<string, number> = {}
    net.onReceive((to, _from, m) => { at[`${m}->${to}`] = net.now })
    net.send(0, 1, 'a', 1)
    net.send(0, 2, 'b', 1)
    net.run()
    expect(at['a->1']).toBeLessThan(100)
    expect(at['b->2']).toBeGreaterThanOrEqual(1000)
    expect(net.partitioned(0, 2, 500)).toBe(true)
    expect(net.partitioned(0, 2, 1000)).toBe(false)
  })

  it('duplicates and reorders deliveries', () => {
    const net = new Network<number>(2, { ...calmNetwork, dupRate: 1, jitterMs: 100 }, 3)
    const order: number[] = []
    net.onReceive((_to, _from, m) => order.push(m))
    for (let i = 0; i < 20; i++) net.send(0, 1, i, 1)
    net.run()
    expect(order.length).toBe(40)
    expect(order).not.toEqual([...order].sort((a, b) => a - b))
  })

  it('gives each replica a clock skewed within the configured bound, fixed by the seed', () => {
    const a = new Network<number>(10, { ...calmNetwork, clockSkewMs: 500 }, 11)
    const b = new Network<number>(10, { ...calmNetwork, clockSkewMs: 500 }, 11)
    expect(a.skew).toEqual(b.skew)
    expect(a.skew.every(s => Math.abs(s) <= 500)).toBe(true)
    expect(new Set(a.skew).size).toBeGreaterThan(5)
  })
})

describe('clock skew changes LWW outcomes', () => {
  const run = (clocks: number[]): unknown => {
    const sent: Uint8Array[][] = [[], []]
    const reps = clocks.map((c, index) => lwwStrategy.create({ index, replicas: 2, kind: 'register', clock: () => c, observe: () => {}, reachable: () => true, accepted: () => {}, order: () => 0 }))
    const out = (i: number) => ({ broadcast: (b: Uint8Array) => sent[i]!.push(b), unicast: () => {} })
    reps[0]!.local(0, 'k', { t: 'write', value: 'first' }, out(0))
    for (const b of sent[0]!) reps[1]!.receive(b, out(1))
    reps[1]!.local(1, 'k', { t: 'write', value: 'second' }, out(1)) // replica 1 has seen 'first'
    for (const b of sent[1]!) reps[0]!.receive(b, out(0))
    expect(reps[0]!.read('k')).toEqual(reps[1]!.read('k'))
    return reps[0]!.read('k')
  }
  it('keeps the causally later write when clocks agree', () => { expect(run([1000, 1100])).toBe('second') })
  it('keeps the earlier write when the later writer\'s clock is behind', () => { expect(run([1000, 700])).toBe('first') })

  it('shows up in a seeded scenario: LWW loses sequential writes only once skew exceeds the gap', () => {
    const at = (clockSkewMs: number) => runScenario({ strategy: strategy('lww'), topology: 'star', workload: { kind: 'register', replicas: 8, bursts: 40, concurrency: 1, keys: 20, spacingMs: 250, runLength: 2 }, network: { ...calmNetwork, clockSkewMs }, seed: 5 }).lostUpdates
    expect(at(0)).toBe(0)
    expect(at(2000)).toBeGreaterThan(0)
  })
})

describe('topologies', () => {
  it('are symmetric, connected, and routed along shortest paths', () => {
    for (const t of ['star', 'mesh', 'ring', 'tree'] as const) {
      const adj = neighbours(t, 9)
      adj.forEach((ns, i) => ns.forEach(j => expect(adj[j]).toContain(i)))
      const hop = nextHops(adj)
      for (let a = 0; a < 9; a++) for (let b = 0; b < 9; b++) {
        let x = a; let steps = 0
        while (x !== b && steps < 9) { x = hop[x]![b]!; steps++ }
        expect(x).toBe(b)
      }
    }
    expect(neighbours('star', 5)[0]).toEqual([1, 2, 3, 4])
    expect(neighbours('ring', 5)[0]).toEqual([1, 4])
    expect(neighbours('tree', 7)[1]).toEqual([0, 3, 4])
  })
})

describe('scenarios', () => {
  it('are deterministic for a seed', () => {
    const cfg = { strategy: strategy('yjs-map'), topology: 'ring' as const, workload: { kind: 'counter' as const, replicas: 6, bursts: 10, concurrency: 3, keys: 2, spacingMs: 250 }, network: { ...calmNetwork, dropRate: 0.1, dupRate: 0.1 }, seed: 9 }
    expect(JSON.stringify(runScenario(cfg))).toBe(JSON.stringify(runScenario(cfg)))
    expect(JSON.stringify(runScenario({ ...cfg, seed: 10 }))).not.toBe(JSON.stringify(runScenario(cfg)))
  })

  it('counts the classic lost update (two concurrent increments, one survives)', () => {
    const ops = [0, 1].map(id => ({ id, time: 0, replica: id, key: 'x', op: { t: 'inc' as const }, observed: new Set<number>() }))
    expect(lostUpdates('counter', ops, () => 1)).toBe(1)
    expect(lostUpdates('counter', ops, () => 2)).toBe(0)
    const stream: TimedOp[] = [{ id: 0, time: 100, replica: 0, key: 'x', op: { t: 'inc' } }, { id: 1, time: 101, replica: 1, key: 'x', op: { t: 'inc' } }]
    const run = (name: 'lww' | 'crdt') => runScenario({ strategy: strategy(name), topology: 'mesh', workload: { kind: 'counter', replicas: 2, bursts: 1, concurrency: 2, keys: 1, spacingMs: 250 }, network: calmNetwork, seed: 1 }, stream)
    expect(run('lww').lostUpdates).toBe(1)
    expect(run('crdt').lostUpdates).toBe(0)
  })
})
