/**
 * The history's document-sized computations as plain functions of bytes (run in the worker, see
 * history-worker.ts; or in-line).
 *
 * @module
 */
import * as Y from 'yjs'
import { scratchDocToJson } from '../http/doc-json.ts'
import type { DeletedRanges } from '../wire/protocol.ts'
import { capture, deletedRangesOf, stateOf, versionId, type Capture, type Head } from './capture.ts'
import { diffVersions, type DiffInput, type DiffResult } from './diff.ts'
import type { KvOp } from './history-kv.ts'
import type { VersionMeta } from './history-store.ts'
import { buildDoc } from './rebuild.ts'
import { restoreUpdate } from './restore.ts'
import { rewrite, type Stored } from './retention.ts'

/** Plain copies of delete ranges (a doc's delete items are class instances). */
const copyRanges = (ranges: DeletedRanges): DeletedRanges => new Map([...ranges].map(([client, list]) => [client, list.map(({ clock, len }) => ({ clock, len }))]))

/** What the worker computes, by name. */
export const computeOps = {
  /** A version's state as one update: its chain merged (not applied). */
  merge(chain: Uint8Array[]): Uint8Array {
    return chain.length === 1 ? chain[0]! : Y.mergeUpdates(chain)
  },
  /** A version (its chain) as JSON, like `GET /api/rooms/:room`. */
  json(chain: Uint8Array[]): Record<string, unknown> {
    const doc = buildDoc(chain, false)
    try {
      return scratchDocToJson(doc)
    } finally {
      doc.destroy()
    }
  },
  /** The version the state `update` makes after `head` (see capture.ts). */
  capture(update: Uint8Array, head: Head | null, checkpoint: boolean): Capture | null {
    const doc = buildDoc([update], true)
    try {
      const taken = capture(doc, head, checkpoint)
      // copied: the delete items belong to the doc
      return taken && { ...taken, state: { sv: taken.state.sv, ds: copyRanges(taken.state.ds) } }
    } finally {
      doc.destroy()
    }
  },
  /** The deletions of a version (its chain). */
  deletions(chain: Uint8Array[]): DeletedRanges {
    const doc = buildDoc(chain, false)
    try {
      return copyRanges(deletedRangesOf(doc))
    } finally {
      doc.destroy()
    }
  },
  diff(input: DiffInput): DiffResult {
    return diffVersions(input)
  },
  /** The update that turns the state `live` into the version `chain` rebuilds (null: it already is). */
  restore(chain: Uint8Array[], live: Uint8Array): Uint8Array | null {
    const doc = buildDoc([live], true)
    try {
      return restoreUpdate(chain, doc)
    } finally {
      doc.destroy()
    }
  },
  /** The id of the state `update` holds (a version mark from another relay must hash to its id). */
  versionId(update: Uint8Array): string {
    const doc = buildDoc([update], true)
    try {
      return versionId(stateOf(doc))
    } finally {
      doc.destroy()
    }
  },
  rewrite(room: string, versions: VersionMeta[], remove: Set<number>, entries: Map<number, Stored>): { ops: KvOp[]; kept: VersionMeta[] } {
    return rewrite(room, versions, remove, entries)
  },
}

/** The name of a computation. */
export type ComputeOp = keyof typeof computeOps
