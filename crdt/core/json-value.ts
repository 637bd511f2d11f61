/**
 * JSON values as CRDT payloads: a canonical string form (object keys sorted) gives every
 * value one identity, used for set membership, equality and deterministic tie-breaks.
 */

/** A JSON-serialisable value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Canonical JSON text of `v`: object keys sorted, so equal values give equal strings. */
export function canonicalJson (v: unknown): string {
  if (v === null || typeof v !== 'object') {
    const s = JSON.stringify(v)
    if (s === undefined) throw new TypeError(`not JSON-serialisable: ${String(v)}`)
    return s
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  const keys = Object.keys(v).sort()
  return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`
}

/** Parses canonical JSON produced by {@link canonicalJson}. */
export function parseJson<T> (s: string): T {
  return JSON.parse(s) as T
}
