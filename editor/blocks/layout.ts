/**
 * The block layout: the whole document in ONE `Y.Text`, structure as data beside the text.
 * This module holds the format's types and the reading/writing of a single marker; it imports
 * only yjs. (What follows is the text a later README section is made from.)
 *
 * ## The sequence
 * Every unit of the Y.Text is one of:
 * - a **block marker** at the start of every block: an embedded `Y.Map` with the keys
 *   - `type`: the ProseMirror node type of the block (`paragraph`, `heading`, `code_block`,
 *     `horizontal_rule`),
 *   - `attrs`: its attributes (`{ level: 2 }` for a heading; `{}` for most),
 *   - `parents`: the chain of containers the block sits in, outermost first, each
 *     `{ id, type, attrs }` with `type` one of `bullet_list`, `ordered_list`, `list_item`,
 *     `blockquote`;
 *   a missing key reads as `paragraph`, `{}`, `[]`, and a new marker is written without the keys
 *   that hold those (a top-level paragraph's marker is an empty map);
 * - a **character** of text, its marks as Yjs formatting attributes named for the mark
 *   (`strong: {}`, `em: {}`, `code: {}`, `link: { href, title }`);
 * - an **inline leaf** (image, hard break): an embed `{ inline: type, attrs }` with the marks as
 *   formatting attributes.
 * Everything after a marker up to the next marker is that block's content. A horizontal rule is a
 * marker with nothing after it.
 *
 * Why the marker is a `Y.Map` and not a JSON embed: a JSON embed cannot change, so a type change
 * would be "delete the marker, insert a new one", and two people turning one paragraph into H1
 * and H2 at once would leave two markers, i.e. a block boundary nobody made. A Y.Map marker
 * changes in place: H1 vs H2 is two sets of one key, one wins (Yjs's map rule: the write that
 * sorts last by client id), the text is untouched. The marker's identity is its Yjs item.
 *
 * Why parents carry ids: containers have no unit of their own in the sequence; blocks that share
 * a container share its id. Two adjacent lists are two ids, so they stay two lists
 * (automerge-prosemirror#42), and one list item holding two paragraphs is two markers with the
 * same item id. A wrap writes a new id into the `parents` of every marker in range; a lift
 * removes it; joining two lists gives the second list's markers the first list's id.
 *
 * ## Reading (sequence → document), repaired deterministically
 * Any sequence reads as a document valid under the schema (`traversal.ts`), whatever concurrent
 * edits left behind; repairs are made on read only, never written back by themselves (two
 * clients writing the same repair at once would make two of it):
 * - text before the first marker is a paragraph of its own (the first marker was deleted while
 *   someone typed before it);
 * - consecutive blocks whose parents share a prefix of ids share those containers; a container id
 *   seen again after a different one opens a new container (two runs, two nodes);
 * - unknown parent types and a `list_item` not directly inside a list are dropped from the chain;
 *   a block directly inside a list (no item) gets an item of its own;
 * - a list item's first child must be a paragraph: a heading or code block there reads as a
 *   paragraph, anything else gets an empty paragraph before it;
 * - unknown block types read as paragraphs; attributes are checked against the schema and fall
 *   back to its defaults; marks a block does not allow are dropped (code blocks: all), a hard
 *   break in a code block reads as `\n`; another inline leaf (an image) in a code block splits
 *   it: the code before it, the leaf in a paragraph of its own, the code after it in a block of
 *   the same type and attributes (the parts after the first have no marker of their own);
 * - text after a horizontal rule's marker is a paragraph after the rule.
 *
 * ## Concurrency (the table; each row is a test in test/unit/editor/blocks/)
 * | concurrent edits | outcome |
 * | --- | --- |
 * | split vs split at the same point | two markers at that point: one extra empty block, text intact |
 * | split vs split at different points | three blocks, every character once, in order |
 * | split vs join of the same boundary | the join deletes the old marker, the split's new marker stays: still two blocks, text intact |
 * | two joins of one boundary | both delete the same marker: one join |
 * | H1 vs H2 at once | one `attrs` write wins (Yjs map order, by client id), same on every replica; text intact |
 * | wrap vs split inside the wrapped range | the new marker keeps the parents its writer saw; the list is read as two lists around it (deterministic), text intact |
 * | delete a whole block vs type inside it | the typed text survives, in the block before the deleted one (its marker is gone); at the document start it is a paragraph of its own |
 * | nested-list insert vs delete of the nested items | the inserted item survives with its parent chain; the nested list is re-opened for it |
 * | Enter at the end of a block vs typing at that end | both inserts follow the same character; Yjs orders them by client id, so the typed text is either the end of the old block or the start of the new one, contiguous and once (Yjs cannot express "stay with the block") |
 * | type at the end of a paragraph vs join / heading / wrap / split / delete of it | no text is deleted to change structure, so the typed words stay whole and in their block |
 *
 * ## Marks (Peritext's cases, test/unit/editor/blocks/marks.test.ts)
 * Marks are Yjs formatting attributes: a format range is a start item and an end item in the
 * sequence. What holds: a writer's own typing follows ProseMirror's rules, which are Peritext's
 * (bold/italic/code grow at their end, not their start; links on neither side); Enter inside a
 * bold run keeps both halves bold (a marker inserted inside a run changes no format);
 * concurrent bold and italic over overlapping ranges merge; everything converges. What Yjs
 * cannot express: text inserted concurrently at a range's edge is ordered against the range's
 * format item by client id, not by the mark's growth rule (so `Peritext*` is bold for one order
 * and not the other; a plain character typed at the spot where someone else types bold can come
 * out inside their bold); two adjacent concurrent bolds can leave one character plain; an unbold
 * of text that is not bold writes nothing; and a bold that extends an existing run (Yjs merges it
 * by deleting the run's start item) concurrent with an unbold of that run (which deletes its start
 * and end items) leaves the bold open to the end. Fixing those needs format items with their own
 * anchoring (Peritext's "before/after a character" boundaries), not something a binding on top of
 * Y.Text can add.
 */
import * as Y from 'yjs'

/** Name of the root `Y.Text` of the block layout. */
export const BLOCKS_TEXT = 'blocks'

/** Attributes of a node or mark, JSON values. */
export type Attrs = Record<string, unknown>

/** Marks of a unit: mark name → mark attributes. */
export type MarkSet = Record<string, Attrs>

/** One container around a block: a list, a list item or a blockquote, with its identity. */
export interface ParentRef {
  id: string
  type: string
  attrs: Attrs
}

/** What a block marker says about its block. */
export interface BlockData {
  type: string
  attrs: Attrs
  parents: ParentRef[]
}

/** One run of the flat sequence: a marker, text with one set of marks, or an inline leaf. */
export type Token =
  | { kind: 'block'; block: BlockData; /** the marker it was read from */ marker?: Y.Map<unknown> }
  | { kind: 'text'; text: string; marks: MarkSet }
  | { kind: 'inline'; type: string; attrs: Attrs; marks: MarkSet }

/** Container node types that may appear in `parents`. */
export const CONTAINER_TYPES: ReadonlySet<string> = new Set(['bullet_list', 'ordered_list', 'list_item', 'blockquote'])

/** Number of Y.Text units a token takes. */
export function tokenLength(token: Token): number {
  return token.kind === 'text' ? token.text.length : 1
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A new marker (prelim `Y.Map`) for `block`, to be inserted into the Y.Text. Only the fields that
 * differ from what a missing field reads as ({@link readMarker}: `paragraph`, `{}`, `[]`) are
 * written, so a top-level paragraph's marker is an empty map: each key is an item of its own
 * (≈15–25 bytes with its key and value), and most markers are of such paragraphs. A missing key
 * and a key set to its default read the same and change the same way ({@link updateMarker}
 * compares what they read as).
 */
export function createMarker(block: BlockData): Y.Map<unknown> {
  const marker = new Y.Map<unknown>()
  if (block.type !== 'paragraph') marker.set('type', block.type)
  if (Object.keys(block.attrs).length > 0) marker.set('attrs', block.attrs)
  if (block.parents.length > 0) marker.set('parents', block.parents)
  return marker
}

/** What `marker` says; missing or malformed fields read as a top-level paragraph's. */
export function readMarker(marker: Y.Map<unknown>): BlockData {
  const type = marker.get('type')
  const attrs = marker.get('attrs')
  const parents = marker.get('parents')
  return {
    type: typeof type === 'string' ? type : 'paragraph',
    attrs: isRecord(attrs) ? attrs : {},
    parents: Array.isArray(parents)
      ? parents.filter(
          (p): p is ParentRef => isRecord(p) && typeof p['id'] === 'string' && typeof p['type'] === 'string',
        ).map((p) => ({ id: p.id, type: p.type, attrs: isRecord(p.attrs) ? p.attrs : {} }))
      : [],
  }
}

/** Deep equality of JSON values (attributes, parent chains). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => jsonEqual(a[k], b[k]))
  }
  return false
}

/**
 * Writes into `marker` the fields of `block` that differ from what it holds (one map write per
 * changed field, so a concurrent change of another field is kept).
 */
export function updateMarker(marker: Y.Map<unknown>, block: BlockData): void {
  const now = readMarker(marker)
  if (now.type !== block.type) marker.set('type', block.type)
  if (!jsonEqual(now.attrs, block.attrs)) marker.set('attrs', block.attrs)
  if (!jsonEqual(now.parents, block.parents)) marker.set('parents', block.parents)
}

/** The marks of a formatting-attribute record (null values are "no mark"). */
export function marksOf(attributes: Record<string, unknown> | undefined): MarkSet {
  const marks: MarkSet = {}
  if (!attributes) return marks
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue
    marks[key] = isRecord(value) ? value : {}
  }
  return marks
}

/** The token of one embed unit of the Y.Text, with the formatting in effect there. */
export function embedToken(insert: unknown, marks: MarkSet): Token {
  if (insert instanceof Y.Map) return { kind: 'block', block: readMarker(insert), marker: insert }
  if (isRecord(insert) && typeof insert['inline'] === 'string')
    return { kind: 'inline', type: insert['inline'], attrs: isRecord(insert['attrs']) ? insert['attrs'] : {}, marks }
  return { kind: 'inline', type: 'unknown', attrs: {}, marks: {} }
}

/**
 * Units `index` … `index + length` of `ytext` as tokens (a text run per item), walking its
 * items and tracking formatting. Units that are none of the layout's kinds (an embed of another
 * shape) read as an inline leaf of type `unknown`, so every unit has a token.
 */
export function readRange(ytext: Y.Text, index: number, length: number): Token[] {
  const out: Token[] = []
  const attrs: Record<string, unknown> = {}
  let pos = 0
  const end = index + length
  for (let item = ytext._start; item !== null && pos < end; item = item.right) {
    const content = item.content
    if (content instanceof Y.ContentFormat) {
      if (!item.deleted) attrs[content.key] = content.value
      continue
    }
    if (item.deleted || !item.countable) continue
    const len = item.length
    if (pos + len > index) {
      const from = Math.max(0, index - pos)
      const to = Math.min(len, end - pos)
      if (content instanceof Y.ContentString) {
        const text = content.str.slice(from, to)
        const marks = marksOf(attrs)
        const last = out[out.length - 1]
        if (last?.kind === 'text' && jsonEqual(last.marks, marks)) last.text += text
        else out.push({ kind: 'text', text, marks })
      } else if (content instanceof Y.ContentType || content instanceof Y.ContentEmbed) {
        out.push(embedToken(content instanceof Y.ContentType ? content.type : content.embed, marksOf(attrs)))
      } else for (let i = from; i < to; i++) out.push({ kind: 'inline', type: 'unknown', attrs: {}, marks: {} })
    }
    pos += len
  }
  return out
}

/** The whole Y.Text as tokens. */
export function readTokens(ytext: Y.Text): Token[] {
  return readRange(ytext, 0, ytext.length)
}

/** The insert ops that write `tokens` into a Y.Text (markers as new prelim maps). */
export function tokensToDelta(tokens: readonly Token[]): { insert: unknown; attributes?: Record<string, unknown> }[] {
  return tokens.map((t) => {
    if (t.kind === 'block') return { insert: createMarker(t.block) }
    if (t.kind === 'text') return { insert: t.text, attributes: { ...t.marks } }
    return { insert: { inline: t.type, attrs: t.attrs }, attributes: { ...t.marks } }
  })
}

/** Writes `tokens` at the end of `ytext` (e.g. the content of a new room), in one transaction. */
export function appendTokens(ytext: Y.Text, tokens: readonly Token[]): void {
  const run = (): void => {
    // default options: Yjs 13 strips a final '\n' when `sanitize` is FALSE (inverted test)
    ytext.applyDelta([{ retain: ytext.length }, ...tokensToDelta(tokens)])
  }
  if (ytext.doc) ytext.doc.transact(run)
  else run()
}
