/**
 * Undo and redo for both document layouts: the block layout's own undo manager when the editor
 * runs on it, y-prosemirror's otherwise. Either way only the local user's changes are undone.
 */
import type { Command } from 'prosemirror-state'
import { undoCommand as treeUndo, redoCommand as treeRedo, yUndoPluginKey } from 'y-prosemirror'
import { bindingOf, undoBlocks, redoBlocks } from './blocks/binding.ts'

function either(blocks: Command, tree: Command): Command {
  return (state, dispatch, view) => {
    if (bindingOf(state)) return blocks(state, dispatch, view)
    if (yUndoPluginKey.getState(state)) return tree(state, dispatch, view) === true
    return false
  }
}

/** Undoes the local user's last change (Mod-z). */
export const undoCommand: Command = either(undoBlocks, treeUndo)

/** Redoes the local user's last undone change (Mod-Shift-z, Mod-y). */
export const redoCommand: Command = either(redoBlocks, treeRedo)
