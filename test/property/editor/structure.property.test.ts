/**
 * Property test of the editor binding under structure changes (issue 22): 2–4 editors with the
 * real binding press keys through the editor's own key bindings (editor/keymap.ts: Enter, which
 * splits list items, Backspace and Delete inside and across blocks, Shift-Enter, Tab and
 * Shift-Tab in lists, Mod-b/i/` marks, Shift-Ctrl-0..3 paragraph and headings, Mod-a, Mod-z and
 * Mod-Shift-z / Mod-y for undo and redo) and click its toolbar buttons (editor/toolbar.ts:
 * bullet and ordered list, blockquote, code block, link, H1); they type, move the caret, select
 * and paste slices copied from documents of paragraphs, headings, list items, quotes, code
 * blocks, rules and images (as ProseMirror's paste handler replaces the selection) — while
 * updates wait in per-link FIFO queues delivered in a random order, and editors go offline for
 * a while. Every character written (initial, typed or pasted) is a unique code point, so the
 * final document says where each one ended up. Checked:
 * - after every step (block layout): the editor that changed or received an update shows
 *   exactly its Yjs content; typing into a block with text writes no block marker; after a
 *   remote change, a writer's caret still follows the last character it typed while that is
 *   there;
 * - after everyone is back online, all editors converge to the same document, valid under the
 *   schema;
 * - nothing lost or doubled: no character appears twice, and every character that no editor's
 *   own action removed from its view appears exactly once;
 * - runs stay whole and in place: a writer's run is the character before its caret (the
 *   anchor) followed by what it typed without moving its caret. Two consecutive characters of a
 *   run (neither removed by anyone) end up in that order, and anything between them is text
 *   the writer had not seen when it typed the second (someone inserted between them; an undo
 *   or redo that brings text back writes it anew) or a block boundary someone created there;
 * - no block boundary that no one created: two characters on either side of a boundary were
 *   in different blocks (or on either side of a rule) in some editor's view after one of its
 *   own actions (or one of them was at the edge of its block facing the other, before the other
 *   existed there).
 * Seeded (seeds in the test names, EDITOR_STRUCTURE_SEED to replay one; runScenario's `log`
 * traces a scenario step by step). The same property (end-state checks) is run against stock
 * y-prosemirror, which copies text to change structure: it must fail, and
 * `npx tsx test/property/editor/structure-rates.ts` prints how often each binding fails.
 */
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { editorSchema } from '../../../editor/schema.ts'
import type { Flavor } from './headless-editor.ts'
import { runScenario, scenarioArb } from './structure-scenario.ts'

const SEEDS = process.env['EDITOR_STRUCTURE_SEED'] ? [Number(process.env['EDITOR_STRUCTURE_SEED'])] : [20261203, 21, 22, 23, 24, 25, 26, 27]
const RUNS = 100

const all = (flavor: Flavor, n: number): Flavor[] => Array(n).fill(flavor)

describe.each(SEEDS)('editor binding under structure changes (seed %i)', (seed) => {
  test('blocks: converges; nothing lost, doubled or moved; no boundary no one created', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => runScenario(s, all('blocks', s.editors))),
      { seed, numRuns: RUNS },
    )
  })
})

describe('stock y-prosemirror under the same property', () => {
  test('fails: it copies text to split, join, retype and wrap blocks (the test can fail)', () => {
    const result = fc.check(
      fc.property(scenarioArb, (s) => runScenario(s, all('stock', s.editors), undefined, false)),
      { seed: SEEDS[0], numRuns: RUNS },
    )
    expect(result.failed).toBe(true)
    expect(String(result.errorInstance)).toMatch(/lost|appears twice|run|boundary/)
  })

  test('the schema the property writes is the editor\'s own', () => {
    // Guards the test against silently checking a different document model.
    expect(Object.keys(editorSchema.nodes)).toEqual(expect.arrayContaining(['heading', 'bullet_list', 'list_item', 'blockquote', 'code_block']))
  })
})
