/**
 * CRDT merge with the `crdt/` core types: a {@link PNCounter} per counter key, an add-wins
 * {@link ORSet} per set key, an {@link ORMap} of register fields per record, and an
 * {@link MVRegister} per register key. Deltas travel; merge is a join, so delivery order,
 * duplicates and partitions change nothing. Concurrent writes of one register field are kept
 * as siblings and counted as conflicts surfaced when the application reads them.
 */
import { core } from '../../../crdt/index.ts'
import { decodeKeyed, encodeKeyed } from './rmw.ts'
import type { Replica, ReplicaEnv, Strategy } from './strategy.ts'
import type { Op } from '../workload.ts'

const { PNCounter, ORSet, ORMap, MVRegister } = core

/** The four per-kind codecs, behind one shape. */
interface Kind<S> {
  empty (): S
  delta (s: S, replica: string, op: Op, clock: () => number): S
  merge (a: S, b: S): S
  read (s: S): { value: unknown, siblings: number }
  encode (s: S): Uint8Array
  decode (b: Uint8Array): S
}

const counterKind: Kind<core.PNCounter> = {
  empty: PNCounter.empty,
  delta: (s, r) => PNCounter.increment(s, r, 1),
  merge: PNCounter.merge,
  read: s => ({ value: PNCounter.value(s), siblings: 1 }),
  encode: PNCounter.encode,
  decode: PNCounter.decode,
}
const setKind: Kind<core.ORSet<string>> = {
  empty: () => ORSet.empty<string>(),
  delta: (s, r, op) => op.t === 'add' ? ORSet.add(s, r, op.elem) : ORSet.remove(s, (op as { elem: string }).elem),
  merge: ORSet.merge,
  read: s => ({ value: ORSet.value(s), siblings: 1 }),
  encode: ORSet.encode,
  decode: b => ORSet.decode<string>(b),
}
const mapKind: Kind<core.ORMap> = {
  empty: ORMap.empty,
  delta: (s, r, op, clock) => ORMap.apply(s, r, [(op as { field: string }).field], { type: 'set', value: (op as { value: string }).value }, clock),
  merge: ORMap.merge,
  read: s => {
    const v = ORMap.value(s)
    const out: Record<string, unknown> = {}
    let siblings = 1
    for (const [f, sibs] of Object.entries(v)) {
      const vals = (sibs as core.RegisterSibling[]).map(x => x.value)
      siblings = Math.max(siblings, vals.length)
      out[f] = vals.length === 1 ? vals[0] : vals
    }
    return { value: out, siblings }
  },
  encode: ORMap.encode,
  decode: ORMap.decode,
}
const registerKind: Kind<core.MVRegister<string>> = {
  empty: () => MVRegister.empty<string>(),
  delta: (s, r, op) => MVRegister.set(s, r, (op as { value: string }).value),
  merge: MVRegister.merge,
  read: s => { const v = MVRegister.value(s); return { value: v.length === 1 ? v[0] : v, siblings: v.length } },
  encode: MVRegister.encode,
  decode: b => MVRegister.decode<string>(b),
}

export const crdtStrategy: Strategy = {
  name: 'crdt',
  description: 'crdt/ types: PNCounter, add-wins ORSet, ORMap of registers, MVRegister',
  loses: 'Nothing: every type merges operations, not values (a counter per replica, adds a remove did not see survive, concurrent writes of a register or field are kept as siblings).',
  create (env: ReplicaEnv): Replica {
    const kind = ({ counter: counterKind, set: setKind, map: mapKind, register: registerKind } as Record<string, Kind<unknown>>)[env.kind]!
    const states = new Map<string, unknown>()
    const id = `r${String(env.index).padStart(3, '0')}`
    const get = (k: string) => states.get(k) ?? kind.empty()
    return {
      conflicts: 0,
      local (_opId, key, op, out) {
        const cur = get(key)
        const delta = kind.delta(cur, id, op, env.clock)
        states.set(key, kind.merge(cur, delta))
        out.broadcast(encodeKeyed(key, kind.encode(delta)), [])
      },
      receive (bytes) {
        const { key, payload } = decodeKeyed(bytes)
        states.set(key, kind.merge(get(key), kind.decode(payload)))
      },
      read (key) {
        const r = kind.read(get(key))
        if (r.siblings > 1) this.conflicts++
        return r.value
      },
      keys: () => [...states.keys()],
      stateBytes: () => [...states].reduce((s, [k, v]) => s + k.length + kind.encode(v).length, 0),
    }
  },
}
