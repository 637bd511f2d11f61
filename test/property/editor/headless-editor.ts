/**
 * Editors at the binding level, without a DOM: a real ProseMirror `EditorState` with the real
 * plugin set (tandem's {@link collaborationPlugins}, or stock y-prosemirror for interop), driven
 * by a minimal view that does what `EditorView` does for plugins (creates the plugin views,
 * applies dispatched transactions, calls their `update`). Rendering to the DOM is the only thing
 * left out; the browser suite (test/e2e/editor-same-spot.test.ts) covers it.
 *
 * Editors are connected by a {@link Network}: one FIFO queue per directed link, delivered one
 * update at a time in an order the test chooses, like a relay with random delays.
 */
import * as Y from 'yjs'
import { EditorState, TextSelection, type Plugin, type Transaction } from 'prosemirror-state'
import type { Mark, Node as PMNode, Slice } from 'prosemirror-model'
import { Awareness, encodeAwarenessUpdate, applyAwarenessUpdate } from 'y-protocols/awareness'
import {
  ySyncPlugin,
  yCursorPlugin,
  yUndoPlugin,
  undo,
  ySyncPluginKey,
  relativePositionToAbsolutePosition,
  yXmlFragmentToProseMirrorRootNode,
  initProseMirrorDoc,
  type ProsemirrorBinding,
} from 'y-prosemirror'
import { editorSchema } from '../../../editor/schema.ts'
import { HeadlessView } from '../../fixtures/headless-view.ts'
import { collaborationPlugins } from '../../../editor/collaboration.ts'
import { stickySelection } from '../../../editor/sticky-caret.ts'
import { BlockBinding } from '../../../editor/blocks/binding.ts'
import { blockCursorsPlugin } from '../../../editor/blocks/cursors.ts'
import { readTokens } from '../../../editor/blocks/layout.ts'
import { fromTokens } from '../../../editor/blocks/traversal.ts'
import { undoCommand } from '../../../editor/undo-commands.ts'
import { buildKeymaps } from '../../../editor/keymap.ts'
import { buildItems } from '../../../editor/toolbar.ts'

/** The editor's key bindings, as `mountEditor` installs them after the collaboration plugins. */
const KEYMAPS = buildKeymaps(editorSchema)
/** The editor's toolbar buttons by id (`bold`, `h1`, `bullet-list`, `blockquote`, `code-block`, `link`, …). */
const TOOLBAR = new Map(buildItems(editorSchema).map((item) => [item.id, item]))

/** A keydown event for a key name in ProseMirror's keymap notation (`Enter`, `Mod-b`, `Shift-Ctrl-2`). */
function keyEvent(name: string): KeyboardEvent {
  const parts = name.split(/-(?!$)/)
  const mods = new Set(parts.slice(0, -1))
  const last = parts[parts.length - 1]!
  // With Shift held a browser reports the shifted letter (Shift-Ctrl-z arrives as `Z`).
  const key = mods.has('Shift') && /^[a-z]$/.test(last) ? last.toUpperCase() : last
  // No `navigator` in Node: prosemirror-keymap reads Mod as Ctrl, as on Linux and Windows.
  const ctrlKey = mods.has('Mod') || mods.has('Ctrl')
  const keyCode = key === '`' ? 192 : /^[a-zA-Z0-9]$/.test(key) ? key.toUpperCase().charCodeAt(0) : 0
  return { key, keyCode, ctrlKey, shiftKey: mods.has('Shift'), altKey: mods.has('Alt'), metaKey: false, preventDefault() {} } as unknown as KeyboardEvent
}

const NET = Symbol('network')
const FRAGMENT = 'prosemirror'

/**
 * Which binding an editor runs: `blocks` is the editor's default (the block layout, one Y.Text);
 * `tandem` is the `layout: 'y-prosemirror'` option (y-prosemirror with tandem's sticky caret and
 * local writes); `stock` is y-prosemirror as published.
 */
export type Flavor = 'blocks' | 'tandem' | 'stock'

/**
 * How the first ProseMirror state is made: `schema` (a document of one empty paragraph, what
 * `EditorState.create` fills in) or `mounted` (from the fragment with `initProseMirrorDoc`, as
 * `mountEditor` does: on an empty room that is a document without any block, whose only
 * selection is a select-all).
 */
export type Start = 'schema' | 'mounted'

/** One editor: a Y.Doc, its awareness and a headless ProseMirror view bound to it. */
export class HeadlessEditor {
  readonly doc: Y.Doc
  readonly awareness: Awareness
  readonly view: HeadlessView
  readonly fragment: Y.XmlFragment
  readonly ytext: Y.Text
  /** The block layout's binding (flavor `blocks`). */
  readonly blocks: BlockBinding | null = null

  constructor(
    readonly name: string,
    clientID: number,
    readonly flavor: Flavor = 'tandem',
    start: Start = 'schema',
  ) {
    this.doc = new Y.Doc()
    this.doc.clientID = clientID
    this.fragment = this.doc.getXmlFragment(FRAGMENT)
    this.awareness = new Awareness(this.doc)
    this.awareness.setLocalStateField('user', { name, color: '#336699' })
    this.ytext = this.doc.getText('blocks')
    if (flavor === 'blocks') {
      this.blocks = new BlockBinding(this.ytext, editorSchema)
      const plugins = [this.blocks.plugin(), blockCursorsPlugin(this.awareness)]
      this.view = new HeadlessView(EditorState.create({ schema: editorSchema, plugins, doc: this.blocks.doc }))
      return
    }
    const initial = start === 'mounted' ? initProseMirrorDoc(this.fragment, editorSchema) : null
    const options = initial ? { mapping: initial.mapping } : {}
    const plugins: Plugin[] =
      flavor === 'tandem'
        ? collaborationPlugins(this.fragment, this.awareness, options)
        : [ySyncPlugin(this.fragment, options) as Plugin, yCursorPlugin(this.awareness) as Plugin, yUndoPlugin() as Plugin]
    this.view = new HeadlessView(EditorState.create({ schema: editorSchema, plugins, ...(initial ? { doc: initial.doc } : {}) }))
  }

  get state(): EditorState {
    return this.view.state
  }

  get binding(): ProsemirrorBinding {
    return ySyncPluginKey.getState(this.state).binding as ProsemirrorBinding
  }

  /** Text of the document, blocks joined with `\n`. */
  get text(): string {
    return this.state.doc.textBetween(0, this.state.doc.content.size, '\n')
  }

  /** The caret (selection head). */
  get caret(): number {
    return this.state.selection.head
  }

  /** Types `text` at the selection, one character per transaction, as a keyboard would. */
  type(text: string): void {
    for (const ch of text) this.view.dispatch(this.state.tr.insertText(ch))
  }

  /** Places a collapsed caret at `pos` (or selects `from`–`to`). */
  select(from: number, to = from): void {
    this.view.dispatch(this.state.tr.setSelection(TextSelection.create(this.state.doc, from, to)))
  }

  /** Splits the block at the caret, as Enter does. */
  enter(): void {
    const tr = this.state.tr.deleteSelection()
    const marks = this.state.storedMarks ?? this.state.selection.$from.marks()
    tr.split(tr.selection.from)
    if (marks.length) tr.ensureMarks(marks)
    this.view.dispatch(tr.scrollIntoView())
  }

  /**
   * Presses a key (keymap notation: `Enter`, `Backspace`, `Mod-z`, `Shift-Ctrl-1`, `Tab`) as
   * the mounted editor handles it: the state's plugins' key handlers, then the editor's own key
   * bindings (editor/keymap.ts, which end with ProseMirror's base keymap). Whether a binding
   * handled it.
   */
  press(key: string): boolean {
    const event = keyEvent(key)
    const view = this.view as never
    if (this.view.someProp('handleKeyDown', (f) => (f as (v: never, e: KeyboardEvent) => boolean)(view, event))) return true
    return KEYMAPS.some((plugin) => (plugin.props.handleKeyDown as (v: never, e: KeyboardEvent) => boolean)(view, event))
  }

  /** Clicks a toolbar button (editor/toolbar.ts) by id; whether its command ran. */
  toolbar(id: string): boolean {
    const item = TOOLBAR.get(id)
    if (!item) throw new Error(`no toolbar button ${id}`)
    return item.command(this.state, (tr) => this.view.dispatch(tr), this.view as never)
  }

  /**
   * Pastes `slice` at the selection as ProseMirror's paste handler does once it has the slice
   * from the clipboard (prosemirror-view doPaste): plugins' `handlePaste`, then a single node
   * replaces the selection as a node, anything else as a slice.
   */
  paste(slice: Slice): void {
    const view = this.view as never
    const event = { preventDefault() {} } as unknown as ClipboardEvent
    if (this.view.someProp('handlePaste', (f) => (f as (v: never, e: ClipboardEvent, s: Slice) => boolean)(view, event, slice))) return
    const single = slice.openStart === 0 && slice.openEnd === 0 && slice.content.childCount === 1 ? slice.content.firstChild : null
    const tr = single ? this.state.tr.replaceSelectionWith(single, false) : this.state.tr.replaceSelection(slice)
    this.view.dispatch(tr.scrollIntoView().setMeta('paste', true).setMeta('uiEvent', 'paste'))
  }

  /** Turns `mark` on or off for what is typed next (as Mod-b does at a caret). */
  setStoredMarks(marks: readonly Mark[]): void {
    this.view.dispatch(this.state.tr.setStoredMarks(marks))
  }

  /** Undoes this editor's last change through the Yjs undo manager (Mod-z). */
  undo(): void {
    if (this.blocks) undoCommand(this.state, (tr) => this.view.dispatch(tr))
    else undo(this.state)
  }

  /** The shared Yjs content as a string, to compare replicas. */
  get layoutString(): string {
    return this.blocks ? JSON.stringify(this.ytext.toDelta()) : this.fragment.toString()
  }

  /** Replaces the whole document (used to seed a shared starting point). */
  setDoc(doc: PMNode): void {
    this.view.dispatch(this.state.tr.replaceWith(0, this.state.doc.content.size, doc.content))
  }

  /** The document the Yjs fragment describes, to check that the view shows exactly it. */
  fragmentDoc(): PMNode {
    if (this.blocks) return fromTokens(editorSchema, readTokens(this.ytext)).doc
    return yXmlFragmentToProseMirrorRootNode(this.fragment, editorSchema)
  }

  /** This editor's caret as it publishes it (sticky relative positions). */
  stickyCaret(): Y.RelativePosition {
    if (this.blocks) return this.blocks.relativeAt(this.state.selection.head)
    return stickySelection(this.binding, this.state).head
  }

  /** Resolves a relative position (from any editor) in this editor's document, or null. */
  resolve(rel: Y.RelativePosition): number | null {
    if (this.blocks) return this.blocks.resolve(rel)
    return relativePositionToAbsolutePosition(this.doc, this.fragment, rel, this.binding.mapping)
  }

  /**
   * Where this editor draws the cursor of `other` (from awareness), or null when it draws none:
   * what y-prosemirror's cursor decoration computes.
   */
  remoteCursorOf(other: HeadlessEditor): number | null {
    const state = this.awareness.getStates().get(other.doc.clientID) as { cursor?: { head: unknown } | null } | undefined
    if (!state?.cursor) return null
    return this.resolve(Y.createRelativePositionFromJSON(state.cursor.head))
  }

  destroy(): void {
    this.view.destroy()
    this.blocks?.destroy()
    this.awareness.destroy()
    this.doc.destroy()
  }
}

/** FIFO links between editors; updates wait in them until the test delivers them. */
export class Network {
  /** queues[from][to] */
  private readonly queues: Uint8Array[][][]

  constructor(readonly editors: HeadlessEditor[]) {
    this.queues = editors.map(() => editors.map(() => []))
    editors.forEach((editor, from) => {
      editor.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === NET) return
        editors.forEach((_, to) => {
          if (to !== from) this.queues[from]![to]!.push(update)
        })
      })
    })
  }

  /** Links that hold undelivered updates, as [from, to]. */
  pending(): [number, number][] {
    const out: [number, number][] = []
    this.queues.forEach((row, from) => row.forEach((q, to) => q.length > 0 && out.push([from, to])))
    return out
  }

  /** Delivers the oldest update on the link `from` → `to`, if any. */
  deliver(from: number, to: number): void {
    const update = this.queues[from]![to]!.shift()
    if (update) Y.applyUpdate(this.editors[to]!.doc, update, NET)
  }

  /** Delivers everything (delivery can cause new updates; bounded). */
  flush(): void {
    for (let round = 0; round < 1000; round++) {
      const links = this.pending()
      if (links.length === 0) return
      for (const [from, to] of links) while (this.queues[from]![to]!.length > 0) this.deliver(from, to)
    }
    throw new Error('network did not quiesce')
  }

  /** Sends every editor's awareness state to every other editor. */
  syncAwareness(): void {
    for (const from of this.editors) {
      const update = encodeAwarenessUpdate(from.awareness, [from.doc.clientID])
      for (const to of this.editors) if (to !== from) applyAwarenessUpdate(to.awareness, update, NET)
    }
  }

  destroy(): void {
    for (const editor of this.editors) editor.destroy()
  }
}

/** `n` connected editors (client ids 1..n) with the given flavours (default all tandem). */
export function connectedEditors(n: number, flavors: Flavor[] = [], start: Start = 'schema'): Network {
  const names = ['A', 'B', 'C', 'D', 'E', 'F']
  const editors = Array.from({ length: n }, (_, i) => new HeadlessEditor(names[i] ?? `E${i}`, i + 1, flavors[i] ?? 'tandem', start))
  return new Network(editors)
}

/** A document of paragraphs with the given texts (empty string → empty paragraph). */
export function paragraphs(...texts: string[]): PMNode {
  return editorSchema.node(
    'doc',
    null,
    texts.map((t) => editorSchema.node('paragraph', null, t ? [editorSchema.text(t)] : [])),
  )
}
