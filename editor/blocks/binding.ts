/**
 * The binding of a ProseMirror editor to the block layout's `Y.Text` (see `layout.ts`): the
 * plugin that wires the two directions together and keeps the selection and the undo history.
 * Imports yjs, prosemirror-state and this folder's modules.
 *
 * - Local: after every dispatch, the change from the document the Y.Text holds to the editor's
 *   document is written by `pm-to-yjs.ts` (one Yjs transaction, origin = the binding), with the
 *   transaction's steps as the alignment hint when there was one transaction since the last write.
 * - Remote (any other origin: the relay, IndexedDB, the undo manager, another binding): the
 *   changed range of the Yjs transaction becomes steps over that range only (`yjs-to-pm.ts`),
 *   dispatched as one ProseMirror transaction marked {@link REMOTE}.
 * - Selection across a remote change follows the sticky-caret rule: a caret sticks to the unit
 *   before it (the character its owner typed last, or its block's marker), a range's start to its
 *   first unit and its end to its last, so text someone else inserts exactly at the caret goes
 *   after it and the owner's next keystroke continues their own word. Only a caret the change
 *   touches costs a walk over the Y.Text's items (to find that unit again); any other is shifted
 *   by the change's length. Stored marks survive a remote change.
 * - Undo: a `Y.UndoManager` on the Y.Text that tracks this binding's writes only, so undo never
 *   removes what someone else wrote; its changes come back as remote changes. Each undo step
 *   remembers the selection before it, restored when the step is undone.
 * - IME composition: a remote change that touches the block being composed in (a split, a join,
 *   a type change of it) would make ProseMirror redraw the DOM the browser's IME is writing into,
 *   and the composed text would be lost or doubled. Such a change is held (`composition-hold.ts`):
 *   {@link BlockBinding.doc} follows the Y.Text as always, but the view is left alone and local
 *   changes are not written. When the composition ends, the view is taken back to what it showed,
 *   the held changes are applied, and the text the composition changed is written after the unit
 *   it was typed after, wherever the held change put that unit. Remote changes elsewhere apply
 *   live.
 */
import * as Y from 'yjs'
import { AllSelection, Plugin, PluginKey, Selection, TextSelection, type Command, type EditorState, type Transaction } from 'prosemirror-state'
import type { Node as PMNode, Schema } from 'prosemirror-model'
import { ReplaceStep, Transform, type Step } from 'prosemirror-transform'
import { readTokens } from './layout.ts'
import { diffRegion, flatIndex, flatSize, fromTokens, inOneTextblock, positionAfterUnit, unitPositions } from './traversal.ts'
import { writeChange } from './pm-to-yjs.ts'
import { applyRemoteChange, transactionRange, wasThereBefore, type ChangedRange } from './yjs-to-pm.ts'
import { BlockStarts, startsOf } from './block-starts.ts'
import { contentSeedUpdate } from './convert.ts'
import { unitIds, type Hold } from './composition-hold.ts'

/**
 * Origin of the first marker the binding writes into a Y.Text that never held anything: the
 * document the editor showed (one empty paragraph), written with {@link contentSeedUpdate} so
 * every replica that types into an empty room first writes the same marker, and the blocks they
 * type into are one block, not one each. Not tracked by the undo manager (undo never removes it).
 */
const SEED_ORIGIN = Symbol('tandem:empty-seed')

/** What the binding needs of an editor view (an `EditorView`, or a headless stand-in). */
export interface BindingHost {
  readonly state: EditorState
  dispatch(tr: Transaction): void
  /** Whether an IME composition is under way (an `EditorView`'s `composing`). */
  readonly composing?: boolean
}

/** Plugin state: the binding, and the steps applied since the document the Y.Text holds. */
interface SyncState {
  binding: BlockBinding
  from: PMNode
  steps: readonly Step[]
}

/** Key of the binding's plugin; its state holds the {@link BlockBinding}. */
export const blockSyncKey = new PluginKey<SyncState>('tandem-blocks')

/** Meta value (under {@link blockSyncKey}) of a transaction that shows a remote change. */
export const REMOTE = 'remote'

/**
 * Meta (under {@link blockSyncKey}) of the transaction that ends a hold: the held remote changes,
 * then `composed`, the steps on the binding's document that write what was composed meanwhile.
 */
interface HoldEnd {
  composed: readonly Step[]
}

/** A text edit made during a hold: `[baseFrom, baseTo)` of the hold's base became `[viewFrom, viewTo)` of the view. */
interface TextEdit {
  baseFrom: number
  baseTo: number
  viewFrom: number
  viewTo: number
}

/** Options of {@link BlockBinding}. */
export interface BlockBindingOptions {
  /** Local changes closer together than this (ms) are undone together. Default 500. */
  captureTimeout?: number
}

/** A selection as units of the Y.Text, kept with an undo step. */
interface StoredSelection {
  anchor: Y.RelativePosition
  head: Y.RelativePosition
}

/** The units of the Y.Text before position `pos` of `doc`, which was read from it with `spans`. */
export function unitsBefore(doc: PMNode, spans: readonly number[], pos: number): number {
  let units = 0
  let offset = 0
  for (let i = 0; i < doc.childCount; i++) {
    const child = doc.child(i)
    const span = spans[i] ?? 0
    // a node whose units a repair changed (with the paragraphs read after it, which have none)
    let j = i + 1
    let groupEnd = offset + child.nodeSize
    while (j < doc.childCount && spans[j] === 0) groupEnd += doc.child(j++).nodeSize
    if (pos < groupEnd && (j > i + 1 || span !== flatSize(child))) {
      const after = unitPositions(doc, i, j, offset, span)
      if (after) {
        let k = 0
        while (k < after.length && after[k]! <= pos) k++
        return units + k
      }
    }
    const end = offset + child.nodeSize
    if (pos < end) return units + Math.min(span, flatIndex(doc, pos, i, offset))
    units += span
    offset = end
  }
  return units
}

/**
 * The item and offset of unit `unit` as the Y.Text was before a transaction (`wasThere`: whether
 * an item was there then), walking from `from`: an item at or before that unit which the
 * transaction did not change, with its index.
 */
function unitBefore(ytext: Y.Text, from: { item: Y.Item | null; index: number }, wasThere: (item: Y.Item) => boolean, unit: number): [Y.Item, number] | null {
  let n = from.index
  for (let item = from.item ?? ytext._start; item !== null; item = item.right) {
    if (!item.countable || !wasThere(item)) continue
    if (unit < n + item.length) return [item, unit - n]
    n += item.length
  }
  return null
}

/** Whether `node` holds a leaf (text or an atom); stops at the first one. */
function holdsLeaf(node: PMNode): boolean {
  for (let i = 0; i < node.childCount; i++) {
    const child = node.child(i)
    if (child.isLeaf || holdsLeaf(child)) return true
  }
  return false
}

/** A ProseMirror document bound to the block layout's Y.Text. */
export class BlockBinding {
  /** The document the Y.Text holds, as the editor shows it. */
  doc: PMNode
  /** Units of the Y.Text each top-level node of {@link doc} was read from. */
  spans: number[]
  /** This binding's undo history (its own writes only). */
  readonly undoManager: Y.UndoManager
  private host: BindingHost | null = null
  private selectionBeforeWrite: Selection | null = null
  /** Where each node of {@link doc} starts among the Y.Text's items (beside {@link spans}). */
  readonly starts: BlockStarts

  constructor(
    readonly ytext: Y.Text,
    readonly schema: Schema,
    options: BlockBindingOptions = {},
  ) {
    const read = fromTokens(schema, readTokens(ytext))
    this.doc = read.doc
    this.spans = read.spans
    this.starts = new BlockStarts(ytext, read.spans.length)
    this.undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set([this]), captureTimeout: options.captureTimeout ?? 500 })
    this.undoManager.on('stack-item-added', this.onStackItemAdded)
    this.undoManager.on('stack-item-popped', this.onStackItemPopped)
    ytext.observeDeep(this.onChange)
  }

  /** The ProseMirror plugin; the state must be created with {@link doc} as its document. */
  plugin(): Plugin<SyncState> {
    const binding = this
    return new Plugin<SyncState>({
      key: blockSyncKey,
      state: {
        init: (_config, state) => ({ binding, from: state.doc, steps: [] }),
        apply(tr, value, oldState, newState) {
          if (!tr.docChanged) return value
          const meta = tr.getMeta(blockSyncKey) as typeof REMOTE | HoldEnd | undefined
          if (meta === REMOTE) return { binding, from: newState.doc, steps: [] }
          if (meta) return { binding, from: binding.doc, steps: meta.composed }
          if (oldState.doc === binding.doc) return { binding, from: oldState.doc, steps: tr.steps }
          return { binding, from: value.from, steps: [...value.steps, ...tr.steps] }
        },
      },
      view: (view) => {
        binding.attach(view)
        return {
          update: (updated, previous) => {
            binding.flushLocal(updated.state, previous)
            if (binding.holding && !updated.composing) binding.releaseLater()
          },
          destroy: () => binding.detach(view),
        }
      },
      props: {
        handleDOMEvents: {
          compositionend: () => {
            if (binding.holding) binding.releaseLater()
            return false
          },
        },
      },
    })
  }

  /** Starts dispatching remote changes to `host`. */
  attach(host: BindingHost): void {
    this.host = host
    // anything that arrived between the binding's creation and now
    if (host.state.doc !== this.doc && host.state.doc.eq(this.doc)) return
    if (host.state.doc !== this.doc) this.resync()
  }

  /** Stops dispatching to `host`; what was composed during a hold is written first. */
  detach(host: BindingHost): void {
    if (this.host !== host) return
    if (this.hold) {
      const { local } = this.unhold(host.state)
      if (local.docs.length > 0) this.spans = writeChange(this.ytext, this.doc, local.doc, this.spans, { steps: local.steps, starts: this.starts }, this)
      this.doc = local.doc
    }
    this.host = null
  }

  /** Writes the local change from the document the Y.Text holds to `state.doc`. */
  flushLocal(state: EditorState, previous?: EditorState): void {
    if (state.doc === this.doc || this.hold) return
    const pending = blockSyncKey.getState(state)
    const steps = pending && pending.from === this.doc ? pending.steps : undefined
    this.selectionBeforeWrite = previous && previous.doc === this.doc ? previous.selection : null
    const seeded = this.ytext._start === null && this.seedEmpty()
    this.spans = writeChange(this.ytext, this.doc, state.doc, this.spans, steps && !seeded ? { steps, starts: this.starts } : { starts: this.starts }, this)
    this.doc = state.doc
    this.selectionBeforeWrite = null
  }

  /**
   * Writes the shared first marker of an empty room (see {@link SEED_ORIGIN}) before the first
   * local write. A Y.Text that held something once (all deleted now) is left alone: the seed's
   * id may be spent, and the write creates its own marker.
   */
  private seedEmpty(): boolean {
    const ydoc = this.ytext.doc
    let name: string | undefined
    if (ydoc) for (const [key, type] of ydoc.share) if ((type as unknown) === this.ytext) name = key
    if (!ydoc || name === undefined) return false
    Y.applyUpdate(ydoc, contentSeedUpdate(this.doc, name), SEED_ORIGIN)
    const read = fromTokens(this.schema, readTokens(this.ytext))
    this.doc = read.doc
    this.spans = read.spans
    this.starts.reset(read.spans.length)
    return true
  }

  /** Unobserves the Y.Text and drops the undo history. */
  destroy(): void {
    this.ytext.unobserveDeep(this.onChange)
    this.undoManager.off('stack-item-added', this.onStackItemAdded)
    this.undoManager.off('stack-item-popped', this.onStackItemPopped)
    this.undoManager.destroy()
    this.host = null
  }

  /** Reads the whole Y.Text again and shows it (a host attached to a stale document). */
  private resync(): void {
    const read = fromTokens(this.schema, readTokens(this.ytext))
    this.spans = read.spans
    this.starts.reset(read.spans.length)
    const host = this.host
    if (!host) {
      this.doc = read.doc
      return
    }
    const tr = host.state.tr.replaceWith(0, host.state.doc.content.size, read.doc.content)
    tr.setMeta(blockSyncKey, REMOTE).setMeta('addToHistory', false)
    this.doc = tr.doc
    host.dispatch(tr)
  }

  /** Remote changes held during a composition (see `composition-hold.ts`), or null. */
  private hold: Hold | null = null
  private releaseTimer: ReturnType<typeof setTimeout> | null = null

  /** Whether remote changes are held until a composition ends. */
  get holding(): boolean {
    return this.hold !== null
  }

  /** The units (of `spans`) of the top-level block holding the host's caret, with any read after it that have none. */
  private caretBlockUnits(host: BindingHost, spans: readonly number[]): { start: number; end: number } {
    const doc = host.state.doc
    const head = host.state.selection.head
    const starts = startsOf(spans)
    let node = 0
    let offset = 0
    while (node + 1 < doc.childCount && offset + doc.child(node).nodeSize <= head) offset += doc.child(node++).nodeSize
    let last = node
    while (last + 1 < spans.length && spans[last + 1] === 0) last++
    return { start: starts[node] ?? 0, end: (starts[last] ?? 0) + (spans[last] ?? 0) }
  }

  /** Shows the held changes once the composition is over (after ProseMirror has read the DOM it left). */
  releaseLater(): void {
    if (this.releaseTimer !== null) return
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null
      this.release()
    }, 0)
  }

  /** Shows the held remote changes and writes what was composed meanwhile, unless a composition is still under way. */
  release(): void {
    const host = this.host
    if (!this.hold || !host || host.composing) return
    const { tr, local, selection } = this.unhold(host.state)
    if (selection) tr.setSelection(TextSelection.between(tr.doc.resolve(selection.anchor), tr.doc.resolve(selection.head)))
    if (host.state.storedMarks) tr.setStoredMarks(host.state.storedMarks)
    host.dispatch(tr.setMeta(blockSyncKey, { composed: local.steps } satisfies HoldEnd).setMeta('addToHistory', false))
  }

  /**
   * Ends the hold. `tr` (on `state`) takes the view back to what it showed when the hold started,
   * applies the held steps (reaching {@link doc}) and then `local`: what the view changed since,
   * as steps on {@link doc} (see {@link replayComposed}). `selection`: where the view's selection
   * ends go in `tr.doc` (null: mapped by `tr`).
   */
  private unhold(state: EditorState): { tr: Transaction; local: Transform; selection: { anchor: number; head: number } | null } {
    const hold = this.hold!
    this.hold = null
    const tr = state.tr
    const region = diffRegion(hold.base, state.doc)
    if (region) tr.step(new ReplaceStep(region.start, region.endB, hold.base.slice(region.start, region.endA)))
    for (const step of hold.steps) tr.step(step)
    const local = new Transform(this.doc)
    const edit = region && this.composedEdit(hold, region, state)
    let at: number | null = null
    if (edit) {
      at = this.replayComposed(hold, edit, state.doc, local)
      if (at === null) {
        // never expected (the edit is in the block the hold kept): the text inserted where its
        // start maps, so nothing typed is lost and nothing of the held changes is overwritten
        at = tr.mapping.slice(1).map(edit.baseFrom, -1)
        local.replace(at, at, state.doc.slice(edit.viewFrom, edit.viewTo))
      }
    }
    for (const step of local.steps) tr.step(step)
    // A selection end in what was composed stays there; any other sticks to the unit before it (as on a remote change).
    const place = (pos: number): number | null => {
      if (!edit) return this.stickyAfterHold(hold, pos, local)
      if (pos >= edit.viewFrom && pos <= edit.viewTo) return at === null ? null : at + pos - edit.viewFrom
      return this.stickyAfterHold(hold, pos < edit.viewFrom ? pos - edit.viewFrom + edit.baseFrom : pos - edit.viewTo + edit.baseTo, local)
    }
    const anchor = place(state.selection.anchor)
    const head = state.selection.empty ? anchor : place(state.selection.head)
    return { tr, local, selection: anchor === null || head === null ? null : { anchor, head } }
  }

  /**
   * The text edit the view made during the hold: `[baseFrom, baseTo)` of the hold's base became
   * `[viewFrom, viewTo)` of the view. The region where they differ, when that is text in one
   * textblock (a composition); otherwise (a block change made while composing, a toolbar click)
   * the difference of the text of the textblock the caret was in, and the block change is left
   * out: replayed over the held changes it could overwrite them (a split someone made in that
   * block). Null when the caret is in no textblock.
   */
  private composedEdit(hold: Hold, region: { start: number; endA: number; endB: number }, state: EditorState): TextEdit | null {
    if (inOneTextblock(hold.base, region.start, region.endA) && inOneTextblock(state.doc, region.start, region.endB)) {
      return { baseFrom: region.start, baseTo: region.endA, viewFrom: region.start, viewTo: region.endB }
    }
    const $base = hold.base.resolve(Math.min(hold.baseHead, hold.base.content.size))
    const $view = state.selection.$head
    if (!$base.parent.isTextblock || !$view.parent.isTextblock) return null
    const inner = diffRegion($base.parent, $view.parent)
    if (!inner) return null
    return { baseFrom: $base.start() + inner.start, baseTo: $base.start() + inner.endA, viewFrom: $view.start() + inner.start, viewTo: $view.start() + inner.endB }
  }

  /**
   * Where position `pos` of the hold's base goes in `local.doc`: after the unit before it,
   * wherever that unit is now (its id kept by the hold), or null when that unit is not one the
   * hold kept.
   */
  private stickyAfterHold(hold: Hold, pos: number, local: Transform): number | null {
    const unit = unitsBefore(hold.base, hold.baseSpans, pos)
    const id = hold.ids[unit - 1 - hold.firstUnit]
    if (unit === 0 || !id) return null
    const at = this.resolve(Y.createRelativePositionFromJSON({ item: id, assoc: -1 }))
    return at === null ? null : local.mapping.map(at, -1)
  }

  /**
   * Writes into `local` (a transform of {@link doc}) the text of `edit`: the units it replaced are
   * deleted where they are now, and the text is inserted after the unit before it, wherever that
   * unit is now (at the start of the text when there is none). Returns where the text starts in
   * `local.doc`, or null when the edit is not in the units the hold kept.
   */
  private replayComposed(hold: Hold, edit: TextEdit, view: PMNode, local: Transform): number | null {
    const first = unitsBefore(hold.base, hold.baseSpans, edit.baseFrom)
    const before = first - 1 - hold.firstUnit
    const count = edit.baseTo - edit.baseFrom
    if ((before < 0 && first > 0) || first + count - hold.firstUnit > hold.ids.length) return null
    const ydoc = this.ytext.doc!
    const anchor = first === 0 ? Selection.atStart(this.doc).from : this.resolve(Y.createRelativePositionFromJSON({ item: hold.ids[before], assoc: -1 }))
    if (anchor === null) return null
    const deleted: number[] = []
    for (let k = 0; k < count; k++) {
      const id = hold.ids[first - hold.firstUnit + k]!
      const item = Y.getItem(ydoc.store, id)
      if (!(item instanceof Y.Item) || item.deleted || item.parent !== this.ytext) continue
      const index = this.indexOfItem(item)
      if (index !== null) deleted.push(positionAfterUnit(this.doc, this.spans, index + id.clock - item.id.clock))
    }
    for (const end of deleted.sort((x, y) => y - x)) local.delete(end - 1, end)
    const at = local.mapping.map(anchor, -1)
    local.replace(at, at, view.slice(edit.viewFrom, edit.viewTo))
    return at
  }

  private readonly onChange = (events: Y.YEvent<Y.AbstractType<unknown>>[], transaction: Y.Transaction): void => {
    if (transaction.origin === this || transaction.origin === SEED_ORIGIN) return
    const range = transactionRange(this.ytext, transaction, events, this.spans, this.starts)
    if (!range) return
    const before = this.doc
    const beforeSpans = this.spans
    const wasThere = wasThereBefore(transaction)
    const { transform, spans } = applyRemoteChange(this.schema, this.ytext, before, beforeSpans, range, { starts: this.starts, wasThere })
    this.spans = spans
    const host = this.host
    if (!host) {
      this.doc = transform.doc
      return
    }
    if (!this.hold && host.composing && host.state.doc === before) {
      const block = this.caretBlockUnits(host, beforeSpans)
      if (range.from <= block.end && range.toBefore >= block.start) {
        // the composed block: held, with its units as they were (walking from a node start before the change)
        const firstUnit = Math.max(0, block.start - 1)
        const from = this.walkStartBefore(startsOf(this.spans), Math.min(range.from, firstUnit))
        const ids = unitIds(this.ytext, from, wasThere, firstUnit, block.end)
        this.hold = { base: before, baseSpans: beforeSpans, baseHead: host.state.selection.head, steps: [], firstUnit, ids }
      }
    }
    if (this.hold) {
      // the composition's block (and every change after it until the composition ends): see release
      this.hold.steps.push(...transform.steps)
      this.doc = transform.doc
      if (!host.composing) this.releaseLater()
      return
    }
    const state = host.state
    if (state.doc !== before) {
      // never expected: local changes are written on every dispatch
      this.resync()
      return
    }
    const tr = state.tr
    for (const step of transform.steps) tr.step(step)
    const map = (pos: number, side: -1 | 1): number => {
      const units = unitsBefore(before, beforeSpans, pos)
      const after = this.stickyUnits(units, side, range, wasThere)
      if (after === null) return tr.mapping.map(pos, side)
      return after <= 0 ? Selection.atStart(tr.doc).from : positionAfterUnit(tr.doc, spans, after - 1)
    }
    const selection = state.selection
    if (selection instanceof AllSelection && !holdsLeaf(state.doc)) {
      // a select-all of empty blocks (an empty room) is a caret: what others type into it is not selected
      tr.setSelection(Selection.near(tr.doc.resolve(map(selection.from, -1))))
    } else if (selection instanceof TextSelection) {
      const anchor = selection.empty ? map(selection.head, -1) : map(selection.anchor, selection.anchor <= selection.head ? 1 : -1)
      const head = selection.empty ? anchor : map(selection.head, selection.head < selection.anchor ? 1 : -1)
      tr.setSelection(TextSelection.between(tr.doc.resolve(anchor), tr.doc.resolve(head)))
    }
    if (state.storedMarks) tr.setStoredMarks(state.storedMarks)
    tr.setMeta(blockSyncKey, REMOTE).setMeta('addToHistory', false)
    this.doc = tr.doc
    host.dispatch(tr)
  }

  /**
   * Where a selection end with `units` units before it goes after a remote change of `range`:
   * `side` -1 sticks to the unit before it, +1 to the unit after it. Null: that unit was deleted.
   */
  private stickyUnits(units: number, side: -1 | 1, range: ChangedRange, wasThere: (item: Y.Item) => boolean): number | null {
    const unit = side < 0 ? units - 1 : units
    if (unit < range.from) return units
    if (unit >= range.toBefore) return units + range.toAfter - range.toBefore
    const starts = startsOf(this.spans)
    const found = unitBefore(this.ytext, this.walkStartBefore(starts, range.from), wasThere, unit)
    if (!found || found[0].deleted) return null
    const index = this.starts.indexOf(found[0], starts)
    if (index === null) return null
    return index + found[1] + (side < 0 ? 1 : 0)
  }

  /**
   * Where a walk over the Y.Text as it was before a remote change can start: the start of the last
   * node starting before unit `limit` (≤ the change's start, so the same before and after it).
   * `starts`: the prefix sums of {@link spans}.
   */
  private walkStartBefore(starts: readonly number[], limit: number): ReturnType<BlockStarts['startAt']> {
    let node = 0
    while (node + 1 < this.spans.length && starts[node + 1]! < limit) node++
    return this.starts.startAt(this.spans, starts, node)
  }

  /** The index of `item`'s first unit in the Y.Text now (walking left to its node's start), or null. */
  indexOfItem(item: Y.Item): number | null {
    return item.deleted ? null : this.starts.indexOf(item, startsOf(this.spans))
  }

  /** The relative position of `pos` in {@link doc}, sticking to the unit before it. */
  relativeAt(pos: number): Y.RelativePosition {
    return Y.createRelativePositionFromTypeIndex(this.ytext, unitsBefore(this.doc, this.spans, pos), -1)
  }

  /** The position in {@link doc} that `rel` (from any replica) resolves to, or null. */
  resolve(rel: Y.RelativePosition): number | null {
    const doc = this.ytext.doc
    const index = doc ? this.absoluteIndex(rel, doc) : null
    if (index === null) return null
    return index <= 0 ? Selection.atStart(this.doc).from : positionAfterUnit(this.doc, this.spans, index - 1)
  }

  /**
   * The index in the Y.Text that `rel` points to, or null: `Y.createAbsolutePositionFromRelativePosition`
   * for a position at an item of this Y.Text, but counting the units before it from its node's start
   * (Yjs walks to the start of the text).
   */
  private absoluteIndex(rel: Y.RelativePosition, doc: Y.Doc): number | null {
    const id = rel.item
    if (id && Y.getState(doc.store, id.client) > id.clock) {
      // the item holding the unit, following redone items as Yjs does
      let next: Y.ID | null = id
      let diff = 0
      let item: Y.Item | Y.GC | null = null
      while (next !== null) {
        if (diff > 0) next = Y.createID(next.client, next.clock + diff)
        item = Y.getItem(doc.store, next) as Y.Item | Y.GC
        diff = next.clock - item.id.clock
        next = item instanceof Y.Item ? item.redone : null
      }
      if (!(item instanceof Y.Item) || item.parent !== this.ytext) return null
      const before = this.starts.indexOf(item, startsOf(this.spans))
      if (before === null) return null
      return before + (item.deleted || !item.countable ? 0 : diff + ((rel.assoc ?? 0) >= 0 ? 0 : 1))
    }
    const abs = Y.createAbsolutePositionFromRelativePosition(rel, doc)
    return abs && abs.type === this.ytext ? abs.index : null
  }

  private selectionUnits(selection: Selection): StoredSelection {
    return { anchor: this.relativeAt(selection.anchor), head: this.relativeAt(selection.head) }
  }

  private readonly onStackItemAdded = ({ stackItem, type }: { stackItem: { meta: Map<unknown, unknown> }; type: 'undo' | 'redo' }): void => {
    const selection = type === 'undo' ? this.selectionBeforeWrite : this.host?.state.selection
    if (selection) stackItem.meta.set(this, this.selectionUnits(selection))
  }

  private readonly onStackItemPopped = ({ stackItem }: { stackItem: { meta: Map<unknown, unknown> } }): void => {
    const stored = stackItem.meta.get(this) as StoredSelection | undefined
    const host = this.host
    if (!stored || !host || host.state.doc !== this.doc) return
    const anchor = this.resolve(stored.anchor)
    const head = this.resolve(stored.head)
    if (anchor === null || head === null) return
    const tr = host.state.tr.setSelection(TextSelection.between(this.doc.resolve(anchor), this.doc.resolve(head)))
    host.dispatch(tr.setMeta(blockSyncKey, REMOTE).setMeta('addToHistory', false).scrollIntoView())
  }
}

/** The binding of `state`, if it has one. */
export function bindingOf(state: EditorState): BlockBinding | undefined {
  return blockSyncKey.getState(state)?.binding
}

/** Undoes the local user's last change on the block layout (false if there is none). */
export const undoBlocks: Command = (state, dispatch) => {
  const binding = bindingOf(state)
  if (!binding || binding.undoManager.undoStack.length === 0) return false
  if (dispatch) binding.undoManager.undo()
  return true
}

/** Redoes the local user's last undone change on the block layout (false if there is none). */
export const redoBlocks: Command = (state, dispatch) => {
  const binding = bindingOf(state)
  if (!binding || binding.undoManager.redoStack.length === 0) return false
  if (dispatch) binding.undoManager.redo()
  return true
}
