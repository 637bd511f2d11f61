/**
 * Marks on the block layout (Yjs formatting attributes), after Peritext's concurrent formatting
 * cases (inkandswitch/peritext, test/micromerge.ts), written as our own: a paragraph
 * "The Peritext editor", two replicas format and type concurrently through ProseMirror and
 * pm-to-yjs, then sync. Each case runs with both client-id orders.
 *
 * Where Yjs's formatting cannot express Peritext's rule the case asserts what happens and says
 * so ("Yjs:"): a format range is a pair of format items in the sequence, and text inserted
 * concurrently next to one of them is ordered against it by client id, not by the mark's
 * expand rule. Everything converges and is the same on both replicas; the local rules
 * (bold grows at its end, not at its start; links grow on neither side) are ProseMirror's and
 * hold.
 */
import { describe, expect, test } from 'vitest'
import { splitBlock } from 'prosemirror-commands'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { pair, paragraphs, sync, type Replica } from './replica.ts'

const ORDERS = [
  [1, 2],
  [2, 1],
] as const
const TEXT = 'The Peritext editor'

/** The text as runs `text|mark,mark`, a new run at every block start. */
function runs(r: Replica): string[] {
  const out: string[] = []
  r.pm.descendants((block) => {
    if (!block.isTextblock) return true
    let first = true
    block.forEach((node) => {
      const marks = node.marks.map((m) => m.type.name).join(',')
      const last = out[out.length - 1]
      if (!first && last !== undefined && last.split('|')[1] === marks) out[out.length - 1] = `${last.split('|')[0] ?? ''}${node.text ?? ''}|${marks}`
      else out.push(`${node.text}|${marks}`)
      first = false
    })
    return false
  })
  return out
}

/** Adds (or removes) mark `name` on characters [from, to) of the first paragraph. */
function mark(r: Replica, from: number, to: number, name: string, on = true, attrs: Record<string, unknown> = {}): void {
  const type = schema.marks[name]!
  const tr = on ? r.state.tr.addMark(1 + from, 1 + to, type.create(attrs)) : r.state.tr.removeMark(1 + from, 1 + to, type)
  r.dispatch(tr)
}

/** Types `text` at character `at` of the first paragraph, with the marks ProseMirror gives there. */
function typeAt(r: Replica, at: number, text: string): void {
  r.caret(r.pm.textContent.slice(0, 1), at) // caret relative to the paragraph's first character
  r.type(text)
}

function concurrently(order: readonly [number, number], a: (r: Replica) => void, b: (r: Replica) => void, initial = paragraphs(TEXT), pre?: (r: Replica) => void): string[] {
  const [ra, rb] = pair(initial, order[0], order[1])
  if (pre) {
    pre(ra)
    sync(ra, rb)
  }
  a(ra)
  b(rb)
  sync(ra, rb)
  expect(runs(rb)).toEqual(runs(ra))
  return runs(ra)
}

describe('marks typed by one writer follow ProseMirror\'s (and Peritext\'s) growth rules', () => {
  test('bold grows at its end, not at its start; a link grows on neither side', () => {
    const [r] = pair(paragraphs('ab cd'))
    mark(r, 0, 2, 'strong')
    mark(r, 3, 5, 'link', true, { href: 'https://x' })
    typeAt(r, 2, 'X') // end of bold: bold
    typeAt(r, 6, 'Y') // end of link: plain
    typeAt(r, 4, 'Z') // start of link (after the space): plain
    expect(runs(r)).toEqual(['abX|strong', ' Z|', 'cd|link', 'Y|'])
  })

  test('Enter inside a bold run keeps bold on both halves', () => {
    const [r] = pair(paragraphs('abcd'))
    mark(r, 0, 4, 'strong')
    r.caret('abcd', 2)
    r.run(splitBlock)
    expect(runs(r)).toEqual(['ab|strong', 'cd|strong'])
  })
})

describe.each(ORDERS)('concurrent formatting on the block layout (client ids A=%i, B=%i)', (ca, cb) => {
  const order = [ca, cb] as const
  const aFirst = ca < cb

  test('concurrent overlapping bold and italic merge', () => {
    const result = concurrently(
      order,
      (r) => mark(r, 0, 12, 'strong'),
      (r) => mark(r, 4, 19, 'em'),
    )
    expect(result).toEqual(['The |strong', 'Peritext|em,strong', ' editor|em'])
  })

  test('Yjs: a bold that extends a run, concurrent with an unbold of that run, bolds everything', () => {
    // "Peritext editor" starts bold; A bolds "The Peritext", B unbolds "Peritext editor".
    // Peritext: "The " bold, the rest plain. Yjs: A's format merges its new range with the run
    // by deleting the run's start item, B's unbold deletes the run's start and end items; what
    // is left is A's start item with no end: all bold, on both replicas, in either order.
    const result = concurrently(
      order,
      (r) => mark(r, 0, 12, 'strong'),
      (r) => mark(r, 4, 19, 'strong', false),
      paragraphs(TEXT),
      (r) => mark(r, 4, 19, 'strong'),
    )
    expect(result).toEqual([`${TEXT}|strong`])
  })

  test('unbold inside a bold run, concurrent with a bold over all of it', () => {
    const result = concurrently(
      order,
      (r) => mark(r, 0, 19, 'strong'),
      (r) => mark(r, 4, 12, 'strong', false),
      paragraphs(TEXT),
      (r) => mark(r, 0, 19, 'strong'),
    )
    // A's bold is a no-op (already bold); B's unbold stands.
    expect(result).toEqual(['The |strong', 'Peritext|', ' editor|strong'])
  })

  test('Yjs: an unbold of text that is not bold writes nothing, so it cannot override a concurrent bold', () => {
    // Peritext: "Peritext" ends up plain (the unbold is an operation of its own). ProseMirror
    // makes no step for it and Y.Text.format writes no item where nothing changes.
    const result = concurrently(
      order,
      (r) => mark(r, 0, 19, 'strong'),
      (r) => mark(r, 4, 12, 'strong', false),
    )
    expect(result).toEqual([`${TEXT}|strong`])
  })

  test('Yjs: concurrent bold of adjacent characters: one of them may lose its bold', () => {
    // Peritext: "BC" bold. Yjs: A's end item for B and B's start item for C follow the same
    // character; when B's sorts first, A's end item ends B's range before it starts.
    const result = concurrently(
      order,
      (r) => mark(r, 1, 2, 'strong'),
      (r) => mark(r, 2, 3, 'strong'),
      paragraphs('ABCDE'),
    )
    expect(result).toEqual(aFirst ? ['A|', 'BC|strong', 'DE|'] : ['A|', 'B|strong', 'CDE|'])
  })

  test('Yjs: text typed concurrently at the end of a new bold range is bold or not by client id', () => {
    // Peritext: `Peritext*` bold (bold grows at its end) and `*Peritext` not (nor at its start).
    // Yjs: B's `*` and A's format item follow the same character; the lower client id goes first.
    const result = concurrently(
      order,
      (r) => mark(r, 4, 12, 'strong'),
      (r) => {
        typeAt(r, 12, '*')
        typeAt(r, 4, '*')
      },
    )
    // Peritext's outcome when the typist sorts first; the mirror image otherwise.
    expect(result).toEqual(aFirst ? ['The |', '*Peritext|strong', '* editor|'] : ['The *|', 'Peritext*|strong', ' editor|'])
  })

  test('Yjs: insertion where one mark ends and another begins', () => {
    // Peritext: "[1]" bold (bold grows at its end, italic not at its start).
    const result = concurrently(
      order,
      (r) => {
        mark(r, 4, 12, 'strong')
        mark(r, 12, 19, 'em')
      },
      (r) => typeAt(r, 12, '[1]'),
    )
    expect(result).toEqual(aFirst ? ['The |', 'Peritext|strong', '[1] editor|em'] : ['The |', 'Peritext[1]|strong', ' editor|em'])
  })

  test('Yjs: a plain character typed next to a concurrent bold insert at the same spot', () => {
    // The case from same-spot typing: A types "x" plain, B types "y" bold at the same spot.
    const result = concurrently(
      order,
      (r) => typeAt(r, 3, 'x'),
      (r) => {
        r.caret('The', 3)
        r.dispatch(r.state.tr.setStoredMarks([schema.marks['strong']!.create()]))
        r.type('y')
      },
    )
    expect(result).toEqual(aFirst ? ['Thex|', 'y|strong', ' Peritext editor|'] : ['The|', 'y|strong', 'x Peritext editor|'])
  })
})
