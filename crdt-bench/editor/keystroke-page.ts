/**
 * Browser entry of the keystroke-cost benchmark (bundled by keystroke-cost.ts). One page mounts
 * either tandem's editor (`mountEditor`: y-prosemirror binding, relay connection, IndexedDB) or
 * ProseMirror alone with the same schema, input rules, keymaps, toolbar and DOM structure, on
 * the same document, so the difference is exactly the cost of collaboration.
 */
import { EditorState, TextSelection } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { Node as PMNode } from 'prosemirror-model'
import { mountEditor } from '../../editor/index.ts'
import { editorSchema } from '../../editor/schema.ts'
import { buildInputRules } from '../../editor/input-rules.ts'
import { buildKeymaps } from '../../editor/keymap.ts'
import { toolbarPlugin } from '../../editor/toolbar.ts'

/** What the benchmark asks the page to mount. */
export interface BenchMountOptions {
  mode: 'prosemirror' | 'tandem'
  chars: number
  relay: string
  room: string
}

declare global {
  interface Window {
    benchMount?: (options: BenchMountOptions) => Promise<void>
    benchView?: EditorView
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

window.benchMount = async ({ mode, chars, relay, room }) => {
  const element = document.querySelector<HTMLElement>('#editor')
  if (!element) throw new Error('no #editor')
  const json = benchDocJSON(chars)
  let view: EditorView
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
    const editor = mountEditor(element, { url: relay, room, user: { name: 'Bench', color: '#16a34a' }, initialContent: json })
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (editor.synced && editor.view.state.doc.childCount >= json.content.length) resolve()
        else setTimeout(check, 20)
      }
      check()
    })
    view = editor.view
  }
  caretInTheMiddle(view)
  window.benchView = view
}
