/**
 * The data operations of a JSON edit: a key of a top-level `Y.Map` (setKey, deleteKey), and the
 * CRDTs of `crdt/` through their public handles (increment → `counter`, addToSet/removeFromSet →
 * `orSet`, setRegister → `mvRegister` or `lwwRegister`), so the relay writes them exactly as an
 * application's own code would: into the root `crdt:<kind>:<name>`, as the slice of one replica
 * (the edit doc's client id, see `apply.ts`).
 *
 * @module
 */
import * as Y from 'yjs'
import { counter, lwwRegister, mvRegister, orSet, type Counter, type LWWRegisterHandle, type MVRegisterHandle, type ORSetHandle } from '../../crdt/index.ts'
import { BLOCKS_TEXT } from '../../editor/blocks/layout.ts'
import { TREE_FRAGMENT } from '../../editor/blocks/convert.ts'
import type { DataOp, JsonValue } from './ops.ts'
import { OpRefused } from './op-error.ts'

type Handle = Counter | ORSetHandle<JsonValue> | MVRegisterHandle<JsonValue> | LWWRegisterHandle<JsonValue>

/** What a root holds, for a refusal (null: a map, or nothing yet). */
function nonMapKind(doc: Y.Doc, root: string): string | null {
  const type = doc.share.get(root)
  if (!type || type instanceof Y.Map) return null
  if (type instanceof Y.Text) return 'text'
  if (type instanceof Y.Array) return 'array'
  if (type instanceof Y.XmlFragment) return 'XML fragment'
  // untyped (as every root of a doc read from updates): a map has entries only, no sequence
  return type._start === null ? null : 'sequence (text, array or XML)'
}

function requireMapRoot(doc: Y.Doc, root: string): void {
  const kind = nonMapKind(doc, root)
  if (kind) throw new OpRefused(`the root ${JSON.stringify(root)} holds a ${kind}, not a map`)
}

/** The maps and CRDTs of one doc, changed op by op; one handle per CRDT, so ops on one CRDT see each other. */
export class DataEdits {
  private readonly handles = new Map<string, Handle>()

  constructor(private readonly doc: Y.Doc) {}

  /** Applies `op` (inside the caller's Yjs transaction); throws {@link OpRefused}. */
  apply(op: DataOp): void {
    switch (op.op) {
      case 'setKey':
        this.map(op.name).set(op.key, op.value)
        break
      case 'deleteKey':
        this.map(op.name).delete(op.key)
        break
      case 'increment': {
        const c = this.handle('counter', op.name, () => counter(this.doc, op.name))
        const by = op.by ?? 1
        if (by > 0) c.increment(by)
        else c.decrement(-by)
        if (!Number.isSafeInteger(c.value)) throw new OpRefused(`the counter ${JSON.stringify(op.name)} would leave the safe integer range`)
        break
      }
      case 'addToSet':
        this.handle('or-set', op.name, () => orSet<JsonValue>(this.doc, op.name)).add(op.value)
        break
      case 'removeFromSet':
        this.handle('or-set', op.name, () => orSet<JsonValue>(this.doc, op.name)).delete(op.value)
        break
      case 'setRegister':
        if (op.kind === 'lww') this.handle('lww-register', op.name, () => lwwRegister<JsonValue>(this.doc, op.name)).set(op.value)
        else this.handle('mv-register', op.name, () => mvRegister<JsonValue>(this.doc, op.name)).set(op.value)
        break
    }
  }

  /** Stops the handles listening to the doc. */
  destroy(): void {
    for (const handle of this.handles.values()) handle.destroy()
    this.handles.clear()
  }

  private map(name: string): Y.Map<unknown> {
    if (name === BLOCKS_TEXT || name === TREE_FRAGMENT) {
      throw new OpRefused(`${JSON.stringify(name)} is the editor's document: change it with insertText, insertBlocks, delete or setBlockType`)
    }
    if (name.startsWith('crdt:')) throw new OpRefused(`names starting with "crdt:" hold the CRDTs: use increment, addToSet, removeFromSet or setRegister`)
    requireMapRoot(this.doc, name)
    return this.doc.getMap(name)
  }

  private handle<H extends Handle>(kind: string, name: string, create: () => H): H {
    const root = `crdt:${kind}:${name}`
    let handle = this.handles.get(root) as H | undefined
    if (!handle) {
      requireMapRoot(this.doc, root)
      handle = create()
      this.handles.set(root, handle)
    }
    return handle
  }
}
