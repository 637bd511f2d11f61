/**
 * Applying a list of unit edits (retain / delete / insert, as a delta) to the block layout's
 * `Y.Text` so that every inserted unit follows the unit before it. Imports yjs only.
 *
 * `Y.Text.insert` and `applyDelta` move an insertion point past deleted characters and past
 * formatting items before they insert. Both anchor the new text to someone else's: typing next to
 * a character another user deleted follows that deleted character, so a third user typing in front
 * of it lands inside this writer's run; typing at the end of someone's bold run follows the run's
 * end marker, so a concurrent writer at the same spot interleaves. Here a unit is integrated with
 * the unit before it as its origin, stepping only over units this same transaction deleted (the
 * selection a keystroke replaces), and then formatted to exactly the marks it should have.
 * Deletes and mark changes of existing units go through `Y.Text` as usual.
 */
import * as Y from 'yjs'

/** One edit of a delta over the Y.Text's units. */
export type DeltaOp =
  | { insert: unknown; attributes?: Record<string, unknown> }
  | { retain: number; attributes?: Record<string, unknown> }
  | { delete: number }

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}

/** The Yjs content of an inserted unit (or run of characters). */
function contentOf(insert: unknown): Y.ContentString | Y.ContentType | Y.ContentEmbed {
  if (typeof insert === 'string') return new Y.ContentString(insert)
  if (insert instanceof Y.AbstractType) return new Y.ContentType(insert)
  return new Y.ContentEmbed(insert as object)
}

/**
 * Inserts `insert` so that it follows the unit at `index - 1` (at 0: the start of the text), with
 * exactly the formatting `attributes` (a missing key is "no such mark").
 */
export function insertAfter(transaction: Y.Transaction, ytext: Y.Text, index: number, insert: unknown, attributes: Record<string, unknown> = {}): void {
  const inherited = new Map<string, unknown>()
  let left: Y.Item | null = null
  let remaining = index
  for (let n = ytext._start; n !== null && remaining > 0; n = n.right) {
    if (n.deleted) continue
    if (n.content instanceof Y.ContentFormat) {
      if (n.content.value === null) inherited.delete(n.content.key)
      else inherited.set(n.content.key, n.content.value)
      continue
    }
    if (!n.countable) continue
    if (remaining <= n.length) {
      // make `n` end at the unit before the insertion point
      if (remaining < n.length) Y.getItemCleanStart(transaction, Y.createID(n.id.client, n.id.clock + remaining))
      left = n
      remaining = 0
    } else remaining -= n.length
  }
  if (remaining > 0) throw new RangeError(`insert at ${index} past the end of the text`)
  // past what this transaction deleted here (a replaced selection), not past anything else
  let right = left ? left.right : ytext._start
  while (right !== null && right.deleted && right.countable && Y.isDeleted(transaction.deleteSet, right.id)) {
    left = right
    right = right.right
  }
  // the text's index cache is rebuilt on demand
  const markers = (ytext as unknown as { _searchMarker: unknown[] | null })._searchMarker
  if (markers) markers.length = 0
  const doc = transaction.doc
  const content = contentOf(insert)
  const id = Y.createID(doc.clientID, Y.getState(doc.store, doc.clientID))
  new Y.Item(id, left, left?.lastId ?? null, right, right?.id ?? null, ytext, null, content).integrate(transaction, 0)

  const change: Record<string, unknown> = {}
  let any = false
  for (const key of inherited.keys()) if (!(key in attributes)) ((change[key] = null), (any = true))
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) {
      if (inherited.has(key)) ((change[key] = null), (any = true))
    } else if (!sameValue(inherited.get(key), value)) ((change[key] = value), (any = true))
  }
  if (any) ytext.format(index, content.getLength(), change)
}

/** Applies `ops` to `ytext` inside `transaction` (see the module comment). */
export function applyOps(transaction: Y.Transaction, ytext: Y.Text, ops: readonly DeltaOp[]): void {
  let index = 0
  for (const op of ops) {
    if ('retain' in op) {
      if (op.attributes) ytext.format(index, op.retain, op.attributes)
      index += op.retain
    } else if ('delete' in op) ytext.delete(index, op.delete)
    else {
      insertAfter(transaction, ytext, index, op.insert, op.attributes)
      index += typeof op.insert === 'string' ? op.insert.length : 1
    }
  }
}
