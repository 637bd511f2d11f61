/**
 * `editor/blocks/`: the block layout, the document as ONE `Y.Text` with structure as data beside
 * the text (issue 22). Not used by `mountEditor` yet: the binding that wires it in comes next.
 *
 * - `layout.ts`: the format (markers, marks, inline leaves), the concurrency table, reading and
 *   writing units of the Y.Text. Imports yjs only.
 * - `traversal.ts`: ProseMirror tree ↔ flat token sequence, with the read repairs. Imports
 *   prosemirror-model and `layout.ts` (no Yjs).
 * - `pm-to-yjs.ts`: a local ProseMirror change → minimal Y.Text edits.
 * - `yjs-to-pm.ts`: a remote Y.Text change → one ProseMirror step over the changed range.
 * The two directions import `layout.ts` and `traversal.ts`, never each other. Nothing here
 * imports y-prosemirror or the rest of `editor/`.
 */
export { appendTokens, createMarker, readMarker, readRange, readTokens, tokenLength, updateMarker, CONTAINER_TYPES } from './layout.ts'
export type { Attrs, BlockData, MarkSet, ParentRef, Token } from './layout.ts'
export { flatIndex, flatSize, fromTokens, toTokens, type IdOf } from './traversal.ts'
export { randomId, writeChange, type WriteOptions } from './pm-to-yjs.ts'
export { applyRemoteChange, changedRange, type ChangedRange, type RemoteResult } from './yjs-to-pm.ts'
