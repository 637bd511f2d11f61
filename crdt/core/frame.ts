/**
 * Binary framing shared by every CRDT codec: `[tag: uint8][version: uint8][payload][crc32: uint32]`.
 *
 * The CRC-32 trailer makes any single altered byte and (with overwhelming probability) any
 * truncation a clear {@link CrdtCodecError} instead of a silently different value.
 * Payloads are written with lib0's encoder and read with lib0's decoder.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { CrdtCodecError } from './codec-error.ts'

/** One byte per CRDT type, so bytes of one type are refused by another's decoder. */
export const TypeTag = {
  GCounter: 1,
  PNCounter: 2,
  ORSet: 3,
  LWWRegister: 4,
  MVRegister: 5,
  ORMap: 6,
  LWWMap: 7,
  Slice: 8,
} as const

const VERSION = 1

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 (IEEE) of `bytes[0..end)`. */
export function crc32 (bytes: Uint8Array, end = bytes.length): number {
  let c = 0xffffffff
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** Encodes a framed value: `write` fills the payload. */
export function writeFramed (tag: number, write: (enc: encoding.Encoder) => void): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, tag)
  encoding.writeUint8(enc, VERSION)
  write(enc)
  const body = encoding.toUint8Array(enc)
  const out = new Uint8Array(body.length + 4)
  out.set(body)
  new DataView(out.buffer).setUint32(body.length, crc32(body), true)
  return out
}

/**
 * Decodes a framed value. Checks the length, checksum, tag and version before `read` runs,
 * then requires `read` to consume the payload exactly. Every failure (including errors
 * thrown by lib0 or by `read`) surfaces as a {@link CrdtCodecError}.
 */
export function readFramed<T> (tag: number, typeName: string, bytes: Uint8Array, read: (dec: decoding.Decoder) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new CrdtCodecError('corrupt', `${typeName}: expected a Uint8Array`)
  if (bytes.length < 6) throw new CrdtCodecError('truncated', `${typeName}: ${bytes.length} bytes is shorter than the 6-byte frame`)
  const bodyLen = bytes.length - 4
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bodyLen, true)
  if (crc32(bytes, bodyLen) !== stored) throw new CrdtCodecError('checksum', `${typeName}: checksum mismatch (bytes altered or truncated)`)
  if (bytes[0] !== tag) throw new CrdtCodecError('wrong-type', `${typeName}: type tag ${bytes[0]} is not ${tag}`)
  if (bytes[1] !== VERSION) throw new CrdtCodecError('wrong-type', `${typeName}: unsupported format version ${bytes[1]}`)
  const dec = decoding.createDecoder(bytes.subarray(2, bodyLen))
  let value: T
  try {
    value = read(dec)
  } catch (err) {
    if (err instanceof CrdtCodecError) throw err
    throw new CrdtCodecError('corrupt', `${typeName}: ${(err as Error).message}`)
  }
  if (decoding.hasContent(dec)) throw new CrdtCodecError('corrupt', `${typeName}: ${dec.arr.length - dec.pos} trailing bytes`)
  return value
}

/** Throws a `corrupt` error unless `ok`. For invariants checked while reading. */
export function check (ok: boolean, what: string): asserts ok {
  if (!ok) throw new CrdtCodecError('corrupt', what)
}

/** Reads a varUint that must be a safe integer. */
export function readCount (dec: decoding.Decoder): number {
  const n = decoding.readVarUint(dec)
  check(Number.isSafeInteger(n), 'count out of range')
  return n
}

/** Writes a list of strings (replica ids) as a table; returns their indices. */
export function writeTable (enc: encoding.Encoder, items: Iterable<string>): Map<string, number> {
  const index = new Map<string, number>()
  for (const s of items) if (!index.has(s)) index.set(s, index.size)
  encoding.writeVarUint(enc, index.size)
  for (const s of index.keys()) encoding.writeVarString(enc, s)
  return index
}

/** Reads a table written by {@link writeTable}. */
export function readTable (dec: decoding.Decoder): string[] {
  const n = readCount(dec)
  check(n <= dec.arr.length, 'table length exceeds input')
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(decoding.readVarString(dec))
  check(new Set(out).size === out.length, 'duplicate entry in replica table')
  return out
}

/** Reads a table index and returns the string it names. */
export function readRef (dec: decoding.Decoder, table: readonly string[]): string {
  const i = decoding.readVarUint(dec)
  const s = table[i]
  check(s !== undefined, `replica index ${i} outside table of ${table.length}`)
  return s
}
