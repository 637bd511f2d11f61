/**
 * The schema of a history diff: the editor's schema plus two marks, `insertion` and `deletion`,
 * each with the author who made that change (`{ author, name }`: a user id and a display name,
 * null when unknown), allowed everywhere text is (code blocks included). The relay writes diffs
 * with it (`GET /api/rooms/:room/versions/:id/diff`); the history panel reads them with it, and
 * shows each mark in its author's colour.
 *
 * @module
 */
import { Schema, type MarkSpec } from 'prosemirror-model'
import { editorSchema } from '../schema.ts'

/** Attributes of a diff mark. */
export interface ChangeAttrs {
  author: string | null
  name: string | null
}

/** A CSS colour for an author of a change. */
export type AuthorColor = (attrs: ChangeAttrs) => string

/** A colour from the author's id (or name): the same author, the same colour, everywhere. */
export function hashedColor(attrs: ChangeAttrs): string {
  const key = attrs.author ?? attrs.name ?? ''
  let hash = 0
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0
  return key === '' ? '#64748b' : `hsl(${((hash % 360) + 360) % 360} 70% 42%)`
}

function changeMark(tag: 'ins' | 'del', colorOf: AuthorColor): MarkSpec {
  return {
    attrs: { author: { default: null }, name: { default: null } },
    inclusive: false,
    excludes: 'insertion deletion',
    parseDOM: [{ tag, getAttrs: (dom: HTMLElement) => ({ author: dom.dataset['author'] || null, name: dom.getAttribute('title') || null }) }],
    toDOM: (mark) => {
      const attrs = mark.attrs as ChangeAttrs
      return [tag, {
        class: `tandem-change tandem-${tag === 'ins' ? 'insertion' : 'deletion'}`,
        'data-author': attrs.author ?? '',
        title: attrs.name ?? attrs.author ?? 'unknown author',
        style: `--tandem-author: ${colorOf(attrs)}`,
      }, 0]
    },
  }
}

/** The diff schema; `colorOf` colours each author's changes when shown (default {@link hashedColor}). */
export function createDiffSchema(colorOf: AuthorColor = hashedColor): Schema {
  const codeBlock = editorSchema.spec.nodes.get('code_block')!
  return new Schema({
    nodes: editorSchema.spec.nodes.update('code_block', { ...codeBlock, marks: 'insertion deletion' }),
    marks: editorSchema.spec.marks.addToEnd('insertion', changeMark('ins', colorOf)).addToEnd('deletion', changeMark('del', colorOf)),
  })
}

/** The diff schema with hashed author colours (what the relay writes diffs with). */
export const diffSchema: Schema = createDiffSchema()
