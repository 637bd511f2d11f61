/**
 * The whole benchmark as one function: the strategy matrix, the trade-off pooled from it, the
 * leader-cut partition, the clock-skew sweep, the sync-cost matrix and the trace replays,
 * returning plain JSON-able results. `quick` runs a small version in seconds (same code paths,
 * fewer bursts, sizes 5 and 15, a trace prefix).
 */
import { calmNetwork, type NetworkConfig } from './network.ts'
import { topologies, type Topology } from './topology.ts'
import { workloadKinds, type WorkloadKind } from './workload.ts'
import { strategies, type Strategy } from './strategies/index.ts'
import { runScenario, simulate, type ScenarioConfig, type ScenarioResult } from './scenario.ts'
import { tradeoffRow, type Measured, type TradeoffRow } from './tradeoff.ts'
import { defaultWriteTimeoutMs } from './write-ledger.ts'
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
  config: { quick: boolean, seed: number, replicas: number, bursts: number, concurrency: number[], network: NetworkConfig, writeTimeoutMs: number, syncReplicas: number[], syncOps: number }
  /** One row per strategy: losses, latency, availability, convergence, bytes (pooled from `scenarios`). */
  tradeoff: TradeoffRow[]
  scenarios: ScenarioResult[]
  /** Every strategy with the leader's side cut off (mesh, counter, every replica writing each burst). */
  leaderCut: ScenarioResult[]
  skew: ScenarioResult[]
  sync: SyncResult[]
  traces: TraceResult[]
}

/** The strategy matrix's shape for a run (shared by the suite and `--explain`, which re-runs one scenario). */
export function matrixShape (quick: boolean): { replicas: number, bursts: number, concurrency: number[], network: NetworkConfig } {
  const replicas = 8
  const bursts = quick ? 12 : 40
  return {
    replicas,
    bursts,
    concurrency: [1, 2, 4, 8],
    network: {
      ...calmNetwork, latencyMs: 20, jitterMs: 60, dropRate: 0.05, dupRate: 0.02, rtoMs: 200, clockSkewMs: 0,
      partitions: [{ startMs: 100 + bursts * 250 * 0.3, endMs: 100 + bursts * 250 * 0.6, side: [replicas - 2, replicas - 1] }],
    },
  }
}

/** One scenario of the strategy matrix. */
export function matrixScenario (quick: boolean, seed: number, strategy: Strategy, topology: Topology, kind: WorkloadKind, concurrency: number): ScenarioConfig {
  const { replicas, bursts, network } = matrixShape(quick)
  return { strategy, topology, workload: { kind, replicas, bursts, concurrency, keys: 3, spacingMs: 250 }, network, seed, writeTimeoutMs: defaultWriteTimeoutMs }
}

/** Runs the benchmark. Deterministic for a seed (timings aside: trace `ms` fields). */
export function runSuite (o: SuiteOptions): SuiteResult {
  const { replicas, bursts, concurrency, network } = matrixShape(o.quick)
  const syncReplicas = o.quick ? [5, 15] : [5, 15, 50]
  const syncOps = o.quick ? 60 : 200
  const skews = [0, 10, 100, 300, 1000]
  const lattices: SyncLattice<never>[] = [gcounterLattice as SyncLattice<never>, orsetLattice as SyncLattice<never>]
  const total = strategies.length * topologies.length * workloadKinds.length * concurrency.length + strategies.length +
    strategies.length * skews.length + lattices.length * syncReplicas.length * topologies.length * syncProtocols.length +
    (o.skipTraces ? 0 : 2)
  let done = 0
  const step = (label: string): void => { done++; o.progress?.(done, total, label) }

  const runs = new Map<string, Measured[]>(strategies.map(s => [s.name, []]))
  const scenarios: ScenarioResult[] = []
  for (const kind of workloadKinds) {
    for (const c of concurrency) {
      for (const topology of topologies) {
        for (const s of strategies) {
          const run = simulate(matrixScenario(o.quick, o.seed, s, topology, kind, c))
          runs.get(s.name)!.push({ result: run.result, ledger: run.ledger })
          scenarios.push(run.result)
          step(`${kind} c=${c} ${topology} ${s.name}`)
        }
      }
    }
  }
  // The leader's side cut off: replicas 0-2 (a minority holding replica 0, the single leader and
  // the star's hub) cut from 3-7; mesh, so routes never detour; every replica writes each burst.
  const cutNetwork: NetworkConfig = { ...network, partitions: network.partitions.map(p => ({ ...p, side: [0, 1, 2] })) }
  const leaderCutRuns = strategies.map(s => {
    const run = simulate({ ...matrixScenario(o.quick, o.seed, s, 'mesh', 'counter', replicas), network: cutNetwork })
    step(`leader cut off ${s.name}`)
    return run
  })
  const tradeoff = strategies.map((s, i) => tradeoffRow(s.name, runs.get(s.name)!, [leaderCutRuns[i]!]))
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
  return { config: { quick: o.quick, seed: o.seed, replicas, bursts, concurrency, network, writeTimeoutMs: defaultWriteTimeoutMs, syncReplicas, syncOps }, tradeoff, scenarios, leaderCut: leaderCutRuns.map(r => r.result), skew, sync, traces }
}
