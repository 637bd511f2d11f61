/**
 * Property test of the editor binding: 2–4 editors type concurrently at random shared
 * positions, with updates delivered after random delays (FIFO per link). Besides typing they
 * press Backspace, press Enter (at the end or in the middle of a block), toggle bold at the
 * caret and move their caret. Every typed character is unique, so the final text says exactly
 * where each keystroke ended up. Checked:
 * - all editors converge: same text, same Yjs fragment, each view shows exactly its fragment;
 * - nothing lost or duplicated: every character (initial or typed) appears at most once, and
 *   every one nobody deleted appears. Except: text moved by two Enters pressed at once in one
 *   block (before they saw each other's) may appear twice. Each Enter moves the text after it
 *   by deleting and re-writing it (y-prosemirror's layout, see below), and two re-writes of the
 *   same text are two copies; stock y-prosemirror does the same;
 * - every editor draws every other editor's cursor where that editor's caret is;
 * - a character is typed bold exactly when its writer's bold is on: turned on or off with
 *   Mod-b since the caret last moved (and kept across the others' changes), else inherited
 *   from where the caret is;
 * - every run typed by one editor without moving its caret (Backspace and Enter move it) is
 *   contiguous. Not checked between two characters of a run where
 *   - one of them was deleted (by anyone: the run is cut there),
 *   - the first is a character some editor explicitly put its caret behind (a click there, or a
 *     Backspace that left the caret there): typing there is meant to split the run; so is a
 *     character a caret ended up behind when the one it stuck to was deleted or moved,
 *   - the first was moved to a new block by someone's Enter: y-prosemirror's layout moves the
 *     text after a split by deleting it and writing it anew, so a caret that stuck to it loses
 *     its place (a known limit of the layout, kept for interop).
 * Seeded; the seeds are in the test names (override with EDITOR_PROPERTY_SEED). The same
 * property is shown to fail on stock y-prosemirror, and an interop run mixes both bindings in
 * one room.
 */
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { editorSchema } from '../../../editor/schema.ts'
import { connectedEditors, paragraphs, type Flavor, type HeadlessEditor, type Network } from './headless-editor.ts'

const SEEDS = process.env['EDITOR_PROPERTY_SEED']
  ? [Number(process.env['EDITOR_PROPERTY_SEED'])]
  : [20261124, 1, 2, 3, 4, 5, 6, 7]
const RUNS = 100

type Action =
  | { kind: 'type'; editor: number }
  | { kind: 'deliver'; link: number; count: number }
  | { kind: 'moveToOther'; editor: number; other: number }
  | { kind: 'moveRandom'; editor: number; pick: number }
  | { kind: 'bold'; editor: number }
  | { kind: 'enter'; editor: number }
  | { kind: 'backspace'; editor: number }

interface Scenario {
  editors: number
  initial: number[]
  actions: Action[]
}

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('type' as const), editor: fc.nat(3) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), link: fc.nat(11), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('moveToOther' as const), editor: fc.nat(3), other: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('moveRandom' as const), editor: fc.nat(3), pick: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bold' as const), editor: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('enter' as const), editor: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('backspace' as const), editor: fc.nat(3) }) },
)

const scenario: fc.Arbitrary<Scenario> = fc.record({
  editors: fc.integer({ min: 2, max: 4 }),
  initial: fc.array(fc.nat(6), { minLength: 1, maxLength: 3 }),
  actions: fc.array(action, { minLength: 10, maxLength: 120 }),
})

/** Positions inside textblocks of `editor`'s document. */
function textPositions(editor: HeadlessEditor): number[] {
  const out: number[] = []
  editor.state.doc.descendants((node, pos) => {
    if (node.isTextblock) for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i)
    return !node.isTextblock
  })
  return out
}

/** The character right before `pos` inside its textblock, or null at a block start. */
function charBefore(editor: HeadlessEditor, pos: number): string | null {
  const $pos = editor.state.doc.resolve(pos)
  return $pos.parentOffset > 0 ? editor.state.doc.textBetween(pos - 1, pos) : null
}

interface Outcome {
  text: string
  runs: string[][]
  /** Characters some editor explicitly put its caret behind. */
  anchors: Set<string>
  /** Every character written: the initial text, then each keystroke. */
  written: string[]
  /** Characters deleted by a Backspace (in the view of the editor that pressed it). */
  deleted: Set<string>
  /** Characters moved to a new block by an Enter before them: how many times. */
  moved: Map<string, number>
}

/** Runs a scenario; returns the converged text and what each editor typed. */
function execute(s: Scenario, flavors: Flavor[]): Outcome {
  const net: Network = connectedEditors(s.editors, flavors)
  try {
    const editors = net.editors
    let next = 0x4e00
    const fresh = (): string => String.fromCodePoint(next++)
    const initial = s.initial.map((len) => Array.from({ length: len }, fresh).join(''))
    editors[0]!.setDoc(paragraphs(...initial))
    net.flush()
    const runs: string[][] = []
    const current: string[][] = editors.map(() => [])
    const anchors = new Set<string>()
    const written: string[] = initial.flatMap((t) => [...t])
    const deleted = new Set<string>()
    const moved = new Map<string, number>()
    const strong = editorSchema.marks['strong']!
    /** Whether the next character `editor` types will be bold (stored marks, else the caret's). */
    const typesBold = (editor: HeadlessEditor): boolean =>
      strong.isInSet(editor.state.storedMarks ?? editor.state.selection.$from.marks()) !== undefined
    /** Bold turned on (true) or off (false) by each editor since its caret last moved. */
    const boldMode: (boolean | null)[] = editors.map(() => null)
    const endRun = (e: number): void => {
      if (current[e]!.length > 1) runs.push(current[e]!)
      current[e] = []
    }
    /** The character each editor's caret sticks to (the one before it), null at a block start. */
    const leaning: (string | null)[] = editors.map(() => null)
    const moveTo = (e: number, pos: number): void => {
      const editor = editors[e]!
      endRun(e)
      editor.select(pos)
      const before = charBefore(editor, pos)
      if (before !== null) anchors.add(before)
      leaning[e] = before
      boldMode[e] = null
    }
    /**
     * After a remote change: if the character editor `e`'s caret stuck to is gone from its view
     * (deleted, or moved by an Enter), the caret went somewhere else without its user moving
     * it; the character it is behind now counts as one it was put behind.
     */
    const lostItsPlace = (e: number): void => {
      const editor = editors[e]!
      const before = charBefore(editor, editor.caret)
      const was = leaning[e]!
      if (before !== was && was !== null && (!editor.text.includes(was) || moved.has(was)) && before !== null) anchors.add(before)
      leaning[e] = before
    }
    // Carets start at one shared spot: the end of the first paragraph.
    const start = editors[0]!.state.doc.child(0).nodeSize - 1
    editors.forEach((_, e) => moveTo(e, start))

    for (const a of s.actions) {
      if (a.kind === 'deliver') {
        const links = net.pending()
        const link = links[a.link % Math.max(1, links.length)]
        if (link) for (let i = 0; i < a.count; i++) net.deliver(link[0], link[1])
        if (link) lostItsPlace(link[1])
        continue
      }
      const e = a.editor % s.editors
      const editor = editors[e]!
      if (a.kind === 'type') {
        const ch = fresh()
        const expectBold = boldMode[e] ?? typesBold(editor)
        editor.type(ch)
        const isBold = editor.state.doc.rangeHasMark(editor.caret - 1, editor.caret, strong)
        // Stock y-prosemirror drops a pending bold on every remote change; tandem keeps it.
        if (isBold !== expectBold && editor.flavor !== 'stock') throw new Error(`${editor.name} typed U+${ch.codePointAt(0)!.toString(16)} ${isBold ? 'bold' : 'plain'}, its bold was ${expectBold ? 'on' : 'off'}`)
        current[e]!.push(ch)
        written.push(ch)
        leaning[e] = ch
      } else if (a.kind === 'moveToOther') {
        const other = editors[a.other % s.editors]!
        const pos = editor.resolve(other.stickyCaret())
        if (pos !== null && editor.state.doc.resolve(pos).parent.isTextblock) moveTo(e, pos)
      } else if (a.kind === 'moveRandom') {
        const positions = textPositions(editor)
        moveTo(e, positions[a.pick % positions.length]!)
      } else if (a.kind === 'bold') {
        const marks = editor.state.storedMarks ?? editor.state.selection.$from.marks()
        editor.setStoredMarks(strong.isInSet(marks) ? strong.removeFromSet(marks) : strong.create().addToSet(marks))
        boldMode[e] = typesBold(editor)
      } else if (a.kind === 'enter') {
        const $caret = editor.state.selection.$head
        for (const ch of $caret.parent.textBetween($caret.parentOffset, $caret.parent.content.size)) moved.set(ch, (moved.get(ch) ?? 0) + 1)
        endRun(e)
        editor.enter()
        leaning[e] = null
        // ProseMirror decides what a new block types (Enter keeps the marks only if there were any).
        boldMode[e] = null
      } else if (a.kind === 'backspace') {
        const caret = editor.caret
        const gone = charBefore(editor, caret)
        // Inside a block only: joining two blocks moves a whole block's text the same way a
        // split does, and text typed into the removed block meanwhile would be lost with it.
        if (gone !== null) {
          editor.view.dispatch(editor.state.tr.delete(caret - 1, caret))
          deleted.add(gone)
          moveTo(e, editor.caret)
        }
      }
    }
    editors.forEach((_, e) => endRun(e))
    net.flush()

    const text = editors[0]!.text
    const xml = editors[0]!.layoutString
    for (const editor of editors) {
      if (editor.text !== text) throw new Error(`${editor.name} has ${JSON.stringify(editor.text)}, A has ${JSON.stringify(text)}`)
      if (editor.layoutString !== xml) throw new Error(`${editor.name}'s fragment differs`)
      if (!editor.state.doc.eq(editor.fragmentDoc())) throw new Error(`${editor.name}'s view does not show its fragment`)
    }
    // Everyone draws everyone else's cursor where its owner's caret is.
    net.syncAwareness()
    for (const viewer of editors) {
      for (const owner of editors) {
        if (viewer === owner || owner.flavor === 'stock') continue
        const drawn = viewer.remoteCursorOf(owner)
        if (drawn !== owner.caret) throw new Error(`${viewer.name} draws ${owner.name}'s cursor at ${drawn}, its caret is at ${owner.caret}`)
      }
    }
    // The block layout never moves text to split a block: nothing may appear twice, and a caret
    // keeps its place across a split.
    const strict = flavors.every((f) => f === 'blocks')
    return { text, runs, anchors, written, deleted, moved: strict ? new Map() : moved }
  } finally {
    net.destroy()
  }
}

/** Throws unless nothing is lost or duplicated and every run is whole (see the module comment). */
function checkRuns({ text, runs, anchors, written, deleted, moved }: Outcome): void {
  const name = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16)}`
  const index = new Map<string, number>()
  ;[...text].forEach((ch, i) => {
    if (ch === '\n') return
    if (index.has(ch) && (moved.get(ch) ?? 0) < 2) throw new Error(`character ${name(ch)} appears twice`)
    index.set(ch, i)
  })
  for (const ch of written) if (!index.has(ch) && !deleted.has(ch)) throw new Error(`character ${name(ch)} lost`)
  const chars = [...text]
  for (const run of runs) {
    for (let i = 0; i + 1 < run.length; i++) {
      const [first, second] = [run[i]!, run[i + 1]!]
      if (deleted.has(first) || deleted.has(second) || anchors.has(first) || moved.has(first) || (moved.get(second) ?? 0) > 1) continue
      const here = index.get(first)!
      const there = index.get(second)!
      if (there !== here + 1) {
        const context = chars.slice(Math.max(0, Math.min(here, there) - 3), Math.max(here, there) + 4).join('')
        throw new Error(`run split between its characters ${i} and ${i + 1}: …${JSON.stringify(context)}…`)
      }
    }
  }
}

describe.each(SEEDS)('editor binding, concurrent typing at shared spots (seed %i)', (seed) => {
  test.each(['blocks', 'tandem'] as const)('%s: converges, loses and doubles nothing, and keeps every run typed without moving the caret contiguous', (flavor) => {
    fc.assert(
      fc.property(scenario, (s) => checkRuns(execute(s, Array(s.editors).fill(flavor)))),
      { seed, numRuns: RUNS },
    )
  })
})

describe(`stock y-prosemirror and interop (seed ${SEEDS[0]})`, () => {
  test('the same property fails on stock y-prosemirror (the test can fail)', () => {
    const result = fc.check(
      fc.property(scenario, (s) => checkRuns(execute(s, Array(s.editors).fill('stock')))),
      { seed: SEEDS[0], numRuns: RUNS },
    )
    expect(result.failed).toBe(true)
    expect(String(result.errorInstance)).toMatch(/run split/)
  })

  test('interop: tandem editors and stock y-prosemirror editors in one room converge, nothing lost or doubled', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (s, stock) => {
        const flavors: Flavor[] = stock.map((b, i) => (i === 0 ? 'tandem' : i === 1 ? 'stock' : b ? 'stock' : 'tandem'))
        const outcome = execute(s, flavors)
        checkRuns({ ...outcome, runs: [] })
      }),
      { seed: SEEDS[0], numRuns: RUNS },
    )
  })
})
