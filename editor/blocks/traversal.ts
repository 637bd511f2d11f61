/**
 * ProseMirror tree ↔ flat sequence of the block layout (see `layout.ts`), both directions,
 * deterministic. Imports prosemirror-model and `layout.ts` only (no Yjs).
 *
 * - {@link toTokens}: the blocks of a document (or of a run of its top-level children) as
 *   tokens; container identities come from a callback, since ProseMirror nodes carry none.
 * - {@link fromTokens}: any token sequence as a document valid under the schema, repaired as
 *   `layout.ts` describes, with the number of Y.Text units each top-level node was read from
 *   (`spans`: what a writer needs to find a node's units when a repair made them differ from
 *   the node's own flattening).
 */
import { Fragment, Mark, type MarkType, type Node as PMNode, type NodeType, type Schema } from 'prosemirror-model'
import { CONTAINER_TYPES, tokenLength, type Attrs, type BlockData, type MarkSet, type ParentRef, type Token } from './layout.ts'

/** Gives a container node (at position `pos` of the document walked) its identity. */
export type IdOf = (node: PMNode, pos: number) => string

function marksToSet(marks: readonly Mark[]): MarkSet {
  const set: MarkSet = {}
  for (const mark of marks) set[mark.type.name] = { ...mark.attrs }
  return set
}

/**
 * Appends the tokens of `node` (a block or container at position `pos`, inside `parents`) to
 * `out`.
 */
function walkBlock(node: PMNode, pos: number, parents: ParentRef[], idOf: IdOf, out: Token[]): void {
  if (CONTAINER_TYPES.has(node.type.name)) {
    const chain = [...parents, { id: idOf(node, pos), type: node.type.name, attrs: { ...node.attrs } }]
    node.forEach((child, offset) => walkBlock(child, pos + 1 + offset, chain, idOf, out))
    return
  }
  out.push({ kind: 'block', block: { type: node.type.name, attrs: { ...node.attrs }, parents } })
  node.forEach((child) => {
    const marks = marksToSet(child.marks)
    if (child.isText) {
      const last = out[out.length - 1]
      if (last?.kind === 'text' && sameMarks(last.marks, marks)) last.text += child.text ?? ''
      else out.push({ kind: 'text', text: child.text ?? '', marks })
    } else out.push({ kind: 'inline', type: child.type.name, attrs: { ...child.attrs }, marks })
  })
}

function sameMarks(a: MarkSet, b: MarkSet): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => b[k] !== undefined && JSON.stringify(a[k]) === JSON.stringify(b[k]))
}

/**
 * The tokens of the top-level children `from` (inclusive) to `to` (exclusive) of `doc`
 * (default: all of them).
 */
export function toTokens(doc: PMNode, idOf: IdOf, from = 0, to = doc.childCount): Token[] {
  const out: Token[] = []
  let pos = 0
  for (let i = 0; i < to; i++) {
    const child = doc.child(i)
    if (i >= from) walkBlock(child, pos, [], idOf, out)
    pos += child.nodeSize
  }
  return out
}

/** Number of Y.Text units the flattening of `node` takes; cached per (immutable) node. */
const unitCache = new WeakMap<PMNode, number>()
export function flatSize(node: PMNode): number {
  const cached = unitCache.get(node)
  if (cached !== undefined) return cached
  let size: number
  if (node.isText) size = node.text?.length ?? 0
  else if (node.isInline) size = 1
  else if (CONTAINER_TYPES.has(node.type.name) || node.type === node.type.schema.topNodeType) {
    size = 0
    node.forEach((child) => (size += flatSize(child)))
  } else {
    size = 1
    node.forEach((child) => (size += flatSize(child)))
  }
  unitCache.set(node, size)
  return size
}

/**
 * The flat index (units before it, in the flattening of `doc`) of ProseMirror position `pos`:
 * a position inside a textblock counts the block's marker; a position between blocks does not
 * count the marker of the block after it. With `fromChild` (and its position `fromPos`), counts
 * from the start of that top-level child instead, without walking the children before it.
 */
export function flatIndex(doc: PMNode, pos: number, fromChild = 0, fromPos = 0): number {
  let index = 0
  let node = doc
  let start = fromPos // position of the walk's start
  let first = fromChild
  for (;;) {
    let offset = start
    let entered = false
    for (let i = first; i < node.childCount; i++) {
      const child = node.child(i)
      const end = offset + child.nodeSize
      if (pos >= end) {
        index += flatSize(child)
        offset = end
        continue
      }
      if (pos <= offset || child.isLeaf) return index
      // pos is inside child
      if (!CONTAINER_TYPES.has(child.type.name)) {
        index += 1 // the marker
        let inner = offset + 1
        for (let j = 0; j < child.childCount && inner < pos; j++) {
          const c = child.child(j)
          const take = Math.min(pos - inner, c.nodeSize)
          index += c.isText ? take : take > 0 ? 1 : 0
          inner += c.nodeSize
        }
        return index
      }
      node = child
      start = offset + 1
      first = 0
      entered = true
      break
    }
    if (!entered) return index
  }
}

/**
 * The ProseMirror position right after unit `unit` of the Y.Text, where `doc` was read from it
 * with `spans[i]` units for top-level child `i` (the inverse of {@link flatIndex} for carets):
 * after a marker is the start of its block's content, after a character is the position after
 * it; after a leaf block (a rule) is the position after the node. A node whose units a repair
 * changed (its span differs from its flattening) is mapped through {@link unitPositions}, or,
 * when that cannot tell, every unit to the start of its content. Units past the end map to the
 * end of the last node; a negative unit to the start.
 */
export function positionAfterUnit(doc: PMNode, spans: readonly number[], unit: number): number {
  let pos = 0
  let start = 0
  for (let i = 0; i < doc.childCount; i++) {
    const child = doc.child(i)
    const span = spans[i] ?? flatSize(child)
    if (unit < start + span) {
      if (unit < start) return firstContentPos(child, pos)
      let j = i + 1
      while (j < doc.childCount && spans[j] === 0) j++
      if (span === flatSize(child) && j === i + 1) return afterUnitIn(child, pos, unit - start)
      return unitPositions(doc, i, j, pos, span)?.[unit - start] ?? firstContentPos(child, pos)
    }
    start += span
    pos += child.nodeSize
  }
  return Math.max(0, pos - 1)
}

/**
 * For top-level children `from`…`to` of `doc` (at position `pos`), read from `units` units of
 * the Y.Text that a repair made differ from their flattening: the position after each unit, or
 * null when the repair cannot be told from the nodes. The reader makes three kinds of block
 * that have no marker (`layout.ts`, "Reading"): the paragraph of text before the first marker
 * (the document's first block), a paragraph of text after a leaf block's marker (right after
 * the leaf), and the empty paragraph first in a list item that starts with a container or a
 * leaf. When as many such blocks as units are missing can be found (all of them, else those of
 * the first two kinds, else those of the third), none of them has a marker; anything else (units
 * the document does not show, such as an image in a code block) is null.
 */
export function unitPositions(doc: PMNode, from: number, to: number, pos: number, units: number): number[] | null {
  interface Block {
    node: PMNode
    pos: number
    /** 1: text at the start or after a leaf; 2: the empty paragraph first in an item; 3: a part of a code block split around an image; 0: has a marker */
    markerless: 0 | 1 | 2 | 3
  }
  const blocks: Block[] = []
  let missing = -units
  // children `first`…`last` of `parent`, the first at position `start`
  const walk = (parent: PMNode, start: number, first: number, last: number): void => {
    let offset = start
    for (let i = first; i < last; i++) {
      const node = parent.child(i)
      if (CONTAINER_TYPES.has(node.type.name)) walk(node, offset + 1, 0, node.childCount)
      else {
        missing += flatSize(node)
        const before = i > 0 ? parent.child(i - 1) : null
        const second = parent.childCount > 1 ? parent.child(1) : null
        const paragraph = node.type.name === 'paragraph'
        const split = before !== null && splitPart(node, before, i > 1 ? parent.child(i - 2) : null)
        const markerless =
          split
            ? 3
            : (paragraph && parent === doc && i === 0) || (paragraph && before !== null && before.isBlock && before.isLeaf)
            ? 1
            : paragraph && node.content.size === 0 && parent.type.name === 'list_item' && i === 0 && second !== null && (CONTAINER_TYPES.has(second.type.name) || (second.isBlock && second.isLeaf))
              ? 2
              : 0
        blocks.push({ node, pos: offset, markerless })
      }
      offset += node.nodeSize
    }
  }
  walk(doc, pos, from, to)
  // which kinds lack a marker: as many blocks as units are missing, of both kinds or of one
  // (text after a rule is the more common repair; an empty paragraph that is a block of its own
  // looks like the one the reader adds)
  const ofKind = (k: number): number => blocks.filter((b) => b.markerless === k).length
  const options = [[1, 2], [1], [2]]
  if (ofKind(3) > 0) options.unshift([3], [1, 2, 3], [1, 3], [2, 3])
  const kinds = missing === 0 ? [] : (options.find((o) => o.reduce((n, k) => n + ofKind(k), 0) === missing) ?? null)
  if (!kinds) return null
  const out: number[] = []
  for (const b of blocks) {
    if (!kinds.includes(b.markerless)) out.push(b.node.isLeaf ? b.pos + b.node.nodeSize : b.pos + 1)
    if (b.node.isLeaf) continue
    let inner = b.pos + 1
    b.node.forEach((child) => {
      if (child.isText) for (let k = 0; k < child.nodeSize; k++) out.push(inner + k + 1)
      else out.push(inner + child.nodeSize)
      inner += child.nodeSize
    })
  }
  return out.length === units ? out : null
}

/**
 * Whether `node` (after `before`, after `earlier`) can be a part of a text-only block the reader
 * split around an image: a paragraph of inline leaves only after a text-only block, or a
 * text-only block after such a paragraph that follows a block of its type.
 */
function splitPart(node: PMNode, before: PMNode, earlier: PMNode | null): boolean {
  const textOnly = (n: PMNode | null): boolean => n !== null && n.isTextblock && (n.type.spec.code === true || n.type.spec.content === 'text*')
  const leaves = (n: PMNode): boolean => n.type.name === 'paragraph' && n.childCount > 0 && n.content.content.every((c) => c.isInline && c.isLeaf && c.type.name !== 'hard_break')
  if (leaves(node)) return textOnly(before)
  return textOnly(node) && leaves(before) && earlier !== null && earlier.type === node.type && splitPart(before, earlier, null)
}

/** Position of the start of the first textblock's content in `node` at `pos` (or after a leaf). */
function firstContentPos(node: PMNode, pos: number): number {
  let inner = pos
  let n = node
  while (!n.isTextblock && !n.isLeaf && n.childCount > 0) {
    inner += 1
    n = n.child(0)
  }
  return n.isLeaf ? inner + n.nodeSize : inner + 1
}

function afterUnitIn(node: PMNode, pos: number, unit: number): number {
  if (CONTAINER_TYPES.has(node.type.name)) {
    let inner = pos + 1
    let before = 0
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)
      const size = flatSize(child)
      if (unit < before + size) return afterUnitIn(child, inner, unit - before)
      before += size
      inner += child.nodeSize
    }
    return inner - 1
  }
  if (node.isLeaf) return pos + node.nodeSize
  // a textblock: unit 0 is its marker; every inline unit is one position wide
  return pos + 1 + Math.min(unit, node.content.size)
}

// ---- reading ----

/** A block as read: its marker data (null: text before any marker) and its inline tokens. */
interface ReadBlock {
  data: BlockData | null
  inline: Token[]
  units: number
}

/** Whether `value` passes an attribute spec's `validate` (a type list such as `string|null`, or a function). */
function validAttr(spec: { validate?: string | ((value: unknown) => void) } | undefined, value: unknown): boolean {
  const validate = spec?.validate
  if (!validate) return true
  if (typeof validate === 'function') {
    try {
      validate(value)
      return true
    } catch {
      return false
    }
  }
  return validate.split('|').includes(value === null ? 'null' : typeof value)
}

/**
 * `attrs` restricted to the attributes `type` declares, each checked against the schema's
 * validation and replaced by its default when it fails or is missing; null when a required
 * attribute has no valid value.
 */
function checkedAttrs(type: NodeType | MarkType, attrs: Attrs): Attrs | null {
  const specs = (type.spec.attrs ?? {}) as Record<string, { default?: unknown; validate?: string | ((value: unknown) => void) }>
  const out: Attrs = {}
  for (const [name, spec] of Object.entries(specs)) {
    const value = attrs[name]
    if (value !== undefined && validAttr(spec, value)) out[name] = value
    else if ('default' in spec) out[name] = spec.default
    else return null
  }
  return out
}

function markSet(schema: Schema, parent: NodeType, marks: MarkSet): readonly Mark[] {
  const out: Mark[] = []
  for (const name of Object.keys(marks).sort()) {
    const type = schema.marks[name]
    if (!type || !parent.allowsMarkType(type)) continue
    // malformed mark attributes (a link without href): the mark is not shown
    const attrs = checkedAttrs(type, marks[name] ?? {})
    if (attrs) out.push(type.create(attrs))
  }
  return Mark.setFrom(out)
}

/** The inline content of a textblock of type `type` from `tokens`. */
function inlineContent(schema: Schema, type: NodeType, tokens: readonly Token[]): PMNode[] {
  const out: PMNode[] = []
  const textOnly = type.spec.code === true || type.spec.content === 'text*'
  for (const t of tokens) {
    if (t.kind === 'text') {
      if (t.text) out.push(schema.text(t.text, markSet(schema, type, t.marks)))
    } else if (t.kind === 'inline') {
      const leafType = schema.nodes[t.type]
      if (textOnly) {
        if (t.type === 'hard_break') out.push(schema.text('\n'))
        continue
      }
      if (!leafType || !leafType.isInline || leafType.isText) continue
      const attrs = checkedAttrs(leafType, t.attrs)
      if (attrs) out.push(leafType.create(attrs, null, markSet(schema, type, t.marks)))
    }
  }
  return out
}

/** The textblock or leaf block node of `block`, read as `asParagraph` forces. */
function blockNode(schema: Schema, block: ReadBlock, asParagraph: boolean): PMNode[] {
  const paragraph = schema.nodes['paragraph']!
  let type = block.data ? (schema.nodes[block.data.type] ?? paragraph) : paragraph
  if (!type.isBlock || CONTAINER_TYPES.has(type.name) || type === schema.topNodeType) type = paragraph
  if (asParagraph && type.isTextblock) type = paragraph
  if (type.isLeaf) {
    const attrs = checkedAttrs(type, block.data?.attrs ?? {}) ?? {}
    const nodes = [type.create(attrs)]
    if (asParagraph) nodes.unshift(paragraph.create())
    // text after a leaf block's marker: a paragraph after it
    if (block.inline.length) nodes.push(paragraph.create(null, Fragment.fromArray(inlineContent(schema, paragraph, block.inline))))
    return nodes
  }
  const attrs = checkedAttrs(type, block.data?.attrs ?? {}) ?? {}
  if (!asParagraph && block.inline.some((t) => isImageLeaf(schema, type, t))) {
    // an inline leaf (an image) in a block that holds text only (a code block): the block is
    // split around it, the leaf shown in a paragraph of its own and the text after it in a block
    // of the same type (see `layout.ts`, "Reading"); nothing is written
    const nodes: PMNode[] = []
    let run: Token[] = []
    let leaves = false
    const flush = (): void => {
      if (leaves) nodes.push(paragraph.create(null, Fragment.fromArray(inlineContent(schema, paragraph, run))))
      else if (nodes.length === 0 || run.length) nodes.push(type.create(attrs, Fragment.fromArray(inlineContent(schema, type, run))))
      run = []
    }
    for (const t of block.inline) {
      const leaf = isImageLeaf(schema, type, t)
      if (leaf !== leaves) {
        flush()
        leaves = leaf
      }
      run.push(t)
    }
    flush()
    return nodes
  }
  return [type.create(attrs, Fragment.fromArray(inlineContent(schema, type, block.inline)))]
}

/** Whether `t` is an inline leaf other than a hard break that a text-only block `type` cannot hold. */
function isImageLeaf(schema: Schema, type: NodeType, t: Token | undefined): boolean {
  if (!t || t.kind !== 'inline' || t.type === 'hard_break') return false
  if (type.spec.code !== true && type.spec.content !== 'text*') return false
  const leaf = schema.nodes[t.type]
  return leaf !== undefined && leaf.isInline && !leaf.isText && checkedAttrs(leaf, t.attrs) !== null
}

function isList(type: string): boolean {
  return type === 'bullet_list' || type === 'ordered_list'
}

/** The parent chain of a block, repaired: see `layout.ts` ("Reading"). */
function repairChain(parents: readonly ParentRef[], blockIndex: number): ParentRef[] {
  const out: ParentRef[] = []
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i]!
    if (!CONTAINER_TYPES.has(p.type)) continue
    const prev = out[out.length - 1]
    if (p.type === 'list_item' && (!prev || !isList(prev.type))) continue
    if (p.type !== 'list_item' && prev && isList(prev.type)) {
      out.push({ id: `${prev.id}/item@${blockIndex}`, type: 'list_item', attrs: {} })
    }
    out.push(p)
  }
  const last = out[out.length - 1]
  if (last && isList(last.type)) out.push({ id: `${last.id}/item@${blockIndex}`, type: 'list_item', attrs: {} })
  return out
}

interface Frame {
  ref: ParentRef
  children: PMNode[]
}

/** The document `tokens` describe, and the Y.Text units each top-level node was read from. */
export function fromTokens(schema: Schema, tokens: readonly Token[]): { doc: PMNode; spans: number[] } {
  const blocks: ReadBlock[] = []
  for (const t of tokens) {
    if (t.kind === 'block') blocks.push({ data: t.block, inline: [], units: 1 })
    else {
      let current = blocks[blocks.length - 1]
      if (!current) {
        current = { data: null, inline: [], units: 0 }
        blocks.push(current)
      }
      current.inline.push(t)
      current.units += tokenLength(t)
    }
  }
  const top: PMNode[] = []
  const spans: number[] = []
  const stack: Frame[] = []
  let pendingUnits = 0

  const close = (depth: number): void => {
    while (stack.length > depth) {
      const frame = stack.pop()!
      const type = schema.nodes[frame.ref.type]!
      const attrs = checkedAttrs(type, frame.ref.attrs) ?? {}
      const node = type.create(attrs, Fragment.fromArray(frame.children))
      if (stack.length) stack[stack.length - 1]!.children.push(node)
      else {
        top.push(node)
        spans.push(pendingUnits)
        pendingUnits = 0
      }
    }
  }

  blocks.forEach((block, index) => {
    const chain = repairChain(block.data?.parents ?? [], index)
    let common = 0
    while (common < stack.length && common < chain.length && stack[common]!.ref.id === chain[common]!.id && stack[common]!.ref.type === chain[common]!.type) common++
    close(common)
    for (let d = common; d < chain.length; d++) {
      const parent = stack[stack.length - 1]
      // a list item must start with a paragraph: a nested list opened first gets one before it
      if (parent && parent.ref.type === 'list_item' && parent.children.length === 0) parent.children.push(schema.nodes['paragraph']!.create())
      stack.push({ ref: chain[d]!, children: [] })
    }
    const parent = stack[stack.length - 1]
    const firstInItem = parent !== undefined && parent.ref.type === 'list_item' && parent.children.length === 0
    const nodes = blockNode(schema, block, firstInItem)
    pendingUnits += block.units
    if (parent) parent.children.push(...nodes)
    else {
      for (const [i, node] of nodes.entries()) {
        top.push(node)
        spans.push(i === 0 ? pendingUnits : 0)
        if (i === 0) pendingUnits = 0
      }
    }
  })
  close(0)
  if (top.length === 0) {
    top.push(schema.nodes['paragraph']!.create())
    spans.push(pendingUnits)
  }
  return { doc: schema.topNodeType.create(null, Fragment.fromArray(top)), spans }
}

/** The region where `a` and `b` differ: `[start, endA)` of `a` became `[start, endB)` of `b`; null if equal. */
export function diffRegion(a: PMNode, b: PMNode): { start: number; endA: number; endB: number } | null {
  const start = a.content.findDiffStart(b.content)
  if (start === null) return null
  const end = a.content.findDiffEnd(b.content) ?? { a: a.content.size, b: b.content.size }
  // the end search can run into the start on repeated content: move it back
  const overlap = Math.max(start - Math.min(end.a, end.b), 0)
  return { start, endA: end.a + overlap, endB: end.b + overlap }
}

/** Whether `from` and `to` of `doc` are in the same textblock. */
export function inOneTextblock(doc: PMNode, from: number, to: number): boolean {
  const $from = doc.resolve(from)
  return $from.parent.isTextblock && $from.sameParent(doc.resolve(to))
}
