/**
 * The scenarios of the structure property (structure.property.test.ts): random editing with
 * the editor's own commands on 2–4 headless editors, and the checks that the converged
 * document lost, doubled and moved nothing and has no block boundary no one created. Shared
 * by the vitest property and the failure-rate script (structure-rates.ts).
 */
import fc from 'fast-check'
import * as Y from 'yjs'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema as schema } from '../../../editor/schema.ts'
import { connectedEditors, paragraphs, type Flavor, type HeadlessEditor } from './headless-editor.ts'

/**
 * Keys, pressed through the editor's own key bindings (editor/keymap.ts, then ProseMirror's
 * base keymap), with how often a scenario presses them.
 */
const KEYS: Array<[key: string, weight: number]> = [
  ['Enter', 3], // splits the block (a list item in a list; a newline in a code block)
  ['Backspace', 3], // deletes, or joins with the block before at a block start
  ['Delete', 1], // deletes, or joins the next block at a block end
  ['Shift-Enter', 1], // hard break (leaves a code block)
  ['Tab', 1], // sinks a list item
  ['Shift-Tab', 1], // lifts a list item
  ['Mod-b', 1],
  ['Mod-i', 1],
  ['Mod-`', 1],
  ['Mod-z', 2], // undo (this user's changes only)
  ['Mod-Shift-z', 1], // redo
  ['Mod-y', 1],
  ['Shift-Ctrl-0', 1], // paragraph
  ['Shift-Ctrl-1', 1], // headings
  ['Shift-Ctrl-2', 1],
  ['Shift-Ctrl-3', 1],
  ['Mod-a', 1], // select all
]

/** Toolbar buttons (editor/toolbar.ts) that have no key binding. */
const BUTTONS: Array<[id: string, weight: number]> = [
  ['bullet-list', 1],
  ['ordered-list', 1],
  ['blockquote', 1], // wraps, or lifts out of a blockquote
  ['code-block', 1],
  ['link', 1], // over a selection
  ['h1', 1],
]

/** A block of the document a paste copies from. */
const SOURCE_BLOCKS = ['paragraph', 'heading', 'bullet', 'ordered', 'quote', 'code', 'rule', 'image'] as const
type SourceBlock = { type: (typeof SOURCE_BLOCKS)[number]; length: number; bold: boolean }

export type Action =
  | { kind: 'type'; editor: number; count: number }
  /**
   * Types like `type` while an IME composes (the view's `composing` set); the editor's next other
   * action ends the composition. With `interleave`, what others sent it is delivered after the
   * first character (remote changes arriving mid-composition).
   */
  | { kind: 'compose'; editor: number; count: number; interleave: boolean }
  | { kind: 'deliver'; link: number; count: number }
  | { kind: 'sync' }
  | { kind: 'offline'; editor: number }
  | { kind: 'move'; editor: number; pick: number }
  | { kind: 'select'; editor: number; pick: number; span: number }
  /** Copies `from`–`to` (picked among the source's text positions and its two ends) of a document of `blocks`, and pastes it. */
  | { kind: 'paste'; editor: number; blocks: SourceBlock[]; from: number; to: number }
  | { kind: 'key'; editor: number; key: string }
  | { kind: 'button'; editor: number; id: string }

export interface Scenario {
  editors: number
  initial: number[]
  actions: Action[]
}

const editorArb = fc.nat(3)
const sourceBlockArb: fc.Arbitrary<SourceBlock> = fc.record({
  type: fc.constantFrom(...SOURCE_BLOCKS),
  length: fc.integer({ min: 0, max: 4 }),
  bold: fc.boolean(),
})

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('type' as const), editor: editorArb, count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('compose' as const), editor: editorArb, count: fc.integer({ min: 1, max: 4 }), interleave: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('deliver' as const), link: fc.nat(11), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('offline' as const), editor: editorArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('move' as const), editor: editorArb, pick: fc.nat(10_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('select' as const), editor: editorArb, pick: fc.nat(10_000), span: fc.integer({ min: 1, max: 12 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('paste' as const),
      editor: editorArb,
      blocks: fc.array(sourceBlockArb, { minLength: 1, maxLength: 4 }),
      from: fc.nat(10_000),
      to: fc.nat(10_000),
    }),
  },
  ...KEYS.map(([key, weight]) => ({ weight, arbitrary: fc.record({ kind: fc.constant('key' as const), editor: editorArb, key: fc.constant(key) }) })),
  ...BUTTONS.map(([id, weight]) => ({ weight, arbitrary: fc.record({ kind: fc.constant('button' as const), editor: editorArb, id: fc.constant(id) }) })),
)

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  editors: fc.integer({ min: 2, max: 4 }),
  initial: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
  actions: fc.array(actionArb, { minLength: 10, maxLength: 100 }),
})

/** The document a paste copies from, its text written with `fresh` characters. */
function sourceDoc(blocks: SourceBlock[], fresh: () => string): PMNode {
  const { nodes, marks } = schema
  const text = (b: SourceBlock): PMNode[] => {
    if (b.length === 0) return []
    const t = Array.from({ length: b.length }, fresh).join('')
    return [schema.text(t, b.bold ? [marks['strong']!.create()] : [])]
  }
  const para = (b: SourceBlock): PMNode => nodes['paragraph']!.create(null, text(b))
  const item = (b: SourceBlock): PMNode => nodes['list_item']!.create(null, para(b))
  return nodes['doc']!.create(
    null,
    blocks.map((b) => {
      switch (b.type) {
        case 'paragraph':
          return para(b)
        case 'heading':
          return nodes['heading']!.create({ level: 2 }, text(b))
        case 'bullet':
          return nodes['bullet_list']!.create(null, item(b))
        case 'ordered':
          return nodes['ordered_list']!.create(null, item(b))
        case 'quote':
          return nodes['blockquote']!.create(null, para(b))
        case 'code':
          return nodes['code_block']!.create(null, b.length ? schema.text(Array.from({ length: b.length }, fresh).join('')) : [])
        case 'rule':
          return nodes['horizontal_rule']!.create()
        case 'image':
          return nodes['paragraph']!.create(null, [...text(b), nodes['image']!.create({ src: 'https://example.com/i.png' })])
      }
    }),
  )
}

/** One editor's view: how many textblocks, and the index of the textblock each character is in. */
interface Snapshot {
  blocks: number
  at: Map<string, number>
}

function snapshotOf(doc: PMNode): Snapshot {
  const at = new Map<string, number>()
  let blocks = 0
  doc.descendants((node) => {
    // A horizontal rule is a block between the textblocks before and after it.
    if (node.isBlock && node.isLeaf) blocks++
    if (!node.isTextblock) return true
    for (const ch of node.textContent) if (tracked(ch)) at.set(ch, blocks)
    blocks++
    return false
  })
  return { blocks, at }
}

/** Characters the scenarios write (unique code points); anything else (a newline Enter types in a code block) is not tracked. */
const FIRST = 0x4e00
const tracked = (ch: string): boolean => ch.codePointAt(0)! >= FIRST

/** How many times each tracked character appears. */
function counts(doc: PMNode): Map<string, number> {
  const out = new Map<string, number>()
  for (const ch of doc.textContent) if (tracked(ch)) out.set(ch, (out.get(ch) ?? 0) + 1)
  return out
}

/** Text positions (inside textblocks) of `doc`. */
function textPositions(doc: PMNode): number[] {
  const out: number[] = []
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true
    for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i)
    return false
  })
  return out
}

/** The character right before the selection head inside its textblock, or null at a block start. */
function charBeforeCaret(editor: HeadlessEditor): string | null {
  const $head = editor.state.selection.$head
  if (!$head.parent.isTextblock || $head.parentOffset === 0) return null
  const ch = editor.state.doc.textBetween($head.pos - 1, $head.pos)
  return ch && tracked(ch) ? ch : null
}

/** Runs `f` with `window.prompt` answering `answer` (the link button asks for an address). */
function withPrompt<T>(answer: string, f: () => T): T {
  const g = globalThis as { prompt?: (message?: string, value?: string) => string | null }
  const saved = g.prompt
  g.prompt = () => answer
  try {
    return f()
  } finally {
    if (saved) g.prompt = saved
    else delete g.prompt
  }
}

/** Block markers in an editor's Y.Text (block layout; -1 on the others). */
function markerCount(editor: HeadlessEditor): number {
  if (!editor.blocks) return -1
  let n = 0
  for (let item = editor.ytext._start; item; item = item.right) if (!item.deleted && item.content instanceof Y.ContentType) n++
  return n
}

const name = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16)}`

interface Run {
  writer: number
  /** The anchor (null: typed at a block start), then the typed characters. */
  chars: Array<string | null>
  /** For each typed character: the characters its writer saw when typing it. */
  seen: Array<Set<string>>
}

/**
 * Runs `s` on editors of the given flavors; throws (with a reason) when a check fails. `log`
 * traces every step (the documents and, on the block layout, the Y.Text); `checkEachStep` also
 * checks after every step that the editor it changed shows exactly its Yjs content.
 */
export function runScenario(s: Scenario, flavors: Flavor[], log?: (line: string) => void, checkEachStep = true): void {
  const net = connectedEditors(s.editors, flavors)
  try {
    const editors = net.editors
    let next = FIRST
    const fresh = (): string => String.fromCodePoint(next++)
    const initial = s.initial.map((len) => Array.from({ length: len }, fresh).join(''))
    editors[0]!.setDoc(paragraphs(...initial))
    net.flush()
    const written = new Set<string>(initial.flatMap((t) => [...t]))
    const removed = new Set<string>()
    const reinserted = new Set<string>()
    const snapshots: Snapshot[] = [snapshotOf(editors[0]!.state.doc)]
    const runs: Run[] = []
    const open: Array<Run | null> = editors.map(() => null)
    const offline = editors.map(() => false)
    /** Ends editor `e`'s composition, if one is under way: remote changes held meanwhile are shown. */
    const endComposition = (e: number): void => {
      const editor = editors[e]!
      if (!editor.view.composing) return
      editor.view.composing = false
      editor.blocks?.release()
      consistent(editor, 'the end of a composition')
      caretMoved(e)
    }
    const endRun = (e: number): void => {
      const run = open[e]
      if (run && run.chars.length > 1) runs.push(run)
      open[e] = null
    }
    /** Runs a local change of editor `e`: records what it removed from its own view and a snapshot. */
    const local = (e: number, change: () => void): void => {
      const editor = editors[e]!
      const before = counts(editor.state.doc)
      change()
      const after = counts(editor.state.doc)
      for (const [ch, n] of before) if ((after.get(ch) ?? 0) < n) removed.add(ch)
      // Undo and redo write a character they bring back as a new Yjs item: a fresh insertion.
      for (const [ch, n] of after) if (n > (before.get(ch) ?? 0) && written.has(ch)) reinserted.add(ch)
      snapshots.push(snapshotOf(editor.state.doc))
    }
    const inTextblock = (editor: HeadlessEditor): boolean => editor.state.selection.$head.parent.isTextblock && editor.state.selection.$anchor.parent.isTextblock

    /** A document, compactly: `bullet_list(list_item(paragraph[0,1↵]) horizontal_rule)`; characters as hex offsets, ↵ a hard break, ▣ an image, \\n a newline. */
    const show = (node: PMNode): string => {
      if (node.isTextblock) {
        const items: string[] = []
        node.forEach((child) => {
          if (child.isText) for (const c of child.text!) items.push(tracked(c) ? (c.codePointAt(0)! - FIRST).toString(16) : '\\n')
          else items.push(child.type.name === 'hard_break' ? '↵' : '▣')
        })
        const attrs = node.type.name === 'heading' ? String(node.attrs['level']) : ''
        return `${node.type.name}${attrs}[${items.join(',')}]`
      }
      if (node.isLeaf) return node.type.name
      const inner: string[] = []
      node.forEach((child) => inner.push(show(child)))
      return node.type.name === 'doc' ? inner.join(' ') : `${node.type.name}(${inner.join(' ')})`
    }
    /** An editor's Y.Text, for logs: markers as `<type#client:clock>`, characters as in {@link show}. */
    const layout = (editor: HeadlessEditor): string => {
      if (!editor.blocks) return ''
      const out: string[] = []
      for (let item = editor.ytext._start; item; item = item.right) {
        if (item.deleted || !item.countable) continue
        const content = item.content.getContent()
        for (const c of content) {
          if (typeof c === 'string') for (const ch of c) out.push(tracked(ch) ? (ch.codePointAt(0)! - FIRST).toString(16) : '\\n')
          else if (c && typeof (c as { get?: unknown }).get === 'function') out.push(`<${String((c as Y.Map<unknown>).get('type'))}#${item.id.client}:${item.id.clock}>`)
          else out.push('▣')
        }
      }
      return out.join(' ')
    }
    /** After a change to `editor`'s document: its view shows exactly its Yjs content. */
    const consistent = (editor: HeadlessEditor, after: string): void => {
      // while remote changes are held for a composition the view is behind its Y.Text by design
      if (!checkEachStep || editor.blocks?.holding) return
      const content = editor.fragmentDoc()
      if (!editor.state.doc.eq(content)) throw new Error(`${editor.name}'s view does not show its Yjs content after ${after}: ${show(editor.state.doc)} vs ${show(content)}`)
      const wrong = editor.blocks?.starts.verify(editor.blocks.spans)
      if (wrong) throw new Error(`${editor.name}'s node starts are wrong after ${after}: ${wrong}`)
    }
    /**
     * After a delivery to `writer`: its caret still follows the last character of its open run
     * while that character is there (the sticky caret; a caret thrown elsewhere by a remote
     * change puts the next keystrokes where the writer did not type). The run ends when the
     * character is gone.
     */
    const caretMoved = (writer: number): void => {
      const run = open[writer]
      if (!run) return
      const last = run.chars[run.chars.length - 1]
      const editor = editors[writer]!
      if (charBeforeCaret(editor) === last) return
      if (checkEachStep && last && counts(editor.state.doc).has(last)) {
        throw new Error(`${editor.name}'s caret left ${name(last)}, the last character it typed, on a remote change: ${show(editor.state.doc)} caret ${editor.state.selection.head}`)
      }
      endRun(writer)
    }
    for (const a of s.actions) {
      log?.(`${JSON.stringify(a)}`)
      if (log) for (const editor of editors) log(`   ${editor.name}: ${show(editor.state.doc)}  caret ${editor.state.selection.from}-${editor.state.selection.to}  ${layout(editor)}`)
      if (a.kind === 'deliver' || a.kind === 'sync') {
        const links = net.pending().filter(([from, to]) => !offline[from] && !offline[to])
        const chosen = a.kind === 'sync' ? links : [links[a.link % Math.max(1, links.length)]].filter((l) => l !== undefined)
        for (const [from, to] of chosen) {
          for (let i = 0; i < (a.kind === 'sync' ? Infinity : a.count) && net.pending().some(([f, t]) => f === from && t === to); i++) net.deliver(from, to)
          consistent(editors[to]!, `updates from ${editors[from]!.name}`)
          caretMoved(to)
        }
        continue
      }
      const e = a.editor % s.editors
      const editor = editors[e]!
      if (a.kind === 'compose') editor.view.composing = true
      else endComposition(e)
      if (a.kind === 'offline') {
        offline[e] = !offline[e]
        continue
      }
      if (a.kind === 'type' || a.kind === 'compose') {
        if (!inTextblock(editor)) continue
        if (!editor.state.selection.empty) endRun(e)
        for (let i = 0; i < a.count; i++) {
          if (!open[e]) {
            local(e, () => editor.view.dispatch(editor.state.tr.deleteSelection()))
            open[e] = { writer: e, chars: [charBeforeCaret(editor)], seen: [] }
          }
          const ch = fresh()
          const seen = new Set(counts(editor.state.doc).keys())
          // Typing into a block with text writes a character, never a block marker (one the
          // text already implies, written by two typists at once, is an empty block no one
          // made). An empty block may exist only by a repair on read, with no marker to hold
          // text: typing into it writes one.
          const markers = editor.state.selection.$from.parent.content.size > 0 ? markerCount(editor) : -1
          local(e, () => editor.type(ch))
          if (markers > 0 && markerCount(editor) !== markers) throw new Error(`${editor.name} typing ${name(ch)} wrote a block marker`)
          written.add(ch)
          open[e]!.chars.push(ch)
          open[e]!.seen.push(seen)
          if (a.kind === 'compose' && a.interleave && i === 0 && !offline[e]) {
            for (const [from, to] of net.pending()) if (to === e && !offline[from]) while (net.pending().some(([f, t]) => f === from && t === to)) net.deliver(from, to)
            consistent(editor, 'updates mid-composition')
            caretMoved(e)
          }
        }
        consistent(editor, 'typing')
        continue
      }
      endRun(e)
      if (a.kind === 'move') {
        const positions = textPositions(editor.state.doc)
        if (positions.length === 0) continue // only rules: no text to put a caret in
        editor.select(positions[a.pick % positions.length]!)
      } else if (a.kind === 'select') {
        const positions = textPositions(editor.state.doc)
        if (positions.length === 0) continue
        const from = a.pick % positions.length
        editor.select(positions[from]!, positions[Math.min(positions.length - 1, from + a.span)]!)
      } else if (a.kind === 'paste') {
        const source = sourceDoc(a.blocks, fresh)
        const ends = [0, ...textPositions(source), source.content.size]
        const [from, to] = [ends[a.from % ends.length]!, ends[a.to % ends.length]!].sort((x, y) => x - y) as [number, number]
        const slice = source.slice(from, to === from ? source.content.size : to)
        const before = counts(editor.state.doc)
        local(e, () => editor.paste(slice))
        // What the paste put into the document is written (a paste can leave out what does not fit).
        for (const [ch, n] of counts(editor.state.doc)) if (n > (before.get(ch) ?? 0) && !written.has(ch)) written.add(ch)
        consistent(editor, 'a paste')
      } else if (a.kind === 'key') {
        local(e, () => editor.press(a.key))
        consistent(editor, a.key)
      } else {
        local(e, () => withPrompt(`https://example.com/${next}`, () => editor.toolbar(a.id)))
        consistent(editor, `the ${a.id} button`)
      }
    }
    editors.forEach((_, e) => endComposition(e))
    editors.forEach((_, e) => endRun(e))
    if (log) {
      // one update at a time, to show where things go
      for (let link = net.pending()[0]; link; link = net.pending()[0]) {
        net.deliver(link[0], link[1])
        log(`deliver ${editors[link[0]]!.name} -> ${editors[link[1]]!.name}: ${show(editors[link[1]]!.state.doc)}  ${layout(editors[link[1]]!)}`)
      }
    }
    net.flush()
    if (log) for (const editor of editors) log(`final ${editor.name}: ${show(editor.state.doc)}`)
    check(editors, { written, removed, reinserted, snapshots, runs })
  } finally {
    net.destroy()
  }
}

interface Record_ {
  written: Set<string>
  removed: Set<string>
  /** Characters an undo or redo brought back (written again, as new items, where the undo manager put them). */
  reinserted: Set<string>
  snapshots: Snapshot[]
  runs: Run[]
}

function check(editors: HeadlessEditor[], { written, removed, reinserted, snapshots, runs }: Record_): void {
  const doc = editors[0]!.state.doc
  doc.check()
  for (const editor of editors) {
    const content = editor.fragmentDoc()
    if (!editor.state.doc.eq(content)) throw new Error(`${editor.name}'s view ${JSON.stringify(editor.state.doc.toJSON())} does not show its Yjs content ${JSON.stringify(content.toJSON())}`)
  }
  for (const editor of editors) {
    if (!editor.state.doc.eq(doc)) throw new Error(`${editor.name} differs from A: ${JSON.stringify(editor.state.doc.toJSON())} vs ${JSON.stringify(doc.toJSON())}`)
  }
  const final = counts(doc)
  // Two undo steps that restore the same deleted text at once (one user's redo of an undone
  // typing, another's undo of its deletion) each write it anew: Yjs's undo manager restores
  // content as new items, so both copies stay. Nothing else may appear twice.
  for (const [ch, n] of final) if (n > 1 && !reinserted.has(ch)) throw new Error(`character ${name(ch)} appears twice`)
  for (const ch of written) if (!final.has(ch) && !removed.has(ch)) throw new Error(`character ${name(ch)} lost (no one deleted it)`)

  const where = snapshotOf(doc).at
  // An image in a code block (the block made code while someone put an image in it) splits it
  // on read: the image's paragraph is a boundary the Y.Text has (the image), not a missing one.
  const imageSplits: number[] = []
  let blockNo = 0
  doc.descendants((node, _pos, parent, i) => {
    if (node.isBlock && node.isLeaf) blockNo++
    if (!node.isTextblock) return true
    const prev = parent && i > 0 ? parent.child(i - 1) : null
    if (node.type.name === 'paragraph' && node.childCount > 0 && prev?.type.name === 'code_block' && node.content.content.every((c) => c.type.name === 'image')) imageSplits.push(blockNo)
    blockNo++
    return false
  })
  const splitByImage = (x: string, y: string): boolean => imageSplits.some((b) => b > where.get(x)! && b < where.get(y)!)
  const order = [...doc.textContent].filter(tracked)
  const index = new Map(order.map((ch, i) => [ch, i]))
  // Per snapshot, over the final order: the last block of what it knew up to each character,
  // and the first block of what it knew from each character on.
  const bounds = snapshots.map((s) => {
    const upTo: number[] = []
    const from: number[] = []
    let last = -1
    // (a character an undo or redo wrote anew is not where a view saw the old one)
    const blockOf = (ch: string): number | undefined => (reinserted.has(ch) ? undefined : s.at.get(ch))
    for (const ch of order) upTo.push((last = Math.max(last, blockOf(ch) ?? -1)))
    let first = Infinity
    for (let k = order.length - 1; k >= 0; k--) from[k] = first = Math.min(first, blockOf(order[k]!) ?? Infinity)
    return { blocks: s.blocks, upTo, from }
  })
  /**
   * Whether some editor's view (after one of its own actions, or the start) had a block
   * boundary between the final characters `order[i]` and `order[j]` (i < j): everything it
   * knew up to the first in blocks before everything it knew from the second on. One side may
   * be unknown to it (typed concurrently, or later): then its view had a boundary after (or
   * before) what it knew of the other side; if it knew neither, a boundary at all.
   */
  const separated = (i: number, j: number): boolean =>
    bounds.some(({ blocks, upTo, from }) => {
      const before = upTo[i]!
      const after = from[j]!
      // It knew none of the final characters (all typed concurrently): any boundary it made
      // can be the one they fell on either side of.
      if (before < 0 && after === Infinity) return blocks > 1
      if (after === Infinity) return before < blocks - 1
      if (before < 0) return after > 0
      return before < after
    })

  for (const run of runs) {
    for (let i = 0; i + 1 < run.chars.length; i++) {
      const p = run.chars[i] ?? null
      const q = run.chars[i + 1]!
      if (p === null || removed.has(p) || removed.has(q) || reinserted.has(p) || !final.has(p) || !final.has(q)) continue
      const from = index.get(p)!
      const to = index.get(q)!
      if (to < from) throw new Error(`run of ${editors[run.writer]!.name}: ${name(q)} typed after ${name(p)} ends up before it`)
      const seen = run.seen[i]!
      for (let k = from + 1; k < to; k++) {
        if (seen.has(order[k]!) && !reinserted.has(order[k]!)) throw new Error(`run of ${editors[run.writer]!.name}: ${name(order[k]!)}, which it saw elsewhere, ends up between ${name(p)} and ${name(q)}`)
      }
      if (where.get(p) !== where.get(q) && !separated(from, to) && !splitByImage(p, q)) {
        throw new Error(`run of ${editors[run.writer]!.name}: ${name(p)} and ${name(q)} end up in different blocks, and no one split there`)
      }
    }
  }
  for (let k = 0; k + 1 < order.length; k++) {
    const x = order[k]!
    const y = order[k + 1]!
    // A character an undo or redo wrote anew may sit where the old one no longer is.
    if (reinserted.has(x) || reinserted.has(y)) continue
    if (where.get(x) !== where.get(y) && !separated(k, k + 1) && !splitByImage(x, y)) {
      throw new Error(`a block boundary between ${name(x)} and ${name(y)} that no one created`)
    }
  }
}
