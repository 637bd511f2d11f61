/**
 * A room's history as records (see {@link HistoryKv}):
 * - `m` version metadata ({@link VersionMeta}, lib0-encoded), `d` its entry (a delta on the previous
 *   version, or a checkpoint: the whole state), `a` its attribution (only when more than one
 *   author wrote it) — all keyed by the version's sequence number (16 hex digits);
 * - `h` the head: the newest version's id, sequence number and state vector (the next delta is
 *   taken against the newest version's state, rebuilt when needed);
 * - `p` authors of changes not yet in a version (so a restart does not forget them).
 * A version is written with its head in one atomic batch; so is every retention pass.
 *
 * @module
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { bucketOf, type HistoryKv, type KvOp } from './history-kv.ts'
import { decodeAttribution, encodeAttribution, type Attribution, type VersionAuthor } from './authors.ts'

/** What the history keeps about one version. */
export interface VersionMeta {
  /** Content-derived id (16 hex digits): see capture.ts. */
  id: string
  /** Order in this relay's history of the room. */
  seq: number
  /** When it was recorded (ms since the epoch). */
  time: number
  /** `edit`: recorded when the room went quiet, was named, was unloaded, or before a restore; `restore`: the state a restore wrote. */
  kind: 'edit' | 'restore'
  /** A name given by a writer (named versions are kept until deleted). */
  name?: string
  /** Who gave it its name. */
  namedBy?: VersionAuthor
  /** The version a restore brought back. */
  restoredFrom?: string
  /** Who changed the document since the previous version, most active first. */
  authors: VersionAuthor[]
  /** Units added since the previous version and still there. */
  inserted: number
  /** Units of the previous version deleted since. */
  deleted: number
  /** Whether its entry is the whole state (else a delta on the previous version). */
  checkpoint: boolean
  /** Bytes of its entry. */
  bytes: number
  /** Whether an attribution record exists (more than one author). */
  attributed: boolean
}

/**
 * The head as stored: the newest version's id, sequence number and state vector (what a load
 * compares with the document). Its delete set is not stored — it can be as large as the document's
 * — but rebuilt from the newest version when the next version is taken.
 */
export interface StoredHead {
  seq: number
  id: string
  sv: Uint8Array
}

const seqKey = (seq: number): string => seq.toString(16).padStart(16, '0')
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const parse = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T

/** Format of a version record (the first byte). */
const META_FORMAT = 1
const KINDS = ['edit', 'restore'] as const

function writeAuthor(e: encoding.Encoder, author: VersionAuthor): void {
  encoding.writeUint8(e, (author.verified ? 1 : 0) | (author.id !== undefined ? 2 : 0) | (author.name !== undefined ? 4 : 0))
  if (author.id !== undefined) encoding.writeVarString(e, author.id)
  if (author.name !== undefined) encoding.writeVarString(e, author.name)
}

function readAuthor(d: decoding.Decoder): VersionAuthor {
  const flags = decoding.readUint8(d)
  const id = flags & 2 ? decoding.readVarString(d) : undefined
  const name = flags & 4 ? decoding.readVarString(d) : undefined
  return { ...(id !== undefined ? { id } : {}), ...(name !== undefined ? { name } : {}), verified: (flags & 1) !== 0 }
}

/** A version record, in about 40 bytes plus its authors' names (it is kept for every version). */
function encodeMeta(meta: VersionMeta): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, META_FORMAT)
  encoding.writeUint8Array(e, Buffer.from(meta.id, 'hex'))
  encoding.writeVarUint(e, meta.seq)
  encoding.writeVarUint(e, meta.time)
  encoding.writeUint8(e, KINDS.indexOf(meta.kind))
  encoding.writeUint8(e, (meta.checkpoint ? 1 : 0) | (meta.attributed ? 2 : 0) | (meta.name !== undefined ? 4 : 0) | (meta.namedBy ? 8 : 0) | (meta.restoredFrom ? 16 : 0))
  encoding.writeVarUint(e, meta.inserted)
  encoding.writeVarUint(e, meta.deleted)
  encoding.writeVarUint(e, meta.bytes)
  encoding.writeVarUint(e, meta.authors.length)
  for (const author of meta.authors) writeAuthor(e, author)
  if (meta.name !== undefined) encoding.writeVarString(e, meta.name)
  if (meta.namedBy) writeAuthor(e, meta.namedBy)
  if (meta.restoredFrom) encoding.writeUint8Array(e, Buffer.from(meta.restoredFrom, 'hex'))
  return encoding.toUint8Array(e)
}

function decodeMeta(bytes: Uint8Array): VersionMeta {
  const d = decoding.createDecoder(bytes)
  const format = decoding.readUint8(d)
  if (format !== META_FORMAT) throw new Error(`history: unknown version record format ${format}`)
  const id = Buffer.from(decoding.readUint8Array(d, 8)).toString('hex')
  const seq = decoding.readVarUint(d)
  const time = decoding.readVarUint(d)
  const kind = KINDS[decoding.readUint8(d)] ?? 'edit'
  const flags = decoding.readUint8(d)
  const inserted = decoding.readVarUint(d)
  const deleted = decoding.readVarUint(d)
  const size = decoding.readVarUint(d)
  const authors: VersionAuthor[] = []
  for (let n = decoding.readVarUint(d); n > 0; n--) authors.push(readAuthor(d))
  const name = flags & 4 ? decoding.readVarString(d) : undefined
  const namedBy = flags & 8 ? readAuthor(d) : undefined
  const restoredFrom = flags & 16 ? Buffer.from(decoding.readUint8Array(d, 8)).toString('hex') : undefined
  return {
    id, seq, time, kind,
    ...(name !== undefined ? { name } : {}),
    ...(namedBy ? { namedBy } : {}),
    ...(restoredFrom ? { restoredFrom } : {}),
    authors, inserted, deleted, checkpoint: (flags & 1) !== 0, bytes: size, attributed: (flags & 2) !== 0,
  }
}

function encodeHead(head: StoredHead): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, head.seq)
  encoding.writeVarString(e, head.id)
  encoding.writeVarUint8Array(e, head.sv)
  return encoding.toUint8Array(e)
}

function decodeHead(bytes: Uint8Array): StoredHead {
  const d = decoding.createDecoder(bytes)
  const seq = decoding.readVarUint(d)
  const id = decoding.readVarString(d)
  const sv = decoding.readVarUint8Array(d)
  return { seq, id, sv }
}

/** Reads and writes history records. */
export class HistoryStore {
  constructor(readonly kv: HistoryKv) {}

  /** Every version of `room`, oldest first. */
  async versions(room: string): Promise<VersionMeta[]> {
    return (await this.kv.list(bucketOf('m', room))).map(([, value]) => decodeMeta(value))
  }

  /** The entries of versions `from` … `to` (sequence numbers, inclusive), oldest first, by sequence number. */
  async entries(room: string, from: number, to: number): Promise<Map<number, Uint8Array>> {
    const rows = await this.kv.list(bucketOf('d', room), { gte: seqKey(from), lte: seqKey(to) })
    return new Map(rows.map(([key, value]) => [parseInt(key, 16), value]))
  }

  /** The attributions of versions `from` … `to` that have one. */
  async attributions(room: string, from: number, to: number): Promise<Map<number, Attribution>> {
    const rows = await this.kv.list(bucketOf('a', room), { gte: seqKey(from), lte: seqKey(to) })
    return new Map(rows.map(([key, value]) => [parseInt(key, 16), decodeAttribution(value)]))
  }

  async head(room: string): Promise<StoredHead | null> {
    const bytes = await this.kv.get(bucketOf('h', room), '')
    return bytes ? decodeHead(bytes) : null
  }

  /** Authors of changes not yet in a version. */
  async pending(room: string): Promise<VersionAuthor[]> {
    const bytes = await this.kv.get(bucketOf('p', room), '')
    return bytes ? parse<VersionAuthor[]>(bytes) : []
  }

  /** Writes `ops` atomically. */
  write(ops: readonly KvOp[]): Promise<void> {
    return this.kv.write(ops)
  }

  close(): Promise<void> {
    return this.kv.close()
  }
}

/** The records of a new (or rewritten) version. */
export function putVersion(room: string, meta: VersionMeta, entry: Uint8Array | null, attribution: Attribution | null | undefined): KvOp[] {
  const key = seqKey(meta.seq)
  const ops: KvOp[] = [{ bucket: bucketOf('m', room), key, value: encodeMeta(meta) }]
  if (entry) ops.push({ bucket: bucketOf('d', room), key, value: entry })
  if (attribution !== undefined) ops.push({ bucket: bucketOf('a', room), key, value: attribution ? encodeAttribution(attribution) : null })
  return ops
}

/** Deletes a version's records. */
export function deleteVersion(room: string, seq: number): KvOp[] {
  const key = seqKey(seq)
  return ['m', 'd', 'a'].map((kind) => ({ bucket: bucketOf(kind, room), key, value: null }))
}

/** Writes the head. */
export function putHead(room: string, head: StoredHead): KvOp {
  return { bucket: bucketOf('h', room), key: '', value: encodeHead(head) }
}

/** Writes (or with an empty list, deletes) the pending authors. */
export function putPending(room: string, authors: readonly VersionAuthor[]): KvOp {
  return { bucket: bucketOf('p', room), key: '', value: authors.length > 0 ? json(authors) : null }
}

/**
 * Version marks (version-marks.ts: what the cluster shares about versions) are kept in one bucket
 * for every room — key `<room>\u0000<id>`, the mark without its state — so a relay reads them all
 * at start (they are few: named versions, restores, tombstones); a mark's state is kept per room
 * in bucket `s`, keyed by the version id.
 */
export const MARKS_BUCKET = 'k\u0000'

/** The key of a mark in {@link MARKS_BUCKET}. */
export const markKey = (room: string, id: string): string => `${room}\u0000${id}`

/** Writes a mark (its bytes without state; null: deletes it) and its state (null: deletes it). */
export function putMark(room: string, id: string, mark: Uint8Array | null, state: Uint8Array | null): KvOp[] {
  return [
    { bucket: MARKS_BUCKET, key: markKey(room, id), value: mark },
    { bucket: bucketOf('s', room), key: id, value: state },
  ]
}

/** The stored state of a mark. */
export function markState(kv: HistoryKv, room: string, id: string): Promise<Uint8Array | undefined> {
  return kv.get(bucketOf('s', room), id)
}
