/**
 * Bugs of the block binding found by the structure property (test/property/editor/
 * structure.property.test.ts), each shrunk to two headless editors with the real binding.
 *
 * 1. A paragraph read after a horizontal rule (text that followed the rule's marker, e.g. typed
 *    into a paragraph whose marker someone's paste made a rule's) has no units of its own: its
 *    text counts to the rule. A remote change right after it re-read the window from that
 *    paragraph's (empty) span and dropped it from the view; a local change of the rule wrote
 *    over the paragraph's text. The rule and that paragraph now change together.
 * 2. A block with no marker of its own (its marker deleted by someone else) joined with the next
 *    block: the writer kept the next block's marker and deleted and retyped the text (new Yjs
 *    items), so text another person typed after it concurrently came out before it, in another
 *    block. The writer now keeps characters before markers when it aligns old and new units.
 * 3. Such a block (no marker of its own: text at the start of the Y.Text, or after a rule's
 *    marker) typed into or joined by two people at once: each wrote the marker the ProseMirror
 *    block has, and the two markers made an empty paragraph no one created. The writer no longer
 *    writes a marker the Y.Text already implies; and a block written before such a paragraph at
 *    the start of the text no longer takes its text in.
 *    The same holds for every block the reader adds (an empty paragraph first in a list item
 *    that starts with a nested list or a quote: typing in the item before it, or at the quote's
 *    start, wrote its marker): a new paragraph marker is left out when the units without it
 *    read the same, and markers are aligned greedily only with the same block's marker (typing
 *    at the quote's start gave the quote's marker to the added paragraph and wrote a new one).
 * 4. Two parts of one list (one id) with a paragraph between them, as concurrent edits can leave
 *    them: deleting the paragraph left two lists in the view but one in the Y.Text. An untouched
 *    container next to the written window, of the same type as the window's edge, joins the
 *    window, so the two get two ids.
 * 5. The caret in a block with no marker of its own jumped to the block's start on every remote
 *    change (units and positions were not mapped through the repair): the next keystrokes went
 *    there.
 * 6. An image in a code block (one person made the block a code block while another put an image
 *    in it; seed 521 of structure-rates.ts): a code block holds text only, so the image was not
 *    shown and the caret in the block went to its start on a remote change. The reader now
 *    splits the block around the image (code part, the image in a paragraph, the rest in a code
 *    block), writing nothing; the parts after the first have no marker of their own.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { NodeSelection, TextSelection } from 'prosemirror-state'
import { createMarker, type ParentRef } from '../../../../editor/blocks/layout.ts'
import { connectedEditors, paragraphs, type HeadlessEditor, type Network } from '../../../property/editor/headless-editor.ts'

/** Every editor shows exactly its Yjs content, and all show the same. */
function expectConsistent(net: Network): void {
  for (const editor of net.editors) expect(editor.state.doc.toJSON()).toEqual(editor.fragmentDoc().toJSON())
  for (const editor of net.editors) expect(editor.state.doc.toJSON()).toEqual(net.editors[0]!.state.doc.toJSON())
}

const shape = (editor: HeadlessEditor): string[] => {
  const out: string[] = []
  editor.state.doc.forEach((node) => out.push(`${node.type.name}:${node.textContent}`))
  return out
}

/**
 * A and B showing hr, p[x] (text after the rule's marker: a paragraph with no marker), p[]: as
 * when A typed `x` into a paragraph whose marker B's paste turned into a rule's.
 */
function ruleThenRepairedParagraph(): { net: Network; a: HeadlessEditor; b: HeadlessEditor } {
  const net = connectedEditors(2, ['blocks', 'blocks'])
  const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
  a.doc.transact(() => {
    a.ytext.insertEmbed(0, createMarker({ type: 'horizontal_rule', attrs: {}, parents: [] }))
    a.ytext.insert(1, 'x')
    a.ytext.insertEmbed(2, createMarker({ type: 'paragraph', attrs: {}, parents: [] }))
  })
  net.flush()
  expect(shape(a)).toEqual(['horizontal_rule:', 'paragraph:x', 'paragraph:'])
  expectConsistent(net)
  return { net, a, b }
}

describe('the paragraph read after a rule', () => {
  test('survives a remote change in the block after it', () => {
    const { net, a, b } = ruleThenRepairedParagraph()
    try {
      b.select(b.state.doc.content.size - 1)
      b.press('Shift-Enter')
      net.flush()
      expect(shape(a)).toEqual(['horizontal_rule:', 'paragraph:x', 'paragraph:'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('keeps its text when the rule before it is deleted', () => {
    const { net, a } = ruleThenRepairedParagraph()
    try {
      a.view.dispatch(a.state.tr.setSelection(NodeSelection.create(a.state.doc, 0)))
      a.press('Delete')
      net.flush()
      expect(shape(a)).toEqual(['paragraph:x', 'paragraph:'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('typing into it writes each character once', () => {
    const { net, a, b } = ruleThenRepairedParagraph()
    try {
      a.select(3) // after x
      a.type('z')
      net.flush()
      expect(shape(b)).toEqual(['horizontal_rule:', 'paragraph:xz', 'paragraph:'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

/** The units of `editor`'s Y.Text: characters, and `<marker>` for every embed. */
function units(editor: HeadlessEditor): string[] {
  return (editor.ytext.toDelta() as Array<{ insert: unknown }>).flatMap((op) => (typeof op.insert === 'string' ? [...op.insert] : ['<marker>']))
}

/** A and B: `x` (typed by A into a paragraph B deleted: no marker of its own) and `second`. */
function markerless(): { net: Network; a: HeadlessEditor; b: HeadlessEditor } {
  const net = connectedEditors(2, ['blocks', 'blocks'])
  const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
  a.setDoc(paragraphs('', 'second'))
  net.flush()
  a.select(1)
  a.type('x')
  b.select(1)
  b.press('Delete')
  net.flush()
  expect(shape(a)).toEqual(['paragraph:x', 'paragraph:second'])
  expect(units(a).slice(0, 2)).toEqual(['x', '<marker>'])
  return { net, a, b }
}

describe('joining a block that lost its marker', () => {
  test('keeps its characters (does not type them again)', () => {
    const { net, a } = markerless()
    try {
      const x = Y.createRelativePositionFromTypeIndex(a.ytext, 0) // the item of `x`
      a.view.dispatch(a.state.tr.setSelection(TextSelection.create(a.state.doc, 4))) // start of `second`
      a.press('Backspace')
      net.flush()
      expect(shape(a)).toEqual(['paragraph:xsecond'])
      const at = Y.createAbsolutePositionFromRelativePosition(x, a.doc)!
      expect(units(a)[at.index]).toBe('x')
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('typed into by one while another joins the next block into it: one paragraph, text in order', () => {
    const { net, a, b } = markerless()
    try {
      a.view.dispatch(a.state.tr.setSelection(TextSelection.create(a.state.doc, 4))) // start of `second`
      a.press('Backspace')
      b.select(2) // after x
      b.type('!')
      net.flush()
      expect(shape(a)).toEqual(['paragraph:x!second'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('typed into by two at once: still one paragraph (neither writes the marker the text implies)', () => {
    const { net, a, b } = markerless()
    try {
      a.select(2)
      a.type('a')
      b.select(1)
      b.type('b')
      net.flush()
      expect(shape(a)).toEqual(['paragraph:bxa', 'paragraph:second'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('a first paragraph with no marker of its own', () => {
  test('typed into at its start by two at once: still one paragraph', () => {
    const { net, a, b } = markerless()
    try {
      a.select(1)
      a.type('a')
      b.select(1)
      b.type('b')
      net.flush()
      expect(shape(a)).toEqual(['paragraph:abx', 'paragraph:second'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('a block pasted before it stays a block of its own (its marker does not take the text in)', () => {
    const { net, a } = markerless()
    try {
      a.select(1)
      a.paste(paragraphs('').slice(0, 2))
      expect(shape(a)).toEqual(['paragraph:', 'paragraph:x', 'paragraph:second'])
      expect(a.fragmentDoc().toJSON()).toEqual(a.state.doc.toJSON())
      net.flush()
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('the paragraph read after a rule, edited by two at once', () => {
  test('stays one paragraph', () => {
    const { net, a, b } = ruleThenRepairedParagraph()
    try {
      a.select(3) // after x
      a.type('a')
      b.select(2) // before x
      b.type('b')
      net.flush()
      expect(shape(a)).toEqual(['horizontal_rule:', 'paragraph:bxa', 'paragraph:'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('a paragraph between two parts of one list (same list id, as concurrent edits leave it)', () => {
  test('deleted: the two lists the view keeps are two lists in the Y.Text', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a] = net.editors as [HeadlessEditor, HeadlessEditor]
      // bullet_list L (item I1: a) · paragraph b · bullet_list L (item I2: c)
      const list = (item: string): ParentRef[] => [
        { id: 'L', type: 'bullet_list', attrs: {} },
        { id: item, type: 'list_item', attrs: {} },
      ]
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'paragraph', attrs: {}, parents: list('I1') }))
        a.ytext.insert(1, 'a')
        a.ytext.insertEmbed(2, createMarker({ type: 'paragraph', attrs: {}, parents: [] }))
        a.ytext.insert(3, 'b')
        a.ytext.insertEmbed(4, createMarker({ type: 'paragraph', attrs: {}, parents: list('I2') }))
        a.ytext.insert(5, 'c')
      })
      net.flush()
      expect(shape(a)).toEqual(['bullet_list:a', 'paragraph:b', 'bullet_list:c'])
      const paragraph = a.state.doc.child(0).nodeSize
      a.view.dispatch(a.state.tr.setSelection(NodeSelection.create(a.state.doc, paragraph)))
      a.press('Backspace')
      expect(shape(a)).toEqual(['bullet_list:a', 'bullet_list:c'])
      net.flush()
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('a list item that starts with a nested list (the reader puts an empty paragraph first)', () => {
  test('two typing in the item before it at once: still one empty paragraph', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      const parents = (...chain: Array<[string, string]>): ParentRef[] => chain.map(([id, type]) => ({ id, type, attrs: {} }))
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'paragraph', attrs: {}, parents: parents(['L', 'bullet_list'], ['I1', 'list_item']) }))
        a.ytext.insert(1, 'a')
        a.ytext.insertEmbed(2, createMarker({ type: 'paragraph', attrs: {}, parents: parents(['L', 'bullet_list'], ['I2', 'list_item'], ['N', 'bullet_list'], ['I3', 'list_item']) }))
        a.ytext.insert(3, 'b')
      })
      net.flush()
      const outline = (e: HeadlessEditor): unknown => e.state.doc.toJSON()
      const item2 = (e: HeadlessEditor): string[] => {
        const out: string[] = []
        e.state.doc.child(0).child(1).forEach((n) => out.push(`${n.type.name}:${n.textContent}`))
        return out
      }
      expect(item2(a)).toEqual(['paragraph:', 'bullet_list:b'])
      a.select(4) // after a
      a.type('1')
      b.select(4)
      b.type('2')
      net.flush()
      expect(item2(a)).toEqual(['paragraph:', 'bullet_list:b'])
      expect(outline(b)).toEqual(outline(a))
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('a list item that starts with a blockquote (the reader puts an empty paragraph first)', () => {
  test('typed into at the quote\'s start by two at once: still one empty paragraph, no marker written', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      const parents: ParentRef[] = [
        { id: 'L', type: 'ordered_list', attrs: { order: 1 } },
        { id: 'I', type: 'list_item', attrs: {} },
        { id: 'Q', type: 'blockquote', attrs: {} },
      ]
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'paragraph', attrs: {}, parents }))
        a.ytext.insert(1, 'q')
      })
      net.flush()
      const item = (e: HeadlessEditor): string[] => {
        const out: string[] = []
        e.state.doc.child(0).child(0).forEach((n) => out.push(`${n.type.name}:${n.textContent}`))
        return out
      }
      expect(item(a)).toEqual(['paragraph:', 'blockquote:q'])
      a.select(6) // start of q
      a.type('x')
      expect(units(a).filter((u) => u === '<marker>')).toHaveLength(1)
      b.select(6)
      b.type('y')
      net.flush()
      expect(item(a)).toEqual(['paragraph:', 'blockquote:xyq'])
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('the caret in a block with no marker of its own', () => {
  test('stays after what its writer typed when a remote change arrives (first paragraph)', () => {
    const { net, a, b } = markerless()
    try {
      a.select(2) // after x
      a.type('y')
      net.flush()
      b.select(b.state.doc.content.size - 1)
      b.type('!')
      net.flush()
      expect(a.state.selection.head).toBe(3) // still after y
      a.type('z')
      net.flush()
      expect(shape(b)).toEqual(['paragraph:xyz', 'paragraph:second!'])
    } finally {
      net.destroy()
    }
  })

  test('stays after what its writer typed when a remote change arrives (paragraph after a rule)', () => {
    const { net, a, b } = ruleThenRepairedParagraph()
    try {
      a.select(3) // after x
      a.type('y')
      net.flush()
      b.select(b.state.doc.content.size - 1)
      b.type('!')
      net.flush()
      expect(a.state.selection.head).toBe(4)
      a.type('z')
      net.flush()
      expect(shape(b)).toEqual(['horizontal_rule:', 'paragraph:xyz', 'paragraph:!'])
    } finally {
      net.destroy()
    }
  })

  test('stays after what its writer typed when a remote change arrives (paragraph after a rule in a list item)', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      const item: ParentRef[] = [
        { id: 'L', type: 'bullet_list', attrs: {} },
        { id: 'I', type: 'list_item', attrs: {} },
      ]
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'paragraph', attrs: {}, parents: item }))
        a.ytext.insertEmbed(1, createMarker({ type: 'horizontal_rule', attrs: {}, parents: item }))
        a.ytext.insert(2, 'x')
        a.ytext.insertEmbed(3, createMarker({ type: 'paragraph', attrs: {}, parents: [] }))
      })
      net.flush()
      // li(p[], hr, p[x]), p[]: the empty paragraph has a marker, the one after the rule not
      const x = a.state.doc.child(0).nodeSize - 3 // after x
      a.select(x)
      a.type('y')
      b.select(b.state.doc.content.size - 1)
      b.type('!')
      net.flush()
      expect(a.state.selection.head).toBe(x + 1)
      a.type('z')
      net.flush()
      expect(b.state.doc.child(0).textContent).toBe('xyz')
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})

describe('an image in a code block (seed 521): the block is split around it', () => {
  const image = { inline: 'image', attrs: { src: 'x.png', alt: null, title: null } }
  const images = (editor: HeadlessEditor): number => {
    let n = 0
    editor.state.doc.descendants((node) => void (node.type.name === 'image' && n++))
    return n
  }

  test('made concurrently: the image shows once, every view equals its Y.Text', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'paragraph', attrs: {}, parents: [] }))
        a.ytext.insert(1, 'abcd')
      })
      net.flush()
      a.select(1)
      expect(a.toolbar('code-block')).toBe(true)
      b.doc.transact(() => b.ytext.insertEmbed(3, image)) // after "ab"
      net.flush()
      expect(shape(a)).toEqual(['code_block:ab', 'paragraph:', 'code_block:cd'])
      for (const e of net.editors) expect(images(e)).toBe(1)
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('the caret in each part stays after what its writer typed when a remote change arrives; typing writes no marker', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'code_block', attrs: {}, parents: [] }))
        a.ytext.insert(1, 'ab')
        a.ytext.insertEmbed(3, image)
        a.ytext.insert(4, 'cd')
        a.ytext.insertEmbed(6, createMarker({ type: 'paragraph', attrs: {}, parents: [] }))
        a.ytext.insert(7, 'z')
      })
      net.flush()
      expect(shape(b)).toEqual(['code_block:ab', 'paragraph:', 'code_block:cd', 'paragraph:z'])
      const markers = (): number => a.ytext.toDelta().filter((op: { insert: unknown }) => op.insert instanceof Y.Map).length
      // in the code part before the image: after "ab"
      a.select(3)
      a.type('y')
      net.flush()
      b.select(b.state.doc.content.size - 1)
      b.type('!')
      net.flush()
      expect(a.state.selection.head).toBe(4)
      a.type('w')
      net.flush()
      // in the code part after the image: after "cd" (code_block(abyw) is 6 wide, paragraph(image) 3)
      a.select(6 + 3 + 3)
      a.type('e')
      b.select(b.state.doc.content.size - 1)
      b.type('?')
      net.flush()
      expect(a.state.selection.head).toBe(6 + 3 + 4)
      a.type('f')
      net.flush()
      expect(shape(b)).toEqual(['code_block:abyw', 'paragraph:', 'code_block:cdef', 'paragraph:z!?'])
      expect(markers()).toBe(2)
      for (const e of net.editors) expect(images(e)).toBe(1)
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })

  test('deleting the image paragraph is an ordinary edit: the parts stay two code blocks, each view equals its Y.Text', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
      a.doc.transact(() => {
        a.ytext.insertEmbed(0, createMarker({ type: 'code_block', attrs: {}, parents: [] }))
        a.ytext.insert(1, 'ab')
        a.ytext.insertEmbed(3, image)
        a.ytext.insert(4, 'cd')
      })
      net.flush()
      a.view.dispatch(a.state.tr.delete(4, 7)) // paragraph(image)
      net.flush()
      expect(shape(b)).toEqual(['code_block:ab', 'code_block:cd'])
      expect(images(b)).toBe(0)
      expectConsistent(net)
    } finally {
      net.destroy()
    }
  })
})
