/**
 * The wire format: the y-websocket protocol (sync, awareness, auth, query-awareness) plus
 * tandem's durability acknowledgement (`MESSAGE_SAVED`, type 100). Browser-safe: imports
 * only lib0, yjs and y-protocols.
 *
 * Decoding is strict: a truncated or malformed frame, trailing bytes, an unknown message
 * type, or a Yjs/awareness update that does not decode throws a {@link ProtocolError}.
 *
 * @module
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
export const MESSAGE_AUTH = 2
export const MESSAGE_QUERY_AWARENESS = 3
/** tandem extension: durability acknowledgement (see CONTRACT.md). */
export const MESSAGE_SAVED = 100

export const SYNC_STEP_1 = 0
export const SYNC_STEP_2 = 1
export const SYNC_UPDATE = 2

/** A frame that could not be decoded. `code` matches the relay's error codes. */
export class ProtocolError extends Error {
  readonly code: 'malformed-message' | 'unknown-message' | 'invalid-update'
  constructor(code: 'malformed-message' | 'unknown-message' | 'invalid-update', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProtocolError'
    this.code = code
  }
}

/** One decoded client message. */
export type ClientMessage =
  | { type: 'sync-step-1'; stateVector: Uint8Array }
  | { type: 'sync-step-2'; update: Uint8Array }
  | { type: 'sync-update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'auth'; reason: string }
  | { type: 'query-awareness' }
  | { type: 'saved-subscribe' }

const utf8 = new TextDecoder('utf-8', { fatal: true })

function varUint(decoder: decoding.Decoder): number {
  if (decoder.pos >= decoder.arr.length) throw new ProtocolError('malformed-message', 'truncated frame')
  try {
    const n = decoding.readVarUint(decoder)
    if (!Number.isSafeInteger(n)) throw new Error('varint overflow')
    return n
  } catch (cause) {
    throw new ProtocolError('malformed-message', 'truncated or malformed varint', { cause })
  }
}

function bytes(decoder: decoding.Decoder): Uint8Array {
  const length = varUint(decoder)
  if (length > decoder.arr.length - decoder.pos) throw new ProtocolError('malformed-message', 'truncated frame: length exceeds frame')
  const view = decoder.arr.subarray(decoder.pos, decoder.pos + length)
  decoder.pos += length
  return view
}

function string(decoder: decoding.Decoder): string {
  try {
    return utf8.decode(bytes(decoder))
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause
    throw new ProtocolError('malformed-message', 'string is not valid UTF-8', { cause })
  }
}

function end(decoder: decoding.Decoder): void {
  if (decoder.pos !== decoder.arr.length) throw new ProtocolError('malformed-message', 'trailing bytes after message')
}

/** Throws `invalid-update` unless `update` is a decodable Yjs (v1) update. */
export function validateUpdate(update: Uint8Array): void {
  try {
    Y.decodeUpdate(update)
  } catch (cause) {
    throw new ProtocolError('invalid-update', 'update does not decode', { cause })
  }
}

/** Throws `invalid-update` unless `sv` is a decodable state vector. */
export function validateStateVector(sv: Uint8Array): void {
  try {
    const decoder = decoding.createDecoder(sv)
    const n = varUint(decoder)
    for (let i = 0; i < n; i++) {
      varUint(decoder)
      varUint(decoder)
    }
    end(decoder)
  } catch (cause) {
    throw new ProtocolError('invalid-update', 'state vector does not decode', { cause })
  }
}

/** Throws `invalid-update` unless `update` is a well-formed awareness update (states are JSON). */
export function validateAwarenessUpdate(update: Uint8Array): void {
  try {
    const decoder = decoding.createDecoder(update)
    const n = varUint(decoder)
    for (let i = 0; i < n; i++) {
      varUint(decoder)
      varUint(decoder)
      JSON.parse(string(decoder))
    }
    end(decoder)
  } catch (cause) {
    throw new ProtocolError('invalid-update', 'awareness update does not decode', { cause })
  }
}

/**
 * Decodes one client frame strictly, validating embedded Yjs updates, state vectors and
 * awareness updates. Throws {@link ProtocolError}.
 */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  const decoder = decoding.createDecoder(frame)
  const type = varUint(decoder)
  let message: ClientMessage
  switch (type) {
    case MESSAGE_SYNC: {
      const sub = varUint(decoder)
      if (sub === SYNC_STEP_1) {
        const stateVector = bytes(decoder)
        validateStateVector(stateVector)
        message = { type: 'sync-step-1', stateVector }
      } else if (sub === SYNC_STEP_2 || sub === SYNC_UPDATE) {
        // Framing only: Room.applyUpdate, the one door every update goes through (WebSocket,
        // HTTP, peer links), decodes the update before applying it.
        const update = bytes(decoder)
        message = { type: sub === SYNC_STEP_2 ? 'sync-step-2' : 'sync-update', update }
      } else {
        throw new ProtocolError('unknown-message', `unknown sync message type ${sub}`)
      }
      break
    }
    case MESSAGE_AWARENESS: {
      const update = bytes(decoder)
      validateAwarenessUpdate(update)
      message = { type: 'awareness', update }
      break
    }
    case MESSAGE_AUTH: {
      varUint(decoder)
      message = { type: 'auth', reason: string(decoder) }
      break
    }
    case MESSAGE_QUERY_AWARENESS:
      message = { type: 'query-awareness' }
      break
    case MESSAGE_SAVED: {
      const sub = varUint(decoder)
      if (sub !== 0) throw new ProtocolError('unknown-message', `unknown saved message type ${sub}`)
      message = { type: 'saved-subscribe' }
      break
    }
    default:
      throw new ProtocolError('unknown-message', `unknown message type ${type}`)
  }
  end(decoder)
  return message
}

function frame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Bytes of `n` as a lib0 varUint. */
function varUintSize(n: number): number {
  let size = 1
  while (n > 0x7f) {
    n = Math.floor(n / 0x80)
    size++
  }
  return size
}

/** Writes `n` as a lib0 varUint at `pos` of `out`; returns the position after it. */
function putVarUint(out: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = 0x80 | (n & 0x7f)
    n = Math.floor(n / 0x80)
  }
  out[pos++] = n
  return pos
}

/**
 * A sync message (`varUint(0) varUint(step) varUint8Array(payload)`), written into one buffer
 * of its exact size: the relay builds one per forwarded update.
 */
function syncFrame(step: number, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength
  const out = new Uint8Array(2 + varUintSize(length) + length)
  out[0] = MESSAGE_SYNC
  out[1] = step
  out.set(payload, putVarUint(out, 2, length))
  return out
}

/** `sync step 1`: the sender's state vector. */
export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  return syncFrame(SYNC_STEP_1, stateVector)
}

/** `sync step 2`: what the receiver is missing. */
export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  return syncFrame(SYNC_STEP_2, update)
}

/** `sync update`: one incremental update. */
export function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  return syncFrame(SYNC_UPDATE, update)
}

/** An awareness message around an encoded awareness update. */
export function encodeAwareness(update: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(e, update)
  })
}

/** Query-awareness request. */
export function encodeQueryAwareness(): Uint8Array {
  return frame((e) => encoding.writeVarUint(e, MESSAGE_QUERY_AWARENESS))
}

/** Client → relay: subscribe to saved acknowledgements. */
export function encodeSavedSubscribe(): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SAVED)
    encoding.writeVarUint(e, 0)
  })
}

/**
 * Deletions as per-client ranges (clientID → sorted, merged `[clock, clock + len)` ranges):
 * the decoded form of a Yjs delete set.
 */
export type DeletedRanges = Map<number, Array<{ clock: number; len: number }>>

/** A decoded saved acknowledgement (type 100). */
export interface SavedAck {
  /** The durably stored state vector (clientID → clock). */
  stateVector: Map<number, number>
  /**
   * Every deletion durably stored, or `null` when the frame carried none (a relay that does
   * not send it, or one that does not know yet): then no deletion counts as saved.
   */
  deleteSet: DeletedRanges | null
}

/**
 * The state vector of the doc holding `store`: the same bytes as `Y.encodeStateVector(doc)`
 * (clients by descending id), without Yjs's intermediate map and array of entries. The relay
 * encodes one for every stored batch.
 */
export function encodeStateVectorOf(store: Y.Doc['store']): Uint8Array {
  const { clients } = store
  const ids = clients.size > 1 ? [...clients.keys()].sort((a, b) => b - a) : clients.keys()
  let size = varUintSize(clients.size)
  for (const [client, structs] of clients) size += varUintSize(client) + varUintSize(nextClock(structs))
  const out = new Uint8Array(size)
  let pos = putVarUint(out, 0, clients.size)
  for (const client of ids) {
    pos = putVarUint(out, pos, client)
    pos = putVarUint(out, pos, nextClock(clients.get(client)!))
  }
  return out
}

/** The clock after a client's last struct. */
function nextClock(structs: ReadonlyArray<{ id: { clock: number }; length: number }>): number {
  const last = structs[structs.length - 1]!
  return last.id.clock + last.length
}

/**
 * Encodes a delete set the way Yjs does (v1, the `ds` part of `Y.encodeSnapshot`):
 * `varUint(clients) { varUint(client) varUint(ranges) { varUint(clock) varUint(len) } }`.
 * Pass `Y.createDeleteSetFromStructStore(doc.store)` or `Y.snapshot(doc).ds`.
 */
export function encodeDeleteSet(ds: Y.Snapshot['ds'] | DeletedRanges): Uint8Array {
  return frame((e) => {
    const clients = [...(ds instanceof Map ? ds : ds.clients).entries()].filter(([, items]) => items.length > 0).sort(([a], [b]) => b - a)
    encoding.writeVarUint(e, clients.length)
    for (const [client, items] of clients) {
      encoding.writeVarUint(e, client)
      encoding.writeVarUint(e, items.length)
      for (const item of items) {
        encoding.writeVarUint(e, item.clock)
        encoding.writeVarUint(e, item.len)
      }
    }
  })
}

/** Decodes {@link encodeDeleteSet}'s format strictly into sorted, merged ranges. Throws {@link ProtocolError}. */
export function decodeDeleteSet(bytesIn: Uint8Array): DeletedRanges {
  const decoder = decoding.createDecoder(bytesIn)
  const ranges: DeletedRanges = new Map()
  const n = varUint(decoder)
  for (let i = 0; i < n; i++) {
    const client = varUint(decoder)
    const count = varUint(decoder)
    const list = ranges.get(client) ?? []
    for (let j = 0; j < count; j++) list.push({ clock: varUint(decoder), len: varUint(decoder) })
    ranges.set(client, list)
  }
  end(decoder)
  return mergeDeleted([ranges])
}

/**
 * Unites delete sets (Yjs `DeleteSet`s, e.g. transactions' `deleteSet`, or {@link DeletedRanges})
 * into new sorted, merged ranges. Unlike `Y.mergeDeleteSets`, never modifies its inputs (an
 * UndoManager may hold a transaction's delete set).
 */
export function mergeDeleted(sets: Array<Y.Snapshot['ds'] | DeletedRanges>): DeletedRanges {
  const all = new Map<number, Array<{ clock: number; len: number }>>()
  for (const set of sets) {
    for (const [client, items] of set instanceof Map ? set : set.clients) {
      const list = all.get(client) ?? []
      for (const item of items) if (item.len > 0) list.push({ clock: item.clock, len: item.len })
      all.set(client, list)
    }
  }
  const ranges: DeletedRanges = new Map()
  for (const [client, list] of all) {
    list.sort((a, b) => a.clock - b.clock)
    const merged: Array<{ clock: number; len: number }> = []
    for (const r of list) {
      const last = merged[merged.length - 1]
      if (last && r.clock <= last.clock + last.len) last.len = Math.max(last.len, r.clock + r.len - last.clock)
      else merged.push(r)
    }
    if (merged.length > 0) ranges.set(client, merged)
  }
  return ranges
}

/**
 * Relay → client: what is durably stored for the room, `varUint(100)
 * varUint8Array(stateVector)` then, optionally, `varUint8Array(deleteSet)`
 * ({@link encodeDeleteSet}). A deletion moves no state vector, so only the delete set can
 * confirm one; decoders that read just the state vector keep working.
 */
export function encodeSaved(persistedStateVector: Uint8Array, persistedDeleteSet?: Uint8Array | null): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SAVED)
    encoding.writeVarUint8Array(e, persistedStateVector)
    if (persistedDeleteSet) encoding.writeVarUint8Array(e, persistedDeleteSet)
  })
}

/**
 * Reads a saved message's body (after its type), e.g. inside a y-websocket message handler.
 * A frame without a delete set gives `deleteSet: null`. Throws {@link ProtocolError}.
 */
export function readSaved(decoder: decoding.Decoder): SavedAck {
  const sv = bytes(decoder)
  const ds = decoder.pos < decoder.arr.length ? bytes(decoder) : null
  end(decoder)
  let stateVector: Map<number, number>
  try {
    stateVector = Y.decodeStateVector(sv)
  } catch (cause) {
    throw new ProtocolError('malformed-message', 'saved state vector does not decode', { cause })
  }
  return { stateVector, deleteSet: ds ? decodeDeleteSet(ds) : null }
}

/** Decodes a relay → client saved message (see {@link encodeSaved}). Throws {@link ProtocolError}. */
export function decodeSaved(frame: Uint8Array): SavedAck {
  const decoder = decoding.createDecoder(frame)
  if (varUint(decoder) !== MESSAGE_SAVED) throw new ProtocolError('unknown-message', 'not a saved message')
  return readSaved(decoder)
}

/**
 * Adds the deletions of `sets` (e.g. transactions' `deleteSet`s) to `into` in place (its lists
 * stay sorted and merged; the inputs are not modified). Costs a binary search and a splice per
 * added range, not a pass over `into`.
 */
export function addDeletions(into: DeletedRanges, sets: Array<Y.Snapshot['ds']>): void {
  for (const set of sets) {
    for (const [client, items] of set.clients) {
      let list = into.get(client)
      if (!list) into.set(client, (list = []))
      for (const item of items) if (item.len > 0) insertRange(list, item.clock, item.len)
    }
  }
}

function insertRange(list: Array<{ clock: number; len: number }>, clock: number, len: number): void {
  // The first range ending at or after `clock` (it and the following may touch the new one).
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const r = list[mid]!
    if (r.clock + r.len < clock) lo = mid + 1
    else hi = mid
  }
  let start = clock
  let end = clock + len
  let j = lo
  while (j < list.length && list[j]!.clock <= end) {
    start = Math.min(start, list[j]!.clock)
    end = Math.max(end, list[j]!.clock + list[j]!.len)
    j++
  }
  list.splice(lo, j - lo, { clock: start, len: end - start })
}

/** Whether `ranges` (sorted, merged) cover `[clock, clock + len)`. */
function covers(ranges: Array<{ clock: number; len: number }> | undefined, clock: number, len: number): boolean {
  if (!ranges) return false
  let lo = 0
  let hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const r = ranges[mid]!
    if (r.clock > clock) hi = mid - 1
    else if (r.clock + r.len <= clock) lo = mid + 1
    else return clock + len <= r.clock + r.len
  }
  return false
}

/**
 * True when everything `doc` holds is durably stored: its state vector is covered by the
 * stored one AND every deletion in its delete set lies inside the stored delete set (range
 * inclusion per client). A bare state vector (an old-style ack, or `deleteSet: null`)
 * confirms no deletion: a doc holding any deletion is then not saved. `docDeletions` gives the
 * doc's delete set (default: a walk of its store, only when the state vector is covered); pass
 * an incrementally kept one to avoid the walk.
 */
export function isSaved(
  doc: Y.Doc,
  saved: SavedAck | Map<number, number>,
  docDeletions: () => Y.Snapshot['ds'] | DeletedRanges = () => Y.createDeleteSetFromStructStore(doc.store),
): boolean {
  const sv = saved instanceof Map ? saved : saved.stateVector
  for (const client of doc.store.clients.keys()) {
    if ((sv.get(client) ?? 0) < Y.getState(doc.store, client)) return false
  }
  return coversDeletions(saved instanceof Map ? null : saved.deleteSet, docDeletions())
}

/**
 * Whether every deletion in `ds` (e.g. a transaction's `deleteSet`) lies inside `stored`
 * (range inclusion per client). `null` (unknown) covers no deletion.
 */
export function coversDeletions(stored: DeletedRanges | null, ds: Y.Snapshot['ds'] | DeletedRanges): boolean {
  for (const [client, items] of ds instanceof Map ? ds : ds.clients) {
    for (const item of items) {
      if (item.len > 0 && !covers(stored?.get(client), item.clock, item.len)) return false
    }
  }
  return true
}

/**
 * Whether `update` is Yjs's encoding of nothing: no structs, no delete set — the two bytes
 * `encodeStateAsUpdate` writes when the other side has everything and nothing is deleted, and
 * what a client with nothing new answers to sync step 1. Constant time (nothing decoded), for
 * paths that see every update.
 */
export function isNothing(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0
}

/**
 * True for a Yjs update that carries nothing, however it is encoded ({@link isNothing}, or
 * structs and delete set both empty: decodes the update, so not for every update). Junk is not
 * empty.
 */
export function isEmptyUpdate(update: Uint8Array): boolean {
  if (update.byteLength <= 2) return isNothing(update)
  try {
    const { structs, ds } = Y.decodeUpdate(update)
    return structs.length === 0 && ds.clients.size === 0
  } catch {
    return false
  }
}
