import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { yXmlFragmentToProsemirrorJSON } from 'y-prosemirror'
import { editorSchema, initialContentUpdate, SEED_CLIENT_ID } from '../../editor/index.ts'

const CONTENT = {
  type: 'doc' as const,
  content: [
    { type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Hello' }] },
    { type: 'paragraph', content: [{ type: 'text', marks: [{ type: 'strong' }], text: 'bold' }, { type: 'text', text: ' words' }] },
  ],
}

const text = (doc: Y.Doc): string => doc.getXmlFragment('prosemirror').toString()

describe('editor initial content', () => {
  test('is byte-identical on every call, written by the fixed seed client', () => {
    const a = initialContentUpdate(editorSchema, CONTENT, 'prosemirror')
    const b = initialContentUpdate(editorSchema, CONTENT, 'prosemirror')
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, a)
    expect([...Y.decodeStateVector(Y.encodeStateVector(doc)).keys()]).toEqual([SEED_CLIENT_ID])
    expect(yXmlFragmentToProsemirrorJSON(doc.getXmlFragment('prosemirror'))).toMatchObject({ type: 'doc' })
  })

  test('two tabs seeding an empty room at the same moment produce the text once', () => {
    const tabA = new Y.Doc()
    const tabB = new Y.Doc()
    Y.applyUpdate(tabA, initialContentUpdate(editorSchema, CONTENT, 'prosemirror'))
    Y.applyUpdate(tabB, initialContentUpdate(editorSchema, CONTENT, 'prosemirror'))
    // Both tabs also typed something before hearing from each other.
    tabA.getXmlFragment('prosemirror').insert(0, [new Y.XmlText('A ')])
    tabB.getXmlFragment('prosemirror').insert(0, [new Y.XmlText('B ')])
    Y.applyUpdate(tabA, Y.encodeStateAsUpdate(tabB))
    Y.applyUpdate(tabB, Y.encodeStateAsUpdate(tabA))
    expect(text(tabA)).toBe(text(tabB))
    expect(text(tabA).match(/Hello/g)).toHaveLength(1)
    expect(text(tabA).match(/words/g)).toHaveLength(1)
  })

  test('re-applying the seed after the text was deleted does not bring it back', () => {
    const doc = new Y.Doc()
    const seed = initialContentUpdate(editorSchema, CONTENT, 'prosemirror')
    Y.applyUpdate(doc, seed)
    const fragment = doc.getXmlFragment('prosemirror')
    fragment.delete(0, fragment.length)
    Y.applyUpdate(doc, seed)
    expect(fragment.length).toBe(0)
  })

  test('plain text becomes one paragraph per line', () => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, initialContentUpdate(editorSchema, 'one\ntwo', 'prosemirror'))
    expect(text(doc)).toBe('<paragraph>one</paragraph><paragraph>two</paragraph>')
  })
})
