/**
 * Replica-id precedence, by actually running Yjs: each replica holds a Y.Doc whose Y.Map has
 * one entry per key, written read-modify-write. Concurrent sets of one key are resolved by
 * Yjs's rule (the write of the higher client id wins), silently; no clock is involved.
 */
import * as Y from 'yjs'
import type { Replica, ReplicaEnv, Strategy } from './strategy.ts'
import { applyOp } from './rmw.ts'

export const yjsMapStrategy: Strategy = {
  name: 'yjs-map',
  description: 'plain Y.Map (replica-id precedence), real Yjs',
  loses: 'Each key is one Y.Map entry written read-modify-write; of concurrent sets Yjs keeps the one of the higher client id, so the others\' increments, adds and fields vanish without a conflict ever being shown.',
  create (env: ReplicaEnv): Replica {
    const doc = new Y.Doc({ guid: `r${env.index}` }) // a fixed guid: no crypto-random uuid per replica (a tenth of --quick's CPU)
    doc.clientID = env.index + 1
    doc.gc = true
    const map = doc.getMap<unknown>('kv')
    let outbox: Parameters<Replica['local']>[3] | null = null
    doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'remote' && outbox) outbox.broadcast(u, [])
    })
    return {
      conflicts: 0,
      local (_id, key, op, out) {
        outbox = out
        doc.transact(() => map.set(key, applyOp(map.get(key), op)))
        outbox = null
      },
      receive (bytes) { Y.applyUpdate(doc, bytes, 'remote') },
      read: key => map.get(key),
      keys: () => [...map.keys()],
      stateBytes: () => Y.encodeStateAsUpdate(doc).length,
    }
  },
}
