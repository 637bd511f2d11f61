/**
 * The last-writer-wins baselines, to compare against the CRDTs on equal terms:
 * - {@link LWWCounter}: one number under LWW; `increment` reads the value and writes value + n
 *   (read-modify-write), so of two concurrent increments one is lost.
 * - {@link LWWSet}: the whole set as one LWW value; of two concurrent adds one side is lost.
 *
 * Both are {@link LWWRegister}s (same merge, codec and clock injection).
 */
import { LWWRegister, type Clock } from './lww-register.ts'
import { canonicalJson } from './json-value.ts'

/** LWW counter state: an LWW register of a number. */
export type LWWCounter = LWWRegister<number>

export const LWWCounter = {
  empty (): LWWCounter { return LWWRegister.empty() },
  /** Delta: read the value, write value + n (the lost-update pattern). */
  increment (x: LWWCounter, replica: string, n = 1, clock?: Clock): LWWCounter {
    return LWWRegister.set(x, replica, (x.entry?.value ?? 0) + n, clock)
  },
  /** Delta: read the value, write value - n. */
  decrement (x: LWWCounter, replica: string, n = 1, clock?: Clock): LWWCounter {
    return LWWRegister.set(x, replica, (x.entry?.value ?? 0) - n, clock)
  },
  value (x: LWWCounter): number { return x.entry?.value ?? 0 },
  merge: LWWRegister.merge<number>,
  equals: LWWRegister.equals,
  encode: LWWRegister.encode,
  decode: (bytes: Uint8Array): LWWCounter => LWWRegister.decode<number>(bytes),
}

/** LWW set state: an LWW register holding the sorted element list. */
export type LWWSet<T = unknown> = LWWRegister<T[]>

function withElement<T> (list: readonly T[], value: T, present: boolean): T[] {
  const key = canonicalJson(value)
  const rest = list.filter(v => canonicalJson(v) !== key)
  if (present) rest.push(value)
  return rest.sort((a, b) => { const x = canonicalJson(a); const y = canonicalJson(b); return x < y ? -1 : x > y ? 1 : 0 })
}

export const LWWSet = {
  empty<T> (): LWWSet<T> { return LWWRegister.empty() },
  /** Delta: read the whole set, write it back with `value` added. */
  add<T> (x: LWWSet<T>, replica: string, value: T, clock?: Clock): LWWSet<T> {
    return LWWRegister.set(x, replica, withElement(x.entry?.value ?? [], value, true), clock)
  },
  /** Delta: read the whole set, write it back without `value`. */
  remove<T> (x: LWWSet<T>, replica: string, value: T, clock?: Clock): LWWSet<T> {
    return LWWRegister.set(x, replica, withElement(x.entry?.value ?? [], value, false), clock)
  },
  has<T> (x: LWWSet<T>, value: T): boolean {
    const key = canonicalJson(value)
    return (x.entry?.value ?? []).some(v => canonicalJson(v) === key)
  },
  value<T> (x: LWWSet<T>): T[] { return [...(x.entry?.value ?? [])] },
  merge<T> (a: LWWSet<T>, b: LWWSet<T>): LWWSet<T> { return LWWRegister.merge(a, b) },
  equals: LWWRegister.equals,
  encode: LWWRegister.encode,
  decode<T> (bytes: Uint8Array): LWWSet<T> { return LWWRegister.decode<T[]>(bytes) },
}
