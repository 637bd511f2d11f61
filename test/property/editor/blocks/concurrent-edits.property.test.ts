/**
 * Property test of the block layout at the Yjs level: 2–3 replicas edit one document
 * concurrently with real ProseMirror commands (typing, Enter, Backspace, delete across blocks,
 * headings, paragraph, code block, bullet/ordered list wrap, sink, lift, blockquote, bold)
 * written by pm-to-yjs, and exchange updates at random moments. Every typed character is
 * unique. Checked:
 * - every local write reads back as exactly the document the command produced (Replica);
 * - after a full sync all replicas show the same document, valid under the schema;
 * - no character appears twice, and every character no one deleted appears: no keystroke lost
 *   or doubled, whatever structure changed around it.
 * Seeded; the seeds are in the test names.
 */
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { TextSelection } from 'prosemirror-state'
import { joinBackward, lift, setBlockType, splitBlock, toggleMark, wrapIn } from 'prosemirror-commands'
import { liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { paragraphs, Replica, sync } from '../../../unit/editor/blocks/replica.ts'

const SEEDS = [20261202, 11, 12, 13, 14, 15, 16, 17]
const RUNS = 100

type Kind = 'type' | 'enter' | 'backspace' | 'deleteRange' | 'heading' | 'paragraph' | 'code' | 'bullet' | 'ordered' | 'sink' | 'lift' | 'quote' | 'unquote' | 'bold' | 'sync'
const KINDS: Kind[] = ['type', 'type', 'type', 'enter', 'enter', 'backspace', 'deleteRange', 'heading', 'paragraph', 'code', 'bullet', 'ordered', 'sink', 'lift', 'quote', 'unquote', 'bold', 'sync', 'sync']

interface Action {
  kind: Kind
  replica: number
  other: number
  at: number
  span: number
}

const actionArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.constantFrom(...KINDS),
  replica: fc.nat(2),
  other: fc.nat(2),
  at: fc.nat(10_000),
  span: fc.integer({ min: 1, max: 12 }),
})

/** Characters typed: unique code points from the CJK block. */
let next = 0x4e00
const fresh = (): string => String.fromCodePoint(next++)

/** All text positions of the replica's document (inside textblocks). */
function textPositions(r: Replica): number[] {
  const out: number[] = []
  r.pm.descendants((node, pos) => {
    if (node.isTextblock) {
      for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i)
      return false
    }
    return true
  })
  return out
}

function chars(text: string): string[] {
  return [...text].filter((c) => c.codePointAt(0)! >= 0x4e00)
}

describe.each(SEEDS)('block layout under concurrent structural edits, seed %i', (seed) => {
  test('replicas converge to one valid document; no character lost or doubled', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3 }), fc.array(actionArb, { minLength: 5, maxLength: 40 }), (n, actions) => {
        const initial = paragraphs(fresh() + fresh() + fresh(), fresh() + fresh(), fresh() + fresh() + fresh())
        const replicas = Array.from({ length: n }, (_, i) => new Replica(String.fromCharCode(65 + i), i + 1))
        replicas[0]!.seed(initial)
        sync(...replicas)
        const written = new Set(chars(initial.textContent))
        const deleted = new Set<string>()
        for (const a of actions) {
          const r = replicas[a.replica % n]!
          if (a.kind === 'sync') {
            sync(r, replicas[a.other % n]!)
            continue
          }
          const positions = textPositions(r)
          const pos = positions[a.at % positions.length]!
          const to = positions[Math.min(positions.length - 1, (a.at % positions.length) + a.span)]!
          const range = a.kind === 'deleteRange' || a.kind === 'bold' || a.kind === 'bullet' || a.kind === 'quote'
          r.state = r.state.apply(r.state.tr.setSelection(TextSelection.create(r.pm, pos, range ? Math.max(pos, to) : pos)))
          const before = r.pm
          switch (a.kind) {
            case 'type': {
              const c = fresh()
              written.add(c)
              r.type(c)
              break
            }
            case 'enter':
              r.tryRun(splitListItem(schema.nodes['list_item']!)) || r.tryRun(splitBlock)
              break
            case 'backspace':
              if (r.state.selection.$from.parentOffset > 0) {
                for (const c of chars(before.textBetween(pos - 1, pos))) deleted.add(c)
                r.dispatch(r.state.tr.delete(pos - 1, pos))
              } else r.tryRun(joinBackward)
              break
            case 'deleteRange':
              for (const c of chars(before.textBetween(r.state.selection.from, r.state.selection.to))) deleted.add(c)
              r.dispatch(r.state.tr.deleteSelection())
              break
            case 'heading':
              r.tryRun(setBlockType(schema.nodes['heading']!, { level: 1 + (a.span % 3) }))
              break
            case 'paragraph':
              r.tryRun(setBlockType(schema.nodes['paragraph']!))
              break
            case 'code':
              r.tryRun(setBlockType(schema.nodes['code_block']!))
              break
            case 'bullet':
              r.tryRun(wrapInList(schema.nodes['bullet_list']!))
              break
            case 'ordered':
              r.tryRun(wrapInList(schema.nodes['ordered_list']!))
              break
            case 'sink':
              r.tryRun(sinkListItem(schema.nodes['list_item']!))
              break
            case 'lift':
              r.tryRun(liftListItem(schema.nodes['list_item']!)) || r.tryRun(lift)
              break
            case 'quote':
              r.tryRun(wrapIn(schema.nodes['blockquote']!))
              break
            case 'unquote':
              r.tryRun(lift)
              break
            case 'bold':
              r.tryRun(toggleMark(schema.marks['strong']!))
              break
          }
          // whatever the command removed (joins and lifts remove no text; a command may delete
          // text it replaces) counts as deleted by this replica
          const after = new Set(chars(r.pm.textContent))
          for (const c of chars(before.textContent)) if (!after.has(c)) deleted.add(c)
        }
        sync(...replicas)
        const reference = replicas[0]!
        reference.pm.check()
        for (const r of replicas) {
          expect(r.pm.toJSON()).toEqual(reference.pm.toJSON())
          expect(r.ytext.toDelta().length).toBe(reference.ytext.toDelta().length)
        }
        const seen = chars(reference.pm.textContent)
        expect(new Set(seen).size).toBe(seen.length) // nothing doubled
        for (const c of written) if (!deleted.has(c)) expect(seen).toContain(c) // nothing lost
        for (const c of seen) expect(written.has(c)).toBe(true)
      }),
      { seed, numRuns: RUNS },
    )
  })
})
