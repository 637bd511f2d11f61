/**
 * Why the block layout exists: the same cases as the first table of concurrency.test.ts, run on
 * y-prosemirror's tree layout (a Y.XmlElement per block) — stock y-prosemirror and today's
 * tandem binding on top of it — through headless editors. A types " AAA" at the end of
 * paragraph 2 while B changes that paragraph's structure, then they sync. These tests assert
 * the library's failure as it is: when one of them starts failing, y-prosemirror changed and
 * issue 22's table must be measured again.
 */
import { describe, expect, test } from 'vitest'
import { joinBackward, setBlockType, splitBlock } from 'prosemirror-commands'
import { wrapInList } from 'prosemirror-schema-list'
import type { Command } from 'prosemirror-state'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { connectedEditors, paragraphs, type Flavor, type HeadlessEditor } from '../../../property/editor/headless-editor.ts'

// positions in paragraphs('first line', 'second line', 'third')
const P2_START = 13
const P2_END = P2_START + 'second line'.length

function run(editor: HeadlessEditor, command: Command): void {
  expect(command(editor.state, (tr) => editor.view.dispatch(tr))).toBe(true)
}

/** A types at the end of paragraph 2 while B does `structure`; returns A's text after syncing. */
function concurrently(flavor: Flavor, structure: (b: HeadlessEditor) => void, typing = true): string[] {
  const net = connectedEditors(2, [flavor, flavor])
  try {
    const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
    a.setDoc(paragraphs('first line', 'second line', 'third'))
    net.flush()
    if (typing) {
      a.select(P2_END)
      a.type(' AAA')
    }
    structure(b)
    net.flush()
    expect(b.text).toBe(a.text)
    return a.text.split('\n')
  } finally {
    net.destroy()
  }
}

describe.each(['stock', 'tandem'] as const)('the tree layout (%s binding) loses, doubles or moves typed words', (flavor) => {
  test('B joins paragraph 2 into paragraph 1: A\'s words are gone', () => {
    const blocks = concurrently(flavor, (b) => {
      b.select(P2_START)
      run(b, joinBackward)
    })
    expect(blocks).toEqual(['first linesecond line', 'third'])
  })

  test('B makes paragraph 2 a heading: A\'s words are gone', () => {
    const blocks = concurrently(flavor, (b) => {
      b.select(P2_START + 2)
      run(b, setBlockType(schema.nodes['heading']!, { level: 1 }))
    })
    expect(blocks).toEqual(['first line', 'second line', 'third'])
  })

  test('B wraps paragraph 2 in a list: A\'s words are gone', () => {
    const blocks = concurrently(flavor, (b) => {
      b.select(P2_START + 2)
      run(b, wrapInList(schema.nodes['bullet_list']!))
    })
    expect(blocks).toEqual(['first line', 'second line', 'third'])
  })

  test('B splits paragraph 2 in the middle: A\'s words land in the wrong block', () => {
    const blocks = concurrently(flavor, (b) => {
      b.select(P2_START + 6)
      run(b, splitBlock)
    })
    expect(blocks).toEqual(['first line', 'second AAA', ' line', 'third'])
  })

  test('A and B split paragraph 2 at two points: text is doubled', () => {
    const net = connectedEditors(2, [flavor, flavor])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      a.setDoc(paragraphs('first line', 'second line', 'third'))
      net.flush()
      a.select(P2_START + 6)
      run(a, splitBlock)
      b.select(P2_START + 9)
      run(b, splitBlock)
      net.flush()
      expect(b.text).toBe(a.text)
      // `ne` twice: each split re-wrote the tail after it, and both copies survive
      expect(a.text.split('\n')).toEqual(['first line', 'second', ' line', 'ne', 'third'])
    } finally {
      net.destroy()
    }
  })

  test('B deletes all of paragraph 2\'s text: A\'s words survive (the one good row)', () => {
    const blocks = concurrently(flavor, (b) => {
      b.select(P2_START, P2_END)
      b.view.dispatch(b.state.tr.deleteSelection())
    })
    expect(blocks).toEqual(['first line', ' AAA', 'third'])
  })
})
