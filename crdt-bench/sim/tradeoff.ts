/**
 * The trade-off in one row per strategy: lost updates, write latency, availability, time to
 * converge after the heal and bytes on the wire, pooled over every scenario of the strategy
 * matrix (same run, same seed, same operation streams). Latency percentiles are taken over all
 * accepted writes of all those scenarios, not averaged per scenario.
 */
import { percentile } from './write-ledger.ts'
import type { ScenarioRun } from './scenario.ts'

/** What a row is pooled from: a scenario's result and its write ledger. */
export type Measured = Pick<ScenarioRun, 'result' | 'ledger'>

/** One strategy's place on every axis. */
export interface TradeoffRow {
  strategy: string
  /** Lost updates and operations attempted, summed over the matrix. */
  lostUpdates: number
  ops: number
  /** Writes refused at once (cut off from the leader or from a majority). */
  refusedWrites: number
  /** Until the writer's user is told the write is taken (simulated ms). */
  writeLatencyP50Ms: number
  writeLatencyP99Ms: number
  /** Until every replica has the write (simulated ms). */
  visibleLatencyP50Ms: number
  visibleLatencyP99Ms: number
  /** Share of writes attempted during the partition (2 followers cut off) accepted within the write timeout. */
  availability: number
  /** The same when the cut-off side is the leader's (replicas 0-2 of 8: a minority holding replica 0). */
  availabilityLeaderCut: number
  /** Mean ms after the partition heals until every earlier write is on every replica. */
  convergeMs: number
  /** Mean bytes on the wire per operation. */
  wireBytesPerOp: number
}

/** Pools runs of one strategy into its row. `leaderCut`: its runs with the leader's side cut off. */
export function tradeoffRow (strategy: string, runs: readonly Measured[], leaderCut: readonly Measured[]): TradeoffRow {
  const write: number[] = []; const visible: number[] = []
  for (const r of runs) { const l = r.ledger.latencies(); write.push(...l.write); visible.push(...l.visible) }
  const share = (xs: readonly Measured[]): number => {
    const tried = xs.reduce((a, r) => a + r.result.partitionWrites, 0)
    return tried === 0 ? 1 : Math.round((xs.reduce((a, r) => a + r.result.partitionAccepted, 0) / tried) * 1000) / 1000
  }
  const heal = runs.map(r => r.result.healConvergeMs).filter((x): x is number => x !== null)
  const sum = (f: (r: Measured) => number): number => runs.reduce((a, r) => a + f(r), 0)
  return {
    strategy,
    lostUpdates: sum(r => r.result.lostUpdates),
    ops: sum(r => r.result.ops),
    refusedWrites: sum(r => r.result.refusedWrites),
    writeLatencyP50Ms: percentile(write, 50),
    writeLatencyP99Ms: percentile(write, 99),
    visibleLatencyP50Ms: percentile(visible, 50),
    visibleLatencyP99Ms: percentile(visible, 99),
    availability: share(runs),
    availabilityLeaderCut: share(leaderCut),
    convergeMs: heal.length === 0 ? 0 : Math.round(heal.reduce((a, b) => a + b, 0) / heal.length),
    wireBytesPerOp: Math.round((sum(r => r.result.wireBytesPerOp) / Math.max(1, runs.length)) * 10) / 10,
  }
}
