/**
 * Keeps each writer's words whole when two people type at the same spot.
 *
 * y-prosemirror remembers the local selection across a remote change as Yjs relative
 * positions that stick to the character AFTER the caret (`assoc >= 0`). When a remote insert
 * lands exactly at a collapsed caret, the caret therefore ends up after the remote text and the
 * next local character lands behind it: two people typing at the end of the same paragraph get
 * their words shredded letter by letter (`bealta tpwha oone`). ShareJS had the same bug
 * (josephg/ShareJS#44, fixed in #45: remote text inserted at the caret goes after the caret).
 *
 * Here a collapsed caret sticks to the character BEFORE it (`assoc < 0`, the one the local user
 * typed last), and a range selection sticks to its own content (its start to the first selected
 * character, its end to the last one), so text inserted by someone else at an edge of the
 * selection stays outside it. A selection that covers no text is a caret too: the
 * select-all an editor opened on an empty room starts with (its document has no textblock yet)
 * would otherwise be restored as a select-all of the first text someone else types, and the next
 * key would replace all of it.
 *
 * The caret also keeps its stored marks (Mod-b pressed, nothing typed yet) across a remote change:
 * ProseMirror drops them on any document change, so the other writer's keystroke would turn this
 * writer's bold word plain.
 *
 * Only the selection bookkeeping changes: the Yjs document layout is exactly y-prosemirror's.
 */
import * as Y from 'yjs'
import { AllSelection, Plugin, PluginKey, type EditorState, type Transaction } from 'prosemirror-state'
import type { Mark, Node as ProseMirrorNode } from 'prosemirror-model'
import { ySyncPluginKey, absolutePositionToRelativePosition, type ProsemirrorBinding } from 'y-prosemirror'

/** A selection as y-prosemirror's binding stores it between Yjs transactions. */
export interface RelativeSelection {
  /** ProseMirror selection JSON id: `text`, `node`, `all`, … */
  type: string
  anchor: Y.RelativePosition
  head: Y.RelativePosition
}

/**
 * The relative position of ProseMirror position `pos`, associated to the left (`assoc < 0`:
 * it sticks to the character before, or to the start of its block) or to the right
 * (`assoc >= 0`, y-prosemirror's default: it sticks to the character after). Both resolve to
 * `pos` in the current document; they differ only where a concurrent insert at `pos` goes.
 */
export function relativePosition(
  binding: Pick<ProsemirrorBinding, 'type' | 'doc' | 'mapping'>,
  pos: number,
  assoc: number,
): Y.RelativePosition {
  const right = absolutePositionToRelativePosition(pos, binding.type, binding.mapping) as Y.RelativePosition
  if (assoc >= 0) return right
  // y-prosemirror's walk from ProseMirror positions to Yjs indices is the reference; re-encode
  // the same (type, index) with left association.
  const abs = Y.createAbsolutePositionFromRelativePosition(right, binding.doc)
  if (abs === null) return right
  return Y.createRelativePositionFromTypeIndex(abs.type, abs.index, assoc)
}

/**
 * True when the selection of `state` is a caret: collapsed, or a select-all of a document
 * without text or leaf nodes (an empty room, or only empty paragraphs).
 */
function coversNoText(state: EditorState): boolean {
  const { selection, doc } = state
  if (selection.empty) return true
  return selection instanceof AllSelection && !holdsLeaf(doc)
}

/**
 * Whether `node` holds a leaf (a text node — never empty in ProseMirror — or an atom such as an
 * image). Stops at the first one: a select-all in a long document costs no walk of its text.
 */
function holdsLeaf(node: ProseMirrorNode): boolean {
  for (let i = 0; i < node.childCount; i++) {
    const child = node.child(i)
    if (child.isLeaf || holdsLeaf(child)) return true
  }
  return false
}

/**
 * The selection of `state` as sticky relative positions: a caret ({@link coversNoText}) sticks
 * to the character before it; a range keeps exactly the characters it covers (its start sticks
 * to the first selected character, its end to the last).
 */
export function stickySelection(
  binding: Pick<ProsemirrorBinding, 'type' | 'doc' | 'mapping'>,
  state: EditorState,
): RelativeSelection {
  const { anchor, head, from } = state.selection
  const type = (state.selection.toJSON() as { type: string }).type
  if (coversNoText(state)) {
    // Restored as a text caret, which ProseMirror puts at the nearest text position.
    const caret = relativePosition(binding, from, -1)
    return { type: 'text', anchor: caret, head: caret }
  }
  const assocOf = (pos: number): number => (pos === state.selection.to ? -1 : 0)
  return {
    type,
    anchor: relativePosition(binding, anchor, assocOf(anchor)),
    head: relativePosition(binding, head, assocOf(head)),
  }
}

/** Key of {@link stickyCaretPlugin}. */
export const stickyCaretPluginKey = new PluginKey('tandem-sticky-caret')

/** The binding's meta on the transaction that renders a Yjs change into the view. */
interface SyncMeta {
  isChangeOrigin?: boolean
  isUndoRedoOperation?: boolean
}

/**
 * After the binding rendered a remote change, puts back the stored marks the caret had before
 * it (those the caret's block allows). Undo and redo are left as ProseMirror leaves any other
 * change: they drop the stored marks. The appended transaction carries the binding's meta, so
 * the binding and the plugins that follow it still see a change that came from Yjs.
 */
function keepStoredMarks(transactions: readonly Transaction[], oldState: EditorState, newState: EditorState): Transaction | null {
  const stored = oldState.storedMarks
  if (!stored || !oldState.selection.empty || newState.storedMarks !== null) return null
  const $cursor = newState.selection.empty ? newState.selection.$head : null
  if (!$cursor?.parent.inlineContent) return null
  let meta: SyncMeta | undefined
  for (const tr of transactions) {
    const m = tr.getMeta(ySyncPluginKey) as SyncMeta | undefined
    if (m?.isChangeOrigin) meta = m
  }
  if (!meta || meta.isUndoRedoOperation) return null
  const marks: Mark[] = stored.filter((mark) => $cursor.parent.type.allowsMarkType(mark.type))
  if (marks.length === 0 && stored.length > 0) return null
  return newState.tr
    .setStoredMarks(marks)
    .setMeta(ySyncPluginKey, { isChangeOrigin: true, isUndoRedoOperation: false })
    .setMeta('addToHistory', false)
}

/**
 * A plugin that goes AFTER `ySyncPlugin` in the plugin list: it replaces the binding's
 * "remember the selection before a Yjs transaction" hook with {@link stickySelection}. The
 * binding's own restore step (after it re-renders a remote change) then puts the caret where
 * it belongs, and {@link keepStoredMarks} keeps what the caret was about to type. Works for
 * undo / redo transactions the same way (except for stored marks).
 */
export function stickyCaretPlugin(): Plugin {
  return new Plugin({
    key: stickyCaretPluginKey,
    appendTransaction: (transactions, oldState, newState) => keepStoredMarks(transactions, oldState, newState),
    view: (view) => {
      const binding = ySyncPluginKey.getState(view.state)?.binding as ProsemirrorBinding | undefined
      if (!binding) throw new Error('stickyCaretPlugin needs ySyncPlugin before it in the plugin list')
      const original = binding.beforeAllTransactions
      const sticky = (): void => {
        const pmView = binding.prosemirrorView as { state: EditorState } | null
        if (binding.beforeTransactionSelection !== null || pmView == null) return
        // While the binding holds its mutex it is writing a local change into Yjs (the view
        // already shows it); it restores no selection then, so none needs remembering.
        binding.mux(() => {
          binding.beforeTransactionSelection = stickySelection(binding, pmView.state)
        })
      }
      // ySyncPlugin's view (created before this one) registered the original hook.
      binding.doc.off('beforeAllTransactions', original)
      binding.beforeAllTransactions = sticky
      binding.doc.on('beforeAllTransactions', sticky)
      return {
        destroy: () => {
          binding.doc.off('beforeAllTransactions', sticky)
          binding.beforeAllTransactions = original
        },
      }
    },
  })
}
