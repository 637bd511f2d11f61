/**
 * Writes ordered by a leader: a write is an intent (increment, add, remove, set field, write)
 * routed to the key's leader, which applies intents one at a time to a plain value and
 * broadcasts each new version; replicas keep the highest version. No conflict ever reaches the
 * application, at the price of a round trip to the leader for every write a follower takes.
 * Blind overwrites are still ordered by arrival at the leader, so one of two concurrent register
 * writes is replaced without its writer having seen the other.
 *
 * Two strategies share it and differ in who leads and in what a follower cut off does:
 * - `home-leader` (conflict avoidance): every key has its own leader (`hash(key) mod
 *   replicas`); a write whose leader is cut off is queued (retransmitted) and applied after
 *   the heal;
 * - `single-leader`: replica 0 leads every key; a follower that cannot reach it refuses the
 *   write at once (the user is told it failed, as a read replica of a database would).
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { applyOp } from './rmw.ts'
import type { Replica, ReplicaEnv, Strategy, Outbox } from './strategy.ts'
import type { Op } from '../workload.ts'

const INTENT = 0
const VERSION = 1

/** The home leader of `key` among `n` replicas. */
export function homeOf (key: string, n: number): number {
  let h = 2166136261
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0
  return h % n
}

/** How a leader strategy picks the leader and treats a follower cut off from it. */
interface LeaderRule {
  readonly leaderOf: (key: string, n: number) => number
  /** `'queue'`: the intent waits for the heal; `'refuse'`: the write fails at once. */
  readonly whenCutOff: 'queue' | 'refuse'
}

function leaderReplica (env: ReplicaEnv, rule: LeaderRule): Replica {
  const values = new Map<string, { version: number, value: unknown }>()
  const applied = new Map<string, number[]>()
  const lead = (opId: number, key: string, op: Op, out: Outbox): void => {
    const done = applied.get(key) ?? []
    if (done.includes(opId)) return
    done.push(opId)
    applied.set(key, done)
    const cur = values.get(key)
    const next = { version: (cur?.version ?? 0) + 1, value: applyOp(cur?.value, op) }
    values.set(key, next)
    env.observe([opId])
    const enc = encoding.createEncoder()
    encoding.writeUint8(enc, VERSION)
    encoding.writeVarString(enc, key)
    encoding.writeVarUint(enc, next.version)
    encoding.writeVarString(enc, JSON.stringify(next.value))
    out.broadcast(encoding.toUint8Array(enc), [...done])
  }
  return {
    conflicts: 0,
    local (opId, key, op, out) {
      const leader = rule.leaderOf(key, env.replicas)
      if (leader === env.index) { lead(opId, key, op, out); return 'accepted' }
      if (rule.whenCutOff === 'refuse' && !env.reachable(leader)) return 'refused'
      const enc = encoding.createEncoder()
      encoding.writeUint8(enc, INTENT)
      encoding.writeVarUint(enc, opId)
      encoding.writeVarString(enc, key)
      encoding.writeVarString(enc, JSON.stringify(op))
      out.unicast(leader, encoding.toUint8Array(enc), [])
      return 'pending'
    },
    receive (bytes, out) {
      const dec = decoding.createDecoder(bytes)
      if (decoding.readUint8(dec) === INTENT) {
        const opId = decoding.readVarUint(dec)
        const key = decoding.readVarString(dec)
        lead(opId, key, JSON.parse(decoding.readVarString(dec)) as Op, out)
        return
      }
      const key = decoding.readVarString(dec)
      const version = decoding.readVarUint(dec)
      const value = JSON.parse(decoding.readVarString(dec)) as unknown
      if (version > (values.get(key)?.version ?? 0)) values.set(key, { version, value })
    },
    read: key => values.get(key)?.value,
    keys: () => [...values.keys()],
    stateBytes: () => [...values].reduce((s, [k, v]) => s + k.length + 4 + JSON.stringify(v.value).length, 0),
  }
}

const ordered = 'a remove or a blind overwrite (register, map field) applied after a concurrent write its writer never saw removes or replaces that write; counters lose nothing'

export const homeLeaderStrategy: Strategy = {
  name: 'home-leader',
  description: 'conflict avoidance: every write of a key goes through its home leader (queued while cut off)',
  loses: `Each key's writes are ordered by its home leader, so ${ordered}.`,
  create: env => leaderReplica(env, { leaderOf: homeOf, whenCutOff: 'queue' }),
}

export const singleLeaderStrategy: Strategy = {
  name: 'single-leader',
  description: 'one leader (replica 0) for every write; followers forward theirs, refuse while cut off from it',
  loses: `Every write is ordered by one leader, so ${ordered}; writes of followers cut off from the leader are refused, not lost.`,
  create: env => leaderReplica(env, { leaderOf: () => 0, whenCutOff: 'refuse' }),
}
