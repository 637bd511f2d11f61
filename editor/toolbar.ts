import { Mark, type MarkType, type NodeType, type Schema } from 'prosemirror-model'
import { Plugin, type Command, type EditorState } from 'prosemirror-state'
import type { EditorView } from 'prosemirror-view'
import { toggleMark, setBlockType, wrapIn, lift } from 'prosemirror-commands'
import { wrapInList } from 'prosemirror-schema-list'
import { undoCommand, redoCommand } from './undo-commands.ts'

/** One toolbar button: a label, a command, and optionally how to tell it is active. */
export interface ToolbarItem {
  id: string
  label: string
  title: string
  command: Command
  active?: (state: EditorState) => boolean
  /** Undo / redo: depends on the undo history, recomputed on every update. */
  history?: boolean
}

function markActive(state: EditorState, type: MarkType): boolean {
  const { from, $from, to, empty } = state.selection
  if (empty) return type.isInSet(state.storedMarks ?? $from.marks()) !== undefined
  return state.doc.rangeHasMark(from, to, type)
}

function blockActive(state: EditorState, type: NodeType, attrs?: Record<string, unknown>): boolean {
  const { $from, to } = state.selection
  const parent = $from.parent
  if (to > $from.end()) return false
  if (parent.type !== type) return false
  return attrs === undefined || Object.entries(attrs).every(([k, v]) => parent.attrs[k] === v)
}

function toggleLink(type: MarkType): Command {
  return (state, dispatch) => {
    if (state.selection.empty) return false
    if (markActive(state, type)) return toggleMark(type)(state, dispatch)
    if (!dispatch) return true
    const href = globalThis.prompt?.('Link address', 'https://')
    if (!href) return false
    return toggleMark(type, { href })(state, dispatch)
  }
}

function toggleWrap(type: NodeType): Command {
  return (state, dispatch) => wrapIn(type)(state, dispatch) || lift(state, dispatch)
}

/** The toolbar's buttons for `schema` (the marks and nodes it has), in order. */
export function buildItems(schema: Schema): ToolbarItem[] {
  const items: ToolbarItem[] = []
  const { marks, nodes } = schema
  const mark = (id: string, label: string, title: string, type: MarkType | undefined): void => {
    if (type) items.push({ id, label, title, command: toggleMark(type), active: (s) => markActive(s, type) })
  }
  mark('bold', 'B', 'Bold (Mod-b)', marks['strong'])
  mark('italic', 'I', 'Italic (Mod-i)', marks['em'])
  mark('code', '</>', 'Inline code (Mod-`)', marks['code'])
  const link = marks['link']
  if (link) items.push({ id: 'link', label: 'Link', title: 'Link', command: toggleLink(link), active: (s) => markActive(s, link) })
  const paragraph = nodes['paragraph']
  if (paragraph) items.push({ id: 'paragraph', label: '¶', title: 'Paragraph', command: setBlockType(paragraph), active: (s) => blockActive(s, paragraph) })
  const heading = nodes['heading']
  if (heading) {
    for (const level of [1, 2]) {
      items.push({ id: `h${level}`, label: `H${level}`, title: `Heading ${level}`, command: setBlockType(heading, { level }), active: (s) => blockActive(s, heading, { level }) })
    }
  }
  const bullet = nodes['bullet_list']
  if (bullet) items.push({ id: 'bullet-list', label: '•', title: 'Bullet list', command: wrapInList(bullet) })
  const ordered = nodes['ordered_list']
  if (ordered) items.push({ id: 'ordered-list', label: '1.', title: 'Ordered list', command: wrapInList(ordered) })
  const quote = nodes['blockquote']
  if (quote) items.push({ id: 'blockquote', label: '❝', title: 'Blockquote', command: toggleWrap(quote) })
  const codeBlock = nodes['code_block']
  if (codeBlock) items.push({ id: 'code-block', label: '{ }', title: 'Code block', command: setBlockType(codeBlock), active: (s) => blockActive(s, codeBlock) })
  items.push({ id: 'undo', label: '↶', title: 'Undo your last change (Mod-z)', command: undoCommand, history: true })
  items.push({ id: 'redo', label: '↷', title: 'Redo (Mod-Shift-z / Mod-y)', command: redoCommand, history: true })
  return items
}

/** What a button shows: whether its command can run, and whether it is active. */
export interface ButtonState {
  enabled: boolean
  active: boolean
}

/** The state of `item`'s button in `state` (`editable`: whether the view accepts edits). */
export function buttonState(item: ToolbarItem, state: EditorState, editable: boolean, view?: EditorView): ButtonState {
  return { enabled: editable && item.command(state, undefined, view), active: item.active?.(state) ?? false }
}

/**
 * Whether every button except undo/redo shows the same in `next` as in `prev`, decided without
 * running the commands: both selections are carets in the same textblock at the same path, every
 * node around that textblock is the same node (so only its inline content differed, as when a
 * character is typed or someone else edits another block), the blocks on the path have the same
 * type and attributes, and the marks at the caret are the same. The buttons' commands (mark
 * toggles, block types, wraps, lifts) read only those; the property test in
 * test/unit/editor/toolbar.test.ts checks it against running them.
 */
export function sameButtonContext(prev: EditorState, next: EditorState): boolean {
  const a = prev.selection
  const b = next.selection
  if (!a.empty || !b.empty || a.constructor !== b.constructor) return false
  const $a = a.$from
  const $b = b.$from
  if ($a.depth !== $b.depth || !$a.parent.isTextblock) return false
  for (let d = 0; d <= $a.depth; d++) {
    const na = $a.node(d)
    const nb = $b.node(d)
    if (!na.hasMarkup(nb.type, nb.attrs, nb.marks)) return false
    if (d === $a.depth || na === nb) continue
    const on = $a.index(d)
    if (on !== $b.index(d) || na.childCount !== nb.childCount) return false
    for (let i = 0; i < na.childCount; i++) if (i !== on && na.child(i) !== nb.child(i)) return false
  }
  return Mark.sameSet(prev.storedMarks ?? $a.marks(), next.storedMarks ?? $b.marks())
}

/**
 * A small toolbar rendered into `container` (before the editor). Buttons reflect the
 * selection (active marks and block types) and are disabled when their command cannot run.
 * The toolbar is a ProseMirror plugin view, so it is removed when the view is destroyed.
 * On a keystroke the buttons are not recomputed (only undo/redo are) when
 * {@link sameButtonContext} says none of them can have changed, and a button's DOM is written
 * only when its state changed.
 */
export function toolbarPlugin(schema: Schema, container: HTMLElement): Plugin {
  const items = buildItems(schema)
  return new Plugin({
    view(view: EditorView) {
      const bar = document.createElement('div')
      bar.className = 'tandem-toolbar'
      bar.setAttribute('role', 'toolbar')
      const buttons = items.map((item) => {
        const button = document.createElement('button')
        button.type = 'button'
        button.textContent = item.label
        button.title = item.title
        button.dataset['command'] = item.id
        button.addEventListener('mousedown', (event) => {
          event.preventDefault()
          item.command(view.state, view.dispatch, view)
          view.focus()
        })
        bar.append(button)
        return { item, button }
      })
      container.prepend(bar)
      const shown = buttons.map((): ButtonState | null => null)
      let shownFor: EditorState | null = null
      let shownEditable = false
      const update = (v: EditorView): void => {
        const editable = v.editable
        const same = shownFor !== null && editable === shownEditable && sameButtonContext(shownFor, v.state)
        shownFor = v.state
        shownEditable = editable
        buttons.forEach(({ item, button }, i) => {
          if (same && !item.history) return
          const next = buttonState(item, v.state, editable, v)
          const before = shown[i]
          if (before?.enabled !== next.enabled) button.disabled = !next.enabled
          if (before?.active !== next.active) button.classList.toggle('is-active', next.active)
          shown[i] = next
        })
      }
      update(view)
      return { update, destroy: () => bar.remove() }
    },
  })
}
