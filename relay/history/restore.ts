/**
 * Restore as a forward change. The version is rebuilt in a scratch doc that keeps deleted content
 * (`gc: false`); everything the room's doc holds beyond it is applied on top under a tracked
 * origin; a `Y.UndoManager` undoes that: it deletes what was added since the version and writes
 * copies of what was deleted since. What the scratch doc holds beyond the room's doc is then one
 * ordinary update, which the relay applies like any client's: connected editors see it at once,
 * and edits made concurrently (or offline) land on top of it, since a restore deletes only items
 * that existed when it was computed and its copies are new items.
 *
 * @module
 */
import * as Y from 'yjs'
import { buildDoc, contentOf } from './rebuild.ts'

const TRACKED = Symbol('history-restore')

/** A client id for the restore's own structs that neither doc has used. */
function freshClientId(live: Y.Doc, scratch: Y.Doc): number {
  for (;;) {
    const id = Math.floor(Math.random() * 0xffffffff) >>> 0
    if (!live.store.clients.has(id) && !scratch.store.clients.has(id)) return id
  }
}

/** Thrown when the undo did not reproduce the version (it never should: a bug, answered 500). */
export class RestoreMismatch extends Error {
  constructor() {
    super('the restore did not reproduce the version')
    this.name = 'RestoreMismatch'
  }
}

/**
 * The update that turns `live` into the version that `chain` (its entries, checkpoint first)
 * rebuilds, or null when `live` already shows exactly that. Synchronous: computed against `live`
 * as it is at this moment. Throws {@link RestoreMismatch} if the result would differ from the version.
 */
export function restoreUpdate(chain: readonly Uint8Array[], live: Y.Doc): Uint8Array | null {
  const scratch = buildDoc(chain, false)
  try {
    const target = contentOf(scratch)
    if (contentOf(live) === target) return null
    const undo = new Y.UndoManager(scratch, { trackedOrigins: new Set([TRACKED]), captureTimeout: 0 })
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(live, Y.encodeStateVector(scratch)), TRACKED)
    scratch.clientID = freshClientId(live, scratch)
    undo.undo()
    undo.destroy()
    if (contentOf(scratch) !== target) throw new RestoreMismatch()
    return Y.encodeStateAsUpdate(scratch, Y.encodeStateVector(live))
  } finally {
    scratch.destroy()
  }
}
