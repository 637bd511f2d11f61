/**
 * Remote cursors: y-prosemirror's `yCursorPlugin` with one change, the positions this tab
 * publishes follow the sticky-caret rule ({@link stickySelection}). A collapsed caret is
 * published associated to the character before it, so when someone types exactly at another
 * user's caret, everyone (the typist included) sees that caret stay in front of the new text,
 * where its owner keeps writing. The awareness field (`cursor: { anchor, head }`, relative
 * position JSON) and the rendering are y-prosemirror's, so stock y-prosemirror editors in the
 * same room show these cursors and are shown here as before.
 */
import * as Y from 'yjs'
import { Plugin, type EditorState } from 'prosemirror-state'
import type { Awareness } from 'y-protocols/awareness'
import {
  createDecorations,
  defaultAwarenessStateFilter,
  defaultCursorBuilder,
  defaultSelectionBuilder,
  relativePositionToAbsolutePosition,
  setMeta,
  yCursorPluginKey,
  ySyncPluginKey,
  type ProsemirrorBinding,
} from 'y-prosemirror'
import { stickySelection } from './sticky-caret.ts'

/** The awareness field holding a user's cursor, as y-prosemirror names it. */
const CURSOR_FIELD = 'cursor'

interface PublishedCursor {
  anchor: unknown
  head: unknown
}

/** Whether two relative positions (as objects or their JSON) are the same position. */
function samePosition(a: unknown, b: Y.RelativePosition): boolean {
  return Y.compareRelativePositions(Y.createRelativePositionFromJSON(a), b) && (a as { assoc?: number }).assoc === b.assoc
}

/**
 * Shows the cursors and selections of everyone else in the room (from `awareness`) and
 * publishes this tab's own while the editor has focus. Needs `ySyncPlugin` in the same state.
 */
export function remoteCursorsPlugin(awareness: Awareness): Plugin {
  const render = (state: EditorState): unknown =>
    createDecorations(state, awareness, defaultAwarenessStateFilter, defaultCursorBuilder, defaultSelectionBuilder)
  return new Plugin({
    key: yCursorPluginKey,
    state: {
      init: (_config, state) => render(state),
      apply(tr, previous, _oldState, newState) {
        const ystate = ySyncPluginKey.getState(newState) as { isChangeOrigin?: boolean } | undefined
        const meta = tr.getMeta(yCursorPluginKey) as { awarenessUpdated?: boolean } | undefined
        if (ystate?.isChangeOrigin || meta?.awarenessUpdated) return render(newState)
        return (previous as { map(m: unknown, d: unknown): unknown }).map(tr.mapping, tr.doc)
      },
    },
    props: {
      decorations: (state) => yCursorPluginKey.getState(state),
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
        const current = (awareness.getLocalState() ?? {}) as { [CURSOR_FIELD]?: PublishedCursor | null }
        const published = current[CURSOR_FIELD]
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
