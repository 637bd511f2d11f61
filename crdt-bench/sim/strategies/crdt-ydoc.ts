/**
 * The same CRDTs as {@link crdtStrategy}, but as applications use them: embedded in a Y.Doc
 * through `crdt/index.ts` (`counter`, `orSet`, `orMap` with siblings-keeping fields,
 * `mvRegister`), synced as ordinary Yjs updates. This measures what the embedding (one slice
 * per replica inside a Y.Map) costs on the wire and in the document, next to the pure core.
 */
import * as Y from 'yjs'
import { counter, orSet, orMap, mvRegister } from '../../../crdt/index.ts'
import type { Outbox, Replica, ReplicaEnv, Strategy } from './strategy.ts'

export const crdtYdocStrategy: Strategy = {
  name: 'crdt-ydoc',
  description: 'crdt/ types embedded in a Y.Doc (counter, orSet, orMap, mvRegister), synced by Yjs updates',
  loses: 'Nothing, for the same reason as crdt: the same types, carried as Yjs updates inside a Y.Doc.',
  create (env: ReplicaEnv): Replica {
    const doc = new Y.Doc({ guid: `r${env.index}` }) // a fixed guid: no crypto-random uuid per replica (a tenth of --quick's CPU)
    doc.clientID = env.index + 1
    const replica = `r${String(env.index).padStart(3, '0')}`
    const handles = new Map<string, unknown>()
    const handle = <H>(key: string, make: () => H): H => {
      let h = handles.get(key) as H | undefined
      if (!h) handles.set(key, h = make())
      return h
    }
    const counterOf = (k: string) => handle(k, () => counter(doc, k, { replica }))
    const setOf = (k: string) => handle(k, () => orSet<string>(doc, k, { replica }))
    const mapOf = (k: string) => handle(k, () => orMap(doc, k, { replica, default: 'mv', clock: env.clock }))
    const regOf = (k: string) => handle(k, () => mvRegister<string>(doc, k, { replica }))
    let outbox: Outbox | null = null
    doc.on('update', (u: Uint8Array, origin: unknown) => { if (origin !== 'remote' && outbox) outbox.broadcast(u, []) })
    const r: Replica = {
      conflicts: 0,
      local (_id, key, op, out) {
        outbox = out
        if (op.t === 'inc') counterOf(key).increment()
        else if (op.t === 'add') setOf(key).add(op.elem)
        else if (op.t === 'remove') setOf(key).delete(op.elem)
        else if (op.t === 'field') mapOf(key).set(op.field, op.value)
        else regOf(key).set(op.value)
        outbox = null
      },
      receive (bytes, out) {
        outbox = out
        Y.applyUpdate(doc, bytes, 'remote')
        outbox = null
      },
      read (key) {
        if (env.kind === 'counter') return counterOf(key).value
        if (env.kind === 'set') return setOf(key).values()
        if (env.kind === 'register') {
          const v = regOf(key).values
          if (v.length > 1) r.conflicts++
          return v.length === 1 ? v[0] : v
        }
        const m = mapOf(key)
        const out: Record<string, unknown> = {}
        let conflicted = false
        for (const f of m.keys()) {
          const v = m.get(f) as unknown[]
          if (v.length > 1) conflicted = true
          out[f] = v.length === 1 ? v[0] : v
        }
        if (conflicted) r.conflicts++
        return out
      },
      keys: () => [...handles.keys()],
      stateBytes: () => Y.encodeStateAsUpdate(doc).length,
    }
    return r
  },
}
