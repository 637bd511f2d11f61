/**
 * IME composition next to remote structure changes, at the binding level (the Chromium cases
 * driving real composition events are in test/e2e/editor-structure.test.ts). A remote change that
 * touches the block being composed in is held until the composition ends — ProseMirror would
 * otherwise redraw the DOM the IME writes into — and the local steps made meanwhile are rebased
 * over it. Changes to other blocks show at once. The headless view's `composing` flag stands in
 * for `EditorView.composing`.
 */
import { describe, expect, test } from 'vitest'
import { TextSelection } from 'prosemirror-state'
import { connectedEditors, paragraphs, type HeadlessEditor, type Network } from '../../../property/editor/headless-editor.ts'

const shape = (editor: HeadlessEditor): string[] => {
  const out: string[] = []
  editor.state.doc.forEach((node) => out.push(`${node.type.name}${node.attrs.level ?? ''}:${node.textContent}`))
  return out
}

/** A and B (block layout) showing `texts`, everything delivered. */
function pair(...texts: string[]): { net: Network; a: HeadlessEditor; b: HeadlessEditor } {
  const net = connectedEditors(2, ['blocks', 'blocks'])
  const [a, b] = net.editors as [HeadlessEditor, HeadlessEditor]
  a.setDoc(paragraphs(...texts))
  net.flush()
  return { net, a, b }
}

/** Every editor shows exactly its Y.Text, and all show the same. */
function expectConverged(net: Network): void {
  net.flush()
  for (const editor of net.editors) expect(editor.state.doc.toJSON()).toEqual(editor.fragmentDoc().toJSON())
  for (const editor of net.editors) expect(shape(editor)).toEqual(shape(net.editors[0]!))
}

/** The caret at the end of top-level block `index`. */
function endOf(editor: HeadlessEditor, index: number): number {
  let pos = 0
  for (let i = 0; i < index; i++) pos += editor.state.doc.child(i).nodeSize
  return pos + editor.state.doc.child(index).nodeSize - 1
}

/** What ProseMirror dispatches while an IME composes: the preedit text replaced as it grows. */
function composeSteps(editor: HeadlessEditor, preedits: string[], between?: (i: number) => void): void {
  editor.view.composing = true
  const start = editor.state.selection.from
  let length = 0
  preedits.forEach((text, i) => {
    const from = editor.state.selection.from - length
    editor.view.dispatch(editor.state.tr.insertText(text, from, from + length))
    length = text.length
    between?.(i)
  })
  expect(start).toBeGreaterThan(0)
}

describe('IME composition vs remote structure changes (block layout)', () => {
  test('B splits the block A composes in and makes its second half a heading: held until the composition ends, then the committed text ends the heading once', () => {
    const { net, a, b } = pair('first line', 'second line')
    a.select(endOf(a, 1))
    composeSteps(a, ['か', 'かな', 'かなも'], (i) => {
      if (i !== 0) return
      b.select(1 + 'first line'.length + 2 + 'second'.length)
      b.press('Enter')
      b.press('Shift-Ctrl-2')
      expect(shape(b)).toEqual(['paragraph:first line', 'paragraph:second', 'heading2: line'])
      net.flush()
      // held: A's view keeps the block the IME writes into; the preedit written before the hold
      // is in the Y.Text (it reached B), nothing after it
      expect(shape(a)).toEqual(['paragraph:first line', 'paragraph:second lineか'])
      expect(shape(b)).toEqual(['paragraph:first line', 'paragraph:second', 'heading2: lineか'])
    })
    // the commit replaces the preedit, still composing
    const from = a.state.selection.from - 3
    a.view.dispatch(a.state.tr.insertText('仮名文字', from, from + 3))
    expect(shape(a)).toEqual(['paragraph:first line', 'paragraph:second line仮名文字'])
    net.flush()
    expect(shape(b)).toEqual(['paragraph:first line', 'paragraph:second', 'heading2: lineか'])
    a.view.composing = false
    a.blocks!.release()
    expect(shape(a)).toEqual(['paragraph:first line', 'paragraph:second', 'heading2: line仮名文字'])
    // the caret follows the committed text; typing goes on after it
    expect(a.state.selection.head).toBe(endOf(a, 2))
    a.type(' AAA')
    expectConverged(net)
    expect(shape(b)).toEqual(['paragraph:first line', 'paragraph:second', 'heading2: line仮名文字 AAA'])
  })

  test('B joins the block A composes in with the one before: held, then the committed text ends the joined block', () => {
    const { net, a, b } = pair('first line', 'second line')
    a.select(endOf(a, 1))
    composeSteps(a, ['か', 'かな'], (i) => {
      if (i !== 0) return
      b.select(1 + 'first line'.length + 2)
      b.press('Backspace')
      net.flush()
      expect(shape(a)).toEqual(['paragraph:first line', 'paragraph:second lineか'])
    })
    a.view.composing = false
    a.blocks!.release()
    expect(shape(a)).toEqual(['paragraph:first linesecond lineかな'])
    expect(a.state.selection.head).toBe(endOf(a, 0))
    expectConverged(net)
  })

  test('a change to another block shows at once, while the composition goes on', () => {
    const { net, a, b } = pair('first line', 'second line', 'third line')
    a.select(endOf(a, 1))
    composeSteps(a, ['か', 'かな'], (i) => {
      if (i !== 0) return
      b.select(endOf(b, 2))
      b.press('Enter')
      b.type('BBB')
      b.select(1)
      b.press('Shift-Ctrl-1')
      net.flush()
      expect(shape(a)).toEqual(['heading1:first line', 'paragraph:second lineか', 'paragraph:third line', 'paragraph:BBB'])
    })
    // the preedit was written as it grew
    expect(a.fragmentDoc().textContent).toContain('second lineかな')
    a.view.composing = false
    expectConverged(net)
    expect(shape(b)).toEqual(['heading1:first line', 'paragraph:second lineかな', 'paragraph:third line', 'paragraph:BBB'])
  })

  test('remote changes after a held one are held behind it, then all shown in order with the local text rebased', () => {
    const { net, a, b } = pair('first line', 'second line', 'third line')
    a.select(endOf(a, 1))
    composeSteps(a, ['か', 'かな', 'かなも', 'かなもじ'], (i) => {
      if (i === 0) {
        b.select(1 + 'first line'.length + 2 + 'second'.length)
        b.press('Enter')
        net.flush()
      }
      if (i === 1) {
        // another block, but after a held change: held too
        b.select(endOf(b, 3))
        b.type(' BBB')
        b.select(1)
        b.type('>')
        net.flush()
        expect(shape(a)).toEqual(['paragraph:first line', 'paragraph:second lineかな', 'paragraph:third line'])
      }
    })
    expect(a.state.selection).toBeInstanceOf(TextSelection)
    a.view.composing = false
    a.blocks!.release()
    expect(shape(a)).toEqual(['paragraph:>first line', 'paragraph:second', 'paragraph: lineかなもじ', 'paragraph:third line BBB'])
    expect(a.state.selection.head).toBe(endOf(a, 2))
    expectConverged(net)
  })

  test('a block-type change made during a hold (a toolbar click while composing) keeps every composed character', () => {
    const { net, a, b } = pair('first line', 'second line')
    a.select(endOf(a, 1))
    composeSteps(a, ['か', 'かな'], (i) => {
      if (i !== 0) return
      b.select(1 + 'first line'.length + 2 + 'second'.length)
      b.press('Enter')
      net.flush()
    })
    // still composing: the heading button changes the block the composition is in
    expect(a.press('Shift-Ctrl-1')).toBe(true)
    a.view.composing = false
    a.blocks!.release()
    expectConverged(net)
    // B's split and every composed character kept; the heading, made against the block as it was
    // before the held split, is left out (replayed over the split it could undo it)
    expect(shape(b)).toEqual(['paragraph:first line', 'paragraph:second', 'paragraph: lineかな'])
  })

  test('an editor destroyed during a hold still writes what was composed', () => {
    const { net, a, b } = pair('first line', 'second line')
    a.select(endOf(a, 1))
    composeSteps(a, ['か', 'かな'], (i) => {
      if (i !== 0) return
      b.select(1 + 'first line'.length + 2)
      b.press('Shift-Ctrl-2')
      net.flush()
    })
    a.view.destroy()
    net.flush()
    expect(shape(b)).toEqual(['paragraph:first line', 'heading2:second lineかな'])
    expect(a.fragmentDoc().toJSON()).toEqual(b.state.doc.toJSON())
  })
})
