/**
 * Property tests of the tree ↔ flat traversal of the block layout: every valid document
 * survives the round trip (tokens, and tokens written into a Y.Text and read back), and any
 * token sequence at all reads as a valid document, deterministically, with spans that account
 * for every unit. Seeded (seeds in the test names).
 */
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { appendTokens, readTokens, tokenLength } from '../../../../editor/blocks/layout.ts'
import { flatIndex, flatSize, fromTokens, toTokens } from '../../../../editor/blocks/traversal.ts'
import { documentArb, tokensArb } from './documents.ts'

const SEEDS = [20261202, 1, 2, 3, 4, 5, 6, 7]
const RUNS = 100
const idOf = (_node: unknown, pos: number): string => `c${pos}`

describe.each(SEEDS)('block traversal, seed %i', (seed) => {
  test('a document → tokens → document is the same document', () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        doc.check()
        const tokens = toTokens(doc, idOf)
        const { doc: back, spans } = fromTokens(schema, tokens)
        expect(back.toJSON()).toEqual(doc.toJSON())
        expect(spans).toEqual(Array.from({ length: doc.childCount }, (_, i) => flatSize(doc.child(i))))
      }),
      { seed, numRuns: RUNS },
    )
  })

  test('a document written into a Y.Text reads back the same, one unit per flat unit', () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        const ydoc = new Y.Doc()
        const ytext = ydoc.getText('blocks')
        appendTokens(ytext, toTokens(doc, idOf))
        expect(ytext.length).toBe(flatSize(doc))
        const { doc: back } = fromTokens(schema, readTokens(ytext))
        expect(back.toJSON()).toEqual(doc.toJSON())
        // a second client gets the same document from the update
        const other = new Y.Doc()
        Y.applyUpdate(other, Y.encodeStateAsUpdate(ydoc))
        expect(fromTokens(schema, readTokens(other.getText('blocks'))).doc.toJSON()).toEqual(doc.toJSON())
      }),
      { seed, numRuns: RUNS },
    )
  })

  test('flatIndex is monotonic and ends at the flat size', () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        let previous = 0
        for (let pos = 0; pos <= doc.content.size; pos++) {
          const index = flatIndex(doc, pos)
          expect(index).toBeGreaterThanOrEqual(previous)
          previous = index
        }
        expect(flatIndex(doc, doc.content.size)).toBe(flatSize(doc))
        // counting from a top-level child gives the same index, less the units before that child
        let childPos = 0
        for (let k = 0; k < doc.childCount; k++) {
          const base = flatIndex(doc, childPos)
          for (let pos = childPos; pos <= doc.content.size; pos += 3) expect(flatIndex(doc, pos, k, childPos)).toBe(flatIndex(doc, pos) - base)
          childPos += doc.child(k).nodeSize
        }
        doc.descendants((node, pos) => {
          if (node.isTextblock) {
            // the marker sits between the position before the block and its content start
            expect(flatIndex(doc, pos + 1)).toBe(flatIndex(doc, pos) + 1)
          }
        })
      }),
      { seed, numRuns: RUNS },
    )
  })

  test('any token sequence reads as a valid document, deterministically, with every unit in a span', () => {
    fc.assert(
      fc.property(tokensArb, (tokens) => {
        const { doc, spans } = fromTokens(schema, tokens)
        doc.check()
        expect(spans.length).toBe(doc.childCount)
        expect(spans.reduce((a, b) => a + b, 0)).toBe(tokens.reduce((n, t) => n + tokenLength(t), 0))
        expect(fromTokens(schema, structuredClone(tokens)).doc.eq(doc)).toBe(true)
      }),
      { seed, numRuns: RUNS },
    )
  })
})
