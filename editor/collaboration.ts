/**
 * The collaboration plugins of tandem's editor, in one place so that the mounted editor, the
 * binding-level tests and the benchmark all run the same set: y-prosemirror's sync and undo
 * plugins (document layout in Yjs exactly y-prosemirror's), the sticky caret, local typing
 * written into Yjs where it happened, and remote cursors that follow the sticky-caret rule.
 */
import type * as Y from 'yjs'
import type { Plugin } from 'prosemirror-state'
import type { Awareness } from 'y-protocols/awareness'
import { ySyncPlugin, yUndoPlugin, type initProseMirrorDoc } from 'y-prosemirror'

/** y-prosemirror's map from Yjs types to ProseMirror nodes (its type is not exported by name). */
export type ProsemirrorMapping = ReturnType<typeof initProseMirrorDoc>['mapping']
import { stickyCaretPlugin } from './sticky-caret.ts'
import { remoteCursorsPlugin } from './remote-cursors.ts'
import type { CaretBuilder } from './cursor-caret.ts'
import { localWritesPlugin } from './local-writes.ts'

/** Options of {@link collaborationPlugins}. */
export interface CollaborationOptions {
  /** The mapping from `initProseMirrorDoc`, when the initial state was built from the fragment. */
  mapping?: ProsemirrorMapping
  /** Builds another user's caret element (default `cursorCaret`). */
  cursorBuilder?: CaretBuilder
}

/**
 * ProseMirror plugins binding an editor state to `fragment` and showing `awareness` cursors.
 * The order matters: the sticky caret and local-writes plugins must follow `ySyncPlugin`.
 */
export function collaborationPlugins(fragment: Y.XmlFragment, awareness: Awareness, options: CollaborationOptions = {}): Plugin[] {
  return [
    ySyncPlugin(fragment, options.mapping ? { mapping: options.mapping } : {}) as Plugin,
    stickyCaretPlugin(),
    localWritesPlugin(),
    remoteCursorsPlugin(awareness, options.cursorBuilder),
    yUndoPlugin() as Plugin,
  ]
}
