/**
 * Pure-core throughput and encoded size of each CRDT against its LWW baseline: mutation
 * (a delta computed and merged into the replica's state), merge of two full replica states,
 * and the encoded size of the converged state.
 */
import * as prng from 'lib0/prng'
import { PNCounter, LWWCounter, ORSet, LWWSet, MVRegister, LWWRegister, ORMap, LWWMap } from '../../crdt/core/index.ts'

export interface ThroughputRow { pair: string, type: string, mutationsPerSec: number, mergesPerSec: number, encodedBytes: number }

interface Subject<S> {
  type: string
  empty (): S
  mutate (s: S, replica: string, k: number, gen: prng.PRNG): S
  merge (a: S, b: S): S
  encode (s: S): Uint8Array
}

const REPLICAS = Array.from({ length: 10 }, (_, i) => `replica-${i}`)

function measure<S> (pair: string, subject: Subject<S>, ops: number): ThroughputRow {
  const gen = prng.create(7)
  const states = REPLICAS.map(() => subject.empty())
  let t = performance.now()
  for (let k = 0; k < ops; k++) {
    const i = k % REPLICAS.length
    states[i] = subject.merge(states[i]!, subject.mutate(states[i]!, REPLICAS[i]!, k, gen))
    if (k % 1000 === 999) { const all = states.reduce(subject.merge); states.fill(all) }
  }
  const mutationsPerSec = ops / ((performance.now() - t) / 1000)
  for (let i = 0; i < states.length; i++) states[i] = subject.merge(states[i]!, subject.mutate(states[i]!, REPLICAS[i]!, ops + i, gen))
  const merges = Math.max(200, ops / 10)
  t = performance.now()
  for (let k = 0; k < merges; k++) subject.merge(states[k % states.length]!, states[(k + 1) % states.length]!)
  const mergesPerSec = merges / ((performance.now() - t) / 1000)
  return { pair, type: subject.type, mutationsPerSec, mergesPerSec, encodedBytes: subject.encode(states.reduce(subject.merge)).length }
}

const elem = (gen: prng.PRNG) => `item-${prng.int32(gen, 0, 999)}`

/** One row per type, paired with its baseline. */
export function coreThroughput (ops: number): ThroughputRow[] {
  return [
    measure('counter', { ...PNCounter, type: 'PNCounter', mutate: (s, r, k) => k % 4 ? PNCounter.increment(s, r, 1) : PNCounter.decrement(s, r, 1) }, ops),
    measure<LWWCounter>('counter', { ...LWWCounter, type: 'LWWCounter', mutate: (s, r, k) => k % 4 ? LWWCounter.increment(s, r, 1, () => k) : LWWCounter.decrement(s, r, 1, () => k) }, ops),
    measure('set (1,000 elements)', { ...ORSet, type: 'ORSet', mutate: (s, r, k, g) => k % 2 ? ORSet.add(s, r, elem(g)) : ORSet.remove(s, elem(g)) }, ops),
    measure<LWWSet<string>>('set (1,000 elements)', { ...LWWSet, type: 'LWWSet', mutate: (s, r, k, g) => k % 2 ? LWWSet.add(s, r, elem(g), () => k) : LWWSet.remove(s, r, elem(g), () => k) }, ops),
    measure('register', { ...MVRegister, type: 'MVRegister', mutate: (s, r, k) => MVRegister.set(s, r, k) }, ops),
    measure('register', { ...LWWRegister, type: 'LWWRegister', mutate: (s, r, k) => LWWRegister.set(s, r, k, () => k) }, ops),
    measure('map (100 fields)', { ...ORMap, type: 'ORMap', mutate: (s, r, k, g) => ORMap.apply(s, r, [`f${prng.int32(g, 0, 99)}`], { type: 'set', value: k }, () => k) }, ops),
    measure('map (100 fields)', { ...LWWMap, type: 'LWWMap', mutate: (s, r, k, g) => LWWMap.set(s, r, `f${prng.int32(g, 0, 99)}`, k, () => k) }, ops),
  ]
}
