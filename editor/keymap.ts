import type { Schema } from 'prosemirror-model'
import type { Command, Plugin } from 'prosemirror-state'
import { keymap } from 'prosemirror-keymap'
import { baseKeymap, toggleMark, setBlockType, chainCommands, exitCode } from 'prosemirror-commands'
import { splitListItem, liftListItem, sinkListItem } from 'prosemirror-schema-list'
import { undoCommand, redoCommand } from './undo-commands.ts'

/**
 * Key bindings: Mod-z undoes and Mod-Shift-z / Mod-y redo (through the Yjs undo manager, so
 * only the local user's own changes are undone), Mod-b / Mod-i / Mod-` toggle marks,
 * Shift-Enter inserts a hard break, lists split on Enter and nest with Tab / Shift-Tab, and
 * Shift-Ctrl-0..6 set paragraph / heading levels. Everything else is ProseMirror's base keymap.
 */
export function buildKeymaps(schema: Schema): Plugin[] {
  const keys: Record<string, Command> = {
    'Mod-z': undoCommand,
    'Mod-y': redoCommand,
    'Mod-Shift-z': redoCommand,
  }
  const { marks, nodes } = schema
  if (marks['strong']) keys['Mod-b'] = toggleMark(marks['strong'])
  if (marks['em']) keys['Mod-i'] = toggleMark(marks['em'])
  if (marks['code']) keys['Mod-`'] = toggleMark(marks['code'])
  const hardBreak = nodes['hard_break']
  if (hardBreak) {
    keys['Shift-Enter'] = chainCommands(exitCode, (state, dispatch) => {
      dispatch?.(state.tr.replaceSelectionWith(hardBreak.create()).scrollIntoView())
      return true
    })
  }
  const item = nodes['list_item']
  if (item) {
    keys['Enter'] = splitListItem(item)
    keys['Tab'] = sinkListItem(item)
    keys['Shift-Tab'] = liftListItem(item)
  }
  if (nodes['paragraph']) keys['Shift-Ctrl-0'] = setBlockType(nodes['paragraph'])
  const heading = nodes['heading']
  if (heading) {
    for (let level = 1; level <= 6; level++) keys[`Shift-Ctrl-${level}`] = setBlockType(heading, { level })
  }
  return [keymap(keys), keymap(baseKeymap)]
}
