/**
 * What a version stores, taken from the room's live doc: its identity (a hash of the state
 * vector and delete set, so two relays that record the same state name it alike), and the bytes
 * that rebuild it — a **delta** on top of the previous version (the structs added since, and
 * only the deletions made since) or a **checkpoint** (the whole state).
 *
 * Why deltas from the live doc and not Yjs snapshots: a snapshot needs a doc that never
 * garbage-collects (`gc: false`) to show a past state, which would make every room keep every
 * character ever typed. The relay's rooms collect garbage; a version instead keeps what was
 * visible at its time, taken when it is recorded: content typed and deleted between two versions
 * is never stored (it is in neither).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import { encodeDeleteSet, encodeStateVectorOf, type DeletedRanges } from '../wire/protocol.ts'

/** The state a version names: state vector and deletions. */
export interface VersionState {
  /** Encoded state vector (`Y.encodeStateVector`). */
  sv: Uint8Array
  /** Deleted ranges, sorted and merged per client. */
  ds: DeletedRanges
}

/** The empty state (before the first version). */
export const EMPTY_STATE: VersionState = { sv: new Uint8Array([0]), ds: new Map() }

/** The newest version of a room: its id and state. */
export interface Head {
  id: string
  state: VersionState
}

/** One recorded state, ready to be stored. */
export interface Capture {
  id: string
  state: VersionState
  /** The bytes that rebuild this version: a delta on the previous one, or the whole state. */
  entry: Uint8Array
  checkpoint: boolean
  /** Units (characters, block markers, format marks) added since the previous version and still there. */
  inserted: number
  /** Units of the previous version deleted since. */
  deleted: number
}

/** The deletions of `doc` (Yjs merges adjacent deleted structs, so equal states give equal ranges). */
export function deletedRangesOf(doc: Y.Doc): DeletedRanges {
  return Y.createDeleteSetFromStructStore(doc.store).clients as unknown as DeletedRanges
}

/** The state of `doc` now. */
export function stateOf(doc: Y.Doc): VersionState {
  return { sv: encodeStateVectorOf(doc.store), ds: deletedRangesOf(doc) }
}

/** A version's id: the first 16 hex digits of SHA-256 over its state vector and delete set. */
export function versionId(state: VersionState): string {
  return createHash('sha256').update(state.sv).update(encodeDeleteSet(state.ds)).digest('hex').slice(0, 16)
}

/** `a` minus `b`: the ranges of `a` not covered by `b` (both sorted and merged per client). */
export function subtractRanges(a: DeletedRanges, b: DeletedRanges): DeletedRanges {
  const out: DeletedRanges = new Map()
  for (const [client, ranges] of a) {
    const minus = b.get(client) ?? []
    const kept: Array<{ clock: number; len: number }> = []
    let j = 0
    for (const { clock, len } of ranges) {
      let start = clock
      const end = clock + len
      while (j < minus.length && minus[j]!.clock + minus[j]!.len <= start) j++
      for (let k = j; start < end; k++) {
        const cut = minus[k]
        if (!cut || cut.clock >= end) {
          kept.push({ clock: start, len: end - start })
          break
        }
        if (cut.clock > start) kept.push({ clock: start, len: cut.clock - start })
        start = Math.max(start, cut.clock + cut.len)
      }
    }
    if (kept.length > 0) out.set(client, kept)
  }
  return out
}

/** Total length of `ranges`, split at each client's clock in `sv`: [below, at or above]. */
function splitLength(ranges: DeletedRanges, sv: Map<number, number>): [number, number] {
  let below = 0
  let above = 0
  for (const [client, list] of ranges) {
    const bound = sv.get(client) ?? 0
    for (const { clock, len } of list) {
      const under = Math.max(0, Math.min(len, bound - clock))
      below += under
      above += len - under
    }
  }
  return [below, above]
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

/**
 * Records `doc` as a version after `previous` (null: the first one): null when nothing changed.
 * With `checkpoint`, the entry is the whole state; otherwise the structs added since `previous`
 * and the deletions made since. Synchronous: the doc cannot change midway.
 */
export function capture(doc: Y.Doc, previous: Head | null, checkpoint: boolean): Capture | null {
  const state = stateOf(doc)
  const id = versionId(state)
  if (previous && id === previous.id) return null
  const base = previous?.state ?? EMPTY_STATE
  const baseSv = Y.decodeStateVector(base.sv)
  const sv = Y.decodeStateVector(state.sv)
  let added = 0
  for (const [client, clock] of sv) added += Math.max(0, clock - (baseSv.get(client) ?? 0))
  const fresh = subtractRanges(state.ds, base.ds)
  const [deletedOld, deletedNew] = splitLength(fresh, baseSv)
  const counts = { inserted: Math.max(0, added - deletedNew), deleted: deletedOld }
  const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null
  if (checkpoint || !previous || pending) {
    // With pending structs Yjs merges them into the encoding (its delete set is then not the
    // store's): the whole state is stored, which is always right.
    return { id, state, entry: Y.encodeStateAsUpdate(doc), checkpoint: true, ...counts }
  }
  // encodeStateAsUpdate = the structs since `base` followed by the store's whole delete set,
  // which is exactly `encodeDeleteSet(state.ds)`: that suffix is replaced by the new deletions.
  const full = Y.encodeStateAsUpdate(doc, base.sv)
  const allDeletions = encodeDeleteSet(state.ds)
  const cut = full.byteLength - allDeletions.byteLength
  if (cut < 0 || !equalBytes(full.subarray(cut), allDeletions)) return { id, state, entry: full, checkpoint: false, ...counts }
  const newDeletions = encodeDeleteSet(fresh)
  const entry = new Uint8Array(cut + newDeletions.byteLength)
  entry.set(full.subarray(0, cut))
  entry.set(newDeletions, cut)
  return { id, state, entry, checkpoint: false, ...counts }
}
