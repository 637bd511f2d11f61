/**
 * tandem's embeddable collaborative editor: one call mounts a ProseMirror editor bound to a
 * Yjs document that is kept in IndexedDB and synced through one or more tandem relays.
 */
export {
  mountEditor,
  type EditorOptions,
  type EditorHandle,
  type EditorEvents,
  type EditorUser,
} from './mount.ts'
export { type ConnectionStatus } from './relay-connection.ts'
export { type SavedState, MESSAGE_SAVED } from './saved-status.ts'
export { type InitialContent, SEED_CLIENT_ID, BLOCKS_SEED_CLIENT_ID, initialContentUpdate } from './initial-content.ts'
export { editorSchema } from './schema.ts'
export { cursorCaret, type CaretBuilder, type CaretUser } from './cursor-caret.ts'
export { mountHistoryPanel, type HistoryPanel, type HistoryPanelOptions, type HistoryVersion, type HistoryAuthor } from './history/panel.ts'
export { createDiffSchema, diffSchema, hashedColor, type ChangeAttrs } from './history/diff-schema.ts'
/**
 * The Yjs instance the editor is built with. Applications that load the self-contained bundle
 * (dist/tandem-editor.js) use it for their own shared types on `handle.doc`, so that only one
 * copy of Yjs is on the page.
 */
export * as Y from 'yjs'
