/**
 * The operations of a JSON edit (`PATCH /api/rooms/:room`, body `{"ops": [...]}`): the contract
 * between the relay and its callers (`tandem/client` imports these types). Types only.
 *
 * Rich text (the editor's document, the block layout's `Y.Text` `blocks`):
 * positions are **ProseMirror positions** of the document as `GET /api/rooms/:room?format=prosemirror`
 * returns it (0 = before the first block; entering a block or leaving one counts 1, each
 * character and each inline leaf counts 1), the numbers an application holding that JSON computes
 * with `prosemirror-model` (`Node.fromJSON(schema, json).resolve(pos)`) or by counting. The ops of
 * one request run in order, like the steps of one ProseMirror transaction: each op's positions
 * refer to the document as the ops before it left it.
 *
 * The custom CRDTs of `crdt/` (`name` is the CRDT's name, stored in the root `crdt:<kind>:<name>`
 * exactly as `counter(doc, name)`, `orSet(doc, name)`, `mvRegister(doc, name)` and
 * `lwwRegister(doc, name)` name it) and plain `Y.Map` roots.
 *
 * @module
 */

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** A mark as ProseMirror JSON: `{"type":"strong"}`, `{"type":"link","attrs":{"href":"https://…"}}`. */
export interface MarkJson {
  type: string
  attrs?: Record<string, JsonValue>
}

/** A node as ProseMirror JSON (`Node.toJSON()`), checked against the editor's schema. */
export interface NodeJson {
  type: string
  attrs?: Record<string, JsonValue>
  content?: NodeJson[]
  marks?: MarkJson[]
  text?: string
}

/** Inserts `text` at `at`, a position inside a text block, with exactly `marks` (default none). `"end"`: the end of the last text block. */
export interface InsertTextOp {
  op: 'insertText'
  at: number | 'end'
  text: string
  marks?: MarkJson[]
}

/** Inserts block nodes at `at`, a position between blocks where they fit (`"end"`: after the last block). */
export interface InsertBlocksOp {
  op: 'insertBlocks'
  at: number | 'end'
  blocks: NodeJson[]
}

/** Deletes the range `from`…`to` (`from < to`); a range across blocks joins them, as Delete in the editor does. */
export interface DeleteOp {
  op: 'delete'
  from: number
  to: number
}

/** Turns the text block at `at` (a position inside it, or right before it) into `type` (`paragraph`, `heading` with `attrs.level` 1–6, `code_block`). */
export interface SetBlockTypeOp {
  op: 'setBlockType'
  at: number
  type: string
  attrs?: Record<string, JsonValue>
}

/** Sets `key` of the top-level `Y.Map` `name` to `value`. */
export interface SetKeyOp {
  op: 'setKey'
  name: string
  key: string
  value: JsonValue
}

/** Deletes `key` of the top-level `Y.Map` `name`. */
export interface DeleteKeyOp {
  op: 'deleteKey'
  name: string
  key: string
}

/** Adds `by` (a safe integer, default 1; negative decrements) to the counter `name` (`counter(doc, name)`). */
export interface IncrementOp {
  op: 'increment'
  name: string
  by?: number
}

/** Adds `value` to the add-wins set `name` (`orSet(doc, name)`). */
export interface AddToSetOp {
  op: 'addToSet'
  name: string
  value: JsonValue
}

/** Removes `value` (as observed now) from the add-wins set `name`; a concurrent add survives. */
export interface RemoveFromSetOp {
  op: 'removeFromSet'
  name: string
  value: JsonValue
}

/** Writes `value` to the register `name`: `kind` `"mv"` (default, `mvRegister`: concurrent writes are kept as siblings) or `"lww"` (`lwwRegister`). */
export interface SetRegisterOp {
  op: 'setRegister'
  name: string
  value: JsonValue
  kind?: 'mv' | 'lww'
}

/** The operations on the editor's document. */
export type RichTextOp = InsertTextOp | InsertBlocksOp | DeleteOp | SetBlockTypeOp

/** The operations on maps and on the CRDTs of `crdt/`. */
export type DataOp = SetKeyOp | DeleteKeyOp | IncrementOp | AddToSetOp | RemoveFromSetOp | SetRegisterOp

/** One operation of a JSON edit. */
export type EditOp = RichTextOp | DataOp

/** The body of `PATCH /api/rooms/:room`. */
export interface EditRequest {
  ops: EditOp[]
}

/** The answer to an accepted `PATCH /api/rooms/:room`. */
export interface EditResult {
  ok: true
  /** Operations applied. */
  ops: number
  /** The room's state vector after the edit (base64, Yjs's encoding), as the change feed reports it. */
  stateVector: string
}

/** Most operations one request may carry. */
export const MAX_OPS = 1000
