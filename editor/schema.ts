import { Schema } from 'prosemirror-model'
import { schema as basicSchema } from 'prosemirror-schema-basic'
import { addListNodes } from 'prosemirror-schema-list'

/**
 * The editor's document schema: paragraphs, headings (levels 1–6), bullet and ordered lists,
 * blockquotes, code blocks, hard breaks, horizontal rules and images; marks for bold, italic,
 * inline code and links. It is prosemirror-schema-basic plus prosemirror-schema-list, so
 * documents written by other ProseMirror editors that use the same packages load unchanged.
 */
export const editorSchema: Schema = new Schema({
  nodes: addListNodes(basicSchema.spec.nodes, 'paragraph block*', 'block'),
  marks: basicSchema.spec.marks,
})
