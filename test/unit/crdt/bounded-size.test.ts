// The embedding's size is bounded by live state plus replicas, not by the number of operations.
// Bounds are generous; history-proportional growth (~18 bytes per overwrite, yjs#741) breaks them.
import { describe, it, expect } from 'vitest'
import * as Y from 'yjs'
import { counter, orSet, mvRegister, orMap } from '../../../crdt/index.ts'

const REPLICAS = 5

function network () {
  const ds = Array.from({ length: REPLICAS }, (_, i) => { const d = new Y.Doc(); d.clientID = i + 1; return d })
  const hub = new Y.Doc()
  const sync = () => {
    for (const d of ds) Y.applyUpdate(hub, Y.encodeStateAsUpdate(d, Y.encodeStateVector(hub)))
    for (const d of ds) Y.applyUpdate(d, Y.encodeStateAsUpdate(hub, Y.encodeStateVector(d)))
  }
  return { ds, hub, sync, size: () => Y.encodeStateAsUpdate(hub).length }
}

describe('bounded document size', () => {
  it('20,000 counter increments and register writes from 5 replicas stay under 2 KB', () => {
    const { ds, sync, size } = network()
    const cs = ds.map(d => counter(d, 'c'))
    const rs = ds.map(d => mvRegister<number>(d, 'r'))
    for (let k = 0; k < 20_000; k++) {
      cs[k % REPLICAS]!.increment()
      if (k % 500 === 499) sync()
    }
    for (let k = 0; k < 5_000; k++) {
      rs[k % REPLICAS]!.set(k)
      if (k % 100 === 99) sync()
    }
    sync()
    expect(cs[0]!.value).toBe(20_000)
    expect(size()).toBeLessThan(2_000) // history-proportional: 25,000 x ~18 B = 450 KB
  })

  it('set churn: 20,000 add/remove ops over 50 live elements stay under 8 KB', () => {
    const { ds, sync, size } = network()
    const ss = ds.map(d => orSet<string>(d, 's'))
    const settled: string[] = []; let fresh: string[] = []; let next = 0
    for (let k = 0; k < 20_000; k++) {
      const s = ss[k % REPLICAS]!
      if (settled.length + fresh.length < 50 || settled.length === 0) { const e = `e${next++}`; fresh.push(e); s.add(e) } else s.delete(settled.splice(k % settled.length, 1)[0]!)
      if (k % 200 === 199) { sync(); settled.push(...fresh); fresh = [] }
    }
    sync(); sync()
    expect(ss[0]!.size).toBeLessThanOrEqual(50)
    expect(size()).toBeLessThan(8_000) // history-proportional: 10,000 removed elements
  })

  it('orMap field churn stays bounded by live fields', () => {
    const { ds, sync, size } = network()
    const ms = ds.map(d => orMap(d, 'm', { fields: { n: 'counter' } }))
    for (let k = 0; k < 5_000; k++) {
      const m = ms[k % REPLICAS]!
      m.set(`f${k % 20}`, k); m.increment('n')
      if (k % 10 === 9) m.delete(`f${(k + 7) % 20}`)
      if (k % 100 === 99) sync()
    }
    sync(); sync()
    expect(ms[0]!.get('n')).toBe(5_000)
    expect(size()).toBeLessThan(10_000)
  })
})
