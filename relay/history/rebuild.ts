/**
 * Past states from stored entries: a version is rebuilt from the last checkpoint at or before it
 * plus the deltas after that checkpoint, applied in order to a scratch doc. And a canonical form
 * of a doc's visible content, to check that a restore wrote exactly the version.
 *
 * @module
 */
import * as Y from 'yjs'
import type { VersionMeta } from './history-store.ts'

/** Index of the version whose entry starts the chain that rebuilds `versions[index]` (the last checkpoint at or before it). */
export function chainStart(versions: readonly VersionMeta[], index: number): number {
  for (let i = index; i > 0; i--) if (versions[i]!.checkpoint) return i
  return 0
}

/**
 * A scratch doc holding the state the entries rebuild (applied in order, in one transaction).
 * `gc: false` keeps deleted content (to restore it or show it as deleted).
 */
export function buildDoc(entries: readonly Uint8Array[], gc: boolean): Y.Doc {
  const doc = new Y.Doc({ gc })
  Y.transact(doc, () => {
    for (const entry of entries) Y.applyUpdate(doc, entry)
  }, 'history')
  return doc
}

/** The state the entries rebuild, as one update (garbage collected: what a client needs to show it). */
export function buildState(entries: readonly Uint8Array[]): Uint8Array {
  const doc = buildDoc(entries, true)
  try {
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** A visible content unit or nested type as JSON. */
function contentJson(content: Y.Item["content"]): Json[] {
  if (content instanceof Y.ContentType) return [typeJson(content.type)]
  if (content instanceof Y.ContentEmbed) return [{ embed: content.embed as Json }]
  if (content instanceof Y.ContentBinary) return [{ binary: Buffer.from(content.content).toString('base64') }]
  if (content instanceof Y.ContentDoc) return [{ doc: content.doc?.guid ?? null }]
  return content.getContent() as Json[]
}

/**
 * A type's visible content as JSON: its sequence (strings joined into runs carrying the format
 * marks in effect, like `Y.Text.toDelta`) and its map entries, nested types included. Works on
 * root types that were never given a kind (as decoded from updates).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function typeJson(type: Y.AbstractType<any>): Json {
  const list: Json[] = []
  const marks = new Map<string, Json>()
  let text = ''
  let textMarks = ''
  const pack = (): void => {
    if (text) list.push({ text, marks: JSON.parse(textMarks) as Json })
    text = ''
  }
  for (let item = type._start; item !== null; item = item.right) {
    if (item.deleted) continue
    const content = item.content
    if (content instanceof Y.ContentFormat) {
      if (content.value === null) marks.delete(content.key)
      else marks.set(content.key, content.value as Json)
      continue
    }
    const current = JSON.stringify(Object.fromEntries([...marks].sort(([a], [b]) => (a < b ? -1 : 1))))
    if (content instanceof Y.ContentString) {
      if (current !== textMarks) pack()
      textMarks = current
      text += content.str
      continue
    }
    pack()
    for (const value of contentJson(content)) list.push(marks.size > 0 ? { value, marks: JSON.parse(current) as Json } : { value })
  }
  pack()
  const map: Record<string, Json> = {}
  for (const key of [...type._map.keys()].sort()) {
    const item = type._map.get(key)!
    if (!item.deleted) map[key] = contentJson(item.content).at(-1) ?? null
  }
  return { list, map }
}

/** Every root's visible content, canonical: two docs show the same document exactly when these are equal. */
export function contentOf(doc: Y.Doc): string {
  const roots: Record<string, Json> = {}
  for (const name of [...doc.share.keys()].sort()) {
    const json = typeJson(doc.share.get(name)!)
    const empty = typeof json === 'object' && json !== null && !Array.isArray(json) && (json['list'] as Json[]).length === 0 && Object.keys(json['map'] as object).length === 0
    if (!empty) roots[name] = json
  }
  return JSON.stringify(roots)
}
