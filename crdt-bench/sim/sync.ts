/**
 * Sync-cost benchmark: how many bytes replicas of one pure `crdt/` type exchange per update,
 * by protocol and topology. Every replica talks only to its topology neighbours and runs its
 * protocol on a tick (`tickMs`); updates happen at random replicas over `opsWindowMs`.
 *
 * Protocols:
 * - `full-state`: on a tick after a change, send the whole state to every neighbour;
 * - `delta`: classic delta-based sync (Almeida et al., delta-intervals): a buffer of
 *   delta-groups with sequence numbers; each neighbour gets the join of the groups it has not
 *   been sent, and acks them (acks garbage-collect the buffer). Received groups that inflate
 *   the state are buffered whole, so they travel on — including back to where they came from;
 * - `bp-rr`: the same with the two optimisations of Enes, Almeida, Baquero and Leitão,
 *   "Efficient Synchronization of State-based CRDTs" (ICDE 2019): avoid back-propagation (a
 *   group is never sent back to the neighbour it came from) and remove redundant state (only
 *   Δ(received, local) — the part of the group the replica did not have — is buffered);
 * - `digest`: Yjs-style anti-entropy (y-protocols sync step 1 / step 2, both ways): after a
 *   change a replica sends its state vector; the peer answers with what the sender lacks (new
 *   structs plus the whole delete set, as Yjs does) and with its own state vector, which the
 *   first replica answers the same way. Both directions are needed: an observed remove mints
 *   no new dot, so a state vector alone cannot reveal it.
 *
 * The links retransmit, so every message is eventually delivered once or more (duplicates are
 * harmless: every message is a join).
 */
import * as encoding from 'lib0/encoding'
import { Network, type NetworkConfig } from './network.ts'
import { neighbours, type Topology } from './topology.ts'
import type { SyncLattice } from './sync-lattice.ts'

/** The sync protocols compared. */
export type SyncProtocol = 'full-state' | 'delta' | 'bp-rr' | 'digest'
export const syncProtocols: readonly SyncProtocol[] = ['full-state', 'delta', 'bp-rr', 'digest']

/** One sync-cost run. */
export interface SyncConfig<S> {
  readonly lattice: SyncLattice<S>
  readonly protocol: SyncProtocol
  readonly topology: Topology
  readonly replicas: number
  readonly ops: number
  readonly opsWindowMs: number
  readonly tickMs: number
  readonly network: NetworkConfig
  readonly seed: number
}

/** Its measurements. */
export interface SyncResult {
  type: string
  protocol: SyncProtocol
  topology: Topology
  replicas: number
  ops: number
  converged: boolean
  wireBytesPerOp: number
  messagesPerOp: number
  convergeMs: number
}

type Msg<S> =
  | { t: 'state', s: S }
  | { t: 'group', s: S, seq: number }
  | { t: 'ack', seq: number }
  | { t: 'digest', d: Uint8Array, reply: boolean }
  | { t: 'diff', s: S }

interface Group<S> { readonly seq: number, readonly s: S, readonly origin: number }

/** Runs one protocol on one topology to quiescence. */
export function runSync<S> (c: SyncConfig<S>): SyncResult {
  const L = c.lattice
  const n = c.replicas
  const net = new Network<Msg<S>>(n, c.network, c.seed)
  const adj = neighbours(c.topology, n)
  const ids = Array.from({ length: n }, (_, i) => `r${i}`)
  const state: S[] = Array.from({ length: n }, () => L.empty())
  const dirty: Set<number>[] = Array.from({ length: n }, () => new Set())
  const buffer: Group<S>[][] = Array.from({ length: n }, () => [])
  const nextSeq: number[] = new Array<number>(n).fill(0)
  const sent: Map<number, number>[] = Array.from({ length: n }, () => new Map())
  const acked: Map<number, number>[] = Array.from({ length: n }, () => new Map())

  const size = (m: Msg<S>): number => {
    const enc = encoding.createEncoder()
    encoding.writeUint8(enc, 0)
    if (m.t === 'group' || m.t === 'ack') encoding.writeVarUint(enc, m.seq)
    const head = encoding.length(enc)
    if (m.t === 'state' || m.t === 'group' || m.t === 'diff') return head + L.encode(m.s).length
    if (m.t === 'digest') return head + m.d.length
    return head
  }
  const send = (from: number, to: number, m: Msg<S>): void => net.send(from, to, m, size(m))
  const changed = (i: number, s: S, origin: number): void => {
    const before = state[i]!
    state[i] = L.merge(before, s)
    if (L.equals(before, state[i]!)) return
    if (c.protocol === 'full-state' || c.protocol === 'digest') for (const j of adj[i]!) dirty[i]!.add(j)
    if (c.protocol === 'delta') buffer[i]!.push({ seq: nextSeq[i]!++, s, origin })
    if (c.protocol === 'bp-rr') {
      const d = origin === i ? s : L.difference(s, before)
      if (!L.isBottom(d)) buffer[i]!.push({ seq: nextSeq[i]!++, s: d, origin })
    }
  }

  net.onReceive((to, from, m) => {
    if (m.t === 'state' || m.t === 'diff') changed(to, m.s, from)
    else if (m.t === 'group') { changed(to, m.s, from); send(to, from, { t: 'ack', seq: m.seq }) }
    else if (m.t === 'ack') {
      acked[to]!.set(from, Math.max(acked[to]!.get(from) ?? 0, m.seq))
      const low = Math.min(...adj[to]!.map(j => acked[to]!.get(j) ?? 0))
      buffer[to] = buffer[to]!.filter(g => g.seq >= low)
    } else {
      const diff = L.diff(state[to]!, m.d)
      if (!L.isBottom(diff)) send(to, from, { t: 'diff', s: diff })
      if (!m.reply) send(to, from, { t: 'digest', d: L.digest(state[to]!), reply: true })
    }
  })

  const tick = (i: number): void => {
    for (const j of adj[i]!) {
      if (c.protocol === 'full-state' || c.protocol === 'digest') {
        if (!dirty[i]!.has(j)) continue
        dirty[i]!.delete(j)
        send(i, j, c.protocol === 'full-state' ? { t: 'state', s: state[i]! } : { t: 'digest', d: L.digest(state[i]!), reply: false })
        continue
      }
      const from = sent[i]!.get(j) ?? 0
      if (from >= nextSeq[i]!) continue
      let s = L.empty()
      for (const g of buffer[i]!) if (g.seq >= from && (c.protocol === 'delta' || g.origin !== j)) s = L.merge(s, g.s)
      sent[i]!.set(j, nextSeq[i]!)
      if (!L.isBottom(s)) send(i, j, { t: 'group', s, seq: nextSeq[i]! })
    }
  }

  const rng = (): number => net.random()
  for (let k = 0; k < c.ops; k++) {
    net.queue.at(Math.floor((k * c.opsWindowMs) / c.ops), () => {
      const i = Math.floor(rng() * n)
      changed(i, L.mutate(state[i]!, ids[i]!, rng), i)
    })
  }
  const ticker = (): void => {
    for (let i = 0; i < n; i++) tick(i)
    const busy = net.queue.size > 0 || dirty.some(d => d.size > 0) || sent.some((m, i) => adj[i]!.some(j => (m.get(j) ?? 0) < nextSeq[i]!))
    if (busy || net.now < c.opsWindowMs) net.queue.at(net.now + c.tickMs, ticker)
  }
  net.queue.at(c.tickMs, ticker)
  net.run()

  const converged = state.every(s => L.equals(s, state[0]!))
  return {
    type: L.name,
    protocol: c.protocol,
    topology: c.topology,
    replicas: n,
    ops: c.ops,
    converged,
    wireBytesPerOp: Math.round((net.stats.bytes / c.ops) * 10) / 10,
    messagesPerOp: Math.round((net.stats.messages / c.ops) * 10) / 10,
    convergeMs: Math.round(Math.max(0, net.lastDelivery - c.opsWindowMs)),
  }
}
