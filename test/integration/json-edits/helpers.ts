/**
 * Helpers of the JSON-edit suites: a PATCH, the editor document a client's Y.Doc holds, a room
 * seeded with a document in the block layout, the room's stored state vector.
 *
 * @module
 */
import * as Y from 'yjs'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema } from '../../../editor/schema.ts'
import { BLOCKS_TEXT, readTokens } from '../../../editor/blocks/layout.ts'
import { fromTokens } from '../../../editor/blocks/traversal.ts'
import { seedUpdate } from '../../../editor/blocks/convert.ts'

export const schema = editorSchema

/** `PATCH /api/rooms/:room` with `body` (an object is sent as JSON, a string as it is). */
export async function patch(httpUrl: string, room: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/** The editor's document in `doc` (the block layout read as the editor reads it). */
export function editorDoc(doc: Y.Doc): PMNode {
  return fromTokens(editorSchema, readTokens(doc.getText(BLOCKS_TEXT))).doc
}

/** `doc` written into room `room` as the block layout (a fixed seed id, as a new room's initial content). */
export async function seedRoom(httpUrl: string, room: string, doc: PMNode): Promise<void> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/update`, { method: 'POST', body: Buffer.from(seedUpdate(doc, 4242)) })
  if (res.status !== 200) throw new Error(`seeding ${room} failed: ${res.status}`)
}

/** The room's whole state as the relay serves it. */
export async function roomState(httpUrl: string, room: string): Promise<Uint8Array> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/update`)
  if (res.status !== 200) throw new Error(`reading ${room} failed: ${res.status}`)
  return new Uint8Array(await res.arrayBuffer())
}

/** The room's state vector and delete set (a deletion moves no state vector), hex, as the relay holds it. */
export async function roomFingerprint(httpUrl: string, room: string): Promise<string> {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, await roomState(httpUrl, room))
  const fingerprint = Buffer.from(Y.encodeStateVector(doc)).toString('hex') + ':' + Buffer.from(Y.encodeSnapshot(Y.snapshot(doc))).toString('hex')
  doc.destroy()
  return fingerprint
}

/** A paragraph node. */
export const p = (...content: Array<string | PMNode>): PMNode =>
  schema.node('paragraph', null, content.map((c) => (typeof c === 'string' ? schema.text(c) : c)))

/** A heading node. */
export const h = (level: number, text: string): PMNode => schema.node('heading', { level }, [schema.text(text)])

/** A document node. */
export const docOf = (...blocks: PMNode[]): PMNode => schema.node('doc', null, blocks)
