/**
 * Retention: which versions go (older than `--history-keep`, or past `--history-max` oldest
 * first; never a named version, never the newest), and how the history is rewritten without
 * them, so every version still kept shows exactly what it showed:
 * - a removed version's entry is folded into the next kept version's: deltas are merged
 *   (`Y.mergeUpdates`), with their authors and attribution carried over;
 * - when the chain's checkpoint goes (the oldest versions), the next kept version becomes the
 *   checkpoint: its state rebuilt and stored whole.
 * The rewrite is one atomic batch.
 *
 * @module
 */
import * as Y from 'yjs'
import type { KvOp } from './history-kv.ts'
import { deleteVersion, putVersion, type VersionMeta } from './history-store.ts'
import type { Attribution, VersionAuthor } from './authors.ts'
import { buildState } from './rebuild.ts'

/** How long and how many versions a room keeps. */
export interface Retention {
  /** Versions older than this go (ms; 0: kept for ever). */
  keepMs: number
  /** At most this many versions (0: no limit); named ones count but are never removed. */
  max: number
}

/** Sequence numbers of the versions the policy removes. */
export function toRemove(versions: readonly VersionMeta[], policy: Retention, now: number): Set<number> {
  const out = new Set<number>()
  const removable = (v: VersionMeta, i: number): boolean => i < versions.length - 1 && v.name === undefined
  if (policy.keepMs > 0) versions.forEach((v, i) => removable(v, i) && now - v.time > policy.keepMs && out.add(v.seq))
  if (policy.max > 0) {
    let left = versions.length - out.size
    for (let i = 0; i < versions.length && left > policy.max; i++) {
      const v = versions[i]!
      if (removable(v, i) && !out.has(v.seq)) {
        out.add(v.seq)
        left--
      }
    }
  }
  return out
}

/** What a rewrite needs of each version it touches. */
export interface Stored {
  entry: Uint8Array
  attribution: Attribution | undefined
}

const authorKey = (a: VersionAuthor): string => `${a.verified}:${a.id ?? ''}:${a.name ?? ''}`

/**
 * Runs naming who changed what in `meta`'s entry, against `authors`: its own runs (re-indexed),
 * then its whole delta for its first author, unless that author is `authors[0]`.
 */
function runsOf(meta: VersionMeta, stored: Stored, authors: VersionAuthor[]): Attribution {
  const idx = (i: number): number => (i < 0 ? -1 : authors.findIndex((a) => authorKey(a) === authorKey(meta.authors[i]!)))
  const own = (runs: readonly number[] | undefined): number[] => {
    const out: number[] = []
    for (let r = 0; runs && r < runs.length; r += 4) out.push(runs[r]!, runs[r + 1]!, runs[r + 2]!, idx(runs[r + 3]!))
    return out
  }
  const inserted = own(stored.attribution?.inserted)
  const deleted = own(stored.attribution?.deleted)
  const first = meta.authors.length > 0 ? idx(0) : -1
  if (first !== 0) {
    const { from, to } = Y.parseUpdateMeta(stored.entry)
    for (const [client, end] of to) {
      const start = from.get(client) ?? 0
      if (end > start) inserted.push(client, start, end - start, first)
    }
    for (const [client, items] of Y.decodeUpdate(stored.entry).ds.clients) for (const item of items) deleted.push(client, item.clock, item.len, first)
  }
  return { inserted, deleted }
}

/** Folds removed deltas into the kept version after them: merged entry, authors and attribution. */
function fold(folded: ReadonlyArray<{ meta: VersionMeta; stored: Stored }>, kept: { meta: VersionMeta; stored: Stored }): { meta: VersionMeta; entry: Uint8Array; attribution: Attribution | null } {
  const all = [...folded, kept]
  const authors: VersionAuthor[] = [...kept.meta.authors]
  for (const { meta } of folded) for (const a of meta.authors) if (!authors.some((b) => authorKey(a) === authorKey(b))) authors.push(a)
  const inserted: number[] = []
  const deleted: number[] = []
  for (const { meta, stored } of all) {
    const runs = runsOf(meta, stored, authors)
    inserted.push(...runs.inserted)
    deleted.push(...runs.deleted)
  }
  const entry = Y.mergeUpdates(all.map((v) => v.stored.entry))
  const meta: VersionMeta = {
    ...kept.meta,
    authors,
    inserted: all.reduce((n, v) => n + v.meta.inserted, 0),
    deleted: all.reduce((n, v) => n + v.meta.deleted, 0),
    bytes: entry.byteLength,
  }
  const attribution = inserted.length > 0 || deleted.length > 0 ? { inserted, deleted } : null
  meta.attributed = attribution !== null
  return { meta, entry, attribution }
}

/**
 * The writes that remove `remove` from `versions` (oldest first), given the stored entries and
 * attributions of every version from the first removed one to the first kept one after the last
 * removed one; and the versions left.
 */
export function rewrite(room: string, versions: readonly VersionMeta[], remove: ReadonlySet<number>, stored: ReadonlyMap<number, Stored>): { ops: KvOp[]; kept: VersionMeta[] } {
  const ops: KvOp[] = []
  const kept: VersionMeta[] = []
  /** Removed versions waiting for the next kept one; `base`: they start with a checkpoint. */
  let carry: Array<{ meta: VersionMeta; stored: Stored }> = []
  let base = false
  for (const meta of versions) {
    if (remove.has(meta.seq)) {
      const entry = stored.get(meta.seq)!
      if (meta.checkpoint) {
        carry = []
        base = true
      }
      carry.push({ meta, stored: entry })
      ops.push(...deleteVersion(room, meta.seq))
      continue
    }
    if (carry.length === 0 || meta.checkpoint) {
      carry = []
      base = false
      kept.push(meta)
      continue
    }
    const own = stored.get(meta.seq)!
    if (base) {
      // The chain's checkpoint went: this version becomes the checkpoint (its state, whole).
      const entry = buildState([...carry.map((c) => c.stored.entry), own.entry])
      const next: VersionMeta = { ...meta, checkpoint: true, bytes: entry.byteLength }
      ops.push(...putVersion(room, next, entry, undefined))
      kept.push(next)
    } else {
      const folded = fold(carry, { meta, stored: own })
      ops.push(...putVersion(room, folded.meta, folded.entry, folded.attribution))
      kept.push(folded.meta)
    }
    carry = []
    base = false
  }
  return { ops, kept }
}
