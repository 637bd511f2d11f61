/**
 * Last-writer-wins by timestamp: each key is an {@link LWWRegister} of its whole value, written
 * read-modify-write with the replica's own (possibly skewed) clock. Concurrent writes: one wins,
 * the others vanish silently; a replica whose clock is behind loses even later writes.
 */
import { core } from '../../../crdt/index.ts'
import { applyOp, decodeKeyed, encodeKeyed } from './rmw.ts'
import type { Replica, ReplicaEnv, Strategy } from './strategy.ts'

const { LWWRegister } = core

export const lwwStrategy: Strategy = {
  name: 'lww',
  description: 'last-writer-wins by timestamp (replica clock, skew applies)',
  loses: 'Each write replaces the whole value, so of concurrent writes the one with the latest timestamp erases the others (increments, adds, fields alike), and a writer whose clock runs behind loses even to a write it had already seen.',
  create (env: ReplicaEnv): Replica {
    const regs = new Map<string, core.LWWRegister<unknown>>()
    const get = (k: string) => regs.get(k) ?? LWWRegister.empty<unknown>()
    return {
      conflicts: 0,
      local (_id, key, op, out) {
        const cur = get(key)
        const delta = LWWRegister.set(cur, String(env.index).padStart(3, '0'), applyOp(LWWRegister.value(cur), op), env.clock)
        regs.set(key, LWWRegister.merge(cur, delta))
        out.broadcast(encodeKeyed(key, LWWRegister.encode(delta)), [])
      },
      receive (bytes) {
        const { key, payload } = decodeKeyed(bytes)
        regs.set(key, LWWRegister.merge(get(key), LWWRegister.decode(payload)))
      },
      read: key => LWWRegister.value(get(key)),
      keys: () => [...regs.keys()],
      stateBytes: () => [...regs].reduce((s, [k, r]) => s + k.length + LWWRegister.encode(r).length, 0),
    }
  },
}
