/**
 * The work of a keystroke grows with the change, not with the document (issue 22): the items of
 * the Y.Text that the binding's walks step over for a typed key, a Backspace and a remote key are
 * counted (`BlockStarts.visited`, `editor/blocks/block-starts.ts`) in a 1k- and a 100k-character
 * document and must be the same handful in both; a walk from the start of the text would step over
 * a hundred times more in the larger one. No timing: counts only. Also checked: no one computes
 * the Y.Text event's `delta` for a remote key (Yjs walks the whole text to make it), and Yjs's
 * search markers stay true (each at the index of its item), so its own lookups need not restart
 * from the start of the text.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { EditorState, TextSelection } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema } from '../../../../editor/schema.ts'
import { BlockBinding } from '../../../../editor/blocks/binding.ts'
import { blockCursorsPlugin } from '../../../../editor/blocks/cursors.ts'
import { BLOCKS_TEXT, readTokens } from '../../../../editor/blocks/layout.ts'
import { fromTokens } from '../../../../editor/blocks/traversal.ts'
import { initialBlocksUpdate } from '../../../../editor/initial-content.ts'
import { HeadlessView } from '../../../fixtures/headless-view.ts'

const LINE = 'The quick brown fox jumps over the lazy dog while tandem keeps every write. '.repeat(2).slice(0, 100)

/** An editor on a `chars`-character room of 100-character paragraphs, with the binding and cursors. */
function editor(chars: number, clientID: number): { doc: Y.Doc; binding: BlockBinding; view: HeadlessView } {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const json = { type: 'doc' as const, content: Array.from({ length: chars / 100 }, () => ({ type: 'paragraph', content: [{ type: 'text', text: LINE }] })) }
  Y.applyUpdate(doc, initialBlocksUpdate(editorSchema, json, BLOCKS_TEXT))
  const binding = new BlockBinding(doc.getText(BLOCKS_TEXT), editorSchema)
  const awareness = new Awareness(doc)
  const view = new HeadlessView(EditorState.create({ schema: editorSchema, doc: binding.doc, plugins: [binding.plugin(), blockCursorsPlugin(awareness)] }))
  return { doc, binding, view }
}

/** Position after `offset` characters of top-level child `index`. */
function inside(doc: PMNode, index: number, offset: number): number {
  let pos = 0
  for (let i = 0; i < index; i++) pos += doc.child(i).nodeSize
  return pos + 1 + offset
}

/** Yjs's search markers of `ytext` that do not sit at the index of their item. */
function wrongSearchMarkers(ytext: Y.Text): number {
  const markers = (ytext as unknown as { _searchMarker: { p: Y.Item; index: number }[] })._searchMarker
  let wrong = 0
  for (const m of markers) {
    let index = 0
    for (let n = ytext._start; n !== null && n !== m.p; n = n.right) if (!n.deleted && n.countable) index += n.length
    if (index !== m.index) wrong++
  }
  return wrong
}

/** Items walked per typed key, per Backspace and per remote key (after one of each to warm up). */
function work(chars: number): { typed: number; backspace: number; remote: number; deltas: number; wrongMarkers: number } {
  const me = editor(chars, 1)
  const them = editor(chars, 2)
  const middle = Math.floor(me.view.state.doc.childCount / 2)
  me.view.dispatch(me.view.state.tr.setSelection(TextSelection.create(me.view.state.doc, inside(me.view.state.doc, middle, 100))))
  const third = Math.floor(them.view.state.doc.childCount / 3)
  const updates: Uint8Array[] = []
  them.doc.on('update', (u: Uint8Array) => updates.push(u))
  let deltas = 0
  me.binding.ytext.observeDeep((events) => {
    // after the binding's own observer: was the delta computed (a walk over the whole text)?
    for (const e of events) if ((e as unknown as { _delta: unknown })._delta !== null) deltas++
  })
  const perKey = (keys: number, key: (i: number) => void): number => {
    key(-1) // the first walks to the change once and notes where the nodes start
    const before = me.binding.starts.visited
    for (let i = 0; i < keys; i++) key(i)
    return (me.binding.starts.visited - before) / keys
  }
  // remote keys first: this caret's node is one no walk has passed yet
  const remote = perKey(10, (i) => {
    updates.length = 0
    them.view.dispatch(them.view.state.tr.insertText('y', inside(them.view.state.doc, third, 20 + i)))
    for (const u of updates) Y.applyUpdate(me.doc, u, 'remote')
  })
  const typed = perKey(10, () => me.view.dispatch(me.view.state.tr.insertText('x')))
  const backspace = perKey(5, () => me.view.dispatch(me.view.state.tr.delete(me.view.state.selection.from - 1, me.view.state.selection.from)))
  // the keystrokes arrived and read back
  const back = fromTokens(editorSchema, readTokens(me.binding.ytext)).doc
  expect(back.eq(me.view.state.doc)).toBe(true)
  expect(me.view.state.doc.child(middle).textContent).toBe(LINE + 'x'.repeat(5))
  expect(me.view.state.doc.child(third).textContent.slice(19, 30)).toBe('y'.repeat(11))
  expect(me.binding.starts.verify(me.binding.spans)).toBe(null)
  // a Backspace after the remote keys (Yjs dropped its markers with them): the walk starts nearby
  perKey(1, () => me.view.dispatch(me.view.state.tr.delete(me.view.state.selection.from - 1, me.view.state.selection.from)))
  return { typed, backspace, remote, deltas, wrongMarkers: wrongSearchMarkers(me.binding.ytext) }
}

describe('the work of a keystroke does not grow with the document', () => {
  test('typed keys, Backspace and remote keys walk the same few items at 1k and at 100k characters', () => {
    const small = work(1_000)
    const large = work(100_000)
    // a walk from the start of the text to the middle of the 100k document steps over ≥ 1,000
    // items (a marker and a text run per paragraph); the binding's walks cover a node or two
    for (const key of ['typed', 'backspace', 'remote'] as const) {
      expect(large[key], key).toBeLessThan(100)
      expect(large[key], key).toBeLessThanOrEqual(small[key] + 10)
      expect(large[key], key).toBeGreaterThan(0)
    }
    expect(large.deltas).toBe(0)
    expect(small.deltas).toBe(0)
    expect(large.wrongMarkers).toBe(0)
  })
})
