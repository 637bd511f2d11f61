/**
 * What the block layout costs in bytes, against a plain Y.Text doing the same: the update of one
 * typed character (what the relay forwards and stores per key) and the encoded document after a
 * typed editing history. The plain Y.Text is built in each test the same way (same client ids,
 * a `\n` where the layout has a marker), so the bounds follow Yjs, not a number written here.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { EditorState, TextSelection, type Transaction } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { BlockBinding } from '../../../../editor/blocks/binding.ts'
import { BLOCKS_TEXT, readTokens } from '../../../../editor/blocks/layout.ts'
import { fromTokens } from '../../../../editor/blocks/traversal.ts'
import { contentSeedUpdate, conversionUpdate, TREE_FRAGMENT } from '../../../../editor/blocks/convert.ts'
import { BLOCKS_SEED_CLIENT_ID, initialBlocksUpdate, initialContentUpdate, SEED_CLIENT_ID } from '../../../../editor/initial-content.ts'
import { loadTrace } from '../../../../crdt-bench/sim/traces.ts'

const LINE = 'The quick brown fox jumps over the lazy dog while tandem keeps every write. '
const PARAGRAPHS = 6
/** A typist's client id: random 32-bit ids are what browsers use. */
const TYPIST = 0x5eed_c0de

/** An editor on the block layout (the binding's plugin, as mountEditor runs it), no DOM. */
class Editor {
  state: EditorState
  readonly updates: Uint8Array[] = []

  constructor(
    readonly doc: Y.Doc,
    readonly binding = new BlockBinding(doc.getText(BLOCKS_TEXT), schema),
  ) {
    this.state = EditorState.create({ schema, doc: binding.doc, plugins: [binding.plugin()] })
    binding.attach(this)
    doc.on('update', (update: Uint8Array) => this.updates.push(update))
  }

  dispatch(tr: Transaction): void {
    const previous = this.state
    this.state = previous.apply(tr)
    this.binding.flushLocal(this.state, previous)
  }

  /** The updates `tr` produced. */
  write(tr: Transaction): Uint8Array[] {
    this.updates.length = 0
    this.dispatch(tr)
    return [...this.updates]
  }
}

/** A room seeded with `PARAGRAPHS` paragraphs of `LINE`, opened by the typist. */
function seededEditor(): Editor {
  const doc = new Y.Doc()
  doc.clientID = TYPIST
  const json = { type: 'doc' as const, content: Array.from({ length: PARAGRAPHS }, () => ({ type: 'paragraph', content: [{ type: 'text', text: LINE }] })) }
  Y.applyUpdate(doc, initialBlocksUpdate(schema, json, BLOCKS_TEXT))
  return new Editor(doc)
}

/** The same room as a plain Y.Text: the seed's client writes `\n` + line per paragraph. */
function plainRoom(): { doc: Y.Doc; text: Y.Text; updates: Uint8Array[] } {
  const seed = new Y.Doc()
  seed.clientID = BLOCKS_SEED_CLIENT_ID
  seed.getText('t').insert(0, `\n${LINE}`.repeat(PARAGRAPHS))
  const doc = new Y.Doc()
  doc.clientID = TYPIST
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(seed))
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  return { doc, text: doc.getText('t'), updates }
}

/** ProseMirror position after `offset` characters of top-level child `index`. */
function inside(doc: PMNode, index: number, offset: number): number {
  let pos = 0
  for (let i = 0; i < index; i++) pos += doc.child(i).nodeSize
  return pos + 1 + offset
}

const bytes = (updates: readonly Uint8Array[]): number => updates.reduce((n, u) => n + u.length, 0)

describe('bytes of a typed character', () => {
  // [where, paragraph, offset in it]
  const spots: [string, number, number][] = [
    ['in the middle of a paragraph', 3, 40],
    ['at the end of a paragraph (before the next marker)', 3, LINE.length],
    ['at the start of a paragraph (after its marker)', 3, 0],
    ['at the end of the last paragraph', PARAGRAPHS - 1, LINE.length],
  ]
  for (const [where, paragraph, offset] of spots) {
    test(`${where}: no more than a plain Y.Text, for the first key and the keys after it`, () => {
      const editor = seededEditor()
      const plain = plainRoom()
      const pos = inside(editor.state.doc, paragraph, offset)
      editor.dispatch(editor.state.tr.setSelection(TextSelection.create(editor.state.doc, pos)))
      // in the plain text: one `\n` and one line per paragraph before, then the `\n` of this one
      let index = paragraph * (LINE.length + 1) + 1 + offset
      for (const ch of 'abc') {
        const written = editor.write(editor.state.tr.insertText(ch))
        plain.updates.length = 0
        plain.text.insert(index++, ch)
        expect(written).toHaveLength(1)
        expect(bytes(written)).toBeLessThanOrEqual(bytes(plain.updates))
        // one item, nothing else: no formatting item, no delete set
        const { structs, ds } = Y.decodeUpdate(written[0]!)
        expect(structs).toHaveLength(1)
        expect(ds.clients.size).toBe(0)
      }
      expect(editor.state.doc.child(paragraph).textContent).toBe(LINE.slice(0, offset) + 'abc' + LINE.slice(offset))
    })
  }

  test('inside a bold run and at its end (bold kept): no more than a plain Y.Text with the same formatting', () => {
    const editor = seededEditor()
    const plain = plainRoom()
    const bold = schema.marks['strong']!.create()
    const from = inside(editor.state.doc, 2, 10)
    editor.dispatch(editor.state.tr.addMark(from, from + 20, bold))
    const start = 2 * (LINE.length + 1) + 1 + 10
    plain.text.format(start, 20, { strong: {} })
    for (const [offset, ch] of [[15, 'x'], [31, 'y']] as const) {
      const pos = inside(editor.state.doc, 2, offset)
      editor.dispatch(editor.state.tr.setSelection(TextSelection.create(editor.state.doc, pos)).setStoredMarks([bold]))
      const written = editor.write(editor.state.tr.insertText(ch))
      plain.updates.length = 0
      plain.text.insert(2 * (LINE.length + 1) + 1 + offset, ch, { strong: {} })
      expect(bytes(written)).toBeLessThanOrEqual(bytes(plain.updates))
    }
    // and both hold the same bold text
    let shown = ''
    editor.state.doc.child(2).forEach((node) => (shown += bold.isInSet(node.marks) ? node.text : ''))
    const plainBold = (plain.text.toDelta() as { insert: string; attributes?: Record<string, unknown> }[]).filter((op) => op.attributes?.['strong']).map((op) => op.insert)
    expect(shown).toBe(plainBold.join(''))
    expect(shown).toBe(`${LINE.slice(10, 15)}x${LINE.slice(15, 30)}y`)
  })

  test('Enter writes a top-level paragraph marker as one item: an empty map, no fields', () => {
    const editor = seededEditor()
    const pos = inside(editor.state.doc, 1, 30)
    const written = editor.write(editor.state.tr.split(pos))
    expect(written).toHaveLength(1)
    const { structs } = Y.decodeUpdate(written[0]!)
    expect(structs).toHaveLength(1)
    const marker = structs[0] as Y.Item
    expect(marker.content).toBeInstanceOf(Y.ContentType)
    expect(editor.state.doc.childCount).toBe(PARAGRAPHS + 1)
  })
})

describe('encoded size of a typed history', () => {
  test('automerge-paper’s first 3,000 edits typed through the binding: within 1.3x a plain Y.Text (both with an undo manager)', () => {
    const trace = loadTrace('automerge-paper')
    const txns = trace.txns.slice(0, 3000)
    const doc = new Y.Doc()
    doc.clientID = 1
    const editor = new Editor(doc)
    // plain-text offset → ProseMirror position: blocks are the lines
    const posOf = (offset: number): number => {
      const d = editor.state.doc
      let pos = 0
      let rest = offset
      for (let i = 0; i < d.childCount; i++) {
        const len = d.child(i).content.size
        if (rest <= len) return pos + 1 + rest
        rest -= len + 1
        pos += d.child(i).nodeSize
      }
      throw new RangeError(`offset ${offset} past the end`)
    }
    const plainDoc = new Y.Doc()
    plainDoc.clientID = 1
    const plain = plainDoc.getText('t')
    // the binding keeps an undo manager, which keeps deleted text for undo: so does this one
    const undo = new Y.UndoManager(plain)
    let newlines = 0
    for (const txn of txns) {
      for (const [pos, del, ins] of txn.patches) {
        plainDoc.transact(() => {
          if (del > 0) plain.delete(pos, del)
          if (ins.length > 0) plain.insert(pos, ins)
        })
        const tr = editor.state.tr
        const from = posOf(pos)
        if (del > 0) tr.delete(from, posOf(pos + del))
        if (ins === '\n') {
          tr.split(from)
          newlines++
        } else if (ins.length > 0) tr.insertText(ins, from)
        editor.dispatch(tr)
      }
    }
    const d = editor.state.doc
    expect(d.textBetween(0, d.content.size, '\n')).toBe(plain.toString())
    expect(newlines).toBeGreaterThan(40)
    const blocks = Y.encodeStateAsUpdate(doc).length
    const reference = Y.encodeStateAsUpdate(plainDoc).length
    // with three map fields per marker (before) this was 1.93x; with empty-map markers 1.17x
    expect(blocks / reference).toBeLessThan(1.3)
    undo.destroy()
  })
})

describe('seeds of the earlier marker encoding (three fields per marker)', () => {
  test('an empty room’s first marker written by an earlier version and by this one merge into one marker, in either order', () => {
    const empty = schema.topNodeType.create(null, schema.nodes['paragraph']!.create())
    const now = contentSeedUpdate(empty)
    const client = [...Y.decodeStateVector(Y.encodeStateVectorFromUpdate(now)).keys()][0]!
    // what the earlier version wrote: the same map, its three fields set
    const earlierDoc = new Y.Doc({ gc: false })
    earlierDoc.clientID = client
    const marker = new Y.Map<unknown>()
    marker.set('type', 'paragraph')
    marker.set('attrs', {})
    marker.set('parents', [])
    earlierDoc.getText(BLOCKS_TEXT).applyDelta([{ insert: marker }])
    const earlier = Y.encodeStateAsUpdate(earlierDoc)
    const replicas = [[now, earlier], [earlier, now]].map((order) => {
      const doc = new Y.Doc()
      for (const update of order) Y.applyUpdate(doc, update)
      return doc
    })
    for (const doc of replicas) {
      const ytext = doc.getText(BLOCKS_TEXT)
      expect(ytext.length).toBe(1)
      expect(fromTokens(schema, readTokens(ytext)).doc.eq(empty)).toBe(true)
    }
    expect(Y.encodeStateAsUpdate(replicas[0]!)).toEqual(Y.encodeStateAsUpdate(replicas[1]!))
  })

  test('initial content and conversions are written under other client ids than the earlier version’s', () => {
    const json = { type: 'doc' as const, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'hi' }] }] }
    const clients = (update: Uint8Array): number[] => [...Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)).keys()]
    expect(clients(initialBlocksUpdate(schema, json, BLOCKS_TEXT))).toEqual([BLOCKS_SEED_CLIENT_ID])
    expect(BLOCKS_SEED_CLIENT_ID).not.toBe(SEED_CLIENT_ID)
    const room = new Y.Doc()
    Y.applyUpdate(room, initialContentUpdate(schema, json, TREE_FRAGMENT))
    const conversion = conversionUpdate(room, schema)!
    expect(clients(conversion)).not.toEqual(clients(contentSeedUpdate(schema.nodeFromJSON(json))))
  })
})
