/**
 * What both cursor plugins (`blocks/cursors.ts` for the block layout, `remote-cursors.ts` for the
 * tree) share about this tab's own cursor in awareness: y-prosemirror's field (`cursor: { anchor,
 * head }`, relative position JSON), comparing a published position with a new one, and the plugin
 * view's life cycle — publish on every update and on focus changes, redraw others' cursors when
 * their awareness changes, withdraw this tab's cursor when the view goes.
 */
import * as Y from 'yjs'
import type { PluginView } from 'prosemirror-state'
import type { EditorView } from 'prosemirror-view'
import type { Awareness } from 'y-protocols/awareness'

/** The awareness field holding a user's cursor (y-prosemirror's name). */
export const CURSOR_FIELD = 'cursor'

/** A cursor as published: relative positions as JSON. */
export interface PublishedCursor {
  anchor: unknown
  head: unknown
}

/** This tab's published cursor (null or undefined: none). */
export function ownCursor(awareness: Awareness): PublishedCursor | null | undefined {
  return ((awareness.getLocalState() ?? {}) as { [CURSOR_FIELD]?: PublishedCursor | null })[CURSOR_FIELD]
}

/** Whether a published position (JSON) is `b`, with the same association; junk is not. */
export function samePosition(a: unknown, b: Y.RelativePosition): boolean {
  try {
    return Y.compareRelativePositions(Y.createRelativePositionFromJSON(a), b) && (a as { assoc?: number }).assoc === b.assoc
  } catch {
    return false
  }
}

/**
 * The plugin view of a cursor plugin: `publish` runs on every view update and when the editor
 * gains or loses focus; `onAwareness` on every awareness change; on destroy both stop, `cleanup`
 * runs and this tab's cursor is withdrawn.
 */
export function cursorPluginView(
  view: EditorView,
  awareness: Awareness,
  publish: () => void,
  onAwareness: (change: { added: number[]; updated: number[]; removed: number[] }) => void,
  cleanup?: () => void,
): PluginView {
  awareness.on('change', onAwareness)
  view.dom.addEventListener('focusin', publish)
  view.dom.addEventListener('focusout', publish)
  return {
    update: publish,
    destroy: () => {
      view.dom.removeEventListener('focusin', publish)
      view.dom.removeEventListener('focusout', publish)
      awareness.off('change', onAwareness)
      cleanup?.()
      awareness.setLocalStateField(CURSOR_FIELD, null)
    },
  }
}
