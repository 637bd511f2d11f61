/**
 * The editor's document of a room in the read formats of `GET /api/rooms/:room?format=`:
 * `prosemirror` (its ProseMirror JSON, the document JSON edits' positions refer to), `markdown`
 * (CommonMark through prosemirror-markdown, whose default serializer knows every node and mark
 * of the editor's schema: it is prosemirror-schema-basic plus prosemirror-schema-list, the same
 * names) and `text` (the text of each block, blocks separated by a blank line).
 *
 * The editor's document is the block layout's Y.Text read as the editor reads it; a room still
 * in y-prosemirror's tree layout (never opened by the block editor) is read from its tree, as the
 * conversion will write it.
 *
 * @module
 */
import * as Y from 'yjs'
import type { Node as PMNode } from 'prosemirror-model'
import { defaultMarkdownSerializer } from 'prosemirror-markdown'
import { editorSchema } from '../../editor/schema.ts'
import { BLOCKS_TEXT, readTokens } from '../../editor/blocks/layout.ts'
import { fromTokens } from '../../editor/blocks/traversal.ts'
import { treeDocument } from '../../editor/blocks/convert.ts'

/** The read formats (`json`: every root, see `doc-json.ts`). */
export const READ_FORMATS = ['json', 'prosemirror', 'markdown', 'text'] as const

/** One of {@link READ_FORMATS}. */
export type ReadFormat = (typeof READ_FORMATS)[number]

/** The editor's document of the doc whose state is `update`. */
export function editorDocument(update: Uint8Array): PMNode {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, update)
    const ytext = doc.getText(BLOCKS_TEXT)
    if (ytext.length === 0) {
      const tree = treeDocument(doc, editorSchema)
      if (tree) return tree
    }
    return fromTokens(editorSchema, readTokens(ytext)).doc
  } finally {
    doc.destroy()
  }
}

/** `doc` as CommonMark (tight lists: no blank line between items). */
export function toMarkdown(doc: PMNode): string {
  return defaultMarkdownSerializer.serialize(doc, { tightLists: true })
}

/** The text of every text block of `doc` (a hard break as a line break), blocks separated by a blank line; empty blocks and rules are left out. */
export function toPlainText(doc: PMNode): string {
  const blocks: string[] = []
  doc.descendants((node) => {
    if (!node.isTextblock) return true
    let text = ''
    node.forEach((child) => {
      if (child.isText) text += child.text
      else if (child.type.name === 'hard_break') text += '\n'
    })
    if (text !== '') blocks.push(text)
    return false
  })
  return blocks.join('\n\n')
}
