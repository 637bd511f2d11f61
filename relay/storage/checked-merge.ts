/**
 * `Y.mergeUpdates` with a check: the log replayed in order and the merge must give the same
 * state vector and the same document, or the merge is refused (throws) and the caller keeps
 * the log. A log holding conflicting updates (for example a bit-flipped update that still
 * decoded) can make `mergeUpdates` drop structs — found by the relay fuzz suite.
 *
 * @module
 */
import * as Y from 'yjs'

/** A fresh doc (no GC) holding `updates` applied in order, in one transaction. */
export function replay(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc({ gc: false })
  Y.transact(doc, () => {
    for (const update of updates) Y.applyUpdate(doc, update)
  })
  return doc
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

/** The merge of `updates`; throws when the merge would not rebuild the same document. */
export function checkedMerge(updates: Uint8Array[]): Uint8Array {
  const merged = Y.mergeUpdates(updates)
  const fromLog = replay(updates)
  const fromMerge = replay([merged])
  try {
    if (
      !same(Y.encodeStateVector(fromLog), Y.encodeStateVector(fromMerge)) ||
      !same(Y.encodeStateAsUpdate(fromLog), Y.encodeStateAsUpdate(fromMerge))
    ) {
      throw new Error('the merged update would not rebuild the same document; keeping the log')
    }
  } finally {
    fromLog.destroy()
    fromMerge.destroy()
  }
  return merged
}
