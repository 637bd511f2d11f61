/**
 * The whole benchmark as one function: the strategy matrix, the clock-skew sweep, the sync-cost
 * matrix and the trace replays, returning plain JSON-able results. `quick` runs a small
 * version in seconds (same code paths, fewer bursts, sizes 5 and 15, a trace prefix).
 */
import { calmNetwork, type NetworkConfig } from './network.ts'
import { topologies } from './topology.ts'
import { workloadKinds } from './workload.ts'
import { strategies } from './strategies/index.ts'
import { runScenario, type ScenarioResult } from './scenario.ts'
import { runSync, syncProtocols, type SyncResult } from './sync.ts'
import { gcounterLattice, orsetLattice, type SyncLattice } from './sync-lattice.ts'
import { replayConcurrent, replaySequential, type TraceResult } from './traces.ts'

/** Options of a run. */
export interface SuiteOptions {
  readonly quick: boolean
  readonly seed: number
  /** Called after each unit of work with (done, total, label). */
  readonly progress?: (done: number, total: number, label: string) => void
  /** Skip the trace replays (for tests that check them separately). */
  readonly skipTraces?: boolean
}

/** Everything one run measured. */
export interface SuiteResult {
  config: { quick: boolean, seed: number, replicas: number, bursts: number, concurrency: number[], network: NetworkConfig, syncReplicas: number[], syncOps: number }
  scenarios: ScenarioResult[]
  skew: ScenarioResult[]
  sync: SyncResult[]
  traces: TraceResult[]
}

/** Runs the benchmark. Deterministic for a seed (timings aside: trace `ms` fields). */
export function runSuite (o: SuiteOptions): SuiteResult {
  const replicas = 8
  const bursts = o.quick ? 12 : 40
  const concurrency = [1, 2, 4, 8]
  const network: NetworkConfig = {
    ...calmNetwork, latencyMs: 20, jitterMs: 60, dropRate: 0.05, dupRate: 0.02, rtoMs: 200, clockSkewMs: 0,
    partitions: [{ startMs: 100 + bursts * 250 * 0.3, endMs: 100 + bursts * 250 * 0.6, side: [replicas - 2, replicas - 1] }],
  }
  const syncReplicas = o.quick ? [5, 15] : [5, 15, 50]
  const syncOps = o.quick ? 60 : 200
  const skews = [0, 10, 100, 300, 1000]
  const lattices: SyncLattice<never>[] = [gcounterLattice as SyncLattice<never>, orsetLattice as SyncLattice<never>]
  const total = strategies.length * topologies.length * workloadKinds.length * concurrency.length +
    strategies.length * skews.length + lattices.length * syncReplicas.length * topologies.length * syncProtocols.length +
    (o.skipTraces ? 0 : 2)
  let done = 0
  const step = (label: string): void => { done++; o.progress?.(done, total, label) }

  const scenarios: ScenarioResult[] = []
  for (const kind of workloadKinds) {
    for (const c of concurrency) {
      for (const topology of topologies) {
        for (const s of strategies) {
          scenarios.push(runScenario({ strategy: s, topology, workload: { kind, replicas, bursts, concurrency: c, keys: 3, spacingMs: 250 }, network, seed: o.seed }))
          step(`${kind} c=${c} ${topology} ${s.name}`)
        }
      }
    }
  }
  // Clock skew: each key is written twice, by two replicas, 250 ms apart (the second writer has
  // seen the first write); no concurrency, no partition, no loss: only the clocks differ.
  const skew: ScenarioResult[] = []
  for (const clockSkewMs of skews) {
    for (const s of strategies) {
      skew.push(runScenario({ strategy: s, topology: 'star', workload: { kind: 'register', replicas, bursts, concurrency: 1, keys: bursts / 2, spacingMs: 250, runLength: 2 }, network: { ...calmNetwork, clockSkewMs }, seed: o.seed }))
      step(`skew ${clockSkewMs} ms ${s.name}`)
    }
  }
  const sync: SyncResult[] = []
  for (const L of lattices) {
    for (const n of syncReplicas) {
      for (const topology of topologies) {
        for (const protocol of syncProtocols) {
          sync.push(runSync({ lattice: L, protocol, topology, replicas: n, ops: syncOps, opsWindowMs: syncOps * 20, tickMs: 100, network: { ...calmNetwork, dropRate: 0.02 }, seed: o.seed }))
          step(`sync ${L.name} n=${n} ${topology} ${protocol}`)
        }
      }
    }
  }
  const traces: TraceResult[] = []
  if (!o.skipTraces) {
    traces.push(replaySequential('automerge-paper', o.quick ? 5000 : Infinity)); step('trace automerge-paper')
    if (!o.quick) { traces.push(replayConcurrent('clownschool')) }
    step('trace clownschool')
  }
  return { config: { quick: o.quick, seed: o.seed, replicas, bursts, concurrency, network, syncReplicas, syncOps }, scenarios, skew, sync, traces }
}
