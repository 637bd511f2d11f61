/**
 * Per-key last-writer-wins map (the usual "document store" baseline): each key is an
 * {@link LWWRegister}; a delete writes a timestamped tombstone (kept, as in every LWW map,
 * so that an older concurrent write cannot resurrect the key).
 *
 * Values are JSON, immutable; mutators return deltas (a map holding only the written key).
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { compareWrites, type Clock, type LWWEntry, readLWWEntry, systemClock, writeLWWEntry } from './lww-register.ts'
import { check, readCount, readFramed, TypeTag, writeFramed } from './frame.ts'

/** A stored write; `deleted` marks a tombstone. */
export interface LWWMapEntry<T> extends LWWEntry<T | null> { readonly deleted: boolean }

/** A per-key LWW map state (or delta). */
export interface LWWMap<T = unknown> { readonly entries: ReadonlyMap<string, LWWMapEntry<T>> }

function write<T> (x: LWWMap<T>, key: string, replica: string, value: T | null, deleted: boolean, clock: Clock): LWWMap<T> {
  const prev = x.entries.get(key)
  let time = clock()
  if (prev && prev.replica === replica && time <= prev.time) time = prev.time + 1
  return { entries: new Map([[key, { value, time, replica, deleted }]]) }
}

function cmp (a: LWWMapEntry<unknown>, b: LWWMapEntry<unknown>): number {
  return compareWrites(a, b) || Number(a.deleted) - Number(b.deleted)
}

export const LWWMap = {
  empty<T> (): LWWMap<T> { return { entries: new Map() } },
  /** Delta writing `value` at `key`. */
  set<T> (x: LWWMap<T>, replica: string, key: string, value: T, clock: Clock = systemClock): LWWMap<T> {
    return write(x, key, replica, value, false, clock)
  },
  /** Delta deleting `key` (a timestamped tombstone). */
  delete<T> (x: LWWMap<T>, replica: string, key: string, clock: Clock = systemClock): LWWMap<T> {
    return write<T>(x, key, replica, null, true, clock)
  },
  get<T> (x: LWWMap<T>, key: string): T | undefined {
    const e = x.entries.get(key)
    return e && !e.deleted ? e.value as T : undefined
  },
  /** Live keys and values. */
  value<T> (x: LWWMap<T>): Record<string, T> {
    const out: Record<string, T> = {}
    for (const k of [...x.entries.keys()].sort()) { const e = x.entries.get(k)!; if (!e.deleted) out[k] = e.value as T }
    return out
  },
  /** Per-key maximum write. */
  merge<T> (a: LWWMap<T>, b: LWWMap<T>): LWWMap<T> {
    if (b.entries.size === 0) return a
    const entries = new Map(a.entries)
    for (const [k, e] of b.entries) { const o = entries.get(k); if (!o || cmp(e, o) > 0) entries.set(k, e) }
    return { entries }
  },
  equals (a: LWWMap, b: LWWMap): boolean {
    if (a.entries.size !== b.entries.size) return false
    for (const [k, e] of a.entries) { const o = b.entries.get(k); if (!o || cmp(e, o) !== 0) return false }
    return true
  },
  encode (x: LWWMap): Uint8Array {
    return writeFramed(TypeTag.LWWMap, enc => {
      encoding.writeVarUint(enc, x.entries.size)
      for (const [k, e] of x.entries) {
        encoding.writeVarString(enc, k)
        encoding.writeUint8(enc, e.deleted ? 1 : 0)
        writeLWWEntry(enc, e)
      }
    })
  },
  decode<T> (bytes: Uint8Array): LWWMap<T> {
    return readFramed(TypeTag.LWWMap, 'LWWMap', bytes, dec => {
      const entries = new Map<string, LWWMapEntry<T>>()
      for (let n = readCount(dec); n > 0; n--) {
        const k = decoding.readVarString(dec)
        const del = decoding.readUint8(dec)
        const e = readLWWEntry<T | null>(dec)
        check(!entries.has(k) && del <= 1 && e !== null, 'bad LWWMap entry')
        entries.set(k, { ...e, deleted: del === 1 })
      }
      return { entries }
    })
  },
}
