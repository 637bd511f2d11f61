/**
 * Last-writer-wins register: each write carries a timestamp from an injectable clock and the
 * writer's replica id; merge keeps the greater `(time, replica)` (then the greater canonical
 * value, so merge is a total order even on hand-built ties). The timestamp is the writer's
 * clock, exactly as in Cassandra-style LWW: a replica whose clock runs behind loses even its
 * causally later writes. That loss is the point of the baseline; inject a skewed clock to see it.
 * A replica's own consecutive writes stay ordered (time is at least its previous time + 1).
 *
 * Values are JSON, immutable; `set` returns the delta (a register holding only the new write).
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { check, readFramed, TypeTag, writeFramed } from './frame.ts'
import { canonicalJson, parseJson } from './json-value.ts'

/** Milliseconds (or any monotone number) used as LWW timestamps. */
export type Clock = () => number

/** The default clock: `Date.now`. */
export const systemClock: Clock = () => Date.now()

/** One timestamped write. */
export interface LWWEntry<T> { readonly value: T, readonly time: number, readonly replica: string }

/** An LWW register state (or delta); `entry` is null until the first write. */
export interface LWWRegister<T = unknown> { readonly entry: LWWEntry<T> | null }

/** Total order of LWW writes: time, then replica id, then canonical value. */
export function compareWrites (a: LWWEntry<unknown>, b: LWWEntry<unknown>): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1
  const va = canonicalJson(a.value); const vb = canonicalJson(b.value)
  return va < vb ? -1 : va > vb ? 1 : 0
}

export const LWWRegister = {
  /** The unwritten register. */
  empty<T> (): LWWRegister<T> { return { entry: null } },
  /** Delta writing `value` at `clock()` for `replica`. */
  set<T> (x: LWWRegister<T>, replica: string, value: T, clock: Clock = systemClock): LWWRegister<T> {
    let time = clock()
    if (x.entry && x.entry.replica === replica && time <= x.entry.time) time = x.entry.time + 1
    canonicalJson(value)
    return { entry: { value, time, replica } }
  },
  /** The current value (undefined if never written). */
  value<T> (x: LWWRegister<T>): T | undefined { return x.entry?.value },
  /** Keeps the greater write. */
  merge<T> (a: LWWRegister<T>, b: LWWRegister<T>): LWWRegister<T> {
    if (!b.entry) return a
    if (!a.entry) return b
    return compareWrites(a.entry, b.entry) >= 0 ? a : b
  },
  /** Structural equality. */
  equals (a: LWWRegister, b: LWWRegister): boolean {
    if (!a.entry || !b.entry) return a.entry === b.entry
    return compareWrites(a.entry, b.entry) === 0
  },
  /** Compact binary form. */
  encode (x: LWWRegister): Uint8Array { return writeFramed(TypeTag.LWWRegister, enc => writeLWWEntry(enc, x.entry)) },
  /** Inverse of {@link LWWRegister.encode}; throws {@link CrdtCodecError} on bad bytes. */
  decode<T> (bytes: Uint8Array): LWWRegister<T> {
    return readFramed(TypeTag.LWWRegister, 'LWWRegister', bytes, dec => ({ entry: readLWWEntry<T>(dec) }))
  },
}

/** Writes an optional LWW entry. */
export function writeLWWEntry (enc: encoding.Encoder, e: LWWEntry<unknown> | null): void {
  encoding.writeUint8(enc, e ? 1 : 0)
  if (!e) return
  encoding.writeFloat64(enc, e.time)
  encoding.writeVarString(enc, e.replica)
  encoding.writeVarString(enc, canonicalJson(e.value))
}

/** Reads an optional LWW entry. */
export function readLWWEntry<T> (dec: decoding.Decoder): LWWEntry<T> | null {
  const flag = decoding.readUint8(dec)
  check(flag <= 1, 'bad LWW entry flag')
  if (flag === 0) return null
  const time = decoding.readFloat64(dec)
  check(Number.isFinite(time), 'LWW time is not finite')
  const replica = decoding.readVarString(dec)
  return { time, replica, value: parseJson<T>(decoding.readVarString(dec)) }
}
