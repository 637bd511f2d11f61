/**
 * Remote cursors: y-prosemirror's `yCursorPlugin` with one change, the positions this tab
 * publishes follow the sticky-caret rule ({@link stickySelection}). A collapsed caret is
 * published associated to the character before it, so when someone types exactly at another
 * user's caret, everyone (the typist included) sees that caret stay in front of the new text,
 * where its owner keeps writing; locally typed text at someone's caret goes after it too. The
 * awareness field (`cursor: { anchor, head }`, relative position JSON) and the look (the caret's
 * classes, drawn by `cursorCaret`, and the selection builder) are y-prosemirror's, so stock
 * y-prosemirror editors in the same room show these cursors and are shown here as before.
 */
import * as Y from 'yjs'
import { Plugin, type EditorState } from 'prosemirror-state'
import type { Awareness } from 'y-protocols/awareness'
import { Decoration, DecorationSet } from 'prosemirror-view'
import {
  defaultSelectionBuilder,
  relativePositionToAbsolutePosition,
  setMeta,
  yCursorPluginKey,
  ySyncPluginKey,
  type ProsemirrorBinding,
} from 'y-prosemirror'
import { cursorCaret, type CaretBuilder } from './cursor-caret.ts'
import { CURSOR_FIELD, cursorPluginView, ownCursor, samePosition, type PublishedCursor } from './cursor-awareness.ts'
import { stickySelection } from './sticky-caret.ts'

interface AwarenessUser {
  name?: string
  color?: string
}

/**
 * The decorations for everyone else's cursor and selection: y-prosemirror's `createDecorations`,
 * except that a caret widget keeps to the left of text inserted at its position (`side < 0`)
 * when the decorations are mapped through a local change. So when the local user types at
 * someone's idle caret, that caret stays in front of the new text, as it does in its owner's tab.
 */
function renderCursors(state: EditorState, awareness: Awareness, caret: CaretBuilder): DecorationSet {
  const ystate = ySyncPluginKey.getState(state) as {
    doc: Y.Doc
    type: Y.XmlFragment
    binding: ProsemirrorBinding
    snapshot: unknown
    prevSnapshot: unknown
  }
  // y-prosemirror draws no cursors over a snapshot, nor before the first render.
  if (ystate.snapshot != null || ystate.prevSnapshot != null || ystate.binding.mapping.size === 0) {
    return DecorationSet.create(state.doc, [])
  }
  const decorations: Decoration[] = []
  const maxPos = Math.max(state.doc.content.size - 1, 0)
  awareness.getStates().forEach((aw, clientId) => {
    const cursor = (aw as { cursor?: PublishedCursor | null }).cursor
    if (clientId === ystate.doc.clientID || cursor == null) return
    const given = ((aw as { user?: AwarenessUser }).user ?? {}) as AwarenessUser
    const user = { name: given.name ?? `User: ${clientId}`, color: given.color ?? '#ffa500' }
    const resolve = (rel: unknown): number | null =>
      relativePositionToAbsolutePosition(ystate.doc, ystate.type, Y.createRelativePositionFromJSON(rel), ystate.binding.mapping)
    let anchor = resolve(cursor.anchor)
    let head = resolve(cursor.head)
    if (anchor === null || head === null) return
    anchor = Math.min(anchor, maxPos)
    head = Math.min(head, maxPos)
    decorations.push(Decoration.widget(head, () => caret(user), { key: String(clientId), side: -1 }))
    const from = Math.min(anchor, head)
    const to = Math.max(anchor, head)
    decorations.push(Decoration.inline(from, to, defaultSelectionBuilder(user), { inclusiveEnd: true, inclusiveStart: false }))
  })
  return DecorationSet.create(state.doc, decorations)
}

/**
 * Shows the cursors and selections of everyone else in the room (from `awareness`) and
 * publishes this tab's own while the editor has focus. Needs `ySyncPlugin` in the same state.
 */
export function remoteCursorsPlugin(awareness: Awareness, caret: CaretBuilder = cursorCaret): Plugin {
  const render = (state: EditorState): DecorationSet => renderCursors(state, awareness, caret)
  return new Plugin({
    key: yCursorPluginKey,
    state: {
      init: (_config, state) => render(state),
      apply(tr, previous, _oldState, newState) {
        const ystate = ySyncPluginKey.getState(newState) as { isChangeOrigin?: boolean } | undefined
        const meta = tr.getMeta(yCursorPluginKey) as { awarenessUpdated?: boolean } | undefined
        if (ystate?.isChangeOrigin || meta?.awarenessUpdated) return render(newState)
        return (previous as DecorationSet).map(tr.mapping, tr.doc)
      },
    },
    props: {
      decorations: (state) => yCursorPluginKey.getState(state) as DecorationSet,
    },
    view: (view) => {
      const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
        // This tab's own cursor is not drawn: its changes (one per keystroke) need no re-render.
        const self = awareness.clientID
        if ([...added, ...updated, ...removed].every((id) => id === self)) return
        // Not before the view has rendered once (y-prosemirror's check).
        if ((view as unknown as { docView?: unknown }).docView) setMeta(view, yCursorPluginKey, { awarenessUpdated: true })
      }
      const publish = (): void => {
        const ystate = ySyncPluginKey.getState(view.state) as { binding: ProsemirrorBinding; type: Y.XmlFragment; doc: Y.Doc }
        const published = ownCursor(awareness)
        if (view.hasFocus()) {
          const { anchor, head } = stickySelection(ystate.binding, view.state)
          if (published == null || !samePosition(published.anchor, anchor) || !samePosition(published.head, head)) {
            awareness.setLocalStateField(CURSOR_FIELD, { anchor, head })
          }
        } else if (
          published != null &&
          relativePositionToAbsolutePosition(
            ystate.doc,
            ystate.type,
            Y.createRelativePositionFromJSON(published.anchor),
            ystate.binding.mapping,
          ) !== null
        ) {
          // The published cursor belongs to this editor: withdraw it when the editor loses focus.
          awareness.setLocalStateField(CURSOR_FIELD, null)
        }
      }
      return cursorPluginView(view, awareness, publish, onAwareness)
    },
  })
}
