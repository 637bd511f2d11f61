/**
 * Conflict avoidance: every key has a home leader (`hash(key) mod replicas`). A write is an
 * intent (increment, add, remove, set field, write) routed to the home leader, which applies
 * intents one at a time to a plain value and broadcasts each new version; replicas keep the
 * highest version. No conflict ever reaches the application, at the price of a round trip to
 * the leader for every write and of writes that wait while the leader is unreachable. Blind
 * overwrites are still ordered by arrival at the leader, so one of two concurrent register
 * writes is replaced without its writer having seen the other.
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

export const homeLeaderStrategy: Strategy = {
  name: 'home-leader',
  description: 'conflict avoidance: every write of a key goes through its home leader',
  create (env: ReplicaEnv): Replica {
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
        const home = homeOf(key, env.replicas)
        if (home === env.index) return lead(opId, key, op, out)
        const enc = encoding.createEncoder()
        encoding.writeUint8(enc, INTENT)
        encoding.writeVarUint(enc, opId)
        encoding.writeVarString(enc, key)
        encoding.writeVarString(enc, JSON.stringify(op))
        out.unicast(home, encoding.toUint8Array(enc), [])
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
  },
}
