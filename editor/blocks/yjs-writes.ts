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
import type { WalkStart } from './block-starts.ts'

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

/** One of Yjs's search markers (`ytext._searchMarker`): an item and the index of its first unit. */
interface SearchMarker {
  p: Y.Item & { marker?: boolean }
  index: number
  timestamp: number
}

function searchMarkers(ytext: Y.Text): SearchMarker[] | null {
  return (ytext as unknown as { _searchMarker: SearchMarker[] | null })._searchMarker
}

/**
 * Moves Yjs's search markers past `length` units inserted at `index` (what Yjs's own inserts do,
 * `updateMarkerChanges`), so that its index lookups (`Y.Text.delete`) keep starting near the
 * change instead of from the start of the text.
 */
function shiftSearchMarkers(ytext: Y.Text, index: number, length: number): void {
  const markers = searchMarkers(ytext)
  if (!markers) return
  for (let i = markers.length - 1; i >= 0; i--) {
    const m = markers[i]!
    let p: (Y.Item & { marker?: boolean }) | null = m.p
    p.marker = false
    while (p !== null && (p.deleted || !p.countable)) {
      p = p.left
      if (p !== null && !p.deleted && p.countable) m.index -= p.length
    }
    if (p === null || p.marker === true) {
      markers.splice(i, 1)
      continue
    }
    m.p = p
    p.marker = true
    if (index <= m.index) m.index = Math.max(index, m.index + length)
  }
}

/**
 * Adds a Yjs search marker at `start` (an item that is not deleted and whose first unit is unit
 * `start.index`) unless one is there, so that `Y.Text.delete` near it walks from it: Yjs drops its
 * markers after every remote transaction, and a lookup without one walks from the start of the text.
 */
export function markSearchStart(ytext: Y.Text, start: WalkStart): void {
  const markers = searchMarkers(ytext)
  const item = start.item as (Y.Item & { marker?: boolean }) | null
  if (!markers || !item || item.deleted || !item.countable || markers.some((m) => m.p === item)) return
  // the same fields as Yjs's own markers (ArraySearchMarker); the oldest is replaced when full
  const timestamp = markers.reduce((t, m) => Math.max(t, m.timestamp + 1), 0)
  if (markers.length >= 80) {
    const oldest = markers.reduce((a, b) => (a.timestamp < b.timestamp ? a : b))
    oldest.p.marker = false
    ;((oldest.p = item), (oldest.index = start.index), (oldest.timestamp = timestamp))
  } else markers.push({ p: item, index: start.index, timestamp })
  item.marker = true
}

/**
 * Inserts `insert` so that it follows the unit at `index - 1` (at 0: the start of the text), with
 * exactly the formatting `attributes` (a missing key is "no such mark"). With `from` (a node start
 * before `index - 1`, see `block-starts.ts`), walks from there instead of from the start.
 */
export function insertAfter(transaction: Y.Transaction, ytext: Y.Text, index: number, insert: unknown, attributes: Record<string, unknown> = {}, from?: WalkStart): void {
  const inherited = new Map<string, unknown>()
  let left: Y.Item | null = null
  let remaining = index
  let n = ytext._start
  if (from?.item && from.index < index) {
    for (const [key, value] of Object.entries(from.attrs)) if (value !== null && value !== undefined) inherited.set(key, value)
    remaining = index - from.index
    n = from.item
  }
  for (; n !== null && remaining > 0; n = n.right) {
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
  const doc = transaction.doc
  const content = contentOf(insert)
  const id = Y.createID(doc.clientID, Y.getState(doc.store, doc.clientID))
  shiftSearchMarkers(ytext, index, content.getLength()) // before the item is there, as Yjs does
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

/**
 * Applies `ops` to `ytext` inside `transaction` (see the module comment). With `from` (a node
 * start before the first edit, see `block-starts.ts`), inserts walk from there, and so do deletes
 * (a search marker is put there for Yjs).
 */
export function applyOps(transaction: Y.Transaction, ytext: Y.Text, ops: readonly DeltaOp[], from?: WalkStart): void {
  let index = 0
  for (const op of ops) {
    if ('retain' in op) {
      if (op.attributes) ytext.format(index, op.retain, op.attributes)
      index += op.retain
    } else if ('delete' in op) {
      if (from) markSearchStart(ytext, from)
      ytext.delete(index, op.delete)
    } else {
      insertAfter(transaction, ytext, index, op.insert, op.attributes, from)
      index += typeof op.insert === 'string' ? op.insert.length : 1
    }
  }
}
