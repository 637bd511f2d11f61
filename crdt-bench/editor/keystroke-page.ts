/**
 * Browser entry of the editor benchmark's bare page (`bench.html`, built by `pages.ts`). One page
 * mounts either tandem's editor (`mountEditor` in one of its layouts: relay connection, IndexedDB,
 * toolbar, cursors) or ProseMirror alone with the same schema, input rules, keymaps, toolbar and
 * DOM structure, on the same document, so the difference is exactly the cost of collaboration.
 */
import { EditorState, TextSelection } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { Node as PMNode } from 'prosemirror-model'
import { mountEditor, type EditorHandle } from '../../editor/index.ts'
import { editorSchema } from '../../editor/schema.ts'
import { buildInputRules } from '../../editor/input-rules.ts'
import { buildKeymaps } from '../../editor/keymap.ts'
import { toolbarPlugin } from '../../editor/toolbar.ts'
import { cursorCaret } from '../../editor/cursor-caret.ts'
import { defaultCursorBuilder } from 'y-prosemirror'

/** What the benchmark asks the page to mount. */
export interface BenchMountOptions {
  /** ProseMirror alone, or tandem's editor in one of its layouts. */
  mode: 'prosemirror' | 'blocks' | 'y-prosemirror'
  /** Characters of the document (paragraphs of 100). */
  chars: number
  relay: string
  room: string
  /**
   * Open an existing room instead of seeding it: no initial content; `benchMount` resolves with
   * the milliseconds from `mountEditor` to the editor showing the room's `chars` characters.
   */
  open?: boolean
  /** `mountEditor`'s `persistence` (IndexedDB); default true. For the profiler's what-ifs. */
  persistence?: boolean
  /**
   * Others' carets drawn by the builder `window.benchCaretKind` names at the time (tandem's
   * `cursorCaret` or y-prosemirror's `defaultCursorBuilder`), for `caret-cost.ts`.
   */
  switchableCaret?: boolean
}

/** Whose element draws others' carets on a page mounted with `switchableCaret`. */
export type CaretKind = 'tandem' | 'y-prosemirror'

declare global {
  interface Window {
    benchMount?: (options: BenchMountOptions) => Promise<number>
    benchView?: EditorView
    benchEditor?: EditorHandle
    /** What the last `benchMount` resolved with. */
    benchOpenMs?: number
    benchCaretKind?: CaretKind
  }
}

const LINE = 'The quick brown fox jumps over the lazy dog while tandem keeps every write. '.repeat(2).slice(0, 100)

/** `chars` characters in paragraphs of 100. */
function benchDocJSON(chars: number): { type: 'doc'; content: unknown[] } {
  const content = Array.from({ length: Math.ceil(chars / LINE.length) }, () => ({
    type: 'paragraph',
    content: [{ type: 'text', text: LINE }],
  }))
  return { type: 'doc', content }
}

/** Puts the caret at the end of the middle paragraph and focuses the editor. */
function caretInTheMiddle(view: EditorView): void {
  const doc = view.state.doc
  let pos = 0
  for (let i = 0; i < Math.floor(doc.childCount / 2); i++) pos += doc.child(i).nodeSize
  pos += doc.child(Math.floor(doc.childCount / 2)).nodeSize - 1
  view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, pos)))
  view.focus()
}

/** Resolves when `check` holds, checked after every frame. */
function frameUntil(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const tick = (): void => {
      if (check()) resolve()
      else requestAnimationFrame(tick)
    }
    tick()
  })
}

window.benchMount = async ({ mode, chars, relay, room, open, persistence, switchableCaret }) => {
  const element = document.querySelector<HTMLElement>('#editor')
  if (!element) throw new Error('no #editor')
  const json = benchDocJSON(chars)
  let view: EditorView
  let openMs = NaN
  if (mode === 'prosemirror') {
    // mountEditor's DOM structure and non-collaborative plugins.
    const mountPoint = document.createElement('div')
    mountPoint.className = 'tandem-editor-body'
    element.classList.add('tandem-editor')
    element.append(mountPoint)
    const plugins = [buildInputRules(editorSchema), ...buildKeymaps(editorSchema), toolbarPlugin(editorSchema, element)]
    view = new EditorView(mountPoint, {
      state: EditorState.create({ schema: editorSchema, doc: PMNode.fromJSON(editorSchema, json), plugins }),
    })
  } else {
    const started = performance.now()
    const editor = mountEditor(element, {
      url: relay,
      room,
      user: { name: 'Bench', color: '#16a34a' },
      layout: mode,
      ...(open ? {} : { initialContent: json }),
      ...(persistence === false ? { persistence: false } : {}),
      ...(switchableCaret ? { cursorBuilder: (user) => (window.benchCaretKind === 'y-prosemirror' ? defaultCursorBuilder(user) : cursorCaret(user)) } : {}),
    })
    await frameUntil(() => editor.synced && editor.view.state.doc.childCount >= json.content.length)
    openMs = performance.now() - started
    view = editor.view
    window.benchEditor = editor
  }
  caretInTheMiddle(view)
  window.benchView = view
  window.benchOpenMs = openMs
  return openMs
}
