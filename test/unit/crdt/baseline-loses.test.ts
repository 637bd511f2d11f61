// The lost-update case that motivates the CRDTs: the same concurrent updates through the CRDT
// and through its last-writer-wins baseline.
import { describe, it, expect } from 'vitest'
import * as Y from 'yjs'
import { counter, orSet, lww } from '../../../crdt/index.ts'
import { PNCounter, LWWCounter, ORSet, LWWSet } from '../../../crdt/core/index.ts'

function pair () {
  const a = new Y.Doc(); const b = new Y.Doc()
  const sync = () => {
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
  }
  return { a, b, sync }
}

describe('concurrent x = x + 5 and x = x + 7', () => {
  it('counter ends at 12, lww.counter at 5 or 7 (inside Y.Docs)', () => {
    const { a, b, sync } = pair()
    const ca = counter(a, 'x'); const cb = counter(b, 'x')
    const la = lww.counter(a, 'x'); const lb = lww.counter(b, 'x')
    ca.increment(5); cb.increment(7)
    la.increment(5); lb.increment(7)
    sync()
    expect(ca.value).toBe(12)
    expect(cb.value).toBe(12)
    expect([5, 7]).toContain(la.value)
    expect(lb.value).toBe(la.value)
  })

  it('PNCounter ends at 12, LWWCounter at 5 or 7 (pure core)', () => {
    const x = PNCounter.empty()
    expect(PNCounter.value(PNCounter.merge(PNCounter.increment(x, 'a', 5), PNCounter.increment(x, 'b', 7)))).toBe(12)
    const y = LWWCounter.empty()
    const lost = LWWCounter.merge(LWWCounter.increment(y, 'a', 5, () => 10), LWWCounter.increment(y, 'b', 7, () => 10))
    expect(LWWCounter.value(lost)).toBe(7) // same time: replica id 'b' > 'a' breaks the tie
  })
})

describe('concurrent adds to a set', () => {
  it('orSet keeps both, lww.set keeps one side', () => {
    const { a, b, sync } = pair()
    const sa = orSet<string>(a, 's'); const sb = orSet<string>(b, 's')
    const la = lww.set<string>(a, 's'); const lb = lww.set<string>(b, 's')
    sa.add('base'); la.add('base'); sync()
    sa.add('from-a'); sb.add('from-b')
    la.add('from-a'); lb.add('from-b')
    sync()
    expect(sa.values()).toEqual(['base', 'from-a', 'from-b'])
    expect(sb.values()).toEqual(sa.values())
    expect([['base', 'from-a'], ['base', 'from-b']]).toContainEqual(la.values())
    expect(lb.values()).toEqual(la.values())
  })

  it('ORSet keeps both, LWWSet keeps one side (pure core)', () => {
    const s = ORSet.empty<string>()
    expect(ORSet.value(ORSet.merge(ORSet.add(s, 'a', 'x'), ORSet.add(s, 'b', 'y')))).toEqual(['x', 'y'])
    const l = LWWSet.empty<string>()
    expect(LWWSet.value(LWWSet.merge(LWWSet.add(l, 'a', 'x', () => 1), LWWSet.add(l, 'b', 'y', () => 2)))).toEqual(['y'])
  })

  it('add wins over a concurrent delete', () => {
    const { a, b, sync } = pair()
    const sa = orSet<string>(a, 's'); const sb = orSet<string>(b, 's')
    sa.add('x'); sync()
    sa.delete('x'); sb.add('x')
    sync()
    expect(sa.values()).toEqual(['x'])
    expect(sb.values()).toEqual(['x'])
    sb.delete('x'); sync()
    expect(sa.values()).toEqual([])
  })
})
