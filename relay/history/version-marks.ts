/**
 * Version marks: what the relays of a cluster tell each other about versions, so that a version
 * named, restored or deleted on one relay is listed and usable on all of them.
 *
 * A mark is one room's version as its relay shows it — id, time, kind, name, who named it, what a
 * restore brought back, authors, size of the change — plus the version's **state** (one Yjs
 * update: the rooms collect garbage, so a relay that never recorded that exact state could not
 * rebuild it from its own document), or, for a deleted version, a **tombstone** (no state).
 * Marks merge like a last-writer-wins map per (room, version id): the later decision (`at`, ms)
 * wins, the greater relay id on a tie, an equal one changes nothing; so applying a mark twice, or
 * in any order, gives the same result, and flooding one through a cluster stops by itself.
 *
 * The peer links (relay/topology/version-replication.ts) and the Redis edge
 * (relay/redis/version-bridge.ts) carry marks as these bytes; the history
 * (history-extension.ts) validates every mark it receives ({@link decodeMark}: sizes, fields,
 * and its state must hash to its id) and drops a malformed one with a log line.
 *
 * @module
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import type { VersionAuthor } from './authors.ts'
import type { VersionMeta } from './history-store.ts'

/** One room's version as the cluster shares it. */
export interface VersionMark {
  room: string
  /** The version's id (16 hex digits). */
  id: string
  /** When the decision (named, recorded by a restore, deleted) was made, ms since the epoch. */
  at: number
  /** The relay that made it (breaks ties of `at`). */
  relay: string
  /** A tombstone: the version was deleted (no state, no name). */
  removed: boolean
  /** When the version was recorded (ms since the epoch). */
  time: number
  kind: VersionMeta['kind']
  name?: string
  namedBy?: VersionAuthor
  restoredFrom?: string
  authors: VersionAuthor[]
  inserted: number
  deleted: number
  /** The version's state as one Yjs update (absent in a tombstone). */
  state?: Uint8Array
}

/** What a replicating edge knows of a mark without its state (catch-up compares these). */
export interface MarkKey {
  room: string
  id: string
  at: number
  relay: string
}

/** Who changed the marks: this relay, or the edge that brought them (`from`: the peer or relay instance). */
export type MarkSource = 'local' | { edge: string; from?: string }

/**
 * The history as the replicating edges see it (`RelayContext.versions`): the marks it holds, and
 * the door for those of other relays.
 */
export interface VersionMarkSurface {
  /** Every mark held (tombstones included), without states. */
  keys(): MarkKey[]
  /** The marks of `keys` still held, encoded with their states (those larger than the bound left out), with their keys as held now. */
  read(keys: ReadonlyArray<Pick<MarkKey, 'room' | 'id'>>): Promise<Array<{ key: MarkKey; encoded: Uint8Array }>>
  /** Applies encoded marks from an edge; a malformed one is logged and dropped. Resolves with how many changed the history. */
  merge(encoded: readonly Uint8Array[], source: MarkSource): Promise<number>
  /** Hears every change (its encoded mark with the state, and its key); returns the unsubscribe. */
  onChange(listener: (encoded: Uint8Array, key: MarkKey, source: MarkSource) => void): () => void
}

/** Longest version name, in characters (the HTTP API's bound). */
export const MAX_MARK_NAME = 200
/** Longest author id or name, relay id, in characters. */
const MAX_STRING = 512
/** Longest relay id, in UTF-8 bytes (the peer protocol's bound). */
const MAX_RELAY_ID_BYTES = 256
/** Most authors a mark lists. */
const MAX_AUTHORS = 1000
const FORMAT = 1
const KINDS = ['edit', 'restore'] as const
const ID = /^[0-9a-f]{16}$/

/** Whether `a` wins over `b` (later decision; the greater relay id on a tie). */
export function markWins(a: Pick<MarkKey, 'at' | 'relay'>, b: Pick<MarkKey, 'at' | 'relay'>): boolean {
  if (a.at !== b.at) return a.at > b.at
  return a.relay > b.relay
}

/** A sortable string of a mark's order (`at` in 16 hex digits, then the relay id): Redis compares these. */
export function markOrder(key: Pick<MarkKey, 'at' | 'relay'>): string {
  return `${Math.floor(key.at).toString(16).padStart(16, '0')}:${key.relay}`
}

/** The key of `mark`. */
export const keyOf = (mark: VersionMark): MarkKey => ({ room: mark.room, id: mark.id, at: mark.at, relay: mark.relay })

function writeAuthor(e: encoding.Encoder, author: VersionAuthor): void {
  encoding.writeUint8(e, (author.verified ? 1 : 0) | (author.id !== undefined ? 2 : 0) | (author.name !== undefined ? 4 : 0))
  if (author.id !== undefined) encoding.writeVarString(e, author.id)
  if (author.name !== undefined) encoding.writeVarString(e, author.name)
}

/** A mark's bytes; `withState` false leaves the state out (what the history stores beside it). */
export function encodeMark(mark: VersionMark, withState = true): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, FORMAT)
  encoding.writeVarString(e, mark.room)
  encoding.writeUint8Array(e, Buffer.from(mark.id, 'hex'))
  encoding.writeFloat64(e, mark.at)
  encoding.writeVarString(e, mark.relay)
  const state = withState && !mark.removed ? mark.state : undefined
  encoding.writeUint8(e, (mark.removed ? 1 : 0) | (mark.name !== undefined ? 2 : 0) | (mark.namedBy ? 4 : 0) | (mark.restoredFrom ? 8 : 0) | (state ? 16 : 0))
  encoding.writeFloat64(e, mark.time)
  encoding.writeUint8(e, KINDS.indexOf(mark.kind))
  encoding.writeVarUint(e, mark.inserted)
  encoding.writeVarUint(e, mark.deleted)
  encoding.writeVarUint(e, mark.authors.length)
  for (const author of mark.authors) writeAuthor(e, author)
  if (mark.name !== undefined) encoding.writeVarString(e, mark.name)
  if (mark.namedBy) writeAuthor(e, mark.namedBy)
  if (mark.restoredFrom) encoding.writeUint8Array(e, Buffer.from(mark.restoredFrom, 'hex'))
  if (state) encoding.writeVarUint8Array(e, state)
  return encoding.toUint8Array(e)
}

/** A malformed mark (from a peer or Redis): logged and dropped. */
export class MarkError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MarkError'
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new MarkError(what)
}

function readString(d: decoding.Decoder, max: number, what: string): string {
  const s = decoding.readVarString(d)
  check(s.length <= max, `${what} longer than ${max} characters`)
  return s
}

function readAuthor(d: decoding.Decoder): VersionAuthor {
  const flags = decoding.readUint8(d)
  check(flags < 8, 'author flags')
  const id = flags & 2 ? readString(d, MAX_STRING, 'author id') : undefined
  const name = flags & 4 ? readString(d, MAX_STRING, 'author name') : undefined
  return { ...(id !== undefined ? { id } : {}), ...(name !== undefined ? { name } : {}), verified: (flags & 1) !== 0 }
}

const finite = (n: number): boolean => Number.isFinite(n) && n >= 0

/**
 * Decodes and checks a mark: every field in range (`maxBytes` bounds the whole mark), a
 * tombstone without name or state, a live mark with one. Throws {@link MarkError}. The room name
 * is checked by `validRoom`; that the state hashes to the id is the history's check.
 */
export function decodeMark(bytes: Uint8Array, maxBytes: number, validRoom: (room: string) => boolean): VersionMark {
  check(bytes.byteLength <= maxBytes, `mark of ${bytes.byteLength} bytes (most ${maxBytes})`)
  const d = decoding.createDecoder(bytes)
  try {
    check(decoding.readUint8(d) === FORMAT, 'unknown mark format')
    const room = decoding.readVarString(d)
    check(validRoom(room), 'bad room name')
    const id = Buffer.from(decoding.readUint8Array(d, 8)).toString('hex')
    const at = decoding.readFloat64(d)
    check(finite(at), 'decision time')
    const relay = decoding.readVarString(d)
    check(relay.length > 0 && Buffer.byteLength(relay) <= MAX_RELAY_ID_BYTES, 'relay id')
    const flags = decoding.readUint8(d)
    check(flags < 32, 'mark flags')
    const time = decoding.readFloat64(d)
    check(finite(time), 'version time')
    const kind = KINDS[decoding.readUint8(d)]
    check(kind !== undefined, 'version kind')
    const inserted = decoding.readVarUint(d)
    const deleted = decoding.readVarUint(d)
    const count = decoding.readVarUint(d)
    check(count <= MAX_AUTHORS, `${count} authors`)
    const authors: VersionAuthor[] = []
    for (let i = 0; i < count; i++) authors.push(readAuthor(d))
    const name = flags & 2 ? readString(d, MAX_MARK_NAME, 'version name') : undefined
    check(name === undefined || name.trim() !== '', 'empty version name')
    const namedBy = flags & 4 ? readAuthor(d) : undefined
    const restoredFrom = flags & 8 ? Buffer.from(decoding.readUint8Array(d, 8)).toString('hex') : undefined
    const state = flags & 16 ? decoding.readVarUint8Array(d) : undefined
    check(!decoding.hasContent(d), 'trailing bytes')
    const removed = (flags & 1) !== 0
    check(removed ? state === undefined && name === undefined : state !== undefined && state.byteLength > 0, removed ? 'a tombstone with a name or a state' : 'a mark without a state')
    check(ID.test(id) && (restoredFrom === undefined || ID.test(restoredFrom)), 'version id')
    return {
      room, id, at, relay, removed, time, kind: kind!, authors, inserted, deleted,
      ...(name !== undefined ? { name } : {}),
      ...(namedBy ? { namedBy } : {}),
      ...(restoredFrom ? { restoredFrom } : {}),
      ...(state ? { state } : {}),
    }
  } catch (error) {
    if (error instanceof MarkError) throw error
    throw new MarkError(`truncated mark: ${(error as Error).message}`)
  }
}

/** The version a (live) mark shows, as the history lists it; `seq` -1: it is not in this relay's own chain. */
export function metaOfMark(mark: VersionMark): VersionMeta {
  return {
    id: mark.id,
    seq: -1,
    time: mark.time,
    kind: mark.kind,
    ...(mark.name !== undefined ? { name: mark.name } : {}),
    ...(mark.namedBy ? { namedBy: mark.namedBy } : {}),
    ...(mark.restoredFrom ? { restoredFrom: mark.restoredFrom } : {}),
    authors: mark.authors,
    inserted: mark.inserted,
    deleted: mark.deleted,
    checkpoint: true,
    bytes: mark.state?.byteLength ?? 0,
    attributed: false,
  }
}
