/**
 * The toolbar skips recomputing its buttons when `sameButtonContext` says nothing they read
 * changed (a caret in the same textblock, every node around it the same, the same marks). That
 * must never hide a change: over random documents, carets and transactions (typing at the caret
 * or elsewhere, deleting, retyping or wrapping other blocks, stored marks, moving the caret,
 * marking text around it), whenever the check says "same", running every button's command in
 * both states gives the same buttons. And it must say "same" for what it is for: a character
 * typed at the caret. Seeded (seeds in the test names).
 */
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { EditorState, TextSelection, type Transaction } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { wrapIn } from 'prosemirror-commands'
import { editorSchema as schema } from '../../../editor/schema.ts'
import { buildItems, buttonState, sameButtonContext } from '../../../editor/toolbar.ts'
import { documentArb } from '../../property/editor/blocks/documents.ts'

const SEEDS = [20261203, 31, 32, 33]
const RUNS = 150
const ITEMS = buildItems(schema).filter((item) => !item.history)

type Kind = 'typeHere' | 'typeElsewhere' | 'deleteHere' | 'deleteElsewhere' | 'headingElsewhere' | 'headingHere' | 'wrapElsewhere' | 'storedBold' | 'move' | 'boldAround'
const KINDS: Kind[] = ['typeHere', 'typeHere', 'typeElsewhere', 'deleteHere', 'deleteElsewhere', 'headingElsewhere', 'headingHere', 'wrapElsewhere', 'storedBold', 'move', 'boldAround']

/** Every position inside a textblock's content. */
function textPositions(doc: PMNode): number[] {
  const out: number[] = []
  doc.descendants((node, pos) => {
    if (node.isTextblock) {
      for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i)
      return false
    }
    return true
  })
  return out
}

function transaction(state: EditorState, kind: Kind, other: number): Transaction | null {
  const tr = state.tr
  const caret = state.selection.from
  const $other = state.doc.resolve(other)
  switch (kind) {
    case 'typeHere':
      return tr.insertText('x')
    case 'typeElsewhere':
      return tr.insertText('y', other)
    case 'deleteHere':
      return caret > state.selection.$from.start() ? tr.delete(caret - 1, caret) : null
    case 'deleteElsewhere':
      return other > $other.start() ? tr.delete(other - 1, other) : null
    case 'headingElsewhere':
    case 'headingHere': {
      const $at = kind === 'headingHere' ? state.selection.$from : $other
      const block = $at.parent
      if (!block.isTextblock) return null
      const pos = $at.before()
      const index = $at.index($at.depth - 1)
      if (!$at.node($at.depth - 1).canReplaceWith(index, index + 1, schema.nodes['heading']!)) return null
      return tr.setNodeMarkup(pos, schema.nodes['heading'], { level: 2 })
    }
    case 'wrapElsewhere': {
      const range = $other.blockRange()
      if (!range) return null
      let wrapped: Transaction | null = null
      wrapIn(schema.nodes['blockquote']!)(state.apply(tr.setSelection(TextSelection.create(state.doc, other))), (t) => (wrapped = t))
      // the wrap ran with the caret moved; put it back where it was (mapped)
      return wrapped ? (wrapped as Transaction).setSelection(TextSelection.create((wrapped as Transaction).doc, (wrapped as Transaction).mapping.map(caret))) : null
    }
    case 'storedBold':
      return tr.setStoredMarks([schema.marks['strong']!.create()])
    case 'move':
      return tr.setSelection(TextSelection.create(state.doc, other))
    case 'boldAround': {
      const from = Math.max(state.selection.$from.start(), caret - 2)
      const to = Math.min(state.selection.$from.end(), caret + 2)
      return from < to ? tr.addMark(from, to, schema.marks['strong']!.create()) : null
    }
  }
}

describe.each(SEEDS)('toolbar context check, seed %i', (seed) => {
  test('when it says the buttons cannot have changed, running their commands agrees', () => {
    let typedSame = 0
    let typed = 0
    fc.assert(
      fc.property(documentArb, fc.nat(10_000), fc.array(fc.tuple(fc.constantFrom(...KINDS), fc.nat(10_000)), { minLength: 1, maxLength: 8 }), (doc, at, steps) => {
        const carets = textPositions(doc)
        if (carets.length === 0) return
        let state = EditorState.create({ schema, doc, selection: TextSelection.create(doc, carets[at % carets.length]!) })
        for (const [kind, where] of steps) {
          const positions = textPositions(state.doc)
          const tr = transaction(state, kind, positions[where % positions.length]!)
          if (!tr) continue
          const next = state.apply(tr)
          const same = sameButtonContext(state, next)
          if (kind === 'typeHere') {
            typed++
            if (same) typedSame++
          }
          if (same) {
            for (const item of ITEMS) expect([item.id, buttonState(item, next, true)]).toEqual([item.id, buttonState(item, state, true)])
          }
          state = next
        }
      }),
      { seed, numRuns: RUNS },
    )
    // typing at a caret keeps the buttons (unless the caret's marks change, e.g. at a mark's edge)
    expect(typedSame).toBeGreaterThan(typed * 0.5)
  })
})
