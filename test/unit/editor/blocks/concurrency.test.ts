/**
 * The concurrency semantics of the block layout (the table in editor/blocks/layout.ts and issue
 * 22), at the Yjs level: two replicas edit concurrently with real ProseMirror commands written
 * by pm-to-yjs, then exchange their updates. Each case runs with both client-id orders, so an
 * outcome that must not depend on who sorts first is shown not to.
 */
import { describe, expect, test } from 'vitest'
import { deleteSelection, joinBackward, setBlockType, splitBlock } from 'prosemirror-commands'
import { splitListItem, wrapInList } from 'prosemirror-schema-list'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { pair, paragraphs, sync, type Replica } from './replica.ts'

const ORDERS = [
  [1, 2],
  [2, 1],
] as const
const BASE = paragraphs('first line', 'second line', 'third')

/** Runs `a` and `b` concurrently on BASE (or `doc`), syncs, checks convergence; returns A's blocks. */
function concurrently(order: readonly [number, number], a: (r: Replica) => void, b: (r: Replica) => void, doc = BASE): string[] {
  const [ra, rb] = pair(doc, order[0], order[1])
  a(ra)
  b(rb)
  sync(ra, rb)
  expect(rb.blocks).toEqual(ra.blocks)
  ra.pm.check()
  return ra.blocks
}

const typeAtEndOf2 = (r: Replica): void => {
  r.caretAtEnd('second line')
  r.type(' AAA')
}

describe.each(ORDERS)('issue 22 table on the block layout (client ids A=%i, B=%i)', (ca, cb) => {
  const order = [ca, cb] as const
  test('A types at the end of paragraph 2 while B joins it into paragraph 1: the words stay, once', () => {
    const blocks = concurrently(order, typeAtEndOf2, (r) => {
      r.caretAtStart('second line')
      r.run(joinBackward)
    })
    expect(blocks).toEqual(['p:first linesecond line AAA', 'p:third'])
  })

  test('… while B makes it a heading', () => {
    const blocks = concurrently(order, typeAtEndOf2, (r) => {
      r.caret('second line', 3)
      r.run(setBlockType(schema.nodes['heading']!, { level: 1 }))
    })
    expect(blocks).toEqual(['p:first line', 'h1:second line AAA', 'p:third'])
  })

  test('… while B wraps it in a bullet list', () => {
    const blocks = concurrently(order, typeAtEndOf2, (r) => {
      r.caret('second line', 3)
      r.run(wrapInList(schema.nodes['bullet_list']!))
    })
    expect(blocks).toEqual(['p:first line', 'ul>li>p:second line AAA', 'p:third'])
  })

  test('… while B splits it in the middle: the words stay at the end of the second half', () => {
    const blocks = concurrently(order, typeAtEndOf2, (r) => {
      r.caret('second line', 6)
      r.run(splitBlock)
    })
    expect(blocks).toEqual(['p:first line', 'p:second', 'p: line AAA', 'p:third'])
  })

  test('A and B press Enter at two different points of paragraph 2: nothing doubled', () => {
    const blocks = concurrently(
      order,
      (r) => {
        r.caret('second line', 6)
        r.run(splitBlock)
      },
      (r) => {
        r.caret('second line', 9)
        r.run(splitBlock)
      },
    )
    expect(blocks).toEqual(['p:first line', 'p:second', 'p: li', 'p:ne', 'p:third'])
  })

  test('… while B selects all of paragraph 2 and deletes it', () => {
    const blocks = concurrently(order, typeAtEndOf2, (r) => {
      r.caret('second line', 0, 'second line'.length)
      r.run(deleteSelection)
    })
    expect(blocks).toEqual(['p:first line', 'p: AAA', 'p:third'])
  })
})

describe.each(ORDERS)('concurrency semantics of the block layout (client ids A=%i, B=%i)', (ca, cb) => {
  const order = [ca, cb] as const
  test('split vs split at the same point: one extra empty block, text intact', () => {
    const enter = (r: Replica): void => {
      r.caret('second line', 6)
      r.run(splitBlock)
    }
    expect(concurrently(order, enter, enter)).toEqual(['p:first line', 'p:second', 'p:', 'p: line', 'p:third'])
  })

  test('split vs join of the same boundary: still two blocks, text intact', () => {
    const blocks = concurrently(
      order,
      (r) => {
        r.caretAtStart('second line')
        r.run(joinBackward)
      },
      (r) => {
        r.caretAtStart('second line')
        r.run(splitBlock)
      },
    )
    expect(blocks).toEqual(['p:first line', 'p:second line', 'p:third'])
  })

  test('two joins of one boundary: one join', () => {
    const join = (r: Replica): void => {
      r.caretAtStart('second line')
      r.run(joinBackward)
    }
    expect(concurrently(order, join, join)).toEqual(['p:first linesecond line', 'p:third'])
  })

  test('H1 vs H2 at once: one wins, the same on both, text intact', () => {
    const heading = (level: number) => (r: Replica) => {
      r.caret('second line', 2)
      r.run(setBlockType(schema.nodes['heading']!, { level }))
    }
    const blocks = concurrently(order, heading(1), heading(2))
    expect(['h1:second line', 'h2:second line']).toContain(blocks[1])
    expect(blocks).toHaveLength(3)
  })

  test('wrap vs split inside the wrapped range: the new block stays outside, the list reads as two around it', () => {
    const blocks = concurrently(
      order,
      (r) => {
        r.caret('second line', 6)
        r.run(splitBlock)
      },
      (r) => {
        r.caret('second line', 0, 'second line'.length + 2 + 2) // paragraphs 2 and 3
        r.run(wrapInList(schema.nodes['bullet_list']!))
      },
    )
    expect(blocks).toEqual(['p:first line', 'ul>li>p:second', 'p: line', 'ul>li>p:third'])
  })

  test('delete a whole block vs type inside it: the typed text survives in the block before', () => {
    const blocks = concurrently(
      order,
      (r) => {
        r.caret('cond', 0)
        r.type('XY')
      },
      (r) => {
        r.caretAtEnd('first line')
        const from = r.state.selection.from
        r.caretAtEnd('second line')
        r.dispatch(r.state.tr.delete(from, r.state.selection.from))
      },
    )
    expect(blocks).toEqual(['p:first lineXY', 'p:third'])
  })

  test('nested-list insert vs delete of the nested items: the inserted item survives, once', () => {
    const nested = schema.node('doc', null, [
      schema.node('bullet_list', null, [
        schema.node('list_item', null, [
          schema.node('paragraph', null, [schema.text('one')]),
          schema.node('bullet_list', null, [
            schema.node('list_item', null, [schema.node('paragraph', null, [schema.text('n1')])]),
            schema.node('list_item', null, [schema.node('paragraph', null, [schema.text('n2')])]),
          ]),
        ]),
      ]),
      schema.node('paragraph', null, [schema.text('after')]),
    ])
    const blocks = concurrently(
      order,
      (r) => {
        r.caretAtEnd('n2')
        r.run(splitListItem(schema.nodes['list_item']!))
        r.type('n3')
      },
      (r) => {
        r.caretAtEnd('one')
        const from = r.state.selection.from
        r.caretAtEnd('n2')
        r.dispatch(r.state.tr.delete(from, r.state.selection.from))
      },
      nested,
    )
    expect(blocks.filter((b) => b.includes('n3'))).toHaveLength(1)
    expect(blocks.join('|')).not.toMatch(/n1|n2/)
    expect(blocks).toEqual(['ul>li>p:one', 'ul>li>ul>li>p:n3', 'p:after'])
  })

  test('Enter at the end of a block while the other types at that end: the words stay whole and once, on the side Yjs orders them', () => {
    const blocks = concurrently(order, typeAtEndOf2, (r) => {
      r.caretAtEnd('second line')
      r.run(splitBlock)
    })
    // Both inserts follow the same character; Yjs puts the lower client id first.
    const expected = ca < cb ? ['p:first line', 'p:second line AAA', 'p:', 'p:third'] : ['p:first line', 'p:second line', 'p: AAA', 'p:third']
    expect(blocks).toEqual(expected)
  })
})
