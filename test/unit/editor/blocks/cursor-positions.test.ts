/**
 * The cursors' {@link UnitFinder} finds the relative position of a unit index by walking from the
 * unit it found last, keeping that unit's index through every change of the Y.Text. It must give
 * exactly what `Y.createRelativePositionFromTypeIndex` (a walk from the start) gives, whatever
 * happened in between: local writes as the binding makes them (`insertAfter`, deletes, formats,
 * markers), near the last unit or far from it, and remote changes. Seeded (seeds in the test
 * names). Then the same through editors: the cursor an editor publishes while it types, and
 * while another types into the same document, is the one a walk from the start names.
 */
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { TextSelection } from 'prosemirror-state'
import { UnitFinder } from '../../../../editor/blocks/cursors.ts'
import { CURSOR_FIELD } from '../../../../editor/cursor-awareness.ts'
import { insertAfter } from '../../../../editor/blocks/yjs-writes.ts'
import { createMarker } from '../../../../editor/blocks/layout.ts'
import { connectedEditors, paragraphs } from '../../../property/editor/headless-editor.ts'
import { unitsBefore } from '../../../../editor/blocks/binding.ts'

const SEEDS = [20261203, 21, 22, 23]
const RUNS = 100
const LOCAL = Symbol('local')

type Kind = 'type' | 'typeFar' | 'delete' | 'deleteFar' | 'marker' | 'format' | 'remoteInsert' | 'remoteDelete' | 'query' | 'queryFar'
const KINDS: Kind[] = ['type', 'type', 'type', 'typeFar', 'delete', 'deleteFar', 'marker', 'format', 'remoteInsert', 'remoteDelete', 'query', 'queryFar']

interface Action {
  kind: Kind
  at: number
  span: number
}

const actionArb: fc.Arbitrary<Action> = fc.record({ kind: fc.constantFrom(...KINDS), at: fc.nat(10_000), span: fc.integer({ min: 1, max: 5 }) })

function sameAsWalk(finder: UnitFinder, ytext: Y.Text, index: number): void {
  const fast = finder.relativePosition(index, -1)
  const walked = Y.createRelativePositionFromTypeIndex(ytext, index, -1)
  expect(Y.relativePositionToJSON(fast)).toEqual(Y.relativePositionToJSON(walked))
}

describe.each(SEEDS)('UnitFinder, seed %i', (seed) => {
  test('names the same unit as a walk from the start, after any local or remote change', () => {
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 5, maxLength: 60 }), (actions) => {
        const mine = new Y.Doc()
        mine.clientID = 1
        const theirs = new Y.Doc()
        theirs.clientID = 2
        const ytext = mine.getText('blocks')
        const other = theirs.getText('blocks')
        mine.transact(() => ytext.insert(0, 'abcdefghij'.repeat(8)))
        Y.applyUpdate(theirs, Y.encodeStateAsUpdate(mine))
        const finder = new UnitFinder(ytext, LOCAL)
        let caret = 40 // the unit index the "editor" asks for, as a caret would move
        sameAsWalk(finder, ytext, caret)
        let n = 0
        const ch = (): string => String.fromCharCode(0x4e00 + (n++ % 2000))
        for (const { kind, at, span } of actions) {
          const len = ytext.length
          const far = len > 0 ? at % (len + 1) : 0
          if (kind === 'type' || kind === 'typeFar') {
            const index = kind === 'type' ? Math.min(caret, len) : far
            mine.transact((tr) => insertAfter(tr, ytext, index, ch(), {}), LOCAL)
            caret = index + 1
          } else if (kind === 'delete' || kind === 'deleteFar') {
            const from = kind === 'delete' ? Math.max(0, Math.min(caret, len) - span) : Math.min(far, Math.max(0, len - 1))
            const count = Math.min(span, len - from)
            if (count > 0) mine.transact(() => ytext.delete(from, count), LOCAL)
            caret = from
          } else if (kind === 'marker') {
            const index = Math.min(caret, len)
            mine.transact((tr) => insertAfter(tr, ytext, index, createMarker({ type: 'paragraph', attrs: {}, parents: [] })), LOCAL)
            caret = index + 1
          } else if (kind === 'format') {
            const count = Math.min(span, len - Math.min(far, len))
            if (count > 0) mine.transact(() => ytext.format(Math.min(far, len), count, { strong: {} }), LOCAL)
          } else if (kind === 'remoteInsert' || kind === 'remoteDelete') {
            Y.applyUpdate(theirs, Y.encodeStateAsUpdate(mine, Y.encodeStateVector(theirs)))
            const olen = other.length
            const where = olen > 0 ? at % (olen + 1) : 0
            if (kind === 'remoteInsert') other.insert(where, ch() + ch())
            else if (olen > 0) other.delete(Math.min(where, olen - 1), Math.min(span, olen - Math.min(where, olen - 1)))
            Y.applyUpdate(mine, Y.encodeStateAsUpdate(theirs, Y.encodeStateVector(mine)), 'remote')
            caret = Math.min(caret, ytext.length)
          } else if (kind === 'queryFar') caret = far
          caret = Math.min(caret, ytext.length)
          sameAsWalk(finder, ytext, caret)
          if (kind === 'query') sameAsWalk(finder, ytext, far)
        }
        finder.destroy()
      }),
      { seed, numRuns: RUNS },
    )
  })
})

describe('the caret an editor publishes while typing', () => {
  test('typing sends no awareness change; someone writing at the caret, Enter or a move does; others draw it at the caret', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    const [a, b] = net.editors as [NonNullable<(typeof net.editors)[0]>, NonNullable<(typeof net.editors)[1]>]
    try {
      a.setDoc(paragraphs('first line', 'second line'))
      net.flush()
      a.select(1 + 'first'.length)
      let changes = 0
      a.awareness.on('change', ({ updated }: { updated: number[] }) => {
        if (updated.includes(a.doc.clientID)) changes++
      })
      a.type(' typed words')
      expect(changes).toBe(0)
      net.flush()
      net.syncAwareness()
      expect(b.remoteCursorOf(a)).toBe(a.caret)
      // B writes right at A's caret: the unit after A's caret changes, A publishes again
      b.select(a.caret)
      b.type('BBB')
      net.flush()
      expect(changes).toBe(1)
      net.syncAwareness()
      expect(a.text).toBe('first typed wordsBBB line\nsecond line')
      expect(b.remoteCursorOf(a)).toBe(a.caret)
      a.type('!')
      expect(changes).toBe(1)
      a.enter()
      a.type('x')
      net.flush()
      net.syncAwareness()
      expect(b.remoteCursorOf(a)).toBe(a.caret)
      a.select(2)
      expect(changes).toBe(2)
    } finally {
      net.destroy()
    }
  })
})

describe('the cursor an editor publishes', () => {
  test('is the unit a walk from the start names, while it types and while someone else types', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    const [a, b] = net.editors as [NonNullable<(typeof net.editors)[0]>, NonNullable<(typeof net.editors)[1]>]
    try {
      a.setDoc(paragraphs(...Array.from({ length: 30 }, (_, i) => `paragraph ${i} with some words in it`)))
      net.flush()
      const published = (): unknown => (a.awareness.getLocalState() as Record<string, { head: unknown } | null>)[CURSOR_FIELD]?.head
      // a caret is published as the unit after it (see cursors.ts)
      const walked = (): unknown =>
        Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(a.ytext, unitsBefore(a.blocks!.doc, a.blocks!.spans, a.state.selection.head), 0))
      let checks = 0
      for (let round = 0; round < 12; round++) {
        // A moves somewhere, types a word, presses Enter now and then
        const pos = 2 + ((round * 97) % (a.state.doc.content.size - 4))
        a.view.dispatch(a.state.tr.setSelection(TextSelection.near(a.state.doc.resolve(pos))))
        expect(published()).toEqual(walked())
        for (const ch of 'word ') {
          a.type(ch)
          expect(published()).toEqual(walked())
          checks++
        }
        if (round % 3 === 0) a.enter()
        expect(published()).toEqual(walked())
        // B types far away and near A's caret; A receives it
        b.select(Math.min(b.state.doc.content.size - 1, 3 + round * 11))
        b.type('far ')
        net.flush()
        expect(published()).toEqual(walked())
        b.select(Math.min(b.state.doc.content.size - 1, a.state.selection.head))
        b.type('near')
        net.flush()
        expect(published()).toEqual(walked())
        checks++
      }
      expect(checks).toBeGreaterThan(60)
      expect(a.text).toEqual(b.text)
    } finally {
      net.destroy()
    }
  })
})
