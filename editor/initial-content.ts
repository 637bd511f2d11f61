import * as Y from 'yjs'
import type { Schema } from 'prosemirror-model'
import { prosemirrorJSONToYXmlFragment } from 'y-prosemirror'
import { seedUpdate } from './blocks/convert.ts'

/**
 * Content an application may give for an empty room: ProseMirror JSON (`{ type: 'doc', ... }`)
 * or plain text, where each line becomes a paragraph.
 */
export type InitialContent = string | { type: 'doc'; content?: unknown[] }

/**
 * The Yjs client id every tab uses to write initial content. Because the seed document is
 * built from scratch with this fixed id and the same operations, every tab produces
 * byte-identical structs (same ids, same content); when two tabs seed an empty room at the
 * same moment, Yjs sees the second copy as already known and drops it, so the text appears
 * once. Re-applying the seed after the user deleted it is a no-op for the same reason.
 */
export const SEED_CLIENT_ID = 0x74616e64 // "tand"

/**
 * The client id of initial content in the block layout. Not {@link SEED_CLIENT_ID}: the seed's
 * bytes changed when markers stopped writing their default fields (`blocks/layout.ts`,
 * `createMarker`), and a tab of the earlier version seeding the same empty room at the same
 * moment would otherwise write other items under the same ids (replicas that never converge);
 * with another id the two seeds are two copies, both shown, nothing lost. The same holds for a
 * tab in the tree layout seeding the room's fragment with {@link SEED_CLIENT_ID}.
 */
export const BLOCKS_SEED_CLIENT_ID = 0x74616e65 // "tane"

function toDocJSON(content: InitialContent): { type: 'doc'; content?: unknown[] } {
  if (typeof content !== 'string') return content
  const paragraphs = content.split('\n').map((line) =>
    line === '' ? { type: 'paragraph' } : { type: 'paragraph', content: [{ type: 'text', text: line }] },
  )
  return { type: 'doc', content: paragraphs }
}

/**
 * The deterministic Yjs update that writes `content` into the fragment `fragmentName`:
 * identical bytes for identical input, on every tab and every machine.
 */
export function initialContentUpdate(schema: Schema, content: InitialContent, fragmentName: string): Uint8Array {
  const seed = new Y.Doc({ gc: false })
  seed.clientID = SEED_CLIENT_ID
  prosemirrorJSONToYXmlFragment(schema, toDocJSON(content), seed.getXmlFragment(fragmentName))
  const update = Y.encodeStateAsUpdate(seed)
  seed.destroy()
  return update
}

/**
 * The deterministic Yjs update that writes `content` into the block layout's Y.Text
 * `textName` (see `blocks/convert.ts`): identical bytes on every tab and every machine.
 */
export function initialBlocksUpdate(schema: Schema, content: InitialContent, textName: string): Uint8Array {
  return seedUpdate(schema.nodeFromJSON(toDocJSON(content)), BLOCKS_SEED_CLIENT_ID, textName)
}
