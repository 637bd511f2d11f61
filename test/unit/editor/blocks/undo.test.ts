/**
 * Per-user undo on the block layout with a plain `Y.UndoManager` over the Y.Text (tracking the
 * local writes only): undoing a join brings the block boundary back with its block's type,
 * undoing a heading restores the paragraph, undoing a wrap restores the parents, and undo never
 * removes what another user wrote. The undone change reaches the editor through yjs-to-pm like
 * any remote change (the harness checks it against a full read).
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { joinBackward, setBlockType, splitBlock } from 'prosemirror-commands'
import { wrapInList } from 'prosemirror-schema-list'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { LOCAL, pair, paragraphs, sync, type Replica } from './replica.ts'

function undoManager(r: Replica): Y.UndoManager {
  return new Y.UndoManager(r.ytext, { trackedOrigins: new Set([LOCAL]), captureTimeout: 0 })
}

describe('undo on the block layout', () => {
  test('undoing a join restores the boundary and the joined block\'s type; redo joins again', () => {
    const [a, b] = pair(schema.node('doc', null, [schema.node('paragraph', null, [schema.text('first')]), schema.node('heading', { level: 2 }, [schema.text('second')])]))
    const um = undoManager(a)
    a.caretAtStart('second')
    a.run(joinBackward)
    expect(a.blocks).toEqual(['p:firstsecond'])
    um.undo()
    expect(a.blocks).toEqual(['p:first', 'h2:second'])
    um.redo()
    expect(a.blocks).toEqual(['p:firstsecond'])
    um.undo()
    sync(a, b)
    expect(b.blocks).toEqual(['p:first', 'h2:second'])
  })

  test('undoing a heading restores the paragraph; undoing a wrap restores the parents', () => {
    const [a] = pair(paragraphs('one', 'two'))
    const um = undoManager(a)
    a.caret('one', 1)
    a.run(setBlockType(schema.nodes['heading']!, { level: 1 }))
    a.caret('two', 1)
    a.run(wrapInList(schema.nodes['bullet_list']!))
    expect(a.blocks).toEqual(['h1:one', 'ul>li>p:two'])
    um.undo()
    expect(a.blocks).toEqual(['h1:one', 'p:two'])
    um.undo()
    expect(a.blocks).toEqual(['p:one', 'p:two'])
  })

  test('undo never removes another user\'s text, even typed into the block being restored', () => {
    const [a, b] = pair(paragraphs('alpha', 'second line'))
    const um = undoManager(a)
    a.caret('second line', 6)
    a.run(splitBlock)
    sync(a, b)
    b.caretAtEnd(' line')
    b.type(' BBB')
    sync(a, b)
    um.undo() // undo the split: the boundary goes, B's words stay
    sync(a, b)
    expect(a.blocks).toEqual(['p:alpha', 'p:second line BBB'])
    expect(b.blocks).toEqual(a.blocks)
  })
})
