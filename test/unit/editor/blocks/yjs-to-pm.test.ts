/**
 * Remote Y.Text changes turned into ProseMirror steps for the changed range only: the step of a
 * remote keystroke covers that keystroke, not the document, and structural changes arrive as
 * the one block (or container) they touched. The Replica harness checks every result against a
 * full read of the Y.Text.
 */
import { describe, expect, test } from 'vitest'
import { joinBackward, setBlockType, splitBlock } from 'prosemirror-commands'
import { wrapInList } from 'prosemirror-schema-list'
import * as Y from 'yjs'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { pair, paragraphs, type Replica } from './replica.ts'

const MANY = paragraphs(...Array.from({ length: 200 }, (_, i) => `paragraph number ${i}`))

/** Delivers what `from` did since the last call to `to`; returns the units `to` read for it. */
function deliver(from: Replica, to: Replica): number {
  const read = to.unitsRead
  const steps = to.remoteSteps
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)))
  expect(to.remoteSteps).toBeGreaterThan(steps)
  expect(to.pm.eq(from.pm)).toBe(true)
  to.reread()
  return to.unitsRead - read
}

describe('yjs-to-pm: a remote change becomes steps over the changed range only', () => {
  test('a remote keystroke in a long document changes one paragraph, nothing else is rebuilt', () => {
    const [a, b] = pair(MANY)
    b.caretAtEnd('paragraph number 150')
    b.type('!')
    const before = a.pm
    // read: the typed paragraph and its two neighbours (~60 units of ~4000)
    expect(deliver(b, a)).toBeLessThan(100)
    // every top-level node but the typed one is the very same object as before
    let rebuilt = 0
    for (let i = 0; i < a.pm.childCount; i++) if (a.pm.child(i) !== before.child(i)) rebuilt++
    expect(rebuilt).toBe(1)
    expect(a.pm.child(150).textContent).toBe('paragraph number 150!')
  })

  test('a remote keystroke next to copies of itself maps where it was typed (what remote cursors and decorations map through)', () => {
    const [a, b] = pair(paragraphs('Hello world', 'helllo'))
    // B types `w` right before `world`: a diff alone reads it as typed after that `w`
    b.caret('Hello world', 'Hello '.length)
    b.type('w')
    deliver(b, a)
    const at = 1 + 'Hello '.length
    expect(a.lastRemote!.mapping.map(at, 1)).toBe(at + 1)
    expect(a.lastRemote!.mapping.map(at + 1, -1)).toBe(at + 2)
    // B deletes the first of the three `l`s of `helllo`: the step deletes that one
    const p2 = 'Hello wworld'.length + 2 + 1
    b.caret('helllo', 3)
    b.run((state, dispatch) => (dispatch?.(state.tr.delete(state.selection.from - 1, state.selection.from)), true))
    deliver(b, a)
    expect(a.pm.child(1).textContent).toBe('hello')
    expect(a.lastRemote!.mapping.map(p2 + 3, -1)).toBe(p2 + 2)
    expect(a.lastRemote!.mapping.map(p2 + 4, 1)).toBe(p2 + 3)
  })

  test('a remote Enter, join, heading and list wrap each rebuild only the blocks they touch', () => {
    const [a, b] = pair(MANY)
    const rebuiltBy = (edit: () => void): number => {
      const before = a.pm
      edit()
      expect(deliver(b, a)).toBeLessThan(200)
      const n = Math.min(before.childCount, a.pm.childCount)
      let same = 0
      for (let i = 0; i < n && a.pm.child(i) === before.child(i); i++) same++
      let sameTail = 0
      while (sameTail < n - same && a.pm.child(a.pm.childCount - 1 - sameTail) === before.child(before.childCount - 1 - sameTail)) sameTail++
      return a.pm.childCount - same - sameTail
    }
    expect(
      rebuiltBy(() => {
        b.caret('paragraph number 50', 9)
        b.run(splitBlock)
      }),
    ).toBe(2)
    expect(
      rebuiltBy(() => {
        b.caretAtStart('paragraph number 60')
        b.run(joinBackward)
      }),
    ).toBe(1)
    expect(
      rebuiltBy(() => {
        b.caret('paragraph number 70', 1)
        b.run(setBlockType(schema.nodes['heading']!, { level: 2 }))
      }),
    ).toBe(1)
    expect(
      rebuiltBy(() => {
        b.caret('paragraph number 80', 1)
        b.run(wrapInList(schema.nodes['bullet_list']!))
      }),
    ).toBe(1)
    expect(a.pm.eq(b.pm)).toBe(true)
  })

  test('a remote change that makes two lists one (same id across the edge) merges them', () => {
    const [a, b] = pair(paragraphs('one', 'middle', 'two'))
    b.caret('one', 1)
    b.run(wrapInList(schema.nodes['bullet_list']!))
    b.caret('two', 1)
    b.run(wrapInList(schema.nodes['bullet_list']!))
    deliver(b, a)
    expect(a.blocks).toEqual(['ul>li>p:one', 'p:middle', 'ul>li>p:two'])
    // B puts "middle" into the first list and then joins the two lists
    b.caret('middle', 1)
    b.run(wrapInList(schema.nodes['bullet_list']!))
    b.caretAtStart('middle')
    b.run(joinBackward)
    b.caretAtStart('two')
    b.run(joinBackward)
    deliver(b, a)
    expect(a.blocks).toEqual(b.blocks)
    expect(a.pm.childCount).toBe(b.pm.childCount)
  })
})

