/**
 * Keep siblings, resolve later. Each key is an {@link MVRegister} of its whole value: a write
 * supersedes what its writer saw, concurrent writes are all kept. Two strategies share it and
 * differ only in who resolves:
 * - `siblings` (resolve on read): the application sees every sibling (a conflict surfaced);
 *   for a read-modify-write it must pick one to build on (here: the first by dot order), which
 *   silently drops the other branches' increments and adds; register and field values stay
 *   visible as siblings until someone resolves them.
 * - `custom` (a handler on write/merge): whenever siblings meet, a merge function combines
 *   them: numbers add, strings concatenate sorted (deduplicated, '|'-joined), arrays union,
 *   records merge field by field. What the application reads and builds on is the merged value.
 */
import { core } from '../../../crdt/index.ts'
import { applyOp, decodeKeyed, encodeKeyed } from './rmw.ts'
import type { Replica, ReplicaEnv, Strategy } from './strategy.ts'

const { MVRegister } = core

/** The custom conflict handler: combines concurrent values of one key. */
export function mergeHandler (values: readonly unknown[]): unknown {
  if (values.length === 1) return values[0]
  if (values.every(v => typeof v === 'number')) return (values as number[]).reduce((a, b) => a + b, 0)
  if (values.every(v => typeof v === 'string')) return [...new Set((values as string[]).flatMap(s => s.split('|')))].sort().join('|')
  if (values.every(Array.isArray)) return [...new Set((values as unknown[][]).flat().map(String))].sort()
  if (values.every(v => v !== null && typeof v === 'object')) {
    const fields = new Set(values.flatMap(v => Object.keys(v as object)))
    const out: Record<string, unknown> = {}
    for (const f of [...fields].sort()) {
      out[f] = mergeHandler(values.map(v => (v as Record<string, unknown>)[f]).filter(x => x !== undefined))
    }
    return out
  }
  return values[0]
}

function siblingsReplica (env: ReplicaEnv, resolve: 'pick' | 'handler'): Replica {
  const regs = new Map<string, core.MVRegister<unknown>>()
  const get = (k: string) => regs.get(k) ?? MVRegister.empty<unknown>()
  const id = `r${String(env.index).padStart(3, '0')}`
  const r: Replica = {
    conflicts: 0,
    local (_opId, key, op, out) {
      const cur = get(key)
      const sibs = MVRegister.value(cur)
      if (sibs.length > 1) r.conflicts++
      const base = sibs.length === 0 ? undefined : resolve === 'pick' ? sibs[0] : mergeHandler(sibs)
      const delta = MVRegister.set(cur, id, applyOp(base, op))
      regs.set(key, MVRegister.merge(cur, delta))
      out.broadcast(encodeKeyed(key, MVRegister.encode(delta)), [])
    },
    receive (bytes) {
      const { key, payload } = decodeKeyed(bytes)
      regs.set(key, MVRegister.merge(get(key), MVRegister.decode(payload)))
    },
    read (key) {
      const sibs = MVRegister.value(get(key))
      if (sibs.length > 1) r.conflicts++
      if (resolve === 'handler') return mergeHandler(sibs)
      if (env.kind === 'counter' || env.kind === 'set') return sibs[0]
      return sibs.length === 1 ? sibs[0] : sibs
    },
    keys: () => [...regs.keys()],
    stateBytes: () => [...regs].reduce((s, [k, v]) => s + k.length + MVRegister.encode(v).length, 0),
  }
  return r
}

export const siblingsStrategy: Strategy = {
  name: 'siblings',
  description: 'MVRegister per key, siblings surfaced, resolved on read by the app',
  loses: 'Concurrent writes are all kept, but a read-modify-write must build on one sibling (here the first), so the other branches\' increments and adds are dropped when the next write supersedes them; register and field writes stay visible as siblings and are not lost.',
  create: env => siblingsReplica(env, 'pick'),
}

export const customStrategy: Strategy = {
  name: 'custom',
  description: 'MVRegister + merge handler (numbers add, strings concat sorted, arrays union)',
  loses: 'The handler merges values, not operations: two concurrent increments of a counter at v become (v+1)+(v+1), counting the shared past twice, and a union of two sets brings back an element that one side had removed.',
  create: env => siblingsReplica(env, 'handler'),
}
