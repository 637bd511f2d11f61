/**
 * Writes local typing into Yjs exactly where it happened.
 *
 * y-prosemirror turns every local change into Yjs operations by diffing the whole new
 * ProseMirror document against the Yjs fragment. A diff cannot tell identical neighbours apart:
 * typing `a` right before someone else's `a` is recorded as an insert AFTER their `a`, and a
 * new empty paragraph (Enter) can be matched to someone else's empty paragraph below it. In
 * both cases the local text is anchored to the other writer's text, and once both keep typing
 * their words interleave. The diff is also a walk over the whole document on every keystroke.
 *
 * This plugin (placed after `ySyncPlugin`) takes over the binding's "ProseMirror changed" step
 * for the changes a keyboard makes, using the transaction's own step instead of a diff:
 * - text typed, replaced or deleted inside one textblock of plain text;
 * - a textblock split in two (Enter).
 * New empty textblocks always get an (empty) XmlText from their creator, see
 * {@link addTextsToNewEmptyTextblocks}.
 * Anything else (paste across blocks, input rules, mark changes, undo, …) and any case where
 * the Yjs side does not look exactly as expected falls back to y-prosemirror's diff. The Yjs
 * layout is y-prosemirror's (an `XmlElement` per node with its attributes, one `XmlText` per
 * run of text with marks as formatting attributes) and the binding's node mapping is kept up to
 * date, so the rest of y-prosemirror works unchanged.
 */
import * as Y from 'yjs'
import { Plugin, PluginKey } from 'prosemirror-state'
import type { Mark, Node as PMNode } from 'prosemirror-model'
import { ReplaceStep, type Step } from 'prosemirror-transform'
import { ySyncPluginKey, type ProsemirrorBinding } from 'y-prosemirror'

/** Steps applied since the document Yjs last agreed with. */
interface PendingSteps {
  from: PMNode
  steps: readonly Step[]
}

/** Key of {@link localWritesPlugin}. */
export const localWritesPluginKey = new PluginKey<PendingSteps | null>('tandem-local-writes')

const MAX_PENDING = 4

type Mapping = ProsemirrorBinding['mapping']

/** y-prosemirror's formatting attributes for `marks`, or null if it would hash their names. */
function markAttributes(marks: readonly Mark[]): Record<string, unknown> | null {
  const attrs: Record<string, unknown> = {}
  for (const mark of marks) {
    // Marks that may overlap themselves get a hashed attribute name in y-prosemirror.
    if (!mark.type.excludes(mark.type)) return null
    attrs[mark.type.name] = mark.attrs
  }
  return attrs
}

/** The text of a Y.Text without formatting (what y-prosemirror compares with). */
function plainText(ytext: Y.Text): string {
  let s = ''
  for (let n = ytext._start; n !== null; n = n.right) {
    if (!n.deleted && n.content instanceof Y.ContentString) s += n.content.str
  }
  return s
}

/** True when every child of `node` is a text node. */
function onlyText(node: PMNode): boolean {
  let ok = true
  node.forEach((child) => {
    if (!child.isText) ok = false
  })
  return ok
}

/**
 * The Yjs types along the path to the textblock containing `pos` in `doc`, checked against
 * the binding's mapping (each Yjs element must be mapped to exactly the node of `doc` at that
 * place). Returns null if anything does not match.
 */
function yPath(fragment: Y.XmlFragment, mapping: Mapping, doc: PMNode, pos: number): Y.XmlElement[] | null {
  const $pos = doc.resolve(pos)
  if (!$pos.parent.isTextblock) return null
  const path: Y.XmlElement[] = []
  let parent: Y.XmlFragment = fragment
  for (let d = 0; d < $pos.depth; d++) {
    const index = $pos.index(d)
    if (parent.length !== $pos.node(d).childCount) return null
    const child = parent.get(index)
    if (!(child instanceof Y.XmlElement) || mapping.get(child) !== $pos.node(d + 1)) return null
    path.push(child)
    parent = child
  }
  return path
}

/**
 * The Y.XmlText of a textblock element that holds exactly `text`: the element's only child;
 * null for an empty element when `text` is empty; undefined when the element is not like that
 * (e.g. two texts after a concurrent first insert, which y-prosemirror's diff sorts out).
 */
function blockText(element: Y.XmlElement, text: string): Y.XmlText | null | undefined {
  if (element.length === 0) return text === '' ? null : undefined
  const child = element.length === 1 ? element.get(0) : null
  return child instanceof Y.XmlText && plainText(child) === text ? child : undefined
}

/** Re-points the mapping of every element on `path` to the matching node of `doc` at `pos`. */
function remap(mapping: Mapping, fragment: Y.XmlFragment, path: Y.XmlElement[], doc: PMNode, pos: number): void {
  const $pos = doc.resolve(pos)
  mapping.set(fragment, doc)
  path.forEach((element, i) => mapping.set(element, $pos.node(i + 1)))
}

/** Every formatting attribute used in `ytext`, set to null (y-prosemirror's "no mark"). */
function clearedAttributes(ytext: Y.Text): Record<string, unknown> {
  const attrs: Record<string, unknown> = {}
  for (let n = ytext._start; n !== null; n = n.right) {
    if (!n.deleted && n.content instanceof Y.ContentFormat) attrs[n.content.key] = null
  }
  return attrs
}

/**
 * Inserts `text` so that it follows the character at `index - 1` (its Yjs origin is that
 * character, or text deleted right after it by the same transaction; at index 0 the start of
 * the text). `Y.Text.insert` may step over formatting items after that character first (the
 * start or end of someone else's bold run, say), which anchors the new text to the other
 * writer's text: concurrent typing at that spot then interleaves. The new text takes the
 * formatting in effect after that character.
 */
function insertRightAfter(transaction: Y.Transaction, ytext: Y.XmlText, index: number, text: string): void {
  const doc = transaction.doc
  let left: Y.Item | null = null
  let remaining = index
  for (let n = ytext._start; n !== null && remaining > 0; n = n.right) {
    if (n.deleted || !n.countable) continue
    if (remaining <= n.length) {
      // Make `n` end at the character before the insertion point.
      if (remaining < n.length) Y.getItemCleanStart(transaction, Y.createID(n.id.client, n.id.clock + remaining))
      left = n
      remaining = 0
    } else remaining -= n.length
  }
  if (remaining > 0) throw new Error('insert position past the end of the text')
  // Go past the text this same transaction deleted (the selection this replaces), so text typed
  // by others in front of it stays in front; but not past text deleted before (typing next to
  // a deleted character would otherwise follow that character rather than the one before the
  // caret, and someone typing in front of the deleted one would land inside this writer's run),
  // nor past formatting, live or deleted.
  let right = left ? left.right : ytext._start
  while (right !== null && right.deleted && right.countable && Y.isDeleted(transaction.deleteSet, right.id)) {
    left = right
    right = right.right
  }
  // The text's position cache is rebuilt on demand.
  const markers = (ytext as unknown as { _searchMarker: unknown[] | null })._searchMarker
  if (markers) markers.length = 0
  const id = Y.createID(doc.clientID, Y.getState(doc.store, doc.clientID))
  new Y.Item(id, left, left?.lastId ?? null, right, right?.id ?? null, ytext, null, new Y.ContentString(text)).integrate(transaction, 0)
}

/**
 * Inserts the text nodes of `nodes` at `index` of `ytext` with their marks: each right after the
 * character before it ({@link insertRightAfter}), then formatted to exactly its marks.
 */
function insertTextNodes(ytext: Y.XmlText, index: number, nodes: readonly PMNode[]): void {
  const cleared = clearedAttributes(ytext)
  const doc = ytext.doc!
  for (const node of nodes) {
    const text = node.text ?? ''
    doc.transact((tr) => insertRightAfter(tr, ytext, index, text), ySyncPluginKey)
    ytext.format(index, text.length, { ...cleared, ...markAttributes(node.marks) })
    index += text.length
  }
}

/** Text edit inside one plain-text textblock. */
function writeTextEdit(binding: ProsemirrorBinding, before: PMNode, after: PMNode, step: ReplaceStep): boolean {
  const { from, to, slice } = step
  if (slice.openStart !== 0 || slice.openEnd !== 0) return false
  const nodes: PMNode[] = []
  let marksOk = true
  slice.content.forEach((n) => {
    nodes.push(n)
    if (!n.isText || markAttributes(n.marks) === null) marksOk = false
  })
  if (!marksOk) return false
  const $from = before.resolve(from)
  const $to = before.resolve(to)
  if ($from.parent !== $to.parent || !$from.parent.isTextblock || !onlyText($from.parent)) return false
  const $after = after.resolve(from)
  if (!$after.parent.isTextblock || !onlyText($after.parent) || $after.depth !== $from.depth) return false
  const path = yPath(binding.type, binding.mapping, before, from)
  const block = path?.[path.length - 1]
  if (!path || !block) return false
  const oldText = $from.parent.textContent
  const ytext = blockText(block, oldText)
  if (!ytext) return false
  const offset = $from.parentOffset
  const inserted = nodes.map((n) => n.text ?? '').join('')
  if (oldText.slice(0, offset) + inserted + oldText.slice(offset + to - from) !== $after.parent.textContent) return false
  binding.doc.transact(() => {
    if (to > from) ytext.delete(offset, to - from)
    insertTextNodes(ytext, offset, nodes)
  }, ySyncPluginKey)
  remap(binding.mapping, binding.type, path, after, from)
  binding.mapping.set(ytext, childrenOf($after.parent))
  return true
}

function childrenOf(node: PMNode): PMNode[] {
  const out: PMNode[] = []
  node.forEach((c) => out.push(c))
  return out
}

/** A new Y element for textblock `node` (plain text only), as y-prosemirror creates one. */
function createTextblock(mapping: Mapping, node: PMNode): Y.XmlElement {
  const element = new Y.XmlElement(node.type.name)
  for (const [key, value] of Object.entries(node.attrs)) {
    if (value !== null && key !== 'ychange') element.setAttribute(key, value as string)
  }
  // Even an empty textblock gets its (empty) XmlText, created together with it by one writer:
  // see addTextsToNewEmptyTextblocks.
  const texts = childrenOf(node)
  const ytext = new Y.XmlText()
  if (texts.length) ytext.applyDelta(texts.map((t) => ({ insert: t.text ?? '', attributes: markAttributes(t.marks) ?? {} })))
  element.insert(0, [ytext])
  mapping.set(ytext, texts)
  mapping.set(element, node)
  return element
}

/** A plain-text textblock split in two at one position (Enter). */
function writeSplit(binding: ProsemirrorBinding, before: PMNode, after: PMNode, step: ReplaceStep): boolean {
  const { from, to, slice } = step
  if (from !== to || slice.openStart !== 1 || slice.openEnd !== 1 || slice.content.childCount !== 2) return false
  const $from = before.resolve(from)
  const block = $from.parent
  if (!block.isTextblock || !onlyText(block)) return false
  for (const m of block.content.content) if (markAttributes(m.marks) === null) return false
  const depth = $from.depth
  const index = $from.index(depth - 1)
  const container = after.resolve(from).node(depth - 1)
  if (container.childCount !== $from.node(depth - 1).childCount + 1) return false
  const head = container.child(index)
  const tail = container.child(index + 1)
  const offset = $from.parentOffset
  if (!head.isTextblock || !tail.isTextblock || !onlyText(head) || !onlyText(tail)) return false
  if (!head.sameMarkup(block)) return false
  if (head.textContent !== block.textContent.slice(0, offset) || tail.textContent !== block.textContent.slice(offset)) return false
  for (const m of tail.content.content) if (markAttributes(m.marks) === null) return false
  const path = yPath(binding.type, binding.mapping, before, from)
  const yblock = path?.[path.length - 1]
  if (!path || !yblock) return false
  const parent = (path.length >= 2 ? path[path.length - 2] : binding.type) as Y.XmlFragment
  const ytext = blockText(yblock, block.textContent)
  if (ytext === undefined) return false
  binding.doc.transact(() => {
    if (ytext && ytext.length > offset) ytext.delete(offset, ytext.length - offset)
    parent.insert(index + 1, [createTextblock(binding.mapping, tail)])
  }, ySyncPluginKey)
  const headPos = after.resolve(from).before(depth) + 1
  remap(binding.mapping, binding.type, path, after, headPos)
  if (ytext) binding.mapping.set(ytext, childrenOf(head))
  return true
}

/**
 * Gives every empty textblock element that this client created since `clockBefore` an empty
 * XmlText, in the same transaction. Otherwise the first characters typed into such a block
 * create one XmlText per writer, and y-prosemirror's repair of that (it moves a writer's own
 * text into the neighbouring one and deletes its own, yjs/y-prosemirror#160) loses text when
 * three or more people start typing in the same empty block at once: one writer deletes the
 * XmlText another is moving its text into.
 */
function addTextsToNewEmptyTextblocks(binding: ProsemirrorBinding, clockBefore: number): void {
  const doc = binding.doc
  const structs = doc.store.clients.get(doc.clientID)
  const schema = (binding.prosemirrorView as { state: { schema: PMNode['type']['schema'] } } | null)?.state.schema
  if (!structs || !schema || Y.getState(doc.store, doc.clientID) <= clockBefore) return
  const end = structs.length
  const empty: Y.XmlElement[] = []
  for (let i = clockBefore === 0 ? 0 : Y.findIndexSS(structs, clockBefore); i < end; i++) {
    const item = structs[i]
    if (!(item instanceof Y.Item) || item.deleted || !(item.content instanceof Y.ContentType)) continue
    const type = item.content.type
    if (type instanceof Y.XmlElement && type.length === 0 && schema.nodes[type.nodeName]?.isTextblock) empty.push(type)
  }
  if (empty.length === 0) return
  doc.transact(() => {
    for (const element of empty) {
      const ytext = new Y.XmlText()
      element.insert(0, [ytext])
      binding.mapping.set(ytext, [])
    }
  }, ySyncPluginKey)
}

/**
 * The local-writes plugin; goes after `ySyncPlugin`. See the module comment.
 */
export function localWritesPlugin(): Plugin {
  /** The ProseMirror document the Yjs fragment is known to describe (null: unknown). */
  let synced: PMNode | null = null
  return new Plugin<PendingSteps | null>({
    key: localWritesPluginKey,
    state: {
      init: () => null,
      apply(tr, pending, oldState) {
        if (!tr.docChanged) return pending
        if (oldState.doc === synced) return { from: oldState.doc, steps: tr.steps }
        if (!pending || pending.steps.length + tr.steps.length > MAX_PENDING) return null
        return { from: pending.from, steps: [...pending.steps, ...tr.steps] }
      },
    },
    view: (view) => {
      const binding = ySyncPluginKey.getState(view.state)?.binding as ProsemirrorBinding | undefined
      if (!binding) throw new Error('localWritesPlugin needs ySyncPlugin before it in the plugin list')
      const original = binding._prosemirrorChanged
      binding._prosemirrorChanged = (doc: PMNode): void => {
        if (doc === synced) return
        const pending = localWritesPluginKey.getState(view.state)
        const step = pending?.from === synced && pending.steps.length === 1 ? pending.steps[0] : undefined
        const before = synced
        let written = false
        if (before && step instanceof ReplaceStep) {
          written = writeTextEdit(binding, before, doc, step) || writeSplit(binding, before, doc, step)
        }
        if (!written) {
          const clockBefore = Y.getState(binding.doc.store, binding.doc.clientID)
          binding.doc.transact(() => {
            original.call(binding, doc)
            addTextsToNewEmptyTextblocks(binding, clockBefore)
          }, ySyncPluginKey)
        }
        synced = doc
      }
      // The binding renders remote changes with this meta: the view then shows the fragment.
      const markSynced = (): void => {
        if ((ySyncPluginKey.getState(view.state) as { isChangeOrigin?: boolean }).isChangeOrigin) synced = view.state.doc
      }
      return {
        update: markSynced,
        destroy: () => {
          binding._prosemirrorChanged = original
        },
      }
    },
  })
}
