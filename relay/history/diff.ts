/**
 * The difference between two versions as one ProseMirror document: the editor's block layout
 * (root `blocks`, see editor/blocks/layout.ts) of both versions in one, text only in the older
 * one marked `deletion`, text only in the newer one marked `insertion`, each with the author who
 * made that change (`{ author, name }`).
 *
 * How: the entries from the checkpoint before the older version to the newer version are applied
 * in order to a scratch doc that keeps deleted content (`gc: false`); after each version's entry
 * the ids it added and deleted are noted (who did it: its attribution). Both versions' states
 * (state vector and delete set) are taken on the way. The layout's items are then walked once:
 * an item shows in a version when that version's state vector covers it and its delete set does
 * not. Items are first split at both states' boundaries, inside the walk's transaction (Yjs
 * merges them back when it ends).
 *
 * @module
 */
import * as Y from 'yjs'
import { diffSchema } from '../../editor/history/diff-schema.ts'
import { BLOCKS_TEXT, readMarker, type MarkSet, type Token } from '../../editor/blocks/layout.ts'
import { fromTokens } from '../../editor/blocks/traversal.ts'
import type { NodeJson } from '../http/doc-json.ts'
import { authorIndexAt, type Attribution, type VersionAuthor } from './authors.ts'
import type { VersionMeta } from './history-store.ts'

export { diffSchema }

/** What one version's entry changed, and who. */
interface Step {
  meta: VersionMeta
  attribution: Attribution | undefined
  /** Per client: the clocks its entry added, [from, to). */
  added: Map<number, [number, number]>
  deleted: DeleteSet
}

type DeleteSet = ReturnType<typeof Y.createDeleteSet>

/** One side of a diff. */
interface Side {
  sv: Map<number, number>
  ds: DeleteSet
}

const visibleIn = (item: Y.Item, side: Side): boolean => item.id.clock < (side.sv.get(item.id.client) ?? 0) && !Y.isDeleted(side.ds, item.id)

/** The inputs: every version (oldest first), the two indexes, and the entries and attributions of the chain. */
export interface DiffInput {
  versions: readonly VersionMeta[]
  from: number
  to: number
  /** Entries by sequence number, from the chain start of the older version to the newer version. */
  entries: ReadonlyMap<number, Uint8Array>
  attributions: ReadonlyMap<number, Attribution>
  chainStart: number
}

/** The diff's answer: the document and the authors of the changes it shows. */
export interface DiffResult {
  doc: NodeJson
  authors: VersionAuthor[]
  inserted: number
  deleted: number
}

/** Computes the diff from `versions[from]` to `versions[to]` (either order). */
export function diffVersions(input: DiffInput): DiffResult {
  const { versions, from, to, entries, attributions, chainStart } = input
  const older = Math.min(from, to)
  const newer = Math.max(from, to)
  const doc = new Y.Doc({ gc: false })
  try {
    const steps: Step[] = []
    let sides: { older?: Side; newer?: Side } = {}
    let step: Step | null = null
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (!step) return
      for (const [client, clock] of tr.afterState) {
        const before = tr.beforeState.get(client) ?? 0
        if (clock <= before) continue
        const range = step.added.get(client)
        step.added.set(client, range ? [Math.min(range[0], before), Math.max(range[1], clock)] : [before, clock])
      }
      step.deleted = Y.mergeDeleteSets([step.deleted, tr.deleteSet])
    })
    for (let i = chainStart; i <= newer; i++) {
      const meta = versions[i]!
      step = i > older ? { meta, attribution: attributions.get(meta.seq), added: new Map(), deleted: Y.createDeleteSet() } : null
      Y.applyUpdate(doc, entries.get(meta.seq)!)
      if (step) steps.push(step)
      if (i === older) sides = { ...sides, older: sideOf(doc) }
    }
    return walk(doc, sides.older!, sideOf(doc), from <= to, steps)
  } finally {
    doc.destroy()
  }
}

function sideOf(doc: Y.Doc): Side {
  const snapshot = Y.snapshot(doc)
  return { sv: snapshot.sv, ds: snapshot.ds }
}

/** Who added (`added`) or deleted (else) `id`: the step that did it and its attribution; null when unknown. */
function authorOf(steps: readonly Step[], id: Y.ID, added: boolean): VersionAuthor | null {
  for (const step of steps) {
    if (added) {
      const range = step.added.get(id.client)
      if (!range || id.clock < range[0] || id.clock >= range[1]) continue
    } else if (!Y.isDeleted(step.deleted, id)) continue
    const { authors } = step.meta
    const idx = authorIndexAt(added ? step.attribution?.inserted : step.attribution?.deleted, id.client, id.clock, authors.length)
    return authors[idx] ?? null
  }
  return null
}

/** Splits the items of `doc` at a side's state vector and delete-set boundaries (inside `tr`). */
function split(tr: Y.Transaction, side: Side): void {
  for (const [client, clock] of side.sv) {
    if (clock < Y.getState(tr.doc.store, client)) Y.getItemCleanStart(tr, Y.createID(client, clock))
  }
  Y.iterateDeletedStructs(tr, side.ds, () => {})
}

/** Walks the layout once: `forward` shows `older` → `newer`, else the other way. */
function walk(doc: Y.Doc, older: Side, newer: Side, forward: boolean, steps: readonly Step[]): DiffResult {
  const before = forward ? older : newer
  const after = forward ? newer : older
  const tokens: Token[] = []
  const authors = new Map<string, VersionAuthor>()
  let inserted = 0
  let deleted = 0
  const ytext = doc.get(BLOCKS_TEXT, Y.Text) as Y.Text
  Y.transact(doc, (tr) => {
    split(tr, before)
    split(tr, after)
    const marksBefore = new Map<string, unknown>()
    const marksAfter = new Map<string, unknown>()
    const marks = (formats: Map<string, unknown>): MarkSet => {
      const set: MarkSet = {}
      for (const [key, value] of formats) if (value !== null && value !== undefined) set[key] = typeof value === 'object' ? (value as Record<string, unknown>) : {}
      return set
    }
    for (let item = ytext._start; item !== null; item = item.right) {
      const content = item.content
      const inBefore = visibleIn(item, before)
      const inAfter = visibleIn(item, after)
      if (content instanceof Y.ContentFormat) {
        if (inBefore) marksBefore.set(content.key, content.value)
        if (inAfter) marksAfter.set(content.key, content.value)
        continue
      }
      if ((!inBefore && !inAfter) || !item.countable) continue
      const set = marks(inAfter ? marksAfter : marksBefore)
      if (inBefore !== inAfter) {
        // only in the newer version: added in between (whoever added it); only in the older: deleted in between
        const author = authorOf(steps, item.id, visibleIn(item, newer))
        if (author) authors.set(`${author.verified}:${author.id ?? ''}:${author.name ?? ''}`, author)
        set[inAfter ? 'insertion' : 'deletion'] = { author: author?.id ?? null, name: author?.name ?? null }
        if (inAfter) inserted += item.length
        else deleted += item.length
      }
      if (content instanceof Y.ContentString) {
        const last = tokens[tokens.length - 1]
        if (last?.kind === 'text' && JSON.stringify(last.marks) === JSON.stringify(set)) last.text += content.str
        else tokens.push({ kind: 'text', text: content.str, marks: set })
      } else if (content instanceof Y.ContentType && content.type instanceof Y.Map) {
        tokens.push({ kind: 'block', block: readMarker(content.type as Y.Map<unknown>) })
      } else if (content instanceof Y.ContentEmbed) {
        const embed = content.embed as { inline?: unknown; attrs?: unknown }
        const attrs = typeof embed.attrs === 'object' && embed.attrs !== null ? (embed.attrs as Record<string, unknown>) : {}
        tokens.push({ kind: 'inline', type: typeof embed.inline === 'string' ? embed.inline : 'unknown', attrs, marks: set })
      }
    }
  })
  return { doc: fromTokens(diffSchema, tokens).doc.toJSON() as NodeJson, authors: [...authors.values()], inserted, deleted }
}
