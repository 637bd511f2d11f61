/**
 * Synchronous multi-leader: every replica takes its users' writes, but a write commits only
 * after a majority of replicas (the writer included) has accepted it, and every replica applies
 * committed writes as intents in one agreed order. In effect, consensus.
 *
 * The model keeps consensus's cost and outcome, not its every message: the writer sends the
 * intent to every replica (PREPARE), each stores it and acknowledges (ACK); at the majority-th
 * acknowledgement the write is committed, takes the next slot of the run's agreed log
 * ({@link ReplicaEnv.order} stands in for the ordering protocol) and is flooded (COMMIT).
 * Replicas apply slots strictly in order, waiting for gaps. No ballots or elections are
 * simulated, so contention costs nothing extra (optimistic); a commit travels from its writer
 * only, so if a drop and then a partition hold it back, replicas wait for it until the heal,
 * where a real log would fetch the entry from another replica (pessimistic for the tail).
 *
 * A writer that cannot reach a majority when the write is attempted refuses it at once (the
 * user is told it failed); a refused write never takes a slot.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { applyOp } from './rmw.ts'
import type { Outbox, Replica, ReplicaEnv, Strategy } from './strategy.ts'
import type { Op } from '../workload.ts'

const PREPARE = 0
const ACK = 1
const COMMIT = 2

interface Entry { readonly opId: number, readonly key: string, readonly op: Op }

function encodeEntry (enc: encoding.Encoder, e: Entry): void {
  encoding.writeVarUint(enc, e.opId)
  encoding.writeVarString(enc, e.key)
  encoding.writeVarString(enc, JSON.stringify(e.op))
}

function decodeEntry (dec: decoding.Decoder): Entry {
  return { opId: decoding.readVarUint(dec), key: decoding.readVarString(dec), op: JSON.parse(decoding.readVarString(dec)) as Op }
}

/** Replicas needed for a majority of `n`. */
export function majority (n: number): number { return Math.floor(n / 2) + 1 }

function quorumReplica (env: ReplicaEnv): Replica {
  const n = env.replicas
  const values = new Map<string, unknown>()
  const log = new Map<number, Entry>()
  let nextSlot = 0
  /** Writes of this replica waiting for acknowledgements: op id → entry and acks so far. */
  const pending = new Map<number, { entry: Entry, acks: Set<number> }>()
  /** Intents stored for other writers (what an acceptor keeps until the commit). */
  const accepted = new Map<number, Entry>()
  /** Op ids already applied (a PREPARE that arrives after its COMMIT is acknowledged, not stored). */
  const applied = new Set<number>()

  const applyReady = (): void => {
    for (let e = log.get(nextSlot); e; e = log.get(nextSlot)) {
      log.delete(nextSlot)
      nextSlot++
      values.set(e.key, applyOp(values.get(e.key), e.op))
      accepted.delete(e.opId)
      applied.add(e.opId)
      env.observe([e.opId])
    }
  }
  const commitIn = (slot: number, e: Entry): void => {
    if (slot >= nextSlot) log.set(slot, e)
    applyReady()
  }
  /** Commits `p` once a majority has it: takes a slot, tells the user, floods the commit. */
  const tryCommit = (p: { entry: Entry, acks: Set<number> }, out: Outbox): boolean => {
    if (p.acks.size < majority(n)) return false
    pending.delete(p.entry.opId)
    const slot = env.order()
    env.accepted(p.entry.opId)
    out.broadcast(message(COMMIT, enc => { encoding.writeVarUint(enc, slot); encodeEntry(enc, p.entry) }), [])
    commitIn(slot, p.entry)
    return true
  }
  const message = (tag: number, write: (enc: encoding.Encoder) => void): Uint8Array => {
    const enc = encoding.createEncoder()
    encoding.writeUint8(enc, tag)
    write(enc)
    return encoding.toUint8Array(enc)
  }

  return {
    conflicts: 0,
    local (opId, key, op, out) {
      let reach = 1
      for (let j = 0; j < n; j++) if (j !== env.index && env.reachable(j)) reach++
      if (reach < majority(n)) return 'refused'
      const entry: Entry = { opId, key, op }
      const p = { entry, acks: new Set([env.index]) }
      pending.set(opId, p)
      if (tryCommit(p, out)) return 'pending'
      const prepare = message(PREPARE, enc => { encoding.writeVarUint(enc, env.index); encodeEntry(enc, entry) })
      for (let j = 0; j < n; j++) if (j !== env.index) out.unicast(j, prepare, [])
      return 'pending'
    },
    receive (bytes, out) {
      const dec = decoding.createDecoder(bytes)
      const tag = decoding.readUint8(dec)
      if (tag === PREPARE) {
        const writer = decoding.readVarUint(dec)
        const e = decodeEntry(dec)
        if (!applied.has(e.opId)) accepted.set(e.opId, e)
        out.unicast(writer, message(ACK, enc => { encoding.writeVarUint(enc, env.index); encoding.writeVarUint(enc, e.opId) }), [])
        return
      }
      if (tag === ACK) {
        const from = decoding.readVarUint(dec)
        const p = pending.get(decoding.readVarUint(dec))
        if (!p) return
        p.acks.add(from)
        tryCommit(p, out)
        return
      }
      const slot = decoding.readVarUint(dec)
      commitIn(slot, decodeEntry(dec))
    },
    read: key => values.get(key),
    keys: () => [...values.keys()],
    stateBytes: () => [...values].reduce((s, [k, v]) => s + k.length + 4 + JSON.stringify(v).length, 0) +
      [...accepted.values(), ...log.values()].reduce((s, e) => s + e.key.length + 8 + JSON.stringify(e.op).length, 0),
  }
}

export const syncQuorumStrategy: Strategy = {
  name: 'sync-quorum',
  description: 'synchronous multi-leader: a write commits after a majority accepted it, in one agreed order; refused without a majority',
  loses: 'Writes commit in one agreed order, so counters lose nothing, but a remove or a blind overwrite (register, map field) committed after a concurrent write its writer never saw still removes or replaces it: consensus orders writes, it does not merge them; writes cut off from a majority are refused, not lost.',
  create: quorumReplica,
}
