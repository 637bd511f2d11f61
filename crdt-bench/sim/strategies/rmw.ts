/**
 * Read-modify-write of a plain JSON value, used by the strategies that store one value per
 * key (LWW, Y.Map, siblings, custom handler, home leader): increment a number, add to or
 * remove from a sorted array, set a field of a record, overwrite a string.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import type { Op } from '../workload.ts'

/** The new value of a key after `op`, given its current value `v`. */
export function applyOp (v: unknown, op: Op): unknown {
  switch (op.t) {
    case 'inc': return (typeof v === 'number' ? v : 0) + 1
    case 'add': return [...new Set([...(Array.isArray(v) ? v as string[] : []), op.elem])].sort()
    case 'remove': return (Array.isArray(v) ? v as string[] : []).filter(e => e !== op.elem)
    case 'field': return { ...(v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {}), [op.field]: op.value }
    case 'write': return op.value
  }
}

/** A key and a payload in one lib0-encoded message. */
export function encodeKeyed (key: string, payload: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, key)
  encoding.writeVarUint8Array(enc, payload)
  return encoding.toUint8Array(enc)
}

export function decodeKeyed (bytes: Uint8Array): { key: string, payload: Uint8Array } {
  const dec = decoding.createDecoder(bytes)
  return { key: decoding.readVarString(dec), payload: decoding.readVarUint8Array(dec) }
}

/** Byte length of a value as plain JSON text (what remains of a state without metadata). */
export function jsonBytes (v: unknown): number {
  return new TextEncoder().encode(JSON.stringify(v) ?? '').length
}
