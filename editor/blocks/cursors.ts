/**
 * Everyone's cursors on the block layout: this tab publishes its selection in awareness as Yjs
 * relative positions into the `Y.Text` and draws everyone else's. Imports yjs, y-protocols'
 * awareness type, prosemirror-state/-view, y-prosemirror's selection look, `cursor-caret.ts` and
 * `binding.ts`.
 *
 * The awareness field is y-prosemirror's (`cursor: { anchor, head }`, relative position JSON) and
 * so is the look (its caret's classes, drawn by `cursorCaret`, and `defaultSelectionBuilder`), so
 * presence lists and styles made for y-prosemirror keep working; the positions point into the
 * Y.Text, which a stock y-prosemirror editor resolves to nothing (it draws no cursor rather than a
 * wrong one).
 *
 * Positions follow the sticky-caret rule of the binding: a caret is published associated with the
 * unit before it (`assoc -1`), so when someone types exactly at another user's caret, every tab
 * draws that caret in front of the new text, where its owner keeps writing; a caret widget keeps
 * to the left of text inserted at it when decorations are mapped (`side -1`). A remote cursor is
 * resolved again when its owner's awareness state changes (only that one); a document change maps
 * them all.
 *
 * Cost per keystroke: the caret's relative position names the Yjs item of the unit before it.
 * Finding it by index from the start of the Y.Text (`Y.createRelativePositionFromTypeIndex`) walks
 * every item before the caret, on every keystroke; a {@link UnitFinder} walks from the unit it
 * found last instead (one or two items while typing), keeping that unit's index up to date
 * through each change of the Y.Text.
 */
import * as Y from 'yjs'
import { Plugin, PluginKey, type EditorState } from 'prosemirror-state'
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view'
import type { Awareness } from 'y-protocols/awareness'
import { defaultSelectionBuilder } from 'y-prosemirror'
import { cursorCaret, type CaretBuilder } from '../cursor-caret.ts'
import { CURSOR_FIELD, cursorPluginView, ownCursor, samePosition, type PublishedCursor } from '../cursor-awareness.ts'
import { bindingOf, unitsBefore, type BlockBinding } from './binding.ts'

/** Key of {@link blockCursorsPlugin}; its state is the set of remote cursor decorations. */
export const blockCursorsKey = new PluginKey<DecorationSet>('tandem-block-cursors')

/** How far {@link UnitFinder} looks from a changed item for its last unit before giving up. */
const NEAR = 16

/**
 * Relative positions into a Y.Text by unit index, found by walking from the unit found last (the
 * anchor) instead of from the start: typing next to the caret costs a step or two, not a walk over
 * the document. The anchor's index follows every change of the Y.Text: a remote change (or any
 * transaction not of `localOrigin`) by `locate` when given (the binding's walk from the anchor's
 * node start, `BlockBinding.indexOfItem`), asked at the next lookup, else by the event's delta
 * (which Yjs computes by walking the whole text); a local
 * write by looking, within a few items of each item it inserted or deleted, on which side of the
 * anchor it is. When neither tells (a change far away, the anchor itself deleted) the anchor is
 * dropped and the next lookup walks from the start once. The result is exactly
 * `Y.createRelativePositionFromTypeIndex(ytext, index, assoc)` (test/unit/editor/blocks/cursor-positions.test.ts).
 */
export class UnitFinder {
  /** The unit found last: its id and its index in the Y.Text now (null: ask `locate`). */
  private anchor: { client: number; clock: number; index: number | null } | null = null

  constructor(
    readonly ytext: Y.Text,
    private readonly localOrigin: unknown,
    /** The index of an item's first unit in the Y.Text now (see the class comment). */
    private readonly locate?: (item: Y.Item) => number | null,
  ) {
    ytext.observe(this.onChange)
  }

  /** The relative position of index `index` of the Y.Text (`assoc` < 0: sticking to the unit before it). */
  relativePosition(index: number, assoc = -1): Y.RelativePosition {
    const target = assoc < 0 ? index - 1 : index
    const found = target >= 0 ? this.find(target) : null
    if (!found) {
      const rel = Y.createRelativePositionFromTypeIndex(this.ytext, index, assoc)
      this.anchor = rel.item && target >= 0 && target < this.ytext.length ? { client: rel.item.client, clock: rel.item.clock, index: target } : null
      return rel
    }
    this.anchor = { client: found.client, clock: found.clock, index: target }
    const type = this.ytext._item
    return new Y.RelativePosition(type ? type.id : null, type ? null : Y.findRootTypeKey(this.ytext), found, assoc)
  }

  /** Stops following the Y.Text. */
  destroy(): void {
    this.ytext.unobserve(this.onChange)
    this.anchor = null
  }

  /** The id of unit `target`, walking from the anchor; null without an anchor or past the end. */
  private find(target: number): Y.ID | null {
    const anchor = this.anchor
    const doc = this.ytext.doc
    if (!anchor || !doc) return null
    const item = Y.getItem(doc.store, Y.createID(anchor.client, anchor.clock))
    if (!(item instanceof Y.Item) || item.deleted || item.parent !== this.ytext) return null
    const located = anchor.index === null ? (this.locate?.(item) ?? null) : anchor.index - (anchor.clock - item.id.clock)
    if (located === null) return null
    let first = located // index of the item's first unit
    let cursor: Y.Item | null = item
    if (target >= first) {
      for (; cursor !== null; cursor = cursor.right) {
        if (cursor.deleted || !cursor.countable) continue
        if (target < first + cursor.length) return Y.createID(cursor.id.client, cursor.id.clock + target - first)
        first += cursor.length
      }
      return null
    }
    for (cursor = item.left; cursor !== null; cursor = cursor.left) {
      if (cursor.deleted || !cursor.countable) continue
      first -= cursor.length
      if (target >= first) return Y.createID(cursor.id.client, cursor.id.clock + target - first)
    }
    return null
  }

  private readonly onChange = (event: Y.YTextEvent, transaction: Y.Transaction): void => {
    const anchor = this.anchor
    if (!anchor || anchor.index === null) return
    if (transaction.origin !== this.localOrigin && this.locate) {
      anchor.index = null
      return
    }
    const shift = transaction.origin === this.localOrigin ? this.shiftNear(transaction, anchor) : this.shiftByDelta(event, anchor.index)
    if (shift === null) this.anchor = null
    else anchor.index += shift
  }

  /** How far a change described by `event`'s delta moves the unit at `index`; null if it deleted it. */
  private shiftByDelta(event: Y.YTextEvent, index: number): number | null {
    let at = 0 // position in the text before the change
    let shift = 0
    for (const op of event.delta) {
      if (at > index) break
      if (op.retain !== undefined) at += op.retain
      else if (op.delete !== undefined) {
        if (index < at + op.delete) return null
        shift -= op.delete
        at += op.delete
      } else shift += typeof op.insert === 'string' ? op.insert.length : 1
    }
    return shift
  }

  /**
   * How far a local write moves the anchor: each unit it inserted or deleted is placed before or
   * after the anchor by looking a few items either side of it; null when one is not that near (or
   * the anchor itself was deleted).
   */
  private shiftNear(transaction: Y.Transaction, anchor: { client: number; clock: number }): number | null {
    const store = transaction.doc.store
    const item = Y.getItem(store, Y.createID(anchor.client, anchor.clock))
    if (!(item instanceof Y.Item) || item.deleted) return null
    let shift = 0
    const counted = (s: unknown): s is Y.Item => s instanceof Y.Item && s.parent === this.ytext && s.countable
    for (const [client, after] of transaction.afterState) {
      const before = transaction.beforeState.get(client) ?? 0
      if (after <= before) continue
      const structs = store.clients.get(client) ?? []
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const s = structs[i]
        if (!counted(s) || s.deleted) continue
        const side = sideOf(s, item)
        if (side === 0) return null
        if (side < 0) shift += s.length
      }
    }
    for (const [client, ranges] of transaction.deleteSet.clients) {
      const structs = store.clients.get(client) ?? []
      const existed = transaction.beforeState.get(client) ?? 0
      for (const { clock, len } of ranges) {
        for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < clock + len; i++) {
          const s = structs[i]
          if (!counted(s) || s.id.clock >= existed) continue // inserted and deleted by this transaction
          const side = sideOf(s, item)
          if (side === 0) return null
          if (side < 0) shift -= s.length
        }
      }
    }
    return shift
  }
}

/** -1 if `s` is within {@link NEAR} items before `item`, +1 within that many after it, else 0. */
function sideOf(s: Y.Item, item: Y.Item): number {
  let left: Y.Item | null = s.left
  let right: Y.Item | null = s.right
  for (let step = 0; step < NEAR && (left !== null || right !== null); step++) {
    if (right === item) return -1
    if (left === item) return 1
    right = right?.right ?? null
    left = left?.left ?? null
  }
  return 0
}

/** The decorations drawing `clientId`'s cursor and selection from its awareness state `aw`. */
function cursorDecorations(binding: BlockBinding, maxPos: number, clientId: number, aw: unknown, caret: CaretBuilder): Decoration[] {
  const cursor = (aw as { [CURSOR_FIELD]?: PublishedCursor | null } | undefined)?.[CURSOR_FIELD]
  if (cursor == null) return []
  const given = ((aw as { user?: { name?: string; color?: string } }).user ?? {})
  const user = { name: given.name ?? `User: ${clientId}`, color: given.color ?? '#ffa500' }
  let anchor: number | null
  let head: number | null
  try {
    anchor = binding.resolve(Y.createRelativePositionFromJSON(cursor.anchor))
    head = binding.resolve(Y.createRelativePositionFromJSON(cursor.head))
  } catch {
    return [] // junk in someone's awareness state draws nothing
  }
  if (anchor === null || head === null) return []
  anchor = Math.min(anchor, maxPos)
  head = Math.min(head, maxPos)
  // A caret published as the unit after it (assoc ≥ 0) is drawn on the right of the position, so
  // text inserted there (its owner typing) goes before it when the decoration is mapped; one
  // sticking to the unit before it is drawn on the left.
  const side = ((cursor.head as { assoc?: number } | null)?.assoc ?? 0) >= 0 ? 1 : -1
  const out = [Decoration.widget(head, () => caret(user), { key: String(clientId), side, client: clientId })]
  const from = Math.min(anchor, head)
  const to = Math.max(anchor, head)
  if (from < to) out.push(Decoration.inline(from, to, defaultSelectionBuilder(user), { inclusiveEnd: true, inclusiveStart: false, client: clientId }))
  return out
}

/**
 * The cursor decorations of `state`: everyone's (`clients` null), or `previous` with those of
 * `clients` resolved again.
 */
function render(state: EditorState, awareness: Awareness, caret: CaretBuilder, previous: DecorationSet | null = null, clients: readonly number[] | null = null): DecorationSet {
  const binding = bindingOf(state)
  if (!binding || binding.doc !== state.doc) return DecorationSet.empty
  const maxPos = Math.max(state.doc.content.size - 1, 0)
  const states = awareness.getStates()
  if (previous && clients) {
    const redraw = new Set(clients.filter((id) => id !== awareness.clientID))
    const stale = previous.find(undefined, undefined, (spec: { client?: number }) => spec.client !== undefined && redraw.has(spec.client))
    const fresh = [...redraw].flatMap((id) => cursorDecorations(binding, maxPos, id, states.get(id), caret))
    return previous.remove(stale).add(state.doc, fresh)
  }
  const decorations: Decoration[] = []
  states.forEach((aw, clientId) => {
    if (clientId !== awareness.clientID) decorations.push(...cursorDecorations(binding, maxPos, clientId, aw, caret))
  })
  return DecorationSet.create(state.doc, decorations)
}

/**
 * Draws the cursors and selections of everyone else in `awareness` and publishes this editor's
 * own while it has focus (withdrawn on blur). Needs the binding's plugin in the same state.
 */
export function blockCursorsPlugin(awareness: Awareness, caret: CaretBuilder = cursorCaret): Plugin<DecorationSet> {
  return new Plugin<DecorationSet>({
    key: blockCursorsKey,
    state: {
      init: (_config, state) => render(state, awareness, caret),
      apply(tr, previous, _old, next) {
        const meta = tr.getMeta(blockCursorsKey) as true | { clients: number[] } | undefined
        const mapped = tr.docChanged ? previous.map(tr.mapping, tr.doc) : previous
        if (meta === true) return render(next, awareness, caret)
        if (meta) return render(next, awareness, caret, mapped, meta.clients)
        return mapped
      },
    },
    props: { decorations: (state) => blockCursorsKey.getState(state) },
    view: (view: EditorView) => {
      let published: EditorState['selection'] | null = null
      let publishedDoc: EditorState['doc'] | null = null
      let finder: UnitFinder | null = null
      const relativeAt = (binding: BlockBinding, pos: number, assoc: -1 | 0): Y.RelativePosition => {
        if (finder?.ytext !== binding.ytext) {
          finder?.destroy()
          finder = new UnitFinder(binding.ytext, binding, (item) => binding.indexOfItem(item))
        }
        return finder.relativePosition(unitsBefore(binding.doc, binding.spans, pos), assoc)
      }
      const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
        const self = awareness.clientID
        const clients = [...added, ...updated, ...removed].filter((id) => id !== self)
        if (clients.length > 0) view.dispatch(view.state.tr.setMeta(blockCursorsKey, { clients }))
      }
      const publish = (): void => {
        const binding = bindingOf(view.state)
        if (!binding || binding.doc !== view.state.doc) return
        const current = ownCursor(awareness)
        if (view.hasFocus()) {
          const selection = view.state.selection
          if (published && publishedDoc === view.state.doc && published.eq(selection) && current) return
          // A caret is published as the unit after it: typing at the caret does not move that unit,
          // so a typed key changes nothing here (no awareness message, nothing for others to redraw)
          // and others draw the cursor after what was typed. It changes — and is published again —
          // when the caret moves or someone writes right at it. A range's ends stick to its text.
          const anchor = relativeAt(binding, selection.anchor, selection.empty ? 0 : -1)
          const head = selection.empty ? anchor : relativeAt(binding, selection.head, -1)
          published = selection
          publishedDoc = view.state.doc
          if (current && samePosition(current.anchor, anchor) && samePosition(current.head, head)) return
          awareness.setLocalStateField(CURSOR_FIELD, { anchor: Y.relativePositionToJSON(anchor), head: Y.relativePositionToJSON(head) })
        } else if (current != null) {
          published = null
          awareness.setLocalStateField(CURSOR_FIELD, null)
        }
      }
      return cursorPluginView(view, awareness, publish, onAwareness, () => finder?.destroy())
    },
  })
}
