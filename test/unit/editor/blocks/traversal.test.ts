/**
 * The read repairs of the block layout (editor/blocks/layout.ts, "Reading"): each sequence that
 * concurrent edits can leave behind reads as one particular valid document.
 */
import { describe, expect, test } from 'vitest'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import type { BlockData, ParentRef, Token } from '../../../../editor/blocks/layout.ts'
import { fromTokens } from '../../../../editor/blocks/traversal.ts'

const p = (text: string, ...parents: ParentRef[]): Token[] => [block('paragraph', {}, parents), ...(text ? [txt(text)] : [])]
const block = (type: string, attrs: BlockData['attrs'] = {}, parents: ParentRef[] = []): Token => ({ kind: 'block', block: { type, attrs, parents } })
const txt = (text: string, marks: Record<string, Record<string, unknown>> = {}): Token => ({ kind: 'text', text, marks })
const ul = (id: string): ParentRef => ({ id, type: 'bullet_list', attrs: {} })
const li = (id: string): ParentRef => ({ id, type: 'list_item', attrs: {} })
const bq = (id: string): ParentRef => ({ id, type: 'blockquote', attrs: {} })

function read(tokens: Token[]): { doc: PMNode; spans: number[] } {
  const result = fromTokens(schema, tokens)
  result.doc.check()
  return result
}

describe('reading a sequence repairs it deterministically', () => {
  test('text before the first marker is a paragraph of its own', () => {
    const { doc, spans } = read([txt('lead'), ...p('next')])
    expect(doc.toString()).toBe('doc(paragraph("lead"), paragraph("next"))')
    expect(spans).toEqual([4, 5])
  })

  test('two markers in a row are an empty block', () => {
    expect(read([...p(''), ...p('x')]).doc.toString()).toBe('doc(paragraph, paragraph("x"))')
  })

  test('blocks sharing a list and item id share them; a different list id is another list', () => {
    const { doc } = read([...p('a', ul('L'), li('I')), ...p('b', ul('L'), li('I')), ...p('c', ul('L'), li('J')), ...p('d', ul('M'), li('K'))])
    expect(doc.toString()).toBe(
      'doc(bullet_list(list_item(paragraph("a"), paragraph("b")), list_item(paragraph("c"))), bullet_list(list_item(paragraph("d"))))',
    )
  })

  test('a list id seen again after another block opens a second list', () => {
    const { doc } = read([...p('a', ul('L'), li('I')), ...p('x'), ...p('b', ul('L'), li('J'))])
    expect(doc.childCount).toBe(3)
  })

  test('a block directly in a list gets an item; an item outside a list and unknown parents are dropped', () => {
    expect(read([...p('a', ul('L'))]).doc.toString()).toBe('doc(bullet_list(list_item(paragraph("a"))))')
    expect(read([...p('b', li('I'))]).doc.toString()).toBe('doc(paragraph("b"))')
    expect(read([...p('c', { id: 'x', type: 'table', attrs: {} }, bq('Q'))]).doc.toString()).toBe('doc(blockquote(paragraph("c")))')
  })

  test('a heading first in a list item reads as a paragraph; a rule there gets an empty paragraph before it', () => {
    expect(read([block('heading', { level: 2 }, [ul('L'), li('I')]), txt('h')]).doc.toString()).toBe('doc(bullet_list(list_item(paragraph("h"))))')
    expect(read([block('horizontal_rule', {}, [ul('L'), li('I')])]).doc.toString()).toBe('doc(bullet_list(list_item(paragraph, horizontal_rule)))')
  })

  test('a nested list opened first in an item gets an empty paragraph before it', () => {
    expect(read([...p('n', ul('L'), li('I'), ul('M'), li('J'))]).doc.toString()).toBe(
      'doc(bullet_list(list_item(paragraph, bullet_list(list_item(paragraph("n"))))))',
    )
  })

  test('text after a horizontal rule is a paragraph after it', () => {
    expect(read([block('horizontal_rule'), txt('x')]).doc.toString()).toBe('doc(horizontal_rule, paragraph("x"))')
  })

  test('unknown block types read as paragraphs; invalid attributes take the schema default', () => {
    expect(read([block('table'), txt('t')]).doc.toString()).toBe('doc(paragraph("t"))')
    expect(read([block('heading', { level: 'big' }), txt('h')]).doc.child(0).attrs).toEqual({ level: 1 })
  })

  test('a code block drops marks; a hard break in it reads as a newline; an image in it splits it (the image in a paragraph, the rest in a code block)', () => {
    const { doc, spans } = read([block('code_block'), txt('a', { strong: {} }), { kind: 'inline', type: 'hard_break', attrs: {}, marks: {} }, { kind: 'inline', type: 'image', attrs: { src: 'x.png' }, marks: {} }, txt('b')])
    expect(doc.toString()).toBe('doc(code_block("a\\n"), paragraph(image), code_block("b"))')
    expect(spans).toEqual([5, 0, 0])
  })

  test('a link without href is not shown; an unknown mark is ignored', () => {
    const { doc } = read([block('paragraph'), txt('a', { link: {} }), txt('b', { nonsense: {} })])
    expect(doc.toString()).toBe('doc(paragraph("ab"))')
  })

  test('an empty sequence is one empty paragraph', () => {
    expect(read([]).doc.toString()).toBe('doc(paragraph)')
  })
})
