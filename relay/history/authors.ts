/**
 * Who changed what since a room's last version. Every transaction of the room's doc is
 * attributed to the author of its origin (the connection or HTTP request that sent the update:
 * a token's `sub`, see room/author.ts), by the Yjs ids it added and deleted. A version stores its
 * authors, most active first; the ids of everyone but the first are stored as ranges
 * ({@link Attribution}), so a version written by one person stores no ranges at all.
 *
 * @module
 */
import type * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

/** An author of a version. */
export interface VersionAuthor {
  /** User id: a token's `sub` (absent for an unverified name). */
  id?: string
  /** Display name: a token's `name`, or in an open relay the name the editor announced. */
  name?: string
  /** True when the relay checked it (a signed token or an `authorize` hook); false for an open relay's editor name. */
  verified: boolean
}

/**
 * Ids written by authors other than a version's first, as flat runs of four numbers:
 * `client, clock, length, author` (an index into the version's authors; -1: unknown, such as
 * an update relayed by a peer relay).
 */
export interface Attribution {
  inserted: number[]
  deleted: number[]
}

/** Past this many runs in one version, further runs are not attributed (the version keeps its authors). */
const MAX_RUNS = 50_000

const keyOf = (a: VersionAuthor): string => (a.verified ? `u:${a.id ?? ''}` : `n:${a.name ?? ''}`)

/** The authors and attribution of the changes since the last version, collected per transaction. */
export class ChangeAuthors {
  private authors: Array<{ author: VersionAuthor; units: number }> = []
  private readonly index = new Map<string, number>()
  private inserted: number[] = []
  private deleted: number[] = []
  /** Per client: where its last inserted/deleted run starts in the flat arrays. */
  private lastInserted = new Map<number, number>()
  private lastDeleted = new Map<number, number>()

  /** Authors known so far (for the pending record). */
  list(): VersionAuthor[] {
    return this.authors.map((a) => a.author)
  }

  /** Adds authors remembered from before a restart (their changes count for nothing: their ids are not known). */
  seed(authors: readonly VersionAuthor[]): void {
    for (const author of authors) this.indexOf(author)
  }

  /** Whether an author joined with this transaction (the pending record is then written). */
  record(tr: Y.Transaction, author: VersionAuthor | null): boolean {
    const before = this.authors.length
    const idx = author ? this.indexOf(author) : -1
    let units = 0
    for (const [client, clock] of tr.afterState) {
      const from = tr.beforeState.get(client) ?? 0
      if (clock <= from) continue
      units += clock - from
      this.addRun(this.inserted, this.lastInserted, client, from, clock - from, idx)
    }
    for (const [client, items] of tr.deleteSet.clients) {
      for (const item of items) {
        units += item.len
        this.addRun(this.deleted, this.lastDeleted, client, item.clock, item.len, idx)
      }
    }
    if (idx >= 0) this.authors[idx]!.units += units
    return this.authors.length > before
  }

  private indexOf(author: VersionAuthor): number {
    const key = keyOf(author)
    let idx = this.index.get(key)
    if (idx === undefined) {
      idx = this.authors.length
      this.authors.push({ author, units: 0 })
      this.index.set(key, idx)
    }
    return idx
  }

  private addRun(runs: number[], last: Map<number, number>, client: number, clock: number, len: number, idx: number): void {
    const at = last.get(client)
    if (at !== undefined && runs[at + 3] === idx && runs[at + 1]! + runs[at + 2]! === clock) {
      runs[at + 2] = runs[at + 2]! + len
      return
    }
    if (runs.length >= MAX_RUNS * 4) return
    last.set(client, runs.length)
    runs.push(client, clock, len, idx)
  }

  /** The authors (most active first) and the attribution of everyone but the first; resets. */
  take(): { authors: VersionAuthor[]; attribution: Attribution | null } {
    const order = this.authors.map((a, i) => ({ ...a, i })).sort((a, b) => b.units - a.units)
    const position = new Map(order.map((a, pos) => [a.i, pos]))
    const remap = (runs: number[]): number[] => {
      const out: number[] = []
      for (let r = 0; r < runs.length; r += 4) {
        const idx = runs[r + 3]!
        const pos = idx < 0 ? -1 : position.get(idx)!
        if (pos === 0) continue
        out.push(runs[r]!, runs[r + 1]!, runs[r + 2]!, pos)
      }
      return out
    }
    const inserted = remap(this.inserted)
    const deleted = remap(this.deleted)
    const authors = order.map((a) => a.author)
    // Nothing but the first author's (or, with no author at all, nothing known): no ranges.
    const attribution = authors.length === 0 || (inserted.length === 0 && deleted.length === 0) ? null : { inserted, deleted }
    this.authors = []
    this.index.clear()
    this.inserted = []
    this.deleted = []
    this.lastInserted = new Map()
    this.lastDeleted = new Map()
    return { authors, attribution }
  }
}

/** Stored form of an {@link Attribution}. */
export function encodeAttribution(attribution: Attribution): Uint8Array {
  const e = encoding.createEncoder()
  for (const runs of [attribution.inserted, attribution.deleted]) {
    encoding.writeVarUint(e, runs.length / 4)
    for (let r = 0; r < runs.length; r += 4) {
      encoding.writeVarUint(e, runs[r]!)
      encoding.writeVarUint(e, runs[r + 1]!)
      encoding.writeVarUint(e, runs[r + 2]!)
      encoding.writeVarUint(e, runs[r + 3]! + 1)
    }
  }
  return encoding.toUint8Array(e)
}

/** Reads {@link encodeAttribution}'s format. */
export function decodeAttribution(bytes: Uint8Array): Attribution {
  const d = decoding.createDecoder(bytes)
  const read = (): number[] => {
    const n = decoding.readVarUint(d)
    const runs: number[] = []
    for (let i = 0; i < n; i++) runs.push(decoding.readVarUint(d), decoding.readVarUint(d), decoding.readVarUint(d), decoding.readVarUint(d) - 1)
    return runs
  }
  return { inserted: read(), deleted: read() }
}

/** Who wrote one id in a version: the run holding it, else the version's first author (-1: unknown). */
export function authorIndexAt(runs: readonly number[] | undefined, client: number, clock: number, authors: number): number {
  if (runs) {
    for (let r = 0; r < runs.length; r += 4) {
      if (runs[r] === client && clock >= runs[r + 1]! && clock < runs[r + 1]! + runs[r + 2]!) return runs[r + 3]!
    }
  }
  return authors > 0 ? 0 : -1
}
