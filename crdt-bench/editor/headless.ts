/**
 * The editor's collaboration costs without a browser (Node, no DOM): the same ProseMirror
 * plugin set `mountEditor` runs (the binding of the layout, its cursors, input rules, keymaps;
 * not the toolbar, which needs a DOM) on a minimal view that does what `EditorView` does for
 * plugins (creates the plugin views, applies dispatched transactions, calls their `update`).
 * What is left out is rendering and the browser's own input handling, so these figures isolate
 * what the binding and Yjs cost.
 *
 * - typed key: one `insertText` transaction at the end of the middle paragraph, dispatched
 *   (ProseMirror alone: the transaction applied to a state with the same non-collaborative
 *   plugins); bytes of the Yjs update each key produced;
 * - remote key: applying one character another editor typed (its Yjs update) a third of the way
 *   into the document (ProseMirror alone: a transaction inserting that character there);
 * - open: a Y.Doc holding the room, from its encoded state to the first editor state;
 * - trace: a real editing history (automerge-paper, one writer) typed through the binding, each
 *   patch one transaction (`\n` splits the block), and the encoded size of the resulting
 *   document beside the same trace written straight into one Y.Text.
 */
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { initProseMirrorDoc } from 'y-prosemirror'
import { EditorState, TextSelection, type Plugin, type PluginView, type Transaction } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema } from '../../editor/schema.ts'
import { buildInputRules } from '../../editor/input-rules.ts'
import { buildKeymaps } from '../../editor/keymap.ts'
import { collaborationPlugins } from '../../editor/collaboration.ts'
import { BlockBinding } from '../../editor/blocks/binding.ts'
import { blockCursorsPlugin } from '../../editor/blocks/cursors.ts'
import { initialBlocksUpdate, initialContentUpdate } from '../../editor/initial-content.ts'
import { BLOCKS_TEXT, TREE_FRAGMENT } from '../../editor/blocks/convert.ts'
import { loadTrace } from '../sim/traces.ts'
import type { Layout } from './peer.ts'
import { HeadlessView } from '../../test/fixtures/headless-view.ts'

/** An editor bound to `doc` in `layout`, with mountEditor's plugins (toolbar aside). */
interface BoundEditor {
  view: HeadlessView
  destroy(): void
}

function bind(doc: Y.Doc, layout: Layout, focused: boolean): BoundEditor {
  const awareness = new Awareness(doc)
  awareness.setLocalStateField('user', { name: 'Bench', color: '#16a34a' })
  const common = [buildInputRules(editorSchema), ...buildKeymaps(editorSchema)]
  if (layout === 'blocks') {
    const binding = new BlockBinding(doc.getText(BLOCKS_TEXT), editorSchema)
    const plugins: Plugin[] = [binding.plugin(), blockCursorsPlugin(awareness), ...common]
    const view = new HeadlessView(EditorState.create({ schema: editorSchema, doc: binding.doc, plugins }), focused)
    return {
      view,
      destroy() {
        view.destroy()
        binding.destroy()
        awareness.destroy()
      },
    }
  }
  // as mountEditor does (the tree read with its mapping); an empty room starts from the schema's
  // empty paragraph instead, which y-prosemirror writes on the first change
  const fragment = doc.getXmlFragment(TREE_FRAGMENT)
  const initial = fragment.length > 0 ? initProseMirrorDoc(fragment, editorSchema) : null
  const plugins = [...collaborationPlugins(fragment, awareness, initial ? { mapping: initial.mapping } : {}), ...common]
  const view = new HeadlessView(EditorState.create({ schema: editorSchema, plugins, ...(initial ? { doc: initial.doc } : {}) }), focused)
  return {
    view,
    destroy() {
      view.destroy()
      awareness.destroy()
    },
  }
}

const LINE = 'The quick brown fox jumps over the lazy dog while tandem keeps every write. '.repeat(2).slice(0, 100)

/** `chars` characters in paragraphs of 100, as ProseMirror JSON. */
function benchDocJSON(chars: number): { type: 'doc'; content: unknown[] } {
  return { type: 'doc', content: Array.from({ length: Math.ceil(chars / 100) }, () => ({ type: 'paragraph', content: [{ type: 'text', text: LINE }] })) }
}

/** A Y.Doc holding a `chars`-character room in `layout` (the editor's initial-content seed). */
function seededDoc(layout: Layout, chars: number, clientID: number): Y.Doc {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const json = benchDocJSON(chars)
  Y.applyUpdate(doc, layout === 'blocks' ? initialBlocksUpdate(editorSchema, json, BLOCKS_TEXT) : initialContentUpdate(editorSchema, json, TREE_FRAGMENT))
  return doc
}

/** Position at the end of top-level child `index`'s content. */
function endOfChild(doc: PMNode, index: number): number {
  let pos = 0
  for (let i = 0; i <= index; i++) pos += doc.child(i).nodeSize
  return pos - 1
}

/** Position after `offset` characters of top-level child `index`. */
function insideChild(doc: PMNode, index: number, offset: number): number {
  let pos = 0
  for (let i = 0; i < index; i++) pos += doc.child(i).nodeSize
  return pos + 1 + offset
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'

/** Headless figures at one document size. */
export interface HeadlessCosts {
  chars: number
  keys: number
  /** ms per typed key, p50. */
  typed: { prosemirror: number; blocks: number; 'y-prosemirror': number }
  /** ms per applied remote key, p50. */
  remote: { prosemirror: number; blocks: number; 'y-prosemirror': number }
  /** Bytes of the Yjs update of one typed key (p50; mean in `updateBytesMean`). */
  updateBytes: Record<Layout, number>
  updateBytesMean: Record<Layout, number>
  /** ms from the encoded room to the first editor state (p50 of `openRuns`). */
  open: Record<Layout, number>
}

/** Typed keys: ms per key and update bytes per key, for one layout (or ProseMirror alone). */
export function typedKeys(layout: Layout | 'prosemirror', chars: number, keys: number, warmup: number): { ms: number[]; bytes: number[] } {
  const ms: number[] = []
  const bytes: number[] = []
  if (layout === 'prosemirror') {
    const plugins = [buildInputRules(editorSchema), ...buildKeymaps(editorSchema)]
    let state = EditorState.create({ schema: editorSchema, doc: editorSchema.nodeFromJSON(benchDocJSON(chars)), plugins })
    state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, endOfChild(state.doc, Math.floor(state.doc.childCount / 2)))))
    for (let i = -warmup; i < keys; i++) {
      const t0 = performance.now()
      state = state.apply(state.tr.insertText(LETTERS[(i + 26) % 26]!))
      if (i >= 0) ms.push(performance.now() - t0)
    }
    return { ms, bytes }
  }
  const doc = seededDoc(layout, chars, 1)
  const editor = bind(doc, layout, true)
  const view = editor.view
  view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, endOfChild(view.state.doc, Math.floor(view.state.doc.childCount / 2)))))
  let last = 0
  doc.on('update', (update: Uint8Array) => (last += update.length))
  for (let i = -warmup; i < keys; i++) {
    last = 0
    const t0 = performance.now()
    view.dispatch(view.state.tr.insertText(LETTERS[(i + 26) % 26]!))
    const t = performance.now() - t0
    if (i >= 0) {
      ms.push(t)
      bytes.push(last)
    }
  }
  const typed = view.state.doc.textContent.length - Math.ceil(chars / 100) * 100
  if (typed !== keys + warmup) throw new Error(`headless ${layout}: ${typed} of ${keys + warmup} keys reached the document`)
  editor.destroy()
  doc.destroy()
  return { ms, bytes }
}

/** Remote keys: ms to apply one character another editor typed, for one layout (or ProseMirror alone). */
export function remoteKeys(layout: Layout | 'prosemirror', chars: number, keys: number, warmup: number): number[] {
  const ms: number[] = []
  const paragraph = Math.floor(Math.ceil(chars / 100) / 3)
  if (layout === 'prosemirror') {
    const plugins = [buildInputRules(editorSchema), ...buildKeymaps(editorSchema)]
    let state = EditorState.create({ schema: editorSchema, doc: editorSchema.nodeFromJSON(benchDocJSON(chars)), plugins })
    for (let i = -warmup; i < keys; i++) {
      const t0 = performance.now()
      state = state.apply(state.tr.insertText(LETTERS[(i + 26) % 26]!, insideChild(state.doc, paragraph, 20)))
      if (i >= 0) ms.push(performance.now() - t0)
    }
    return ms
  }
  const mine = seededDoc(layout, chars, 1)
  const theirs = seededDoc(layout, chars, 2)
  const me = bind(mine, layout, true)
  const them = bind(theirs, layout, false)
  me.view.dispatch(me.view.state.tr.setSelection(TextSelection.create(me.view.state.doc, endOfChild(me.view.state.doc, Math.floor(me.view.state.doc.childCount / 2)))))
  const updates: Uint8Array[] = []
  theirs.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = -warmup; i < keys; i++) {
    updates.length = 0
    them.view.dispatch(them.view.state.tr.insertText(LETTERS[(i + 26) % 26]!, insideChild(them.view.state.doc, paragraph, 20)))
    const t0 = performance.now()
    for (const u of updates) Y.applyUpdate(mine, u, 'remote')
    if (i >= 0) ms.push(performance.now() - t0)
  }
  if (me.view.state.doc.textContent !== them.view.state.doc.textContent) throw new Error(`headless ${layout}: the remote keys did not arrive`)
  me.destroy()
  them.destroy()
  mine.destroy()
  theirs.destroy()
  return ms
}

/** ms from an encoded room of `chars` characters to the first editor state. */
function openRoom(layout: Layout, chars: number, runs: number): number {
  const source = seededDoc(layout, chars, 1)
  const encoded = Y.encodeStateAsUpdate(source)
  source.destroy()
  const times: number[] = []
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, encoded)
    const editor = bind(doc, layout, false)
    const shown = editor.view.state.doc.childCount
    times.push(performance.now() - t0)
    if (shown < Math.ceil(chars / 100)) throw new Error(`headless ${layout}: opened ${shown} paragraphs`)
    editor.destroy()
    doc.destroy()
  }
  return p50(times)
}

/** Measures the headless figures at `chars` characters. */
export function measureHeadless(chars: number, keys: number, remote: number, warmup = 20, openRuns = 3): HeadlessCosts {
  const typed = { prosemirror: typedKeys('prosemirror', chars, keys, warmup), blocks: typedKeys('blocks', chars, keys, warmup), 'y-prosemirror': typedKeys('y-prosemirror', chars, keys, warmup) }
  const remoteMs = { prosemirror: remoteKeys('prosemirror', chars, remote, warmup), blocks: remoteKeys('blocks', chars, remote, warmup), 'y-prosemirror': remoteKeys('y-prosemirror', chars, remote, warmup) }
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length
  return {
    chars,
    keys,
    typed: { prosemirror: round(p50(typed.prosemirror.ms)), blocks: round(p50(typed.blocks.ms)), 'y-prosemirror': round(p50(typed['y-prosemirror'].ms)) },
    remote: { prosemirror: round(p50(remoteMs.prosemirror)), blocks: round(p50(remoteMs.blocks)), 'y-prosemirror': round(p50(remoteMs['y-prosemirror'])) },
    updateBytes: { blocks: p50(typed.blocks.bytes), 'y-prosemirror': p50(typed['y-prosemirror'].bytes) },
    updateBytesMean: { blocks: round(mean(typed.blocks.bytes), 1), 'y-prosemirror': round(mean(typed['y-prosemirror'].bytes), 1) },
    open: { blocks: round(openRoom('blocks', chars, openRuns), 1), 'y-prosemirror': round(openRoom('y-prosemirror', chars, openRuns), 1) },
  }
}

/** The trace typed through the binding of `layout`, or written straight into a Y.Text (`raw`). */
export interface TraceReplay {
  trace: string
  edits: number
  /** The editor's text equals the trace's `endContent` (blocks joined with `\n`). */
  matches: boolean
  /** `Y.encodeStateAsUpdate` of the resulting document (bytes). */
  docBytes: number
  /** Sum of the Yjs updates the edits produced (bytes). */
  updateBytes: number
  ms: number
}

/** Types trace `name` (a sequential trace; first `limit` edits) through an editor in `layout`. */
export function replayTrace(name: string, layout: Layout | 'raw', limit = Infinity): TraceReplay {
  const trace = loadTrace(name)
  const txns = trace.txns.slice(0, Math.min(limit, trace.txns.length))
  const doc = new Y.Doc()
  doc.clientID = 1
  let updateBytes = 0
  doc.on('update', (u: Uint8Array) => (updateBytes += u.length))
  const t0 = performance.now()
  if (layout === 'raw') {
    const text = doc.getText('t')
    for (const txn of txns) {
      doc.transact(() => {
        for (const [pos, del, ins] of txn.patches) {
          if (del > 0) text.delete(pos, del)
          if (ins.length > 0) text.insert(pos, ins)
        }
      })
    }
    const ms = performance.now() - t0
    const expected = txns.length === trace.txns.length ? trace.endContent : null
    return { trace: name, edits: txns.length, matches: expected === null || text.toString() === expected, docBytes: Y.encodeStateAsUpdate(doc).length, updateBytes, ms: Math.round(ms) }
  }
  const editor = bind(doc, layout, false)
  const view = editor.view
  // plain-text offset → ProseMirror position: blocks are the lines, `\n` is a block boundary
  const posOf = (offset: number): number => {
    const d = view.state.doc
    let pos = 0
    let rest = offset
    for (let i = 0; i < d.childCount; i++) {
      const child = d.child(i)
      const len = child.content.size
      if (rest <= len) return pos + 1 + rest
      rest -= len + 1
      pos += child.nodeSize
    }
    throw new RangeError(`trace offset ${offset} past the end`)
  }
  for (const txn of txns) {
    for (const [pos, del, ins] of txn.patches) {
      const tr = view.state.tr
      const from = posOf(pos)
      if (del > 0) tr.delete(from, posOf(pos + del))
      let at = from
      ins.split('\n').forEach((part, i) => {
        if (i > 0) {
          tr.split(at)
          at += 2
        }
        if (part) {
          tr.insertText(part, at)
          at += part.length
        }
      })
      view.dispatch(tr)
    }
  }
  const ms = performance.now() - t0
  const d = view.state.doc
  const text = d.textBetween(0, d.content.size, '\n')
  const expected = txns.length === trace.txns.length ? trace.endContent : null
  const result = { trace: name, edits: txns.length, matches: expected === null || text === expected, docBytes: Y.encodeStateAsUpdate(doc).length, updateBytes, ms: Math.round(ms) }
  editor.destroy()
  doc.destroy()
  return result
}
