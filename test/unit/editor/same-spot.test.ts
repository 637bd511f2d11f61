/**
 * Two or three writers typing at the same spot, at the binding level (real ProseMirror state,
 * real y-prosemirror sync plugin, no DOM): each writer's words stay whole. Every scenario also
 * runs on stock y-prosemirror where that shows the bug the sticky caret fixes, so the
 * assertions demonstrably fail without it.
 */
import { afterEach, describe, expect, test } from 'vitest'
import type { DecorationSet } from 'prosemirror-view'
import { AllSelection } from 'prosemirror-state'
import { yCursorPluginKey } from 'y-prosemirror'
import { blockCursorsKey } from '../../../editor/blocks/cursors.ts'
import { editorSchema } from '../../../editor/schema.ts'
import { connectedEditors, paragraphs, type Flavor, type HeadlessEditor, type Network } from '../../property/editor/headless-editor.ts'

const ALPHA = 'alpha one '
const BETA = 'beta two '

let net: Network | null = null
afterEach(() => {
  net?.destroy()
  net = null
})

function setup(n: number, flavor: Flavor, ...texts: string[]): HeadlessEditor[] {
  net = connectedEditors(n, Array(n).fill(flavor))
  const [first] = net.editors
  if (texts.length) first!.setDoc(paragraphs(...texts))
  net.flush()
  return net.editors
}

/**
 * Each writer types its text one key at a time, all at the same time: every `latency` rounds
 * of one key per writer, everything in flight is delivered.
 */
function typeTogether(writers: [HeadlessEditor, string][], latency = 1): void {
  const longest = Math.max(...writers.map(([, t]) => t.length))
  for (let i = 0; i < longest; i++) {
    for (const [editor, text] of writers) if (text[i] !== undefined) editor.type(text[i]!)
    if ((i + 1) % latency === 0) net!.flush()
  }
  net!.flush()
}

function expectConverged(editors: HeadlessEditor[]): string {
  const text = editors[0]!.text
  for (const e of editors) {
    expect(e.text).toBe(text)
    expect(e.state.doc.eq(e.fragmentDoc())).toBe(true)
    expect(e.layoutString).toBe(editors[0]!.layoutString)
  }
  return text
}

describe.each(['blocks', 'tandem'] as const)('%s editor', (ours) => {
describe('two writers at the same spot keep their words whole', () => {
  test.each([1, 3])('end of a paragraph (delivery every %i keys); stock y-prosemirror shreds them', (latency) => {
    const [a, b] = setup(2, ours, 'Hello ')
    a!.select(7)
    b!.select(7)
    typeTogether([[a!, ALPHA], [b!, BETA]], latency)
    const text = expectConverged([a!, b!])
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
    expect(text.length).toBe('Hello '.length + ALPHA.length + BETA.length)

    net!.destroy()
    const [sa, sb] = setup(2, 'stock', 'Hello ')
    sa!.select(7)
    sb!.select(7)
    typeTogether([[sa!, ALPHA], [sb!, BETA]], latency)
    const shredded = expectConverged([sa!, sb!])
    expect(shredded.includes(ALPHA) && shredded.includes(BETA)).toBe(false)
  })

  test('start of a paragraph', () => {
    const [a, b] = setup(2, ours, 'first line', 'second line')
    const start = 'first line'.length + 3 // inside the second paragraph, offset 0
    a!.select(start)
    b!.select(start)
    typeTogether([[a!, ALPHA], [b!, BETA]])
    const text = expectConverged([a!, b!])
    expect(text.split('\n')[0]).toBe('first line')
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
    expect(text.endsWith('second line')).toBe(true)
  })

  test('inside a word', () => {
    const [a, b] = setup(2, ours, 'helloworld')
    a!.select(6)
    b!.select(6)
    typeTogether([[a!, ALPHA], [b!, BETA]], 2)
    const text = expectConverged([a!, b!])
    expect(text.startsWith('hello')).toBe(true)
    expect(text.endsWith('world')).toBe(true)
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
  })

  test('an empty document (nothing in Yjs yet)', () => {
    const [a, b] = setup(2, ours)
    expect(ours === 'blocks' ? a!.ytext.length : a!.fragment.length).toBe(0)
    a!.select(1)
    b!.select(1)
    typeTogether([[a!, ALPHA], [b!, BETA]])
    const text = expectConverged([a!, b!])
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
  })

  test('an empty paragraph both click into', () => {
    const [a, b] = setup(2, ours, 'above', '', 'below')
    a!.select(8)
    b!.select(8)
    typeTogether([[a!, ALPHA], [b!, BETA]])
    const text = expectConverged([a!, b!])
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
    expect(text.startsWith('above\n')).toBe(true)
    expect(text.endsWith('\nbelow')).toBe(true)
  })

  test('right after Enter: two people starting new paragraphs at the same point end on separate lines', () => {
    const [a, b] = setup(2, ours, 'Title')
    a!.select(6)
    b!.select(6)
    a!.enter()
    b!.enter()
    typeTogether([[a!, ALPHA.trim()], [b!, BETA.trim()]])
    const text = expectConverged([a!, b!])
    const lines = text.split('\n')
    expect(lines[0]).toBe('Title')
    expect(lines).toContain(ALPHA.trim())
    expect(lines).toContain(BETA.trim())
  })

  test('Enter delivered before the other starts typing: both still end on their own lines', () => {
    const [a, b] = setup(2, ours, 'Title')
    a!.select(6)
    b!.select(6)
    a!.enter()
    net!.flush()
    b!.enter()
    typeTogether([[a!, ALPHA.trim()], [b!, BETA.trim()]])
    const lines = expectConverged([a!, b!]).split('\n')
    expect(lines).toContain(ALPHA.trim())
    expect(lines).toContain(BETA.trim())
  })

  test.each(['end', 'start'] as const)('a selection replaced while the other types at its %s edge', (edge) => {
    const [a, b] = setup(2, ours, 'keep REPLACE keep')
    // "REPLACE" is positions 6..13
    a!.select(6, 13)
    b!.select(edge === 'end' ? 13 : 6)
    b!.type('be')
    net!.flush()
    // A still has exactly "REPLACE" selected: B's text at the edge is not inside it.
    expect(a!.state.doc.textBetween(a!.state.selection.from, a!.state.selection.to)).toBe('REPLACE')
    typeTogether([[a!, 'alpha'], [b!, 'ta two']])
    const text = expectConverged([a!, b!])
    expect(text).not.toContain('REPLACE')
    expect(text).toContain('alpha')
    expect(text).toContain('beta two')
    expect(text.startsWith('keep ')).toBe(true)
    expect(text.endsWith(' keep')).toBe(true)
  })

  test('the character after the caret deleted meanwhile: the next key still follows the writer’s previous one', () => {
    const [a, b, c] = setup(3, ours, 'd')
    for (const e of [a!, b!, c!]) e.select(1)
    a!.type('a')
    b!.type('b')
    // C deletes the "d" after everyone's caret; A sees that before anything from B.
    c!.view.dispatch(c!.state.tr.delete(1, 2))
    net!.deliver(2, 0)
    a!.type('c')
    net!.flush()
    const text = expectConverged([a!, b!, c!])
    // Had "c" followed the deleted "d" instead of "a", B's "b" (typed in front of "d") would
    // sit between them.
    expect(text).toContain('ac')
    expect(text.length).toBe(3)
  })

  test('three writers at one spot', () => {
    const [a, b, c] = setup(3, ours, 'x')
    for (const e of [a!, b!, c!]) e.select(2)
    typeTogether([[a!, ALPHA], [b!, BETA], [c!, 'gamma three ']], 2)
    const text = expectConverged([a!, b!, c!])
    for (const t of [ALPHA, BETA, 'gamma three ']) expect(text).toContain(t)
  })
})

/** The text of `editor`'s document that is bold, in document order. */
function boldText(editor: HeadlessEditor): string {
  let out = ''
  editor.state.doc.descendants((node) => {
    if (node.isText && node.marks.some((m) => m.type.name === 'strong')) out += node.text
  })
  return out
}

const BOLD = [editorSchema.marks['strong']!.create()]

/** Two tandem editors on "plain ", both carets at its end with Mod-b pressed. */
function boldAtTheEnd(ours: Flavor): HeadlessEditor[] {
  const editors = setup(2, ours, 'plain ')
  for (const e of editors) {
    e.select(7)
    e.setStoredMarks(BOLD)
  }
  return editors
}

describe('marks: each writer pressed Mod-b, then typed at the same spot', () => {
  // Mod-b at a caret only sets stored marks; ProseMirror drops them on any document change,
  // so they have to survive the other writer's keystrokes until the first key is typed.
  test('keys delivered one by one, the first keys typed before anything arrives', () => {
    const [a, b] = boldAtTheEnd(ours)
    typeTogether([[a!, ALPHA], [b!, BETA]])
    const text = expectConverged([a!, b!])
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
    for (const e of [a!, b!]) expect(boldText(e)).toBe(text.slice('plain '.length))
  })

  test('the other’s first key arrives before one’s own: both words bold everywhere', () => {
    // The sticky caret keeps B's caret in front of A's bold letter, after the plain text: with
    // its stored marks dropped, B would type plain. (Stock y-prosemirror moves the caret behind
    // A's letter, so B inherits A's bold there, and the words shred.)
    const [a, b] = boldAtTheEnd(ours)
    a!.type(ALPHA[0]!)
    net!.flush()
    expect(b!.caret).toBe(7)
    expect(b!.state.storedMarks?.map((m) => m.type.name)).toEqual(['strong'])
    typeTogether([[a!, ALPHA.slice(1)], [b!, BETA]])
    const text = expectConverged([a!, b!])
    expect(text).toContain(ALPHA)
    expect(text).toContain(BETA)
    for (const e of [a!, b!]) expect(boldText(e)).toBe(text.slice('plain '.length))
  })

  test.each([ours, 'stock'] as const)('%s: a change elsewhere in the document keeps a pending Mod-b, and a pending “bold off”', (flavor) => {
    const [a, b] = setup(2, flavor, 'plain ', 'other line')
    a!.select(7)
    a!.setStoredMarks(BOLD)
    b!.select(9)
    b!.type('x')
    net!.flush()
    a!.type('bold')
    net!.flush()
    // A inside its bold word turns bold off; B types again elsewhere before A's next key.
    a!.setStoredMarks([])
    b!.type('y')
    net!.flush()
    a!.type(' plain')
    net!.flush()
    const text = expectConverged([a!, b!])
    expect(text.split('\n')[0]).toBe('plain bold plain')
    // Stock y-prosemirror drops stored marks on every remote change: nothing comes out bold.
    for (const e of [a!, b!]) expect(boldText(e)).toBe(flavor !== 'stock' ? 'bold' : '')
  })

  test('the other writer undoing its typing is a remote change like any other: a pending Mod-b stays', () => {
    const [a, b] = setup(2, ours, 'plain ', 'other')
    b!.select(13)
    b!.type('zz')
    net!.flush()
    a!.select(7)
    a!.setStoredMarks(BOLD)
    // B undoes its typing: for A that is a remote change like any other.
    b!.undo()
    net!.flush()
    expect(a!.text).toBe('plain \nother')
    a!.type('b')
    net!.flush()
    expect(boldText(b!)).toBe('b')
  })
})

})

describe.each(['blocks', 'tandem'] as const)('%s editor', (ours) => {
describe('an editor opened on an empty room, as mountEditor makes it', () => {
  // initProseMirrorDoc gives a document without any block; its only selection is a select-all.
  test.each(['tandem', 'stock'] as const)(
    '%s: the first text someone else types is not selected (tandem), so the next key does not replace it',
    (flavor) => {
      net = connectedEditors(2, [flavor, flavor], 'mounted')
      const [a, b] = net.editors
      expect(b!.state.doc.content.size).toBe(0)
      expect(b!.state.selection).toBeInstanceOf(AllSelection)
      a!.type('plain ')
      net!.flush()
      expect(b!.text).toBe('plain ')
      expect(b!.state.selection.empty).toBe(flavor === 'tandem')
      b!.type('x')
      net!.flush()
      const text = expectConverged([a!, b!])
      // Stock y-prosemirror: B's key replaced everything A wrote.
      expect(text).toBe(flavor === 'tandem' ? 'xplain ' : 'x')
    },
  )

  test('select-all in a document of empty paragraphs: the text others type into it is not selected', () => {
    const [a, b] = setup(2, ours, '', '')
    b!.view.dispatch(b!.state.tr.setSelection(new AllSelection(b!.state.doc)))
    a!.select(1)
    a!.type('alpha')
    net!.flush()
    expect(b!.state.selection.empty).toBe(true)
    b!.type('b')
    net!.flush()
    expect(expectConverged([a!, b!]).replace('b', '')).toBe('alpha\n')
  })

  test('select-all over text stays a range over that text when others type (it is not taken for a caret)', () => {
    const [a, b] = setup(2, ours, 'kept? no', '')
    b!.view.dispatch(b!.state.tr.setSelection(new AllSelection(b!.state.doc)))
    a!.select(a!.state.doc.content.size - 1)
    a!.type('late')
    net!.flush()
    expect(b!.state.selection.empty).toBe(false)
    expect(b!.state.doc.textBetween(b!.state.selection.from, b!.state.selection.to)).toContain('kept? no')
  })
})

})

describe.each(['blocks', 'tandem'] as const)('%s editor', (ours) => {
describe('yjs/y-prosemirror#161: text duplicated when two users edit the start of the same line', () => {
  // y-prosemirror's own reproduction (tests/y-prosemirror.test.js, testInsertDuplication).
  test.each([ours, 'stock'] as const)('%s: concurrent inserts into a new empty paragraph are not duplicated', (flavor) => {
    const [a, b] = setup(2, flavor)
    a!.view.dispatch(a!.state.tr.insert(0, editorSchema.node('paragraph')))
    net!.flush()
    a!.view.dispatch(a!.state.tr.insertText('1', 1, 1))
    b!.view.dispatch(b!.state.tr.insertText('2', 1, 1))
    net!.flush()
    a!.view.dispatch(a!.state.tr.insertText('1', 2, 2))
    b!.view.dispatch(b!.state.tr.insertText('2', 3, 3))
    net!.flush()
    expectConverged([a!, b!])
    expect(a!.text).toBe('1122\n')
    if (flavor !== 'blocks') expect(a!.fragment.toString()).toBe('<paragraph>1122</paragraph><paragraph></paragraph>')
  })

  test('both type at the start of the same line, twice, with edits in between', () => {
    const [a, b] = setup(2, ours, 'line one', 'line two')
    const lineTwo = 'line one'.length + 3
    a!.select(lineTwo)
    b!.select(lineTwo)
    typeTogether([[a!, 'AA'], [b!, 'BB']])
    // Second round, again at the start of the line, at the same time.
    a!.select(lineTwo)
    b!.select(lineTwo)
    typeTogether([[a!, 'aa'], [b!, 'bb']])
    const text = expectConverged([a!, b!])
    for (const ch of 'AaBb') expect(text.split(ch).length - 1).toBe(2)
    expect(text.length).toBe('line one\nline two'.length + 8)
  })

  test('both type into the same empty line at the same time, then again at its start', () => {
    const [a, b] = setup(2, ours, '123', '', '456')
    a!.select(6)
    b!.select(6)
    typeTogether([[a!, 'xy'], [b!, 'zw']])
    a!.select(6)
    b!.select(6)
    typeTogether([[a!, 'XY'], [b!, 'ZW']])
    const text = expectConverged([a!, b!])
    const middle = text.split('\n').slice(1, -1).join('')
    expect([...middle].sort().join('')).toBe([...'xyzwXYZW'].sort().join(''))
    for (const w of ['xy', 'zw', 'XY', 'ZW']) expect(text).toContain(w)
  })
})

describe('three writers start typing in the same empty paragraph at once', () => {
  // Each first character creates an XmlText per writer; y-prosemirror's repair (#160) then
  // moves texts into each other concurrently and stock y-prosemirror loses one writer's text.
  test.each([ours, 'stock'] as const)('%s', (flavor) => {
    const [a, b, c] = setup(3, flavor, 'above', '')
    for (const e of [a!, b!, c!]) e.select(8)
    for (const [e, ch] of [[a!, 'a'], [b!, 'b'], [c!, 'c']] as const) e.type(ch)
    // C sees B's text before anything else, B sees A's: both repair at once.
    net!.deliver(1, 2)
    net!.deliver(0, 1)
    net!.flush()
    const text = expectConverged([a!, b!, c!])
    const kept = ['a', 'b', 'c'].filter((ch) => text.includes(ch)).length
    expect(kept).toBe(flavor !== 'stock' ? 3 : 2)
  })
})

})

describe('the Yjs layout is y-prosemirror’s', () => {
  test('the same edits give the same fragment in tandem’s editor and in stock y-prosemirror', () => {
    const run = (flavor: Flavor): string => {
      const [e] = setup(1, flavor, 'first paragraph', 'second')
      const bold = [editorSchema.marks['strong']!.create()]
      e!.select(6)
      e!.type('typed ')
      e!.setStoredMarks(bold)
      e!.type('bold')
      e!.setStoredMarks([])
      e!.type(' plain')
      e!.select(3)
      e!.enter() // split in the middle
      e!.select(e!.state.doc.content.size - 1)
      e!.enter() // at the end
      e!.type('new line')
      e!.select(2, 4)
      e!.type('X') // replace a selection
      e!.view.dispatch(e!.state.tr.delete(e!.caret - 1, e!.caret)) // backspace
      const xml = e!.fragment.toString()
      expect(e!.state.doc.eq(e!.fragmentDoc())).toBe(true)
      net!.destroy()
      net = null
      return xml
    }
    const tandem = run('tandem')
    expect(tandem).toBe(run('stock'))
    expect(tandem).toContain('<strong>bold</strong>')
  })
})

describe.each(['blocks', 'tandem'] as const)('%s editor', (ours) => {
describe('remote cursors follow the same rule', () => {
  test('a caret others see stays in front of text typed at it, for the typist and for a third user', () => {
    const [a, b, c] = setup(3, ours, 'Hello ')
    a!.select(7)
    b!.select(7)
    net!.syncAwareness()
    expect(b!.remoteCursorOf(a!)).toBe(7)
    expect(c!.remoteCursorOf(a!)).toBe(7)
    const key = ours === 'blocks' ? blockCursorsKey : yCursorPluginKey
    const drawnByB = (): number | undefined =>
      (key.getState(b!.state) as DecorationSet)
        .find()
        .find((d) => d.spec.key === String(a!.doc.clientID))?.from
    // B's cursor decorations have been built with A's cursor in them.
    b!.view.dispatch(b!.state.tr.setMeta(key, ours === 'blocks' ? true : { awarenessUpdated: true }))
    expect(drawnByB()).toBe(7)
    b!.type(BETA)
    // Mapped through B's own typing, the drawn caret stays in front of B's text. On the block
    // layout A's caret is published as the unit after it, so B's text typed right at it goes in
    // front of it until A, receiving that text, publishes its caret again (below).
    expect(drawnByB()).toBe(ours === 'blocks' ? 7 + BETA.length : 7)
    net!.flush()
    // A has not typed nor moved: its caret (its own and as drawn by B and C) stays before B's text.
    expect(a!.caret).toBe(7)
    if (ours === 'blocks') {
      // The block layout publishes a caret as the unit after it (typing at it publishes nothing):
      // until A's awareness says otherwise, B and C draw A behind B's text; receiving B's text
      // changed the unit after A's caret, so A published its caret again.
      expect(b!.remoteCursorOf(a!)).toBe(7 + BETA.length)
      net!.syncAwareness()
    }
    expect(b!.remoteCursorOf(a!)).toBe(7)
    expect(c!.remoteCursorOf(a!)).toBe(7)
    expect(drawnByB()).toBe(7)
    // And B's cursor, drawn by A, follows B's typing.
    net!.syncAwareness()
    expect(a!.remoteCursorOf(b!)).toBe(7 + BETA.length)
  })

})
})

describe('block layout: a caret others draw follows its owner\'s typing without an awareness message', () => {
  test('B draws A\'s caret after each word A types; A publishes nothing while typing', () => {
    const [a, b] = setup(2, 'blocks', 'Hello world')
    a!.select(7)
    net!.syncAwareness()
    const drawnByB = (): number | undefined =>
      (blockCursorsKey.getState(b!.state) as DecorationSet)
        .find()
        .find((d) => d.spec.key === String(a!.doc.clientID))?.from
    b!.view.dispatch(b!.state.tr.setMeta(blockCursorsKey, true))
    expect(drawnByB()).toBe(7)
    let published = 0
    a!.awareness.on('change', ({ updated }: { updated: number[] }) => {
      if (updated.includes(a!.doc.clientID)) published++
    })
    for (const word of ['one ', 'two ', 'three ']) {
      a!.type(word)
      net!.flush()
      expect(drawnByB()).toBe(a!.caret)
    }
    expect(published).toBe(0)
    expect(b!.text).toBe('Hello one two three world')
  })
})

describe('stock y-prosemirror cursors', () => {
  test('stock y-prosemirror draws the caret behind the text typed at it', () => {
    const [a, b] = setup(2, 'stock', 'Hello ')
    a!.select(7)
    b!.select(7)
    net!.syncAwareness()
    b!.type(BETA)
    net!.flush()
    expect(b!.remoteCursorOf(a!)).toBe(7 + BETA.length)
  })
})
