/**
 * A JSON edit → one Yjs update. The ops run, in order, on a scratch copy of the room's document
 * inside ONE Yjs transaction; the update they produced is returned for the room to apply through
 * its ordinary door (`Room.applyUpdate`: validated, forwarded to every connected editor as one
 * message, stored, attributed to the caller's origin). Any refused op throws before anything
 * reaches the room, so a refused request changes nothing, whatever op refused.
 *
 * - An empty editor document (a room nobody typed into) first gets the shared first marker the
 *   editor writes (`contentSeedUpdate` of the empty document, byte-identical on every replica),
 *   so an edit and a browser typing into a new room at once write into one paragraph, not two.
 * - A room in y-prosemirror's tree layout is converted first (`conversionUpdate`: deterministic,
 *   the same structs the editor writes when it opens the room), then edited; the tree is left
 *   as it is.
 * - The edit doc's client id is one per relay process ({@link EDIT_CLIENT_ID}), not one per
 *   request: every Yjs client id stays in the state vector of the document forever, and the CRDTs
 *   keep one slice per replica id (their default replica is the client id), so a client id per
 *   request would grow both with every request. The id continues its own clock (the scratch copy
 *   holds everything it wrote before) and is random per process like any Yjs client's.
 *
 * @module
 */
import * as Y from 'yjs'
import { editorSchema } from '../../editor/schema.ts'
import { BLOCKS_TEXT, readTokens } from '../../editor/blocks/layout.ts'
import { fromTokens } from '../../editor/blocks/traversal.ts'
import { contentSeedUpdate, conversionUpdate } from '../../editor/blocks/convert.ts'
import type { DataOp, EditOp, RichTextOp } from './ops.ts'
import { invalidOperation, OpRefused } from './op-error.ts'
import { RichTextEdits } from './rich-text.ts'
import { DataEdits } from './data-edits.ts'

/** The Yjs client id of this process's JSON edits (a random 32-bit id, never 0). */
export const EDIT_CLIENT_ID = (globalThis.crypto.getRandomValues(new Uint32Array(1))[0]! >>> 0) || 1

const RICH_TEXT: ReadonlySet<EditOp['op']> = new Set(['insertText', 'insertBlocks', 'delete', 'setBlockType'])

const isRichText = (op: EditOp): op is RichTextOp => RICH_TEXT.has(op.op)

/** Origin of the edit's own transaction on the scratch doc. */
const EDIT = Symbol('tandem:json-edit')

/**
 * The update that applies `ops` to the document whose whole state is `state`, or null when they
 * change nothing. Throws an `invalid-operation` RelayError naming the first op that cannot apply.
 */
export function editUpdate(state: Uint8Array, ops: readonly EditOp[], clientID = EDIT_CLIENT_ID): Uint8Array | null {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, state)
    return runEdit(doc, ops, clientID)
  } finally {
    doc.destroy()
  }
}

/**
 * Runs `ops` on `doc` (a copy of a room's document) in one transaction and returns the update
 * they made, or null. A refused op throws, leaving `doc` part-way changed: the caller drops it.
 */
export function runEdit(doc: Y.Doc, ops: readonly EditOp[], clientID = EDIT_CLIENT_ID): Uint8Array | null {
  let data: DataEdits | null = null
  const updates: Uint8Array[] = []
  const record = (update: Uint8Array): number => updates.push(update)
  doc.on('update', record)
  try {
    if (ops.some(isRichText)) prepareBlocks(doc)
    // set after everything read or written under other ids: Yjs would pick a new id if a remote
    // update brought structs of the doc's own id
    doc.clientID = clientID
    const text = ops.some(isRichText) ? new RichTextEdits(doc.getText(BLOCKS_TEXT)) : null
    data = new DataEdits(doc)
    const edits = data
    doc.transact(() => {
      ops.forEach((op, index) => {
        try {
          if (isRichText(op)) text!.apply(op)
          else edits.apply(op as DataOp)
        } catch (error) {
          if (error instanceof OpRefused) throw invalidOperation(index, op.op, error.message)
          throw error
        }
      })
    }, EDIT)
    // the CRDT handles write their slices when the transaction ends (one more transaction each)
    if (updates.length === 0) return null
    return updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
  } finally {
    doc.off('update', record)
    data?.destroy()
  }
}

/** Writes the editor's shared first marker into an empty block layout, or converts a tree-layout room (see the module comment). */
function prepareBlocks(doc: Y.Doc): void {
  const ytext = doc.getText(BLOCKS_TEXT)
  if (ytext.length > 0) return
  const conversion = conversionUpdate(doc, editorSchema)
  if (conversion) Y.applyUpdate(doc, conversion)
  // a Y.Text that held something once is left alone (the seed's id may be spent), as the editor does
  else if (ytext._start === null) Y.applyUpdate(doc, contentSeedUpdate(fromTokens(editorSchema, readTokens(ytext)).doc))
}
