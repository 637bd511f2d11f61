/**
 * Two people typing into a brand-new room at once (or offline): the empty document's one
 * paragraph is one block for both. The binding writes an empty room's first marker with a
 * content-derived client id before the first local write, so both replicas write the same
 * marker and Yjs keeps one; without it each wrote its own and the room split into two
 * paragraphs no one created (found by the structure property).
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { connectedEditors } from '../../../property/editor/headless-editor.ts'

describe('an empty room', () => {
  test('two editors typing into it at once end up in one paragraph', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors
      a!.type('alpha')
      b!.type('beta')
      net.flush()
      expect(a!.state.doc.childCount).toBe(1)
      expect(b!.state.doc.eq(a!.state.doc)).toBe(true)
      expect(a!.text).toMatch(/^(alphabeta|betaalpha)$/)
    } finally {
      net.destroy()
    }
  })

  test('a heading and a paragraph typed into it at once: one block, one type wins', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors
      a!.type('x')
      b!.view.dispatch(b!.state.tr.setBlockType(1, 1, b!.state.schema.nodes['heading']!, { level: 1 }))
      net.flush()
      expect(a!.state.doc.childCount).toBe(1)
      expect(b!.state.doc.eq(a!.state.doc)).toBe(true)
    } finally {
      net.destroy()
    }
  })

  test('undo of the first typing leaves the shared marker (undo never removes what others may type into)', () => {
    const net = connectedEditors(2, ['blocks', 'blocks'])
    try {
      const [a, b] = net.editors
      a!.type('a')
      net.flush()
      b!.type('b')
      a!.undo()
      net.flush()
      expect(a!.text).toBe('b')
      expect(a!.state.doc.childCount).toBe(1)
      const markers = a!.ytext.toDelta().filter((op: { insert: unknown }) => op.insert instanceof Y.Map).length
      expect(markers).toBe(1)
    } finally {
      net.destroy()
    }
  })
})
