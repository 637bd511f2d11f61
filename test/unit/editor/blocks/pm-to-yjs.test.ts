/**
 * Local ProseMirror changes written into the block layout's Y.Text: each structural edit is the
 * one marker edit it should be, and no text is ever deleted to be written again.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { joinBackward, setBlockType, splitBlock, toggleMark, wrapIn, lift, deleteSelection } from 'prosemirror-commands'
import { wrapInList, liftListItem, sinkListItem, splitListItem } from 'prosemirror-schema-list'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { readMarker } from '../../../../editor/blocks/layout.ts'
import { paragraphs, Replica } from './replica.ts'

interface Counted {
  insertedText: string
  insertedMarkers: number
  deleted: number
  markerChanges: number
  formats: number
}

/** Runs `edit` and counts what it did to the Y.Text. */
function count(r: Replica, edit: () => void): Counted {
  const c: Counted = { insertedText: '', insertedMarkers: 0, deleted: 0, markerChanges: 0, formats: 0 }
  const observer = (events: Y.YEvent<Y.AbstractType<unknown>>[]): void => {
    for (const event of events) {
      if (event.target === r.ytext) {
        for (const op of event.delta as { insert?: unknown; delete?: number; retain?: number; attributes?: unknown }[]) {
          if (typeof op.insert === 'string') c.insertedText += op.insert
          else if (op.insert instanceof Y.Map) c.insertedMarkers++
          if (op.delete) c.deleted += op.delete
          if (op.retain && op.attributes) c.formats++
        }
      } else if (event instanceof Y.YMapEvent) c.markerChanges += event.keysChanged.size
    }
  }
  r.ytext.observeDeep(observer)
  edit()
  r.ytext.unobserveDeep(observer)
  return c
}

function seeded(doc = paragraphs('first line', 'second line', 'third')): Replica {
  const r = new Replica('A', 1)
  r.seed(doc)
  return r
}

describe('pm-to-yjs: one ProseMirror change, the minimal Y.Text edit', () => {
  test('typing inserts exactly the typed characters where they were typed', () => {
    const r = seeded(paragraphs('aa'))
    r.caret('aa', 1)
    const c = count(r, () => r.type('a'))
    expect(c).toEqual({ insertedText: 'a', insertedMarkers: 0, deleted: 0, markerChanges: 0, formats: 0 })
    // written before the second `a` (its Yjs origin is the first one), not appended after it
    const clocks: number[] = []
    for (let n = r.ytext._start; n; n = n.right) if (n.content instanceof Y.ContentString && !n.deleted) clocks.push(n.id.clock)
    expect(clocks).toHaveLength(3)
    expect(Math.max(...clocks)).toBe(clocks[1]) // the new `a` is the middle item
  })

  test('Enter inserts one marker and moves no text', () => {
    const r = seeded()
    r.caret('second line', 6)
    const c = count(r, () => r.run(splitBlock))
    expect(c).toEqual({ insertedText: '', insertedMarkers: 1, deleted: 0, markerChanges: 0, formats: 0 })
    expect(r.blocks).toEqual(['p:first line', 'p:second', 'p: line', 'p:third'])
  })

  test('Backspace at a block start deletes one marker', () => {
    const r = seeded()
    r.caretAtStart('second line')
    const c = count(r, () => r.run(joinBackward))
    expect(c).toEqual({ insertedText: '', insertedMarkers: 0, deleted: 1, markerChanges: 0, formats: 0 })
    expect(r.blocks).toEqual(['p:first linesecond line', 'p:third'])
  })

  test('a block type change updates one marker', () => {
    const r = seeded()
    r.caret('second line', 2)
    const c = count(r, () => r.run(setBlockType(schema.nodes['heading']!, { level: 1 })))
    expect(c).toEqual({ insertedText: '', insertedMarkers: 0, deleted: 0, markerChanges: 2, formats: 0 })
    expect(r.blocks).toEqual(['p:first line', 'h1:second line', 'p:third'])
  })

  test('wrapping in a list and a blockquote, sinking and lifting only change markers', () => {
    const r = seeded()
    r.caret('first', 0, 14) // first line … second
    let c = count(r, () => r.run(wrapInList(schema.nodes['bullet_list']!)))
    expect(c).toMatchObject({ insertedText: '', insertedMarkers: 0, deleted: 0 })
    expect(r.blocks).toEqual(['ul>li>p:first line', 'ul>li>p:second line', 'p:third'])
    r.caret('second', 1)
    c = count(r, () => r.run(sinkListItem(schema.nodes['list_item']!)))
    expect(c).toMatchObject({ insertedText: '', insertedMarkers: 0, deleted: 0 })
    expect(r.blocks).toEqual(['ul>li>p:first line', 'ul>li>ul>li>p:second line', 'p:third'])
    c = count(r, () => r.run(liftListItem(schema.nodes['list_item']!)))
    expect(c).toMatchObject({ insertedText: '', insertedMarkers: 0, deleted: 0 })
    expect(r.blocks).toEqual(['ul>li>p:first line', 'ul>li>p:second line', 'p:third'])
    r.caret('third', 1)
    c = count(r, () => r.run(wrapIn(schema.nodes['blockquote']!)))
    expect(c).toEqual({ insertedText: '', insertedMarkers: 0, deleted: 0, markerChanges: 1, formats: 0 })
    c = count(r, () => r.run(lift))
    expect(c).toEqual({ insertedText: '', insertedMarkers: 0, deleted: 0, markerChanges: 1, formats: 0 })
    expect(r.blocks).toEqual(['ul>li>p:first line', 'ul>li>p:second line', 'p:third'])
  })

  test('two adjacent lists keep two identities; joining them gives the second the first one\'s', () => {
    const r = seeded(paragraphs('one', 'two'))
    r.caret('one', 1)
    r.run(wrapInList(schema.nodes['bullet_list']!))
    r.caret('two', 1)
    r.run(wrapInList(schema.nodes['bullet_list']!))
    const lists = (): string[] => {
      const ids: string[] = []
      for (const op of r.ytext.toDelta() as { insert: unknown }[]) if (op.insert instanceof Y.Map) ids.push(readMarker(op.insert).parents[0]?.id ?? '-')
      return ids
    }
    const [l1, l2] = lists()
    expect(l1).not.toBe(l2)
    expect(r.blocks).toEqual(['ul>li>p:one', 'ul>li>p:two'])
    expect(r.pm.childCount).toBe(2)
    r.caretAtStart('two')
    r.run(joinBackward) // joins the two lists
    expect(r.pm.childCount).toBe(1)
    expect(new Set(lists()).size).toBe(1)
  })

  test('Enter in a list item makes a new item (new item id, same list id)', () => {
    const r = seeded(paragraphs('one'))
    r.caret('one', 1)
    r.run(wrapInList(schema.nodes['ordered_list']!))
    r.caretAtEnd('one')
    const c = count(r, () => r.run(splitListItem(schema.nodes['list_item']!)))
    expect(c).toMatchObject({ insertedText: '', insertedMarkers: 1, deleted: 0 })
    // typing in a list keeps every container's identity: no marker is touched
    expect(count(r, () => r.type('two'))).toEqual({ insertedText: 'two', insertedMarkers: 0, deleted: 0, markerChanges: 0, formats: 0 })
    expect(r.blocks).toEqual(['ol>li>p:one', 'ol>li>p:two'])
  })

  test('bold over a range formats it; nothing is re-inserted', () => {
    const r = seeded()
    r.caret('second', 0, 6)
    const c = count(r, () => r.run(toggleMark(schema.marks['strong']!)))
    expect(c).toMatchObject({ insertedText: '', insertedMarkers: 0, deleted: 0, formats: 1 })
  })

  test('deleting across blocks deletes the selected characters and the markers between', () => {
    const r = seeded()
    r.caret('line', 1, 'ine'.length + 2 + 'second'.length) // "l|ine" of block 1 to "second|" of block 2
    const c = count(r, () => r.run(deleteSelection))
    expect(c).toEqual({ insertedText: '', insertedMarkers: 0, deleted: 'inesecond'.length + 1, markerChanges: 0, formats: 0 })
    expect(r.blocks).toEqual(['p:first l line', 'p:third'])
  })
})
