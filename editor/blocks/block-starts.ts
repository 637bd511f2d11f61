/**
 * Where the top-level nodes of the block layout start among the Y.Text's items, so that reading or
 * writing a change walks from the changed node's marker, not from the start of the text: the cost
 * of a keystroke (typed or remote) grows with the nodes it touches, not with the document.
 * Imports yjs and `layout.ts`.
 *
 * A Y.Text is a linked list of items: a unit's index is only known by counting the units before
 * it. {@link BlockStarts} keeps, for each top-level node (beside the binding's `spans`), the item
 * of its marker and the formatting in effect before it (the format items before it set the marks
 * of the text after it), filled in lazily by the walks that pass there. A walk ({@link Walker})
 * starts at the nearest known node start at or before the range it needs. An entry stays true
 * through any change outside its node: a marker item is never split or merged, and the formatting
 * before it changes only when a change leaves the formatting after it different from before, which
 * the walk over the change sees (it tracks the formatting before and after the transaction and
 * goes on until they agree; entries past a disagreement are forgotten).
 *
 * From an item to its index ({@link BlockStarts.indexOf}): walk left to the nearest known node
 * start. Every walk counts the items it steps over in {@link BlockStarts.visited}, the work
 * counter the tests read to check that a change's cost does not grow with the document.
 */
import * as Y from 'yjs'
import { embedToken, jsonEqual, marksOf, type Token } from './layout.ts'

/** Formatting attributes in effect at a point of the Y.Text (a null value: no such mark). */
export type Formatting = Record<string, unknown>

/** Where a walk starts: the item whose first unit is unit `index` (null: the start of the text). */
export interface WalkStart {
  item: Y.Item | null
  index: number
  /** The formatting in effect before `item`. */
  attrs: Formatting
}

/** A marker item met by a walk: its unit index and the formatting before it. */
export interface MarkerSeen {
  pos: number
  item: Y.Item
  attrs: Formatting
}

/** Whether two formatting records say the same (a null value is the same as no key). */
export function sameFormatting(a: Formatting, b: Formatting): boolean {
  for (const key in a) if (!same(a[key] ?? null, b[key] ?? null)) return false
  for (const key in b) if (!(key in a) && (b[key] ?? null) !== null) return false
  return true
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}

/** Prefix sums of `spans` (of its first `n`): `starts[i]` is the first unit of node `i`, `starts[n]` the total. */
export function startsOf(spans: readonly number[], n = spans.length): number[] {
  const starts = new Array<number>(n + 1)
  starts[0] = 0
  for (let i = 0; i < n; i++) starts[i + 1] = starts[i]! + (spans[i] ?? 0)
  return starts
}

/**
 * The top-level node starts of one binding (see the module comment). Node 0 starts at the start
 * of the text; other entries are unknown until a walk passes them.
 */
export class BlockStarts {
  /** Per node: its marker item (null for node 0: the start of the text), undefined if unknown. */
  private items: (Y.Item | null | undefined)[] = [null]
  private attrs: (Formatting | undefined)[] = [{}]
  private readonly known = new Set<Y.Item>()
  /** Items stepped over by the walks of this index since it was made (a work counter). */
  visited = 0

  constructor(
    readonly ytext: Y.Text,
    count = 1,
  ) {
    this.reset(count)
  }

  /** Forgets every entry (a document read again from the start), for `count` nodes. */
  reset(count: number): void {
    this.items = new Array<Y.Item | null | undefined>(Math.max(1, count)).fill(undefined)
    this.attrs = new Array<Formatting | undefined>(Math.max(1, count)).fill(undefined)
    this.items[0] = null
    this.attrs[0] = {}
    this.known.clear()
  }

  /** Number of nodes the index is for. */
  get count(): number {
    return this.items.length
  }

  /** Replaces nodes `start`…`end` (exclusive) by `count` unknown nodes. */
  splice(start: number, end: number, count: number): void {
    for (let i = start; i < end; i++) this.forget(i)
    this.items.splice(start, end - start, ...new Array<undefined>(count).fill(undefined))
    this.attrs.splice(start, end - start, ...new Array<undefined>(count).fill(undefined))
    // nodes put before the old node 0: it no longer starts at the start of the text
    if (end === 0 && count > 0 && count < this.items.length) ((this.items[count] = undefined), (this.attrs[count] = undefined))
    if (this.items.length === 0) ((this.items = [null]), (this.attrs = [{}]))
    // node 0 always starts at the start of the text (a node that moved there forgets its entry)
    const first = this.items[0]
    if (first) this.known.delete(first)
    this.items[0] = null
    this.attrs[0] = {}
  }

  /** Forgets the entries of nodes `from` onwards (the formatting before them may have changed). */
  forgetFrom(from: number): void {
    for (let i = Math.max(1, from); i < this.items.length; i++) this.forget(i)
  }

  private forget(i: number): void {
    const item = this.items[i]
    if (item) this.known.delete(item)
    if (i > 0) ((this.items[i] = undefined), (this.attrs[i] = undefined))
  }

  /**
   * Where a walk to node `node` starts: the nearest known start of a node at or before it that
   * has units of its own (`spans` and their prefix sums `starts` as the nodes are now).
   */
  startAt(spans: readonly number[], starts: readonly number[], node: number): WalkStart & { node: number } {
    let i = Math.min(node, this.items.length - 1)
    for (; i > 0; i--) {
      const item = this.items[i]
      if (item?.deleted) this.forget(i) // never expected: every change of a node passes through the binding
      else if (item && spans[i]! > 0) break
    }
    return { item: this.items[i] ?? null, index: i === 0 ? 0 : starts[i]!, attrs: { ...this.attrs[i]! }, node: i }
  }

  /**
   * Records the node starts among `seen` (markers a walk met, in order): node `i` (from
   * `fromNode`) with units of its own starts at unit `starts[i]`.
   */
  record(spans: readonly number[], starts: readonly number[], fromNode: number, seen: readonly MarkerSeen[]): void {
    let i = Math.max(1, fromNode)
    for (const m of seen) {
      while (i < spans.length && (starts[i]! < m.pos || !(spans[i]! > 0))) i++
      if (i >= spans.length) return
      if (starts[i] !== m.pos) continue
      this.forget(i)
      this.items[i] = m.item
      this.attrs[i] = m.attrs
      this.known.add(m.item)
      i++
    }
  }

  /**
   * What is wrong with the known entries, checked against one walk from the start of the text
   * (for tests), or null: each must be a marker not deleted, at its node's first unit, with the
   * formatting in effect before it.
   */
  verify(spans: readonly number[]): string | null {
    if (this.items.length !== spans.length) return `${this.items.length} entries for ${spans.length} nodes`
    const starts = startsOf(spans)
    const seen = new Map<Y.Item, { pos: number; attrs: Formatting }>()
    const walker = new Walker(this.ytext, { item: null, index: 0, attrs: {} }, null)
    walker.advance(Infinity)
    for (const m of walker.markers) seen.set(m.item, m)
    for (let i = 1; i < this.items.length; i++) {
      const item = this.items[i]
      if (item === undefined) continue
      const at = item ? seen.get(item) : undefined
      if (!item || !at) return `node ${i}: its entry is not a marker of the text`
      if (at.pos !== starts[i]) return `node ${i}: its marker is at unit ${at.pos}, the node starts at ${starts[i]}`
      if (!sameFormatting(at.attrs, this.attrs[i]!)) return `node ${i}: formatting ${JSON.stringify(this.attrs[i])}, the text has ${JSON.stringify(at.attrs)}`
    }
    for (const item of this.known) if (!this.items.includes(item)) return 'an item is known that no entry holds'
    return null
  }

  /**
   * The index of `item`'s first unit, counting the units before it that `counts` accepts (default:
   * those not deleted), or null when `item` does not belong to the text. Walks left to the nearest
   * known node start; `memo` (item → units before it) shares the walks of several items.
   */
  indexOf(item: Y.Item, starts: readonly number[], counts: (item: Y.Item) => boolean = alive, memo?: Map<Y.Item, number>): number | null {
    if (item.parent !== this.ytext) return null
    const weight = (n: Y.Item): number => (n.countable && counts(n) ? n.length : 0)
    const path: Y.Item[] = []
    let base = 0 // units before the leftmost item of `path`
    let node = 0 // the known node start the walk reached (0: the start of the text)
    for (let n: Y.Item | null = item; n !== null; n = n.left) {
      this.visited++
      const before = memo?.get(n)
      if (before !== undefined) {
        if (n === item) return before
        base = before + weight(n)
        break
      }
      if (this.known.has(n)) {
        node = this.items.indexOf(n)
        if (n === item) return starts[node]!
        base = starts[node]! + weight(n)
        break
      }
      path.push(n)
    }
    let at = base
    for (let k = path.length - 1; k > 0; k--) {
      memo?.set(path[k]!, at)
      at += weight(path[k]!)
    }
    memo?.set(item, at)
    // a long walk over nodes no walk had passed (the text now, outside a transaction): note them
    if (!memo && counts === alive && path.length > FILL_AFTER) this.fill(starts, node, at)
    return at
  }

  /** Notes the starts of the nodes from node `from` (known) to unit `to`, walking forward. */
  private fill(starts: readonly number[], from: number, to: number): void {
    const spans = new Array<number>(starts.length - 1)
    for (let i = 0; i < spans.length; i++) spans[i] = starts[i + 1]! - starts[i]!
    const start = this.startAt(spans, starts, from)
    const walker = new Walker(this.ytext, start, this)
    walker.advance(to)
    this.record(spans, starts, start.node + 1, walker.markers)
  }

}

/** Items a walk left may step over before the nodes it passed are noted (by a walk forward). */
const FILL_AFTER = 64

function alive(item: Y.Item): boolean {
  return !item.deleted
}

/**
 * A walk over the Y.Text's items from a {@link WalkStart}, forward, tracking the formatting
 * (and, with `wasThere`, the formatting as it was before the transaction being observed): reads
 * the units from `readFrom` on as tokens (a text run per item, as `readRange` does) and notes
 * every marker it passes. Resumable: {@link advance} goes on from where it stopped.
 */
export class Walker {
  /** The item the walk stopped at (the first unit at or after the target), null at the end. */
  item: Y.Item | null
  /** Units before {@link item}. */
  pos: number
  /** Formatting in effect before {@link item}. */
  readonly attrs: Formatting
  /** The same before the transaction (with `wasThere`). */
  readonly old: Formatting
  readonly tokens: Token[] = []
  readonly markers: MarkerSeen[] = []
  /** Units read into {@link tokens} so far end here. */
  private readTo: number

  constructor(
    ytext: Y.Text,
    start: WalkStart,
    private readonly index: BlockStarts | null,
    private readonly readFrom = Infinity,
    /** Whether an item was there (not added, not deleted) before the transaction observed. */
    private readonly wasThere?: (item: Y.Item) => boolean,
  ) {
    this.item = start.item ?? ytext._start
    this.pos = start.index
    this.attrs = { ...start.attrs }
    this.old = { ...start.attrs }
    this.readTo = readFrom
  }

  /** Whether the formatting here is what it was before the transaction. */
  get settled(): boolean {
    return sameFormatting(this.attrs, this.old)
  }

  /**
   * Walks to unit `to`: stops at the first unit at or after it (after the format items before
   * that unit), reading the units before it from `readFrom` on.
   */
  advance(to: number): void {
    const out = this.tokens
    let item = this.item
    let pos = this.pos
    let steps = 0
    for (; item !== null; item = item.right) {
      steps++
      const content = item.content
      if (content instanceof Y.ContentFormat) {
        if (!item.deleted) this.attrs[content.key] = content.value
        if (this.wasThere?.(item)) this.old[content.key] = content.value
        continue
      }
      if (item.deleted || !item.countable) continue
      if (pos >= to) break
      const len = item.length
      if (content instanceof Y.ContentType) this.markers.push({ pos, item, attrs: { ...this.attrs } })
      if (pos + len > this.readTo) {
        const from = Math.max(0, this.readTo - pos)
        const upto = Math.min(len, to - pos)
        if (content instanceof Y.ContentString) {
          const text = content.str.slice(from, upto)
          const marks = marksOf(this.attrs)
          const last = out[out.length - 1]
          if (last?.kind === 'text' && jsonEqual(last.marks, marks)) last.text += text
          else out.push({ kind: 'text', text, marks })
        } else if (content instanceof Y.ContentType || content instanceof Y.ContentEmbed) {
          out.push(embedToken(content instanceof Y.ContentType ? content.type : content.embed, marksOf(this.attrs)))
        } else for (let i = from; i < upto; i++) out.push({ kind: 'inline', type: 'unknown', attrs: {}, marks: {} })
        this.readTo = pos + upto
      }
      pos += len
      if (pos > to) {
        // the target is inside this item: stop at it (only a read that ends mid-item does this)
        pos -= len
        break
      }
    }
    if (this.index) this.index.visited += steps
    this.item = item
    this.pos = pos
  }
}
