/** Markdown tables of a suite result (printed by `npm run bench`, pasted into the README). */
import type { SuiteResult } from '../sim/suite.ts'
import type { ScenarioResult } from '../sim/scenario.ts'

function table (head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')
}

const mean = (xs: number[]): number => xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const uniq = <T>(xs: T[]): T[] => [...new Set(xs)]

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`

/** The trade-off: one row per strategy, every axis, pooled over the whole strategy matrix. */
export function tradeoffTable (r: SuiteResult): string {
  return table(['strategy', 'lost updates', 'write p50 ms', 'write p99 ms', 'on every replica p50 ms', 'p99 ms', 'available, 2 followers cut off', 'available, leader\'s side cut off', 'refused', 'converge after heal ms', 'wire B/op'],
    r.tradeoff.map(t => [t.strategy, `${t.lostUpdates} / ${t.ops} (${pct(t.lostUpdates / Math.max(1, t.ops))})`, t.writeLatencyP50Ms, t.writeLatencyP99Ms, t.visibleLatencyP50Ms, t.visibleLatencyP99Ms,
      pct(t.availability), pct(t.availabilityLeaderCut), t.refusedWrites, t.convergeMs, Math.round(t.wireBytesPerOp)]))
}

/** Per strategy and workload, over every topology and concurrency. */
export function strategyTable (r: SuiteResult): string {
  const rows: (string | number)[][] = []
  for (const w of uniq(r.scenarios.map(s => s.workload))) {
    for (const st of uniq(r.scenarios.map(s => s.strategy))) {
      const xs = r.scenarios.filter(s => s.workload === w && s.strategy === st)
      rows.push([w, st, `${xs.filter(x => x.converged).length}/${xs.length}`, sum(xs.map(x => x.lostUpdates)), `${sum(xs.map(x => x.ops))}`,
        sum(xs.map(x => x.conflicts)), Math.round(mean(xs.map(x => x.metadataBytesPerReplica))), Math.round(mean(xs.map(x => x.wireBytesPerOp))), Math.round(mean(xs.map(x => x.convergeMs)))])
    }
  }
  return table(['workload', 'strategy', 'converged', 'lost updates', 'ops', 'conflicts surfaced', 'metadata B/replica', 'wire B/op', 'converge ms'], rows)
}

/** Lost updates by strategy (rows) and concurrency (columns), summed over workloads and topologies. */
export function concurrencyTable (r: SuiteResult): string {
  const cs = uniq(r.scenarios.map(s => s.concurrency)).sort((a, b) => a - b)
  const rows = uniq(r.scenarios.map(s => s.strategy)).map(st => [st, ...cs.map(c => {
    const xs = r.scenarios.filter(s => s.strategy === st && s.concurrency === c)
    return `${sum(xs.map(x => x.lostUpdates))} / ${sum(xs.map(x => x.ops))}`
  })])
  return table(['strategy', ...cs.map(c => `${c} concurrent writers`)], rows)
}

/** Wire bytes per op by strategy and topology (mean over workloads and concurrency). */
export function topologyTable (r: SuiteResult): string {
  const ts = uniq(r.scenarios.map(s => s.topology))
  const rows = uniq(r.scenarios.map(s => s.strategy)).map(st => [st, ...ts.map(t => Math.round(mean(r.scenarios.filter(s => s.strategy === st && s.topology === t).map(x => x.wireBytesPerOp))))])
  return table(['strategy', ...ts.map(t => `${t} B/op`)], rows)
}

/** Lost register writes by clock skew (sequential writes, star, no loss, no partition). */
export function skewTable (r: SuiteResult): string {
  const ks = uniq(r.skew.map(s => s.clockSkewMs))
  const at = (st: string, k: number): ScenarioResult => r.skew.find(s => s.strategy === st && s.clockSkewMs === k)!
  const rows = uniq(r.skew.map(s => s.strategy)).map(st => [st, ...ks.map(k => `${at(st, k).lostUpdates} / ${at(st, k).ops}`)])
  return table(['strategy', ...ks.map(k => `skew ±${k} ms`)], rows)
}

/** Sync bytes per op, one row per type and protocol, one column per topology and size. */
export function syncTable (r: SuiteResult): string {
  const cols = uniq(r.sync.map(s => `${s.topology}-${s.replicas}`))
  const rows: (string | number)[][] = []
  for (const type of uniq(r.sync.map(s => s.type))) {
    for (const p of uniq(r.sync.map(s => s.protocol))) {
      rows.push([type, p, ...cols.map(c => {
        const x = r.sync.find(s => s.type === type && s.protocol === p && `${s.topology}-${s.replicas}` === c)!
        return `${Math.round(x.wireBytesPerOp)}${x.converged ? '' : ' (not converged)'}`
      })])
    }
  }
  return table(['type', 'protocol', ...cols], rows)
}

/** Trace replays. */
export function traceTable (r: SuiteResult): string {
  return table(['trace', 'mode', 'transactions', 'result', 'checked against', 'final chars', 'Y.Doc bytes', 'ms'],
    r.traces.map(t => [t.trace, t.mode, `${t.txns} / ${t.totalTxns}`, t.matches ? 'equal' : 'DIFFERENT', t.checkedAgainst, t.finalLength, t.docBytes, t.ms]))
}

/** The full printed report. */
export function report (r: SuiteResult): string {
  return [
    `## The trade-off (${r.config.replicas} replicas, every workload, topology and concurrency pooled; latency in simulated ms; available = accepted within ${r.config.writeTimeoutMs} ms while a partition is in force)`,
    tradeoffTable(r),
    `## Strategies (${r.config.replicas} replicas, ${r.config.bursts} bursts per run, 5% drops with retransmission, 2% duplicates, 20-80 ms links, one partition of 2 replicas that heals)`,
    strategyTable(r),
    '## Lost updates vs concurrency (all workloads and topologies)', concurrencyTable(r),
    '## Wire bytes per operation by topology', topologyTable(r),
    '## Clock skew: stale winners among sequential register writes (each key written twice, 250 ms apart, by replicas whose clocks differ)', skewTable(r),
    `## Sync cost: bytes on the wire per update (${r.config.syncOps} updates, 2% drops)`, syncTable(r),
    '## Editing traces through Yjs', traceTable(r),
  ].join('\n\n')
}
