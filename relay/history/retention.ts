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
 * then its whole entry for its first author — always for a removed version (`whole`), for the kept
 * one only when its first author is not `authors[0]` (the default of ids no run names). A
 * checkpoint's whole entry also covers ids older than its own changes; lookups only ask about
 * ids changed in a version's step, and a removed version's runs come before those of every later
 * one, so the first run that matches is always the right one.
 */
function runsOf(meta: VersionMeta, stored: Stored, authors: VersionAuthor[], whole: boolean): Attribution {
  const idx = (i: number): number => (i < 0 ? -1 : authors.findIndex((a) => authorKey(a) === authorKey(meta.authors[i]!)))
  const own = (runs: readonly number[] | undefined): number[] => {
    const out: number[] = []
    for (let r = 0; runs && r < runs.length; r += 4) out.push(runs[r]!, runs[r + 1]!, runs[r + 2]!, idx(runs[r + 3]!))
    return out
  }
  const inserted = own(stored.attribution?.inserted)
  const deleted = own(stored.attribution?.deleted)
  const first = meta.authors.length > 0 ? idx(0) : -1
  if (whole || first !== 0) {
    const { from, to } = Y.parseUpdateMeta(stored.entry)
    for (const [client, end] of to) {
      const start = from.get(client) ?? 0
      if (end > start) inserted.push(client, start, end - start, first)
    }
    for (const [client, items] of Y.decodeUpdate(stored.entry).ds.clients) for (const item of items) deleted.push(client, item.clock, item.len, first)
  }
  return { inserted, deleted }
}

/** The authors and attribution of `kept` once the removed versions before it are folded into it. */
function foldAuthors(folded: ReadonlyArray<{ meta: VersionMeta; stored: Stored }>, kept: { meta: VersionMeta; stored: Stored }): { authors: VersionAuthor[]; attribution: Attribution | null } {
  const authors: VersionAuthor[] = [...kept.meta.authors]
  for (const { meta } of folded) for (const a of meta.authors) if (!authors.some((b) => authorKey(a) === authorKey(b))) authors.push(a)
  const inserted: number[] = []
  const deleted: number[] = []
  for (const { meta, stored } of [...folded, kept]) {
    const runs = runsOf(meta, stored, authors, meta !== kept.meta)
    inserted.push(...runs.inserted)
    deleted.push(...runs.deleted)
  }
  // Runs that all name the default author say nothing a lookup would not say without them.
  const informative = [inserted, deleted].some((runs) => runs.some((_, i) => i % 4 === 3 && runs[i] !== 0))
  return { authors, attribution: informative ? { inserted, deleted } : null }
}

/**
 * The kept version after removed ones: its entry (`entry`: what to store, null to keep its own),
 * and its authors, attribution and counts with those of every removed version folded in — their
 * changes are now part of its step, whatever its entry.
 */
function fold(folded: ReadonlyArray<{ meta: VersionMeta; stored: Stored }>, kept: { meta: VersionMeta; stored: Stored }, entry: Uint8Array | null, checkpoint: boolean): { meta: VersionMeta; attribution: Attribution | null } {
  const { authors, attribution } = foldAuthors(folded, kept)
  const all = [...folded, kept]
  const meta: VersionMeta = {
    ...kept.meta,
    authors,
    inserted: all.reduce((n, v) => n + v.meta.inserted, 0),
    deleted: all.reduce((n, v) => n + v.meta.deleted, 0),
    checkpoint,
    bytes: entry?.byteLength ?? kept.meta.bytes,
    attributed: attribution !== null,
  }
  return { meta, attribution }
}

/**
 * The writes that remove `remove` from `versions` (oldest first), given the stored entries and
 * attributions of every version from the first removed one to the first kept one after the last
 * removed one; and the versions left.
 */
export function rewrite(room: string, versions: readonly VersionMeta[], remove: ReadonlySet<number>, entries: ReadonlyMap<number, Stored>): { ops: KvOp[]; kept: VersionMeta[] } {
  const ops: KvOp[] = []
  const kept: VersionMeta[] = []
  /** Removed versions since the last kept one (their changes fold into the next kept one). */
  let folded: Array<{ meta: VersionMeta; stored: Stored }> = []
  /** Their entries from the last removed checkpoint on; `base`: there was one (the next kept version becomes a checkpoint). */
  let chain: Uint8Array[] = []
  let base = false
  for (const meta of versions) {
    if (remove.has(meta.seq)) {
      const stored = entries.get(meta.seq)!
      if (meta.checkpoint) {
        chain = []
        base = true
      }
      chain.push(stored.entry)
      folded.push({ meta, stored })
      ops.push(...deleteVersion(room, meta.seq))
      continue
    }
    if (folded.length === 0) {
      kept.push(meta)
      continue
    }
    const own = entries.get(meta.seq)!
    let entry: Uint8Array | null = null
    if (base && !meta.checkpoint) entry = buildState([...chain, own.entry]) // the chain's checkpoint went: stored whole
    else if (!meta.checkpoint) entry = Y.mergeUpdates([...chain, own.entry])
    const next = fold(folded, { meta, stored: own }, entry, meta.checkpoint || base)
    ops.push(...putVersion(room, next.meta, entry, next.attribution))
    kept.push(next.meta)
    folded = []
    chain = []
    base = false
  }
  return { ops, kept }
}
