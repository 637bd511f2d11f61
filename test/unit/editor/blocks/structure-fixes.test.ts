/**
 * Bugs of the block binding found by the Chromium structure suite (test/e2e/editor-structure.test.ts),
 * each reproduced here at the Yjs level with the real ProseMirror command the browser ran, both
 * client-id orders.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { TextSelection } from 'prosemirror-state'
import { deleteSelection } from 'prosemirror-commands'
import { splitListItem } from 'prosemirror-schema-list'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { readTokens } from '../../../../editor/blocks/layout.ts'
import { pair, sync, type Replica } from './replica.ts'

const ORDERS = [
  [1, 2],
  [2, 1],
] as const

/** The marker (Y.Map) of the block whose text is `text`. */
function markerOf(r: Replica, text: string): Y.Map<unknown> {
  const tokens = readTokens(r.ytext)
  for (let i = 0; i < tokens.length - 1; i++) {
    const [t, next] = [tokens[i]!, tokens[i + 1]!]
    if (t.kind === 'block' && next.kind === 'text' && next.text === text && t.marker) return t.marker
  }
  throw new Error(`no block "${text}"`)
}

describe.each(ORDERS)('client ids A=%i, B=%i', (ca, cb) => {
  test('deleting nested items (Backspace over a selection: one ReplaceAroundStep) keeps the next item\u2019s marker; an item added at once stays its own', () => {
    // ul(li(p a, ul(li(p b), li(p c))), li(p d)); B selects from the end of "a" to the end of "c"
    // and presses Backspace; A (concurrently) presses Enter at the end of "c" and types AAA.
    const nested = schema.nodeFromJSON({
      type: 'doc',
      content: [{ type: 'bullet_list', content: [
        { type: 'list_item', content: [
          { type: 'paragraph', content: [{ type: 'text', text: 'a' }] },
          { type: 'bullet_list', content: [
            { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'b' }] }] },
            { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'c' }] }] },
          ] },
        ] },
        { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'd' }] }] },
      ] }],
    })
    const [a, b] = pair(nested, ca, cb)
    a.caretAtEnd('c')
    a.run(splitListItem(schema.nodes['list_item']!))
    a.type('AAA')

    const dMarker = markerOf(b, 'd')
    b.caretAtEnd('a')
    const from = b.state.selection.from
    b.caretAtEnd('c')
    b.state = b.state.apply(b.state.tr.setSelection(TextSelection.create(b.pm, from, b.state.selection.from)))
    b.run(deleteSelection)
    expect(b.blocks).toEqual(['ul>li>p:a', 'ul>li>p:d'])
    // The delete removes the markers of b and c, not the one of d (it was written in place).
    expect(dMarker._item?.deleted).toBe(false)
    expect(markerOf(b, 'd')).toBe(dMarker)

    sync(a, b)
    expect(b.blocks).toEqual(a.blocks)
    expect(a.blocks).toEqual(['ul>li>p:a', 'ul>li>ul>li>p:AAA', 'ul>li>p:d'])
  })
})
