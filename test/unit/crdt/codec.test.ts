// Decoders refuse well-framed bytes (valid checksum) whose payload breaks the type's invariants.
import { describe, it, expect } from 'vitest'
import * as encoding from 'lib0/encoding'
import { writeFramed, TypeTag } from '../../../crdt/core/frame.ts'
import { ORSet, GCounter, CrdtCodecError } from '../../../crdt/core/index.ts'

const code = (f: () => unknown): string | undefined => {
  try { f() } catch (err) { return err instanceof CrdtCodecError ? err.code : 'not a CrdtCodecError' }
  return undefined
}

describe('codec invariants', () => {
  it('an ORSet whose element dot lies outside its causal context is corrupt', () => {
    const bytes = writeFramed(TypeTag.ORSet, enc => {
      encoding.writeVarUint(enc, 1); encoding.writeVarString(enc, 'a') // replica table
      encoding.writeVarUint(enc, 0); encoding.writeVarUint(enc, 0) // empty context
      encoding.writeUint8(enc, 2); encoding.writeVarUint(enc, 1) // map with one element
      encoding.writeVarString(enc, '"x"')
      encoding.writeUint8(enc, 0); encoding.writeVarUint(enc, 1) // dot set with one dot
      encoding.writeVarUint(enc, 0); encoding.writeVarUint(enc, 1) // (a, 1): never seen
    })
    expect(code(() => ORSet.decode(bytes))).toBe('corrupt')
  })

  it('a GCounter with a duplicate replica is corrupt; trailing bytes are corrupt', () => {
    const dup = writeFramed(TypeTag.GCounter, enc => {
      encoding.writeVarUint(enc, 2)
      encoding.writeVarString(enc, 'a'); encoding.writeVarUint(enc, 1)
      encoding.writeVarString(enc, 'a'); encoding.writeVarUint(enc, 2)
    })
    expect(code(() => GCounter.decode(dup))).toBe('corrupt')
    const trailing = writeFramed(TypeTag.GCounter, enc => { encoding.writeVarUint(enc, 0); encoding.writeUint8(enc, 9) })
    expect(code(() => GCounter.decode(trailing))).toBe('corrupt')
  })

  it('names the failure: truncated, checksum, wrong-type', () => {
    const ok = GCounter.encode(GCounter.increment(GCounter.empty(), 'a', 3))
    expect(code(() => GCounter.decode(ok.subarray(0, 3)))).toBe('truncated')
    const flipped = ok.slice(); flipped[3]! ^= 0x10
    expect(code(() => GCounter.decode(flipped))).toBe('checksum')
    expect(code(() => ORSet.decode(ok))).toBe('wrong-type')
    expect(GCounter.value(GCounter.decode(ok))).toBe(3)
  })
})
