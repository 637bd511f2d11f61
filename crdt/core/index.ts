/**
 * The pure CRDT core: delta-state CRDTs with no Yjs dependency.
 *
 * Every type is a join-semilattice exposed as a namespace of pure functions over immutable
 * values: `empty()`, mutators that return a delta (itself a value of the type), `merge(a, b)`
 * (commutative, associative, idempotent), `value(x)`, `equals(a, b)`, and a compact binary
 * codec `encode(x)` / `decode(bytes)` (lib0 encoding, CRC-32 trailer; decode throws
 * {@link CrdtCodecError} on corrupt or truncated input and never returns a partial value).
 * Replica ids are strings. Immutability is deliberate: a value can be shared between replicas
 * in a simulation, kept as a snapshot, and compared, without defensive copies.
 */
export { CrdtCodecError, type CrdtCodecErrorCode } from './codec-error.ts'
export { type Dot, type CausalContext, contains, contextEquals } from './causal-context.ts'
export { type Json, canonicalJson } from './json-value.ts'
export { GCounter } from './g-counter.ts'
export { PNCounter } from './pn-counter.ts'
export { ORSet } from './or-set.ts'
export { MVRegister, type Sibling } from './mv-register.ts'
export { LWWRegister, type LWWEntry, type Clock, systemClock, compareWrites } from './lww-register.ts'
export { ORMap, type MapOp, type MapValue, type FieldKind, type RegisterSibling } from './or-map.ts'
export { LWWCounter, LWWSet } from './lww-baselines.ts'
export { LWWMap, type LWWMapEntry } from './lww-map.ts'
