// Lattice laws, delta equivalence and codec round-trips for every pure-core CRDT type.
// States come from random executions (mutations and merges across three replicas), so they are
// reachable states of one system, as the laws require.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { GCounter, PNCounter, ORSet, MVRegister, LWWRegister, ORMap, LWWCounter, LWWSet, LWWMap, CrdtCodecError, type MapOp } from '../../../crdt/core/index.ts'

interface Spec<S> {
  name: string
  empty (): S
  /** A delta for replica `r`, chosen by `pick` (a random integer) and `time`. */
  mutate (s: S, r: string, pick: number, time: number): S
  merge (a: S, b: S): S
  equals (a: S, b: S): boolean
  encode (s: S): Uint8Array
  decode (b: Uint8Array): S
}

const ELEMS = ['a', 'b', 'c', { k: 1 }, 7]
const clockAt = (t: number) => () => t

const specs: Spec<any>[] = [
  { ...GCounter, name: 'GCounter', mutate: (s, r, p) => GCounter.increment(s, r, p % 5) },
  { ...PNCounter, name: 'PNCounter', mutate: (s, r, p) => p % 2 ? PNCounter.increment(s, r, p % 7) : PNCounter.decrement(s, r, p % 3) },
  { ...ORSet, name: 'ORSet', mutate: (s, r, p) => p % 5 === 0 ? ORSet.clear(s) : p % 3 === 0 ? ORSet.remove(s, ELEMS[p % ELEMS.length]) : ORSet.add(s, r, ELEMS[p % ELEMS.length]) },
  { ...MVRegister, name: 'MVRegister', mutate: (s, r, p) => MVRegister.set(s, r, p % 4) },
  { ...LWWRegister, name: 'LWWRegister', mutate: (s, r, p, t) => LWWRegister.set(s, r, p % 4, clockAt(t)) },
  {
    ...ORMap,
    name: 'ORMap',
    mutate: (s, r, p, t) => {
      const path = [['x'], ['y'], ['m', 'x'], ['m', 'n', 'z']][p % 4]!
      const ops: MapOp[] = [{ type: 'increment', n: p % 5 }, { type: 'decrement', n: 1 }, { type: 'add', value: ELEMS[p % 5] }, { type: 'remove', value: ELEMS[(p >> 2) % 5] }, { type: 'set', value: p % 3 }, { type: 'delete' }]
      return ORMap.apply(s, r, path, ops[(p >> 3) % ops.length]!, clockAt(t))
    },
  },
  { ...LWWCounter, name: 'LWWCounter', mutate: (s, r, p, t) => LWWCounter.increment(s, r, p % 5, clockAt(t)) },
  { ...LWWSet, name: 'LWWSet', mutate: (s, r, p, t) => p % 3 ? LWWSet.add(s, r, ELEMS[p % 5], clockAt(t)) : LWWSet.remove(s, r, ELEMS[p % 5], clockAt(t)) },
  { ...LWWMap, name: 'LWWMap', mutate: (s, r, p, t) => p % 4 ? LWWMap.set(s, r, ['k', 'l', 'm'][p % 3]!, p, clockAt(t)) : LWWMap.delete(s, r, ['k', 'l', 'm'][p % 3]!, clockAt(t)) },
]

const REPLICAS = ['r0', 'r1', 'r2']
const step = fc.record({ at: fc.nat(2), merge: fc.boolean(), from: fc.nat(2), pick: fc.nat(1000), time: fc.nat(6) })
const run = fc.array(step, { maxLength: 30 })

/** Executes steps; returns the three replica states and every delta produced. */
function execute<S> (spec: Spec<S>, steps: Array<{ at: number, merge: boolean, from: number, pick: number, time: number }>) {
  const states = REPLICAS.map(() => spec.empty())
  const deltas: S[] = []
  for (const s of steps) {
    if (s.merge) { states[s.at] = spec.merge(states[s.at]!, states[s.from]!); continue }
    const d = spec.mutate(states[s.at]!, REPLICAS[s.at]!, s.pick, s.time)
    deltas.push(d)
    states[s.at] = spec.merge(states[s.at]!, d)
  }
  return { states: states as [S, S, S], deltas }
}

const params = (seed: number) => ({ seed, numRuns: 150 })

describe.each(specs)('$name', spec => {
  it('merge is commutative, associative and idempotent', () => {
    fc.assert(fc.property(run, steps => {
      const { states: [a, b, c] } = execute(spec, steps)
      expect(spec.equals(spec.merge(a, b), spec.merge(b, a))).toBe(true)
      expect(spec.equals(spec.merge(spec.merge(a, b), c), spec.merge(a, spec.merge(b, c)))).toBe(true)
      expect(spec.equals(spec.merge(a, a), a)).toBe(true)
      expect(spec.equals(spec.merge(a, spec.empty()), a)).toBe(true)
    }), params(0xc0ffee))
  })

  it('applying the deltas (shuffled, duplicated) equals merging the states', () => {
    fc.assert(fc.property(run, fc.nat(), (steps, shuffleSeed) => {
      const { states: [a, b, c], deltas } = execute(spec, steps)
      const order = [...deltas, ...deltas.slice(0, shuffleSeed % (deltas.length + 1))]
      let x = shuffleSeed
      for (let i = order.length - 1; i > 0; i--) { x = (x * 1103515245 + 12345) >>> 0; const j = x % (i + 1); [order[i], order[j]] = [order[j]!, order[i]!] }
      const fromDeltas = order.reduce((acc, d) => spec.merge(acc, d), spec.empty())
      expect(spec.equals(fromDeltas, spec.merge(spec.merge(a, b), c))).toBe(true)
    }), params(0xde17a))
  })

  it('decode(encode(x)) equals x, for states and deltas', () => {
    fc.assert(fc.property(run, steps => {
      const { states, deltas } = execute(spec, steps)
      for (const s of [...states, ...deltas]) expect(spec.equals(spec.decode(spec.encode(s)), s)).toBe(true)
    }), params(0xc0dec))
  })

  it('corrupt or truncated bytes throw CrdtCodecError', () => {
    fc.assert(fc.property(run, fc.nat(), fc.integer({ min: 1, max: 255 }), (steps, where, flip) => {
      const { states } = execute(spec, steps)
      const bytes = spec.encode(spec.merge(spec.merge(states[0], states[1]), states[2]))
      const copy = bytes.slice()
      const corrupt = bytes.slice(); corrupt[where % bytes.length]! ^= flip
      expect(() => spec.decode(corrupt)).toThrow(CrdtCodecError)
      expect(() => spec.decode(bytes.subarray(0, where % bytes.length))).toThrow(CrdtCodecError)
      expect(bytes).toEqual(copy) // decoding never mutates its input
    }), params(0xbadbad))
  })

  it('refuses bytes of another type', () => {
    const other = specs.find(s => s.encode(s.empty())[0] !== spec.encode(spec.empty())[0])!
    expect(() => spec.decode(other.encode(other.empty()))).toThrow(/wrong-type/)
  })
})
