/**
 * fast-check arbitraries for the block layout's tests: random documents valid under the
 * editor schema (paragraphs, headings, code blocks, rules, nested lists, blockquotes, marks,
 * hard breaks, images) and random token sequences of any shape (what concurrent edits can leave).
 */
import fc from 'fast-check'
import type { Mark, Node as PMNode } from 'prosemirror-model'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import type { ParentRef, Token } from '../../../../editor/blocks/layout.ts'

const markArb: fc.Arbitrary<Mark[]> = fc
  .record({ strong: fc.boolean(), em: fc.boolean(), code: fc.boolean(), link: fc.option(fc.constantFrom('https://a', 'https://b'), { nil: null }) })
  .map((m) => {
    const marks: Mark[] = []
    if (m.strong) marks.push(schema.marks['strong']!.create())
    if (m.em) marks.push(schema.marks['em']!.create())
    if (m.code) marks.push(schema.marks['code']!.create())
    if (m.link) marks.push(schema.marks['link']!.create({ href: m.link }))
    return marks
  })

const inlineArb: fc.Arbitrary<PMNode> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.stringMatching(/^[a-z ]{1,6}$/), markArb).map(([t, m]) => schema.text(t, m)) },
  { weight: 1, arbitrary: markArb.map((m) => schema.nodes['hard_break']!.create(null, null, m)) },
  { weight: 1, arbitrary: fc.constantFrom('a.png', 'b.png').map((src) => schema.nodes['image']!.create({ src })) },
)

const textblockArb: fc.Arbitrary<PMNode> = fc.oneof(
  { weight: 4, arbitrary: fc.array(inlineArb, { maxLength: 4 }).map((c) => schema.node('paragraph', null, c)) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.array(inlineArb, { maxLength: 3 })).map(([level, c]) => schema.node('heading', { level }, c)),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z\n]{0,6}$/).map((t) => schema.node('code_block', null, t ? [schema.text(t)] : [])) },
)

function blockArb(depth: number): fc.Arbitrary<PMNode> {
  const leaves = [
    { weight: 6, arbitrary: textblockArb },
    { weight: 1, arbitrary: fc.constant(schema.node('horizontal_rule')) },
  ]
  if (depth <= 0) return fc.oneof(...leaves)
  const item = fc
    .tuple(fc.array(inlineArb, { maxLength: 3 }), fc.array(blockArb(depth - 1), { maxLength: 2 }))
    .map(([first, rest]) => schema.node('list_item', null, [schema.node('paragraph', null, first), ...rest]))
  return fc.oneof(
    ...leaves,
    { weight: 2, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => schema.node('bullet_list', null, items)) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(item, { minLength: 1, maxLength: 3 })).map(([order, items]) => schema.node('ordered_list', { order }, items)),
    },
    { weight: 1, arbitrary: fc.array(blockArb(depth - 1), { minLength: 1, maxLength: 3 }).map((c) => schema.node('blockquote', null, c)) },
  )
}

/** A random document valid under the editor schema. */
export const documentArb: fc.Arbitrary<PMNode> = fc.array(blockArb(2), { minLength: 1, maxLength: 6 }).map((c) => schema.node('doc', null, c))

const parentArb: fc.Arbitrary<ParentRef> = fc.record({
  id: fc.constantFrom('l1', 'l2', 'i1', 'i2', 'q1'),
  type: fc.constantFrom('bullet_list', 'ordered_list', 'list_item', 'blockquote', 'paragraph', 'bogus'),
  attrs: fc.constantFrom({}, { order: 2 }, { order: 'x' }),
})

/** A random token sequence of any shape, valid or not. */
export const tokensArb: fc.Arbitrary<Token[]> = fc.array(
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('block' as const),
        block: fc.record({
          type: fc.constantFrom('paragraph', 'heading', 'code_block', 'horizontal_rule', 'list_item', 'image', 'doc', 'text', 'nonsense'),
          attrs: fc.constantFrom({}, { level: 3 }, { level: 'x' }, { src: 1 }),
          parents: fc.array(parentArb, { maxLength: 4 }),
        }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('text' as const),
        text: fc.stringMatching(/^[a-z]{1,4}$/),
        marks: fc.constantFrom({}, { strong: {} }, { link: {} }, { link: { href: 'x' } }, { nonsense: {} }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('inline' as const),
        type: fc.constantFrom('hard_break', 'image', 'paragraph', 'unknown'),
        attrs: fc.constantFrom({}, { src: 'a.png' }),
        marks: fc.constantFrom({}, { em: {} }),
      }),
    },
  ),
  { maxLength: 14 },
).map((tokens) => tokens as Token[])
