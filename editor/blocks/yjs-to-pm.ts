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
 *    so the view redraws only that; inside a textblock the step starts where the change does
 *    (a diff alone cannot tell which of repeated characters was typed or deleted).
 * With the binding's {@link BlockStarts} (`block-starts.ts`), the range comes from the items the
 * transaction added and deleted ({@link transactionRange}: each one's index found by walking left
 * to its node's marker) and the read walks from the marker of the window's first node, so the cost
 * grows with the size of the changed top-level nodes, not with the document (apart from passes over
 * the spans array). Without it ({@link changedRange}), the range comes from the event's delta,
 * which Yjs computes by walking the whole text, and the read walks from the start of the text.
 */
import * as Y from 'yjs'
import { Fragment, type Node as PMNode, type Schema } from 'prosemirror-model'
import { Transform } from 'prosemirror-transform'
import { diffRegion, fromTokens, inOneTextblock, positionAfterUnit } from './traversal.ts'
import { startsOf, Walker, type BlockStarts } from './block-starts.ts'

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

/** Whether `item` was in the Y.Text (added before, and not deleted before) `transaction`. */
export function wasThereBefore(transaction: Y.Transaction): (item: Y.Item) => boolean {
  return (item) => item.id.clock < (transaction.beforeState.get(item.id.client) ?? 0) && (!item.deleted || Y.isDeleted(transaction.deleteSet, item.id))
}

/**
 * The range that `transaction` changed in `ytext` (shown as `spans`, its nodes' starts in
 * `blockStarts`), from the items it added and deleted and the markers whose fields it changed,
 * or null: each one's index before the change is found by walking left from it to a known node
 * start (the same walk shared by all of them). Formatting items count as zero units at their
 * place; the marks they change after it are found by the read ({@link applyRemoteChange}).
 */
export function transactionRange(ytext: Y.Text, transaction: Y.Transaction, events: readonly Y.YEvent<Y.AbstractType<unknown>>[], spans: readonly number[], blockStarts: BlockStarts): ChangedRange | null {
  const starts = startsOf(spans)
  const wasThere = wasThereBefore(transaction)
  const existed = (item: Y.Item): boolean => item.id.clock < (transaction.beforeState.get(item.id.client) ?? 0)
  const memo = new Map<Y.Item, number>()
  let from = Infinity
  let toBefore = -Infinity
  let shift = 0
  const note = (item: Y.Item, length: number): void => {
    const at = blockStarts.indexOf(item, starts, wasThere, memo)
    if (at === null) return
    if (at < from) from = at
    if (at + length > toBefore) toBefore = at + length
  }
  const store = transaction.doc.store
  for (const [client, after] of transaction.afterState) {
    const before = transaction.beforeState.get(client) ?? 0
    if (after <= before) continue
    const structs = store.clients.get(client) ?? []
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const s = structs[i]
      if (!(s instanceof Y.Item) || s.parent !== ytext) continue
      note(s, 0)
      if (!s.deleted && s.countable) shift += s.length
    }
  }
  Y.iterateDeletedStructs(transaction, transaction.deleteSet, (s) => {
    if (!(s instanceof Y.Item) || s.parent !== ytext || !existed(s)) return
    const length = s.countable ? s.length : 0
    note(s, length)
    shift -= length
  })
  for (const event of events) {
    const marker = event.target
    if (marker instanceof Y.Map && marker.parent === ytext && marker._item && existed(marker._item)) note(marker._item, 1)
  }
  return from === Infinity ? null : { from, toBefore, toAfter: toBefore + shift }
}

/** Options of {@link applyRemoteChange}. */
export interface RemoteOptions {
  /** Where the nodes start among the Y.Text's items: the read walks from there, and updates it. */
  starts?: BlockStarts
  /**
   * Whether an item was there before the transaction (see {@link wasThereBefore}): the read then
   * goes on past the range while the formatting differs from what it was (a changed format item
   * changes the marks after it), so `range` need not cover that.
   */
  wasThere?: (item: Y.Item) => boolean
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
export function applyRemoteChange(schema: Schema, ytext: Y.Text, doc: PMNode, spans: readonly number[], range: ChangedRange, options: RemoteOptions = {}): RemoteResult {
  const n = doc.childCount
  const starts = startsOf(spans, n)
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
  const blockStarts = options.starts
  const from = blockStarts ? blockStarts.startAt(spans, starts, i0) : { item: null, index: 0, attrs: {}, node: 0 }
  const walker = new Walker(ytext, from, blockStarts ?? null, firstUnit, options.wasThere)
  walker.advance(starts[i1]! + shift)
  if (options.wasThere) {
    // a changed format item changes the marks after it up to the next item of its key
    while (i1 < n && !walker.settled) {
      i1++
      while (i1 < n && spans[i1] === 0) i1++
      walker.advance(starts[i1]! + shift)
    }
  }
  const unitsRead = starts[i1]! - firstUnit + shift
  const tokens = walker.tokens
  const whole = i0 === 0 && i1 === n
  const read = tokens.length === 0 && !whole ? { doc: null, spans: [] as number[] } : fromTokens(schema, tokens)
  const nodes: PMNode[] = []
  read.doc?.forEach((child) => nodes.push(child))
  const newSpans = [...spans.slice(0, i0), ...read.spans, ...spans.slice(i1)]
  if (blockStarts) {
    blockStarts.splice(i0, i1, read.spans.length)
    blockStarts.record(newSpans, startsOf(newSpans), from.node + 1, walker.markers)
    if (!walker.settled) blockStarts.forgetFrom(i0 + read.spans.length)
  }

  // one ReplaceStep over what differs between the old and the new window
  const transform = new Transform(doc)
  let windowStart = 0
  for (let i = 0; i < i0; i++) windowStart += doc.child(i).nodeSize
  const oldWindow = schema.topNodeType.create(null, Fragment.fromArray(Array.from({ length: i1 - i0 }, (_, k) => doc.child(i0 + k))))
  const newWindow = schema.topNodeType.create(null, Fragment.fromArray(nodes))
  const region = diffRegion(oldWindow, newWindow)
  if (region === null) return { transform, spans: newSpans, unitsRead }
  const { start, endA, endB } = region
  const expected = doc.copy(doc.content.cut(0, windowStart).append(newWindow.content).append(doc.content.cut(windowStart + oldWindow.content.size)))
  const replace = (at: number): Transform | null => {
    const t = new Transform(doc)
    t.replace(windowStart + at, windowStart + endA - (start - at), newWindow.slice(at, endB - (start - at)))
    return t.doc.eq(expected) ? t : null
  }
  // The diff cannot tell which of repeated characters changed (a `w` typed before `world` reads
  // as typed after its `w`): the step starts where the change does (unit `range.from`), so that
  // what maps through it — remote cursors, decorations — lands where the writer typed.
  // Only inside one textblock: a marker's change starts at its block's boundary, not after the
  // last character before it.
  const changeAt = range.from > 0 ? positionAfterUnit(oldWindow, spans.slice(i0, i1), range.from - 1 - firstUnit) : -1
  const exact = changeAt >= 0 && changeAt < start && inOneTextblock(oldWindow, changeAt, start) ? replace(changeAt) : null
  const minimal = exact ?? replace(start)
  if (minimal) return { transform: minimal, spans: newSpans, unitsRead }
  // the minimal replace was fitted differently: replace the whole window instead
  transform.replaceWith(windowStart, windowStart + oldWindow.content.size, newWindow.content)
  return { transform, spans: newSpans, unitsRead }
}
