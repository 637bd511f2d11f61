/**
 * One scenario: a strategy, a topology, a workload stream and a network, run to quiescence in
 * the simulator, then measured.
 *
 * Dissemination: a broadcast is flooded along the topology with message ids (a replica that
 * has seen an id drops it, so loops are impossible by construction); in a mesh the origin
 * sends to everyone and nobody re-forwards. A unicast follows shortest-path next hops.
 */
import * as encoding from 'lib0/encoding'
import { core } from '../../crdt/index.ts'
import { Network, type NetworkConfig } from './network.ts'
import { neighbours, nextHops, type Topology } from './topology.ts'
import { generate, type TimedOp, type WorkloadConfig } from './workload.ts'
import { lostUpdates, type ObservedOp } from './intent.ts'
import { jsonBytes } from './strategies/rmw.ts'
import type { Outbox, Replica, Strategy } from './strategies/index.ts'

/** Everything that defines one scenario. */
export interface ScenarioConfig {
  readonly strategy: Strategy
  readonly topology: Topology
  readonly workload: WorkloadConfig
  readonly network: NetworkConfig
  readonly seed: number
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
  const n = config.workload.replicas
  const ops = stream ?? generate(config.workload, config.seed)
  const net = new Network<Envelope>(n, config.network, config.seed + 1)
  const adj = neighbours(config.topology, n)
  const hops = nextHops(adj)
  const seenMsg: Set<number>[] = Array.from({ length: n }, () => new Set())
  const seenOps: Set<number>[] = Array.from({ length: n }, () => new Set())
  const observed: ObservedOp[] = []
  let nextMsgId = 1
  let currentOp: number | null = null

  const replicas: Replica[] = Array.from({ length: n }, (_, index) => config.strategy.create({
    index, replicas: n, kind: config.workload.kind,
    clock: () => net.clock(index),
    observe: ids => { for (const id of ids) seenOps[index]!.add(id) },
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
    for (const id of e.ops) seenOps[to]!.add(id)
    replicas[to]!.receive(e.bytes, outboxes[to]!)
  })

  let lastOpTime = 0
  for (const op of ops) {
    net.queue.at(op.time, () => {
      const r = op.replica
      observed.push({ ...op, observed: new Set(seenOps[r]) })
      seenOps[r]!.add(op.id)
      currentOp = op.id
      replicas[r]!.local(op.id, op.key, op.op, outboxes[r]!)
      currentOp = null
      lastOpTime = net.now
    })
  }
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
  return {
    strategy: config.strategy.name,
    topology: config.topology,
    workload: config.workload.kind,
    replicas: n,
    concurrency: Math.min(config.workload.concurrency, n),
    clockSkewMs: config.network.clockSkewMs,
    ops: ops.length,
    converged,
    lostUpdates: lostUpdates(config.workload.kind, observed, k => replicas[0]!.read(k)),
    conflicts: during + finalConflicts,
    metadataBytesPerReplica: Math.max(0, Math.round(state - plain)),
    stateBytesPerReplica: Math.round(state),
    wireBytesPerOp: round1(net.stats.bytes / Math.max(1, ops.length)),
    messagesPerOp: round1(net.stats.messages / Math.max(1, ops.length)),
    convergeMs: Math.round(Math.max(0, net.lastDelivery - lastOpTime)),
  }
}

function round1 (x: number): number { return Math.round(x * 10) / 10 }
