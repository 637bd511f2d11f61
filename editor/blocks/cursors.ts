/**
 * Everyone's cursors on the block layout: this tab publishes its selection in awareness as Yjs
 * relative positions into the `Y.Text` and draws everyone else's. Imports yjs, y-protocols'
 * awareness type, prosemirror-state/-view, y-prosemirror's cursor look, and `binding.ts`.
 *
 * The awareness field is y-prosemirror's (`cursor: { anchor, head }`, relative position JSON) and
 * so is the look (`defaultCursorBuilder`, `defaultSelectionBuilder`), so presence lists and styles
 * made for y-prosemirror keep working; the positions point into the Y.Text, which a stock
 * y-prosemirror editor resolves to nothing (it draws no cursor rather than a wrong one).
 *
 * Positions follow the sticky-caret rule of the binding: a caret is published associated with the
 * unit before it (`assoc -1`), so when someone types exactly at another user's caret, every tab
 * draws that caret in front of the new text, where its owner keeps writing; a caret widget keeps
 * to the left of text inserted at it when decorations are mapped (`side -1`). Remote cursors are
 * resolved again when awareness changes; a document change maps them.
 */
import * as Y from 'yjs'
import { Plugin, PluginKey, type EditorState } from 'prosemirror-state'
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view'
import type { Awareness } from 'y-protocols/awareness'
import { defaultCursorBuilder, defaultSelectionBuilder } from 'y-prosemirror'
import { bindingOf } from './binding.ts'

/** The awareness field holding a user's cursor (y-prosemirror's name). */
export const CURSOR_FIELD = 'cursor'

/** Key of {@link blockCursorsPlugin}; its state is the set of remote cursor decorations. */
export const blockCursorsKey = new PluginKey<DecorationSet>('tandem-block-cursors')

interface PublishedCursor {
  anchor: unknown
  head: unknown
}

function render(state: EditorState, awareness: Awareness): DecorationSet {
  const binding = bindingOf(state)
  if (!binding || binding.doc !== state.doc) return DecorationSet.empty
  const decorations: Decoration[] = []
  const maxPos = Math.max(state.doc.content.size - 1, 0)
  awareness.getStates().forEach((aw, clientId) => {
    const cursor = (aw as { [CURSOR_FIELD]?: PublishedCursor | null })[CURSOR_FIELD]
    if (clientId === awareness.clientID || cursor == null) return
    const given = ((aw as { user?: { name?: string; color?: string } }).user ?? {})
    const user = { name: given.name ?? `User: ${clientId}`, color: given.color ?? '#ffa500' }
    let anchor: number | null
    let head: number | null
    try {
      anchor = binding.resolve(Y.createRelativePositionFromJSON(cursor.anchor))
      head = binding.resolve(Y.createRelativePositionFromJSON(cursor.head))
    } catch {
      return // junk in someone's awareness state draws nothing
    }
    if (anchor === null || head === null) return
    anchor = Math.min(anchor, maxPos)
    head = Math.min(head, maxPos)
    decorations.push(Decoration.widget(head, () => defaultCursorBuilder(user), { key: String(clientId), side: -1 }))
    const from = Math.min(anchor, head)
    const to = Math.max(anchor, head)
    if (from < to) decorations.push(Decoration.inline(from, to, defaultSelectionBuilder(user), { inclusiveEnd: true, inclusiveStart: false }))
  })
  return DecorationSet.create(state.doc, decorations)
}

/** Whether two relative positions (JSON or objects) are the same position with the same association. */
function samePosition(a: unknown, b: Y.RelativePosition): boolean {
  try {
    return Y.compareRelativePositions(Y.createRelativePositionFromJSON(a), b) && (a as { assoc?: number }).assoc === b.assoc
  } catch {
    return false
  }
}

/**
 * Draws the cursors and selections of everyone else in `awareness` and publishes this editor's
 * own while it has focus (withdrawn on blur). Needs the binding's plugin in the same state.
 */
export function blockCursorsPlugin(awareness: Awareness): Plugin<DecorationSet> {
  return new Plugin<DecorationSet>({
    key: blockCursorsKey,
    state: {
      init: (_config, state) => render(state, awareness),
      apply(tr, previous, _old, next) {
        if (tr.getMeta(blockCursorsKey)) return render(next, awareness)
        return tr.docChanged ? previous.map(tr.mapping, tr.doc) : previous
      },
    },
    props: { decorations: (state) => blockCursorsKey.getState(state) },
    view: (view: EditorView) => {
      let published: EditorState['selection'] | null = null
      let publishedDoc: EditorState['doc'] | null = null
      const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
        const self = awareness.clientID
        if ([...added, ...updated, ...removed].every((id) => id === self)) return
        view.dispatch(view.state.tr.setMeta(blockCursorsKey, true))
      }
      const publish = (): void => {
        const binding = bindingOf(view.state)
        if (!binding || binding.doc !== view.state.doc) return
        const current = (awareness.getLocalState() ?? {}) as { [CURSOR_FIELD]?: PublishedCursor | null }
        if (view.hasFocus()) {
          const selection = view.state.selection
          if (published && publishedDoc === view.state.doc && published.eq(selection) && current[CURSOR_FIELD]) return
          const anchor = binding.relativeAt(selection.anchor)
          const head = selection.empty ? anchor : binding.relativeAt(selection.head)
          published = selection
          publishedDoc = view.state.doc
          const before = current[CURSOR_FIELD]
          if (before && samePosition(before.anchor, anchor) && samePosition(before.head, head)) return
          awareness.setLocalStateField(CURSOR_FIELD, { anchor: Y.relativePositionToJSON(anchor), head: Y.relativePositionToJSON(head) })
        } else if (current[CURSOR_FIELD] != null) {
          published = null
          awareness.setLocalStateField(CURSOR_FIELD, null)
        }
      }
      awareness.on('change', onAwareness)
      view.dom.addEventListener('focusin', publish)
      view.dom.addEventListener('focusout', publish)
      return {
        update: publish,
        destroy: () => {
          view.dom.removeEventListener('focusin', publish)
          view.dom.removeEventListener('focusout', publish)
          awareness.off('change', onAwareness)
          awareness.setLocalStateField(CURSOR_FIELD, null)
        },
      }
    },
  })
}
