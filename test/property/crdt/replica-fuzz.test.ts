// Five replicas (Y.Docs), random operations on every embedded CRDT, random delivery order,
// duplicates and partitions; many seeds. All replicas converge, and intent is kept.
import { describe, it, expect } from 'vitest'
import * as Y from 'yjs'
import * as prng from 'lib0/prng'
import { counter, orSet, mvRegister, orMap, lww } from '../../../crdt/index.ts'
import { TestConnector } from './test-connector.ts'
import type { Dot } from '../../../crdt/core/index.ts'
import type { DotSet } from '../../../crdt/core/dot-store.ts'

const N = 5
const STEPS = 400
// CRDT_FUZZ_SEEDS=300 widens the search locally; CI runs the fixed 40.
const SEEDS = Array.from({ length: Number(process.env.CRDT_FUZZ_SEEDS ?? 40) }, (_, i) => 7919 * (i + 1))
const ELEMS = ['a', 'b', 'c', 'd', 'e', { id: 1 }]
const fields = { votes: 'counter', tags: 'set', title: 'mv', owner: 'lww' } as const

/**
 * A write, identified by its dot, and whether a later operation on a replica that observed it
 * (had it in its view: the only knowledge a replica acts on) replaced or removed it.
 */
interface Write { key: string, value: unknown, dot: string, killed: boolean }

function runSeed (seed: number): void {
  const net = new TestConnector(N, seed)
  const gen = net.gen
  const handles = net.docs.map(doc => ({
    doc,
    counter: counter(doc, 'c'),
    set: orSet<unknown>(doc, 's'),
    mv: mvRegister<number>(doc, 'r'),
    map: orMap(doc, 'm', { fields }),
    lwwCounter: lww.counter(doc, 'c'),
    lwwSet: lww.set<unknown>(doc, 's'),
  }))
  let sum = 0; let mapVotes = 0
  const adds: Write[] = []; const mvWrites: Write[] = []
  const dotId = (d: Dot) => `${d.replica}:${d.counter}`
  const setDots = (h: typeof handles[number], key: string) => (h.set.view().store.entries.get(key) as DotSet | undefined)?.dots.map(dotId) ?? []
  const mvDots = (h: typeof handles[number]) => h.mv.siblings().map(s => dotId(s.dot))

  const play = (steps: number, active: number[]): void => {
    for (let step = 0; step < steps; step++) {
      const i = prng.oneOf(gen, active)
      const h = handles[i]!
      const r = prng.int32(gen, 0, 99)
      const elem = prng.oneOf(gen, ELEMS)
      const key = JSON.stringify(elem)
      if (r < 12) { const n = prng.int32(gen, 0, 5); h.counter.increment(n); h.lwwCounter.increment(n); sum += n } else if (r < 16) { h.counter.decrement(2); sum -= 2 } else if (r < 30) {
        const observed = setDots(h, key)
        for (const w of adds) if (w.key === key && observed.includes(w.dot)) w.killed = true
        h.set.add(elem)
        const mine = setDots(h, key).filter(d => !observed.includes(d))
        expect(mine).toHaveLength(1)
        adds.push({ key, value: elem, dot: mine[0]!, killed: false })
        h.lwwSet.add(elem)
      } else if (r < 40) {
        const observed = setDots(h, key)
        for (const w of adds) if (w.key === key && observed.includes(w.dot)) w.killed = true
        h.set.delete(elem); h.lwwSet.delete(elem)
      } else if (r < 48) {
        const observed = mvDots(h)
        for (const w of mvWrites) if (observed.includes(w.dot)) w.killed = true
        const v = prng.int32(gen, 0, 1000)
        h.mv.set(v)
        expect(mvDots(h)).toHaveLength(1)
        mvWrites.push({ key: '', value: v, dot: mvDots(h)[0]!, killed: false })
      } else if (r < 53) { const n = prng.int32(gen, 1, 3); h.map.increment('votes', n); mapVotes += n } else if (r < 58) h.map.add('tags', elem)
      else if (r < 61) h.map.remove('tags', elem)
      else if (r < 64) h.map.set('title', prng.word(gen, 1, 4))
      else if (r < 67) h.map.set('owner', prng.int32(gen, 0, 9))
      else if (r < 69) h.map.delete(prng.oneOf(gen, ['tags', 'title', 'owner']))
      else if (r < 71) h.map.map('meta').increment('edits')
      else if (r < 73) net.disconnect(i)
      else if (r < 76) net.reconnect(prng.oneOf(gen, active))
      else for (let k = prng.int32(gen, 1, 6); k > 0; k--) net.flushRandomMessage()
    }
  }

  const verify = (active: number[]): void => {
    net.syncAll()
    const first = handles[active[0]!]!
    const expectedSet = [...new Set(adds.filter(w => !w.killed).map(w => w.key))].sort()
    const expectedMv = mvWrites.filter(w => !w.killed).map(w => w.value as number).sort((a, b) => a - b)
    for (const h of active.map(i => handles[i]!)) {
      expect(Y.encodeStateVector(h.doc)).toEqual(Y.encodeStateVector(first.doc))
      // Intent: every increment and decrement counts, exactly.
      expect(h.counter.value).toBe(sum)
      expect(h.map.get('votes')).toBe(mapVotes)
      // Intent: the set holds exactly the elements with an add no later op observed.
      expect(h.set.values().map(v => JSON.stringify(v)).sort()).toEqual(expectedSet)
      // Intent: the register's siblings are exactly the writes no later write observed.
      expect([...h.mv.values].sort((a, b) => a - b)).toEqual(expectedMv)
      // Convergence of everything else.
      expect(h.map.toJSON()).toEqual(first.map.toJSON())
      expect(h.lwwCounter.value).toBe(first.lwwCounter.value)
      expect(h.lwwSet.values()).toEqual(first.lwwSet.values())
    }
  }

  const all = handles.map((_, i) => i)
  play(STEPS, all)
  verify(all)
  // Replica 4 departs for good; replica 0 prunes it from every CRDT; the rest carry on.
  const gone = handles[N - 1]!
  net.retire(N - 1)
  const h0 = handles[0]!
  for (const c of [h0.counter, h0.set, h0.mv, h0.map, h0.lwwCounter, h0.lwwSet]) c.prune(gone.counter.replica)
  const rest = all.slice(0, -1)
  play(STEPS / 2, rest)
  verify(rest)
  expect(h0.counter.replicas()).not.toContain(gone.counter.replica)
}

describe('replica fuzz: 5 Y.Docs, random delivery, duplicates, partitions, then a departed replica pruned', () => {
  it.each(SEEDS)('seed %i converges and keeps intent', seed => {
    try { runSeed(seed) } catch (err) { throw new Error(`replica fuzz failed with seed ${seed}: ${(err as Error).message}`) }
  })
})
