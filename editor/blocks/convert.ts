/**
 * Writing a whole document into an empty block layout, so that every replica writes the same
 * bytes: new rooms' initial content and the one-time conversion of rooms written in
 * y-prosemirror's tree layout. Imports yjs, prosemirror-model, y-prosemirror (to read the tree)
 * and this folder's `layout.ts` / `traversal.ts`.
 *
 * The trick is `initialContentUpdate`'s: the update is built in a scratch document with a fixed
 * client id from nothing, so the same document gives byte-identical structs (same ids, same
 * content) on every tab; when two tabs write it at once, Yjs sees the second copy as known and
 * drops it, so the text appears once. For a conversion the client id is a hash of the document
 * converted: two tabs converting the same tree (the usual race: both opened the room after the
 * same sync) write one copy; two tabs that saw different trees (a stock y-prosemirror client
 * wrote between their syncs) write two, and the document shows both, nothing lost. A fixed id
 * for different content would be worse: each replica would keep whichever copy it saw first.
 */
import * as Y from 'yjs'
import type { Node as PMNode, Schema } from 'prosemirror-model'
import { yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror'
import { appendTokens, BLOCKS_TEXT } from './layout.ts'
import { toTokens } from './traversal.ts'

export { BLOCKS_TEXT }

/** Name of the root `Y.XmlFragment` of y-prosemirror's tree layout. */
export const TREE_FRAGMENT = 'prosemirror'

/**
 * The deterministic update that writes `doc` into the empty Y.Text `textName` with client id
 * `clientID`: identical bytes for identical input on every machine. Container ids are derived
 * from positions (`c<pos>`), unique within the document.
 */
export function seedUpdate(doc: PMNode, clientID: number, textName = BLOCKS_TEXT): Uint8Array {
  const seed = new Y.Doc({ gc: false })
  seed.clientID = clientID
  appendTokens(seed.getText(textName), toTokens(doc, (_node, pos) => `c${pos}`))
  const update = Y.encodeStateAsUpdate(seed)
  seed.destroy()
  return update
}

/**
 * {@link seedUpdate} with a client id derived from `doc` itself (a hash of its JSON): replicas
 * that write the same document into an empty Y.Text write the same structs, so it appears
 * once; different documents get different ids (a fixed id for different content would make
 * each replica keep whichever copy it saw first).
 */
export function contentSeedUpdate(doc: PMNode, textName = BLOCKS_TEXT): Uint8Array {
  return seedUpdate(doc, hash32(JSON.stringify(doc.toJSON())), textName)
}

/**
 * What the id of a conversion is hashed from besides the document: the version of the markers'
 * encoding. Markers stopped writing their default fields (`createMarker`), so a conversion now
 * writes other items than an earlier version's did; under the same id, a tab of each version
 * converting the same room at once would leave replicas that never converge. (The empty room's
 * seed keeps its id: its new items are a prefix of the old ones, the marker without its three
 * fields, so the two versions' seeds merge into one marker that reads the same.)
 */
const MARKER_ENCODING = 'markers/2'

/** FNV-1a (32 bits) of `text`, never 0. */
function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h || 1
}

/** Whether the room `ydoc` holds content in the tree layout but none in the block layout. */
export function needsConversion(ydoc: Y.Doc, fragmentName = TREE_FRAGMENT, textName = BLOCKS_TEXT): boolean {
  if (ydoc.getText(textName).length > 0) return false
  return ydoc.getXmlFragment(fragmentName).length > 0
}

/**
 * The tree layout's document of `ydoc` as ProseMirror reads it (y-prosemirror's reading, so
 * exactly what a stock editor shows), or null if the fragment is empty or unreadable.
 */
export function treeDocument(ydoc: Y.Doc, schema: Schema, fragmentName = TREE_FRAGMENT): PMNode | null {
  const fragment = ydoc.getXmlFragment(fragmentName)
  if (fragment.length === 0) return null
  try {
    return yXmlFragmentToProseMirrorRootNode(fragment, schema)
  } catch {
    return null
  }
}

/**
 * The update that converts the tree-layout content of `ydoc` into the block layout, or null when
 * there is nothing to convert (the Y.Text has content, or the fragment is empty). The fragment is
 * left as it is (stock y-prosemirror clients of the room keep reading it).
 */
export function conversionUpdate(ydoc: Y.Doc, schema: Schema, fragmentName = TREE_FRAGMENT, textName = BLOCKS_TEXT): Uint8Array | null {
  if (!needsConversion(ydoc, fragmentName, textName)) return null
  const doc = treeDocument(ydoc, schema, fragmentName)
  if (!doc) return null
  return seedUpdate(doc, hash32(`${MARKER_ENCODING}\n${JSON.stringify(doc.toJSON())}`), textName)
}
