/**
 * Local ProseMirror changes → edits of the block layout's Y.Text (see `layout.ts`).
 * Imports yjs, prosemirror-model/-transform, `layout.ts` and `traversal.ts`.
 *
 * A transaction is written as the smallest set of unit edits between the Y.Text's units of the
 * changed top-level nodes and the flattening of their new versions:
 * - the changed window: the top-level children between the first and the last one that differ
 *   (node identity, then `eq`); unchanged children are not walked;
 * - the window's old units (read from the Y.Text) and new tokens are aligned unit by unit:
 *   characters match characters with the same text, markers match markers, leaves match leaves
 *   of the same type; a single `ReplaceStep` or `ReplaceAroundStep` pins the alignment to where the
 *   step happened (nothing before its `from` or after its `to` changed), so
 *   typing `a` before an `a` is written before it (the y-prosemirror diff put it after);
 * - aligned characters whose marks changed are formatted, aligned markers whose type, attributes
 *   or parents changed are updated in place, unaligned old units are deleted, unaligned new
 *   tokens inserted. So Enter inserts one marker, Backspace at a block start deletes one,
 *   setBlockType / wrap / lift update markers, and no text is deleted to be written again.
 * Container identities: a container of the new window takes the id that the aligned markers
 * under it had at the same nesting (its k-th list, k-th item, k-th blockquote), the first
 * claimant in document order wins; a container with no such id (a new list, the second half of a
 * split list) gets a new one.
 */
import * as Y from 'yjs'
import { Fragment, type Node as PMNode } from 'prosemirror-model'
import { ReplaceAroundStep, ReplaceStep, type Step } from 'prosemirror-transform'
import { CONTAINER_TYPES, createMarker, jsonEqual, readRange, updateMarker, type Attrs, type BlockData, type MarkSet, type ParentRef, type Token } from './layout.ts'
import { flatIndex, flatSize, fromTokens, toTokens } from './traversal.ts'
import { applyOps, type DeltaOp } from './yjs-writes.ts'
import { startsOf, Walker, type BlockStarts, type WalkStart } from './block-starts.ts'

/** One unit of the sequence: a character, a marker or an inline leaf. */
type Unit =
  | { kind: 'char'; ch: string; marks: MarkSet }
  | { kind: 'block'; block: BlockData; marker?: Y.Map<unknown> }
  | { kind: 'inline'; type: string; attrs: Attrs; marks: MarkSet }

/** Options of {@link writeChange}. */
export interface WriteOptions {
  /** The transaction's steps (a single ReplaceStep or ReplaceAroundStep pins the alignment). */
  steps?: readonly Step[]
  /** New container ids (default: random). */
  newId?: () => string
  /**
   * Where the nodes of `before` start among the Y.Text's items (kept up to date by the write):
   * the write walks from the node before the change instead of from the start of the text.
   */
  starts?: BlockStarts
}

/** A random container id (12 base-36 characters). */
export function randomId(): string {
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  let s = ''
  for (const b of bytes) s += b.toString(36).padStart(2, '0')
  return s.slice(0, 12)
}

function unitsOf(tokens: readonly Token[]): Unit[] {
  const out: Unit[] = []
  for (const t of tokens) {
    if (t.kind === 'text') for (const ch of t.text) out.push({ kind: 'char', ch, marks: t.marks })
    else if (t.kind === 'block') out.push(t.marker ? { kind: 'block', block: t.block, marker: t.marker } : { kind: 'block', block: t.block })
    else out.push({ kind: 'inline', type: t.type, attrs: t.attrs, marks: t.marks })
  }
  return out
}

function matches(a: Unit, b: Unit): boolean {
  if (a.kind !== b.kind) return false
  if (a.kind === 'char') return a.ch === (b as typeof a).ch
  if (a.kind === 'inline') return a.type === (b as typeof a).type && jsonEqual(a.attrs, (b as typeof a).attrs)
  return true
}

/**
 * Whether two units are the same but for container ids (which `next` does not have yet): a
 * marker of the same block type, attributes and parent chain (types and attributes).
 */
function same(a: Unit, b: Unit): boolean {
  if (!matches(a, b)) return false
  if (a.kind !== 'block' || b.kind !== 'block') return true
  const chain = (u: typeof a): unknown => u.block.parents.map((p) => [p.type, p.attrs])
  return a.block.type === b.block.type && jsonEqual(a.block.attrs, b.block.attrs) && jsonEqual(chain(a), chain(b))
}

/**
 * Aligns `old` and `next`: returns for each index of `next` the index of `old` it matches, or
 * -1. Common prefix (at most `prefixCap`) and suffix (at most `suffixCap`), then a longest
 * common subsequence of what is left between them when that is small enough.
 */
function align(old: readonly Unit[], next: readonly Unit[], prefixCap: number, suffixCap: number): number[] {
  const pairs = new Array<number>(next.length).fill(-1)
  let p = 0
  // (markers are taken greedily only when they are the same: a block the reader adds, which has
  // no marker in `old`, must not take the marker of the block after it)
  while (p < old.length && p < next.length && p < prefixCap && same(old[p]!, next[p]!)) pairs[p] = p++
  let s = 0
  while (s < old.length - p && s < next.length - p && s < suffixCap && same(old[old.length - 1 - s]!, next[next.length - 1 - s]!)) {
    pairs[next.length - 1 - s] = old.length - 1 - s
    s++
  }
  const a = old.slice(p, old.length - s)
  const b = next.slice(p, next.length - s)
  if (a.length === 0 || b.length === 0 || a.length * b.length > 4_000_000) return pairs
  // Weighted LCS table, row-major (a.length+1) x (b.length+1). A character or leaf kept counts
  // more than a marker kept: between keeping a character (writing a new marker next to it) and
  // keeping a marker (deleting the character and typing it again), keep the character. A
  // character typed again is a new item: what others type after it concurrently lands elsewhere,
  // and a concurrent delete of it no longer removes it. A marker kept for the same block (type,
  // attributes, parent chain) counts more than one kept for another block.
  const weight = (u: Unit, v: Unit): number => (u.kind !== 'block' ? 3 : same(u, v) ? 2 : 1)
  const w = b.length + 1
  const table = new Uint32Array((a.length + 1) * w)
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const skip = Math.max(table[(i + 1) * w + j]!, table[i * w + j + 1]!)
      table[i * w + j] = matches(a[i]!, b[j]!) ? Math.max(skip, table[(i + 1) * w + j + 1]! + weight(a[i]!, b[j]!)) : skip
    }
  }
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (matches(a[i]!, b[j]!) && table[i * w + j] === table[(i + 1) * w + j + 1]! + weight(a[i]!, b[j]!)) {
      pairs[p + j] = p + i
      i++
      j++
    } else if (table[(i + 1) * w + j]! >= table[i * w + j + 1]!) i++
    else j++
  }
  return pairs
}

/** Kind of a container for id matching: both list types count as one kind. */
function kindOf(type: string): string {
  return type === 'bullet_list' || type === 'ordered_list' ? 'list' : type
}

/**
 * Gives the containers of the new window their ids (see the module comment). `next` markers
 * carry placeholder ids (`?<pos>`); they are replaced in place.
 */
function assignIds(next: Unit[], old: readonly Unit[], pairs: readonly number[], newId: () => string): void {
  const chosen = new Map<string, string>()
  const used = new Set<string>()
  const claim = (placeholder: string, id: string): void => {
    chosen.set(placeholder, id)
    used.add(id)
  }
  next.forEach((unit, j) => {
    if (unit.kind !== 'block') return
    const partner = pairs[j]! >= 0 ? old[pairs[j]!] : undefined
    const oldParents = partner?.kind === 'block' ? partner.block.parents : []
    const seen = new Map<string, number>()
    for (const ref of unit.block.parents) {
      const kind = kindOf(ref.type)
      const k = seen.get(kind) ?? 0
      seen.set(kind, k + 1)
      if (chosen.has(ref.id)) continue
      const candidates = oldParents.filter((p) => kindOf(p.type) === kind)
      const candidate = candidates[k]
      if (candidate && !used.has(candidate.id)) claim(ref.id, candidate.id)
    }
  })
  for (const unit of next) {
    if (unit.kind !== 'block') continue
    unit.block = {
      ...unit.block,
      parents: unit.block.parents.map((ref): ParentRef => {
        let id = chosen.get(ref.id)
        if (id === undefined) {
          id = newId()
          claim(ref.id, id)
        }
        return { ...ref, id }
      }),
    }
  }
}

/** The formatting attributes that turn `from` marks into `to` marks (null removes). */
function markChange(from: MarkSet, to: MarkSet): Record<string, unknown> | null {
  const change: Record<string, unknown> = {}
  let any = false
  for (const key of Object.keys(from)) if (!(key in to)) ((change[key] = null), (any = true))
  for (const [key, value] of Object.entries(to)) if (!jsonEqual(from[key], value)) ((change[key] = value), (any = true))
  return any ? change : null
}


function pushOp(ops: DeltaOp[], op: DeltaOp): void {
  const last = ops[ops.length - 1]
  if (last && 'delete' in last && 'delete' in op) last.delete += op.delete
  else if (last && 'retain' in last && 'retain' in op && jsonEqual(last.attributes ?? null, op.attributes ?? null)) last.retain += op.retain
  else if (last && 'insert' in last && 'insert' in op && typeof last.insert === 'string' && typeof op.insert === 'string' && jsonEqual(last.attributes, op.attributes))
    last.insert += op.insert
  else ops.push(op)
}

/**
 * New markers (indices of `next`) the Y.Text already implies, with the spans of the window's
 * nodes as written without them. The reader makes some blocks that have no marker of their own
 * (`layout.ts`, "Reading"): text at the start of the text or after a rule's marker is a
 * paragraph, a list item that starts with a nested list gets an empty paragraph first. A local
 * edit next to such a block (typing into it, joining into it, typing in the item before it)
 * would otherwise write its marker; two people doing that at once would each write one, and
 * two markers are two blocks: an empty block no one made. A new paragraph marker is left out
 * when the window's units without it read as the same nodes (and, unless the window starts the
 * text, still start with a marker).
 */
function impliedMarkers(old: readonly Unit[], next: readonly Unit[], pairs: readonly number[], index: number, after: PMNode, start: number, endAfter: number): { implied: Set<number>; spans: number[] } | null {
  // Only blocks the Y.Text already reads without a marker: an empty one right before a kept
  // marker, or one whose first kept unit (after characters typed before it) is kept text that
  // starts a block in the old units. Never a block of new text: that would make one.
  const candidates: number[] = []
  const image = (u: Unit | undefined): boolean => u?.kind === 'inline' && u.type !== 'hard_break'
  next.forEach((unit, j) => {
    if (unit.kind !== 'block' || pairs[j] !== -1) return
    // a code block split around an image: the paragraph that shows the image and the part after
    // it have no marker (kept units: the image, or text right after it in the old units)
    const o1 = pairs[j + 1] ?? -1
    if (o1 > 0 && (image(old[o1]) || image(old[o1 - 1]))) {
      candidates.push(j)
      return
    }
    if (unit.block.type !== 'paragraph' || Object.keys(unit.block.attrs).length > 0) return
    const right = pairs[j + 1] ?? -1
    if (right >= 0 && old[right]!.kind === 'block') {
      candidates.push(j)
      return
    }
    let k = j + 1
    while (k < next.length && pairs[k] === -1 && next[k]!.kind !== 'block') k++
    const o = pairs[k] ?? -1
    if (o >= 0 && old[o]!.kind !== 'block' && (o === 0 || old[o - 1]!.kind === 'block')) candidates.push(j)
  })
  if (candidates.length === 0) return null
  const schema = after.type.schema
  const wanted = Fragment.fromArray(Array.from({ length: endAfter - start }, (_, k) => after.child(start + k)))
  const readsSame = (left: Set<number>): number[] | null => {
    const tokens: Token[] = []
    next.forEach((u, j) => {
      if (left.has(j)) return
      if (u.kind === 'char') tokens.push({ kind: 'text', text: u.ch, marks: u.marks })
      else if (u.kind === 'block') tokens.push({ kind: 'block', block: u.block })
      else tokens.push({ kind: 'inline', type: u.type, attrs: u.attrs, marks: u.marks })
    })
    if (tokens.length === 0 || (index > 0 && tokens[0]!.kind !== 'block')) return null
    const read = fromTokens(schema, tokens)
    return read.doc.content.eq(wanted) ? read.spans : null
  }
  // all of them (the common case: one), else one at a time while that stays cheap
  const all = new Set(candidates)
  const spans = readsSame(all)
  if (spans) return { implied: all, spans }
  if (candidates.length === 1 || candidates.length > 8) return null
  const implied = new Set<number>()
  let best: number[] | null = null
  for (const j of candidates) {
    implied.add(j)
    const ok = readsSame(implied)
    if (ok) best = ok
    else implied.delete(j)
  }
  return best ? { implied, spans: best } : null
}

/**
 * Index range of the changed top-level children: [start, endBefore) → [start, endAfter). With a
 * single replace step, the range covers at least the children the step touched: comparing
 * children alone cannot tell a new empty paragraph from the equal one next to it (Enter at the end
 * of a block followed by someone else's empty block), and the new one must be written where the
 * step put it.
 */
function changedWindow(before: PMNode, after: PMNode, step?: ReplaceStep | ReplaceAroundStep): { start: number; endBefore: number; endAfter: number } | null {
  const nb = before.childCount
  const na = after.childCount
  let start = 0
  while (start < nb && start < na && before.child(start).eq(after.child(start))) start++
  if (start === nb && start === na) return null
  let tail = 0
  while (tail < nb - start && tail < na - start && before.child(nb - 1 - tail).eq(after.child(na - 1 - tail))) tail++
  if (step && step.from <= before.content.size && step.to <= before.content.size) {
    const $from = before.resolve(step.from)
    const $to = before.resolve(step.to)
    start = Math.min(start, $from.index(0))
    const untouchedAfter = nb - ($to.depth > 0 ? $to.index(0) + 1 : $to.index(0))
    tail = Math.max(0, Math.min(tail, untouchedAfter, na - start, nb - start))
  }
  return { start, endBefore: nb - tail, endAfter: na - tail }
}

/**
 * Writes the change from `before` to `after` (one local transaction) into `ytext`, which holds
 * `before` with `spans[i]` units for its top-level child `i` (as `fromTokens` returned them, or
 * a previous call). Returns the spans of `after`. Runs in one Yjs transaction with `origin`.
 */
export function writeChange(ytext: Y.Text, before: PMNode, after: PMNode, spans: readonly number[], options: WriteOptions = {}, origin: unknown = null): number[] {
  const single = options.steps?.length === 1 ? options.steps[0] : undefined
  // A ReplaceAroundStep (wrap, lift, a delete across nesting levels) pins it too: without the pin,
  // a delete of nested items aligned the kept item's marker with the first deleted item's marker
  // and deleted the kept one, so text typed concurrently before it joined that item.
  const step = single instanceof ReplaceStep || single instanceof ReplaceAroundStep ? single : undefined
  const window = changedWindow(before, after, step)
  if (!window) return [...spans]
  let { start, endBefore, endAfter } = window
  // Two containers of one type next to each other are two only because their ids differ; an
  // untouched neighbour of the window may hold the id the window's container has (a paragraph
  // between two parts of one list deleted): it joins the window, so the ids are sorted out.
  const twins = (x: PMNode | null, y: PMNode | null): boolean => !!x && !!y && x.type === y.type && CONTAINER_TYPES.has(x.type.name)
  const nodeAt = (i: number): PMNode | null => (i >= 0 && i < after.childCount ? after.child(i) : null)
  if (start > 0 && twins(nodeAt(start - 1), nodeAt(start))) start--
  if (endAfter > start && twins(nodeAt(endAfter - 1), nodeAt(endAfter))) (endBefore++, endAfter++)
  // A paragraph read after a rule's marker has no units of its own (its text is in the rule's
  // span): the rule and it change together (unchanged neighbours, so both sides move alike).
  while (start > 0 && spans[start] === 0) start--
  while (endBefore < before.childCount && spans[endBefore] === 0) (endBefore++, endAfter++)
  // Text at the start of the Y.Text is a paragraph with no marker of its own: what is written
  // before it (nothing of the old window there) would take it in. It joins the window.
  if (start === 0 && endBefore === 0 && before.childCount > 0 && readRange(ytext, 0, 1)[0]?.kind !== 'block') {
    endBefore++
    endAfter++
    while (endBefore < before.childCount && spans[endBefore] === 0) (endBefore++, endAfter++)
  }
  const unitStarts = new Array<number>(before.childCount + 1)
  unitStarts[0] = 0
  for (let i = 0; i < before.childCount; i++) unitStarts[i + 1] = unitStarts[i]! + (spans[i] ?? flatSize(before.child(i)))
  const index = unitStarts[start]!
  const oldLength = unitStarts[endBefore]! - index
  // the walks start at the node before the window (an insert at the window's start follows its
  // last unit), or at the start of the text
  const blockStarts = options.starts
  const from: WalkStart & { node: number } = blockStarts && start > 0 ? blockStarts.startAt(spans, unitStarts, start - 1) : { item: null, index: 0, attrs: {}, node: 0 }
  const reader = new Walker(ytext, from, blockStarts ?? null, index)
  reader.advance(index + oldLength)
  const old = unitsOf(reader.tokens)
  const next = unitsOf(toTokens(after, (_node, pos) => `?${pos}`, start, endAfter))

  // A single replace step pins the alignment: nothing before its start or after its end changed.
  let prefixCap = Infinity
  let suffixCap = Infinity
  if (step) {
    let windowPos = 0
    for (let i = 0; i < start; i++) windowPos += before.child(i).nodeSize
    prefixCap = Math.max(0, flatIndex(before, step.from, start, windowPos))
    suffixCap = Math.max(0, old.length - flatIndex(before, step.to, start, windowPos))
  }
  const pairs = align(old, next, prefixCap, suffixCap)
  assignIds(next, old, pairs, options.newId ?? randomId)
  const leftOut = impliedMarkers(old, next, pairs, index, after, start, endAfter)
  const implied = leftOut?.implied ?? new Set<number>()

  const matched = new Array<number>(old.length).fill(-1)
  pairs.forEach((o, j) => o >= 0 && (matched[o] = j))
  const ops: DeltaOp[] = [{ retain: index }]
  const markerUpdates: [Y.Map<unknown>, BlockData][] = []
  let o = 0
  const insertNew = (j: number): void => {
    const u = next[j]!
    if (u.kind === 'char') pushOp(ops, { insert: u.ch, attributes: { ...u.marks } })
    else if (u.kind === 'block') pushOp(ops, { insert: createMarker(u.block) })
    else pushOp(ops, { insert: { inline: u.type, attrs: u.attrs }, attributes: { ...u.marks } })
  }
  let j = 0
  while (o < old.length || j < next.length) {
    if (o < old.length && matched[o] === -1) {
      pushOp(ops, { delete: 1 })
      o++
    } else if (j < next.length && pairs[j] === -1) {
      if (!implied.has(j)) insertNew(j)
      j++
    } else {
      const a = old[o]!
      const b = next[j]!
      if (a.kind === 'block' && b.kind === 'block') {
        pushOp(ops, { retain: 1 })
        if (a.marker && !(jsonEqual(a.block, b.block))) markerUpdates.push([a.marker, b.block])
      } else {
        const change = a.kind !== 'block' && b.kind !== 'block' ? markChange(a.marks, b.marks) : null
        pushOp(ops, change ? { retain: 1, attributes: change } : { retain: 1 })
      }
      o++
      j++
    }
  }
  const out = spans.slice(0, start)
  if (leftOut) out.push(...leftOut.spans)
  else for (let i = start; i < endAfter; i++) out.push(flatSize(after.child(i)))
  for (let i = endBefore; i < before.childCount; i++) out.push(spans[i] ?? flatSize(before.child(i)))

  const doc = ytext.doc
  if (!doc) throw new Error('writeChange needs a Y.Text that is part of a Y.Doc')
  doc.transact((transaction) => {
    applyOps(transaction, ytext, ops, blockStarts ? from : undefined)
    for (const [marker, block] of markerUpdates) updateMarker(marker, block)
    if (blockStarts) noteWrite(blockStarts, ytext, transaction, from, out, start, endBefore, endAfter)
  }, origin)
  return out
}

/**
 * Updates `blockStarts` after a write of nodes `start`…`endBefore` (now `start`…`endAfter`, the
 * nodes' spans now `spans`): walks the written window again from `from` and records where its
 * nodes start; if the formatting after the window is not what it was, forgets the entries after it.
 */
function noteWrite(blockStarts: BlockStarts, ytext: Y.Text, transaction: Y.Transaction, from: WalkStart & { node: number }, spans: readonly number[], start: number, endBefore: number, endAfter: number): void {
  const existed = (item: Y.Item): boolean => item.id.clock < (transaction.beforeState.get(item.id.client) ?? 0)
  const wasThere = (item: Y.Item): boolean => existed(item) && (!item.deleted || Y.isDeleted(transaction.deleteSet, item.id))
  const starts = startsOf(spans)
  const walker = new Walker(ytext, from, blockStarts, Infinity, wasThere)
  walker.advance(starts[endAfter]!)
  blockStarts.splice(start, endBefore, endAfter - start)
  blockStarts.record(spans, starts, from.node + 1, walker.markers)
  if (!walker.settled) blockStarts.forgetFrom(endAfter)
}
