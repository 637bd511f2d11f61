/**
 * Remote changes of the block layout's Y.Text (see `layout.ts`) → ProseMirror steps for the
 * changed range only. Imports yjs, prosemirror-model/-transform, `layout.ts` and `traversal.ts`.
 *
 * 1. {@link changedRange}: from the events of one Yjs transaction (the Y.Text's own event and the
 *    events of markers whose fields changed), the unit range that changed, in the coordinates
 *    before and after it.
 * 2. {@link applyRemoteChange}: the top-level nodes whose units overlap that range (and the
 *    unit before it: text whose marker was deleted joins the node before), plus one whole node
 *    on each side (a marker whose parents changed can make its node continue the container of
 *    a neighbour), are read again from the Y.Text. The new nodes
 *    are diffed against the old ones and written as one ReplaceStep covering only what differs,
 *    so the view redraws only that.
 * The cost grows with the size of the changed top-level nodes, not with the document (apart from
 * a walk over the spans array and, for a marker-only change, over the Y.Text's items to find the
 * marker's index: both to be replaced by a position index when this is wired in).
 */
import * as Y from 'yjs'
import { Fragment, type Node as PMNode, type Schema } from 'prosemirror-model'
import { Transform } from 'prosemirror-transform'
import { readRange } from './layout.ts'
import { fromTokens } from './traversal.ts'

/** A changed unit range: `[from, toBefore)` before the change became `[from, toAfter)`. */
export interface ChangedRange {
  from: number
  toBefore: number
  toAfter: number
}

/** Index of the unit held by `item` in `ytext` (walks the items before it). */
function unitIndex(ytext: Y.Text, item: Y.Item): number {
  let index = 0
  for (let n = ytext._start; n !== null && n !== item; n = n.right) if (!n.deleted && n.countable) index += n.length
  return index
}

/**
 * The range that the events of one transaction (as `observeDeep` on the Y.Text passes them)
 * changed, or null. Must be called inside the observer (event deltas are computed lazily from
 * the transaction).
 */
export function changedRange(ytext: Y.Text, events: readonly Y.YEvent<Y.AbstractType<unknown>>[]): ChangedRange | null {
  let range: ChangedRange | null = null
  for (const event of events) {
    if (event.target !== ytext) continue
    let before = 0
    let after = 0
    for (const op of event.delta as { insert?: unknown; delete?: number; retain?: number; attributes?: unknown }[]) {
      if (op.retain !== undefined && !op.attributes) {
        before += op.retain
        after += op.retain
        continue
      }
      const from = after
      if (op.retain !== undefined) ((before += op.retain), (after += op.retain))
      else if (op.delete !== undefined) before += op.delete
      else after += typeof op.insert === 'string' ? op.insert.length : 1
      if (range === null) range = { from, toBefore: before, toAfter: after }
      else ((range.toBefore = before), (range.toAfter = after))
    }
  }
  const shift = range ? range.toAfter - range.toBefore : 0
  for (const event of events) {
    const marker = event.target
    if (!(marker instanceof Y.Map) || marker.parent !== ytext || !marker._item || marker._item.deleted) continue
    const index = unitIndex(ytext, marker._item) // after the change
    if (range === null) range = { from: index, toBefore: index + 1, toAfter: index + 1 }
    else if (index < range.from) range.from = index
    else if (index >= range.toAfter) ((range.toAfter = index + 1), (range.toBefore = index + 1 - shift))
  }
  return range
}

/** Result of {@link applyRemoteChange}. */
export interface RemoteResult {
  /** Holds the steps (none if nothing visible changed) and the new document. */
  transform: Transform
  /** Units of each top-level node of the new document. */
  spans: number[]
  /** Units read from the Y.Text to build the steps (the cost of the change). */
  unitsRead: number
}

/**
 * Turns `range` (a change already applied to `ytext`) into steps on `doc`, which showed the
 * Y.Text before the change with `spans[i]` units for top-level node `i`.
 */
export function applyRemoteChange(schema: Schema, ytext: Y.Text, doc: PMNode, spans: readonly number[], range: ChangedRange): RemoteResult {
  const n = doc.childCount
  const starts: number[] = [0]
  for (let i = 0; i < n; i++) starts.push(starts[i]! + (spans[i] ?? 0))
  const total = starts[n]!
  const nodeAt = (unit: number): number => {
    // the node whose units contain `unit` (last node for the end)
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= unit) lo = mid
      else hi = mid - 1
    }
    return lo
  }
  const shift = range.toAfter - range.toBefore
  // The window holds the nodes the change touches (text whose marker was deleted joins the node
  // before: the node of the unit before the change is touched) plus one whole node on each
  // side: a marker whose parents changed can make its node continue a container (same id) of
  // the node before or after it, even when the change lies inside one node.
  const first = range.from > 0 ? nodeAt(range.from - 1) : 0
  const last = range.toBefore < total ? nodeAt(range.toBefore) : n - 1
  let i0 = Math.max(0, first - 1)
  let i1 = Math.min(n, last + 2)
  // A paragraph read after a rule's marker (text that followed the rule) has no units of its
  // own: its text is in the rule's span. The window takes them together, or it would read the
  // text without the paragraph (dropping it) or the paragraph a second time.
  while (i0 > 0 && spans[i0] === 0) i0--
  while (i1 < n && spans[i1] === 0) i1++
  const firstUnit = starts[i0]!
  const unitsRead = starts[i1]! - firstUnit + shift
  const tokens = readRange(ytext, firstUnit, unitsRead)
  const whole = i0 === 0 && i1 === n
  const read = tokens.length === 0 && !whole ? { doc: null, spans: [] as number[] } : fromTokens(schema, tokens)
  const nodes: PMNode[] = []
  read.doc?.forEach((child) => nodes.push(child))
  const newSpans = [...spans.slice(0, i0), ...read.spans, ...spans.slice(i1)]

  // one ReplaceStep over what differs between the old and the new window
  const transform = new Transform(doc)
  let windowStart = 0
  for (let i = 0; i < i0; i++) windowStart += doc.child(i).nodeSize
  const oldWindow = schema.topNodeType.create(null, Fragment.fromArray(Array.from({ length: i1 - i0 }, (_, k) => doc.child(i0 + k))))
  const newWindow = schema.topNodeType.create(null, Fragment.fromArray(nodes))
  const start = oldWindow.content.findDiffStart(newWindow.content)
  if (start === null) return { transform, spans: newSpans, unitsRead }
  let { a: endA, b: endB } = oldWindow.content.findDiffEnd(newWindow.content)!
  const overlap = start - Math.min(endA, endB)
  if (overlap > 0) ((endA += overlap), (endB += overlap))
  transform.replace(windowStart + start, windowStart + endA, newWindow.slice(start, endB))
  const expected = doc.copy(doc.content.cut(0, windowStart).append(newWindow.content).append(doc.content.cut(windowStart + oldWindow.content.size)))
  if (!transform.doc.eq(expected)) {
    // the minimal replace was fitted differently: replace the whole window instead
    const whole = new Transform(doc)
    whole.replaceWith(windowStart, windowStart + oldWindow.content.size, newWindow.content)
    return { transform: whole, spans: newSpans, unitsRead }
  }
  return { transform, spans: newSpans, unitsRead }
}
