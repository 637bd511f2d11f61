/**
 * One scenario: a strategy, a topology, a workload stream and a network, run to quiescence in
 * the simulator, then measured.
 *
 * Dissemination: a broadcast is flooded along the topology with message ids (a replica that
 * has seen an id drops it, so loops are impossible by construction); in a mesh the origin
 * sends to everyone and nobody re-forwards. A unicast follows shortest-path next hops.
 *
 * Every write's life goes into a {@link WriteLedger}: when it was attempted, when its writer was
 * told it is taken or refused, when each replica first reflected it (a message carrying its op
 * id arrived, or the strategy reported it applied). A refused write is left out of the intent.
 */
import * as encoding from 'lib0/encoding'
import { core } from '../../crdt/index.ts'
import { Network, type NetworkConfig } from './network.ts'
import { neighbours, nextHops, type Topology } from './topology.ts'
import { generate, type TimedOp, type WorkloadConfig } from './workload.ts'
import { lostUpdates, type ObservedOp } from './intent.ts'
import { WriteLedger, defaultWriteTimeoutMs } from './write-ledger.ts'
import { jsonBytes } from './strategies/rmw.ts'
import type { Outbox, Replica, Strategy } from './strategies/index.ts'

/** Everything that defines one scenario. */
export interface ScenarioConfig {
  readonly strategy: Strategy
  readonly topology: Topology
  readonly workload: WorkloadConfig
  readonly network: NetworkConfig
  readonly seed: number
  /** A writer's patience (ms) for availability; default {@link defaultWriteTimeoutMs}. */
  readonly writeTimeoutMs?: number
}

/** The measurements of one scenario. */
export interface ScenarioResult {
  strategy: string
  topology: Topology
  workload: string
  replicas: number
  concurrency: number
  clockSkewMs: number
  ops: number
  /** All replicas read equal values at the end. */
  converged: boolean
  /** Updates missing from (or wrongly present in) the final value, against the intent. */
  lostUpdates: number
  /** Times application code was shown more than one concurrent value. */
  conflicts: number
  /** Mean encoded state per replica minus the plain JSON of its values. */
  metadataBytesPerReplica: number
  /** Mean encoded state per replica. */
  stateBytesPerReplica: number
  /** Bytes transmitted (including retransmissions, duplicates, forwarding) per operation. */
  wireBytesPerOp: number
  /** Transmissions per operation. */
  messagesPerOp: number
  /** Simulated ms from the last operation to the last delivery. */
  convergeMs: number
  /** Writes refused at once (the user was told they failed); left out of the intent. */
  refusedWrites: number
  /** Writer's latency (until its user is told the write is taken), p50 and p99, simulated ms. */
  writeLatencyP50Ms: number
  writeLatencyP99Ms: number
  /** Until every replica reflects the write, p50 and p99, simulated ms. */
  visibleLatencyP50Ms: number
  visibleLatencyP99Ms: number
  /** Writes attempted while the partition was in force (at least the write timeout before it healed), and those accepted within the timeout. */
  partitionWrites: number
  partitionAccepted: number
  /** `partitionAccepted / partitionWrites` (1 without such writes). */
  availability: number
  /** ms after the partition heals until every write made before is on every replica (null: no partition). */
  healConvergeMs: number | null
}

/** A scenario's result with what it was computed from (for `--explain` and the pooled figures). */
export interface ScenarioRun {
  readonly result: ScenarioResult
  readonly ledger: WriteLedger
  /** Accepted and pending writes with what each writer had observed (refused ones left out). */
  readonly observed: readonly ObservedOp[]
  /** Replica 0's final value of a key, as the application reads it. */
  readonly read: (key: string) => unknown
}

interface Envelope { readonly kind: 'flood' | 'uni', readonly id: number, readonly dst: number, readonly bytes: Uint8Array, readonly ops: readonly number[] }

function headerBytes (e: Envelope): number {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, e.kind === 'flood' ? 0 : 1)
  encoding.writeVarUint(enc, e.id)
  if (e.kind === 'uni') encoding.writeVarUint(enc, e.dst)
  return encoding.length(enc)
}

/** Runs one scenario to quiescence. */
export function runScenario (config: ScenarioConfig, stream?: readonly TimedOp[]): ScenarioResult {
  return simulate(config, stream).result
}

/**
 * Probes for `--explain`: read replicas' values before each write and at given times, without
 * changing what is sent (reads may bump a strategy's `conflicts`, nothing else).
 */
export interface ScenarioProbes {
  /** Called just before `op` is handed to its writer's replica. */
  readonly beforeWrite?: (op: TimedOp, read: (replica: number, key: string) => unknown) => void
  /** Called at each simulated time, after every event already scheduled for it. */
  readonly at?: readonly { readonly time: number, readonly run: (read: (replica: number, key: string) => unknown) => void }[]
}

/** Runs one scenario to quiescence and keeps its ledger and intent. */
export function simulate (config: ScenarioConfig, stream?: readonly TimedOp[], probes?: ScenarioProbes): ScenarioRun {
  const n = config.workload.replicas
  const ops = stream ?? generate(config.workload, config.seed)
  const net = new Network<Envelope>(n, config.network, config.seed + 1)
  const adj = neighbours(config.topology, n)
  const hops = nextHops(adj)
  const seenMsg: Set<number>[] = Array.from({ length: n }, () => new Set())
  const seenOps: Set<number>[] = Array.from({ length: n }, () => new Set())
  const observed: ObservedOp[] = []
  const ledger = new WriteLedger(n, config.network.partitions, config.writeTimeoutMs ?? defaultWriteTimeoutMs)
  let nextMsgId = 1
  let currentOp: number | null = null
  let nextSlot = 0
  const see = (r: number, id: number): void => { seenOps[r]!.add(id); ledger.has(r, id, net.now) }
  /** Whether the route from `a` to `b` crosses an active partition. */
  const routeClear = (a: number, b: number): boolean => {
    for (let x = a; x !== b; x = hops[x]![b]!) if (net.partitioned(x, hops[x]![b]!)) return false
    return true
  }

  const replicas: Replica[] = Array.from({ length: n }, (_, index) => config.strategy.create({
    index, replicas: n, kind: config.workload.kind,
    clock: () => net.clock(index),
    observe: ids => { for (const id of ids) see(index, id) },
    reachable: to => routeClear(index, to) && routeClear(to, index),
    accepted: id => ledger.accept(id, net.now),
    order: () => nextSlot++,
  }))

  const send = (from: number, to: number, e: Envelope): void => net.send(from, to, e, e.bytes.length + headerBytes(e))
  const outbox = (self: number): Outbox => ({
    broadcast (bytes, opIds) {
      const e: Envelope = { kind: 'flood', id: nextMsgId++, dst: -1, bytes, ops: opIds.length > 0 ? opIds : currentOp !== null ? [currentOp] : [] }
      seenMsg[self]!.add(e.id)
      for (const j of adj[self]!) send(self, j, e)
    },
    unicast (to, bytes, opIds) {
      const e: Envelope = { kind: 'uni', id: nextMsgId++, dst: to, bytes, ops: opIds }
      send(self, hops[self]![to]!, e)
    },
  })
  const outboxes = replicas.map((_, i) => outbox(i))

  net.onReceive((to, from, e) => {
    if (e.kind === 'uni') {
      if (e.dst !== to) { send(to, hops[to]![e.dst]!, e); return }
      if (seenMsg[to]!.has(e.id)) return
      seenMsg[to]!.add(e.id)
    } else {
      if (seenMsg[to]!.has(e.id)) return
      seenMsg[to]!.add(e.id)
      if (config.topology !== 'mesh') for (const j of adj[to]!) if (j !== from) send(to, j, e)
    }
    for (const id of e.ops) see(to, id)
    replicas[to]!.receive(e.bytes, outboxes[to]!)
  })

  let lastOpTime = 0
  const peek = (replica: number, key: string): unknown => replicas[replica]!.read(key)
  for (const op of ops) {
    net.queue.at(op.time, () => {
      const r = op.replica
      const record = ledger.attempt(op)
      observed.push({ ...op, observed: new Set(seenOps[r]) })
      seenOps[r]!.add(op.id)
      probes?.beforeWrite?.(op, peek)
      currentOp = op.id
      ledger.settle(op.id, replicas[r]!.local(op.id, op.key, op.op, outboxes[r]!) ?? undefined, net.now)
      currentOp = null
      if (record.refused) { observed.pop(); seenOps[r]!.delete(op.id) }
      lastOpTime = net.now
    })
  }
  for (const p of probes?.at ?? []) net.queue.at(p.time, () => p.run(peek))
  net.run()

  const keys = [...new Set(ops.map(o => o.key))].sort()
  const snapshot = (r: Replica): string => core.canonicalJson(keys.map(k => r.read(k) ?? null))
  const during = replicas.reduce((s, r) => s + r.conflicts, 0)
  const before = replicas[0]!.conflicts
  const first = snapshot(replicas[0]!)
  const finalConflicts = replicas[0]!.conflicts - before
  const converged = replicas.every(r => snapshot(r) === first)
  const state = replicas.reduce((s, r) => s + r.stateBytes(), 0) / n
  const plain = replicas.reduce((s, r) => s + keys.reduce((a, k) => a + k.length + jsonBytes(r.read(k) ?? null), 0), 0) / n
  observed.sort((a, b) => a.id - b.id)
  const w = ledger.summary()
  const read = (k: string): unknown => replicas[0]!.read(k)
  const result: ScenarioResult = {
    strategy: config.strategy.name,
    topology: config.topology,
    workload: config.workload.kind,
    replicas: n,
    concurrency: Math.min(config.workload.concurrency, n),
    clockSkewMs: config.network.clockSkewMs,
    ops: ops.length,
    converged,
    lostUpdates: lostUpdates(config.workload.kind, observed, read),
    conflicts: during + finalConflicts,
    metadataBytesPerReplica: Math.max(0, Math.round(state - plain)),
    stateBytesPerReplica: Math.round(state),
    wireBytesPerOp: round1(net.stats.bytes / Math.max(1, ops.length)),
    messagesPerOp: round1(net.stats.messages / Math.max(1, ops.length)),
    convergeMs: Math.round(Math.max(0, net.lastDelivery - lastOpTime)),
    refusedWrites: w.refusedWrites,
    writeLatencyP50Ms: w.writeLatencyP50Ms,
    writeLatencyP99Ms: w.writeLatencyP99Ms,
    visibleLatencyP50Ms: w.visibleLatencyP50Ms,
    visibleLatencyP99Ms: w.visibleLatencyP99Ms,
    partitionWrites: w.partitionWrites,
    partitionAccepted: w.partitionAccepted,
    availability: w.availability,
    healConvergeMs: w.healConvergeMs,
  }
  return { result, ledger, observed, read }
}

function round1 (x: number): number { return Math.round(x * 10) / 10 }
