// The Y.Doc embedding: observe, persistence, registers and resolvers, per-field map policies,
// clock skew, pruning, bad input, transaction coalescing.
import { describe, it, expect } from 'vitest'
import * as Y from 'yjs'
import { counter, orSet, mvRegister, lwwRegister, orMap, lww, type RegisterSibling } from '../../../crdt/index.ts'

function docs (n: number) {
  const ds = Array.from({ length: n }, () => new Y.Doc())
  const sync = () => {
    for (const x of ds) for (const y of ds) if (x !== y) Y.applyUpdate(y, Y.encodeStateAsUpdate(x, Y.encodeStateVector(y)))
  }
  return { ds, sync }
}

describe('observe', () => {
  it('fires on local and remote changes and stops after unobserve', () => {
    const { ds: [a, b], sync } = docs(2)
    const ca = counter(a!, 'c'); const cb = counter(b!, 'c')
    const events: boolean[] = []
    const stop = ca.observe(e => events.push(e.local))
    ca.increment(); cb.increment(2); sync()
    expect(events).toEqual([true, false])
    stop()
    cb.increment(); sync(); ca.increment()
    expect(events).toHaveLength(2)
    expect(ca.value).toBe(5)
  })
})

describe('persistence', () => {
  it('values survive encoding the doc and loading it elsewhere', () => {
    const a = new Y.Doc()
    counter(a, 'c').increment(3)
    orSet<number>(a, 's').add(1)
    mvRegister<string>(a, 'r').set('hello')
    lwwRegister<string>(a, 'l').set('w')
    orMap(a, 'm', { fields: { n: 'counter' } }).increment('n', 4)
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(counter(b, 'c').value).toBe(3)
    expect(orSet<number>(b, 's').values()).toEqual([1])
    expect(mvRegister<string>(b, 'r').values).toEqual(['hello'])
    expect(lwwRegister<string>(b, 'l').value).toBe('w')
    expect(orMap(b, 'm', { fields: { n: 'counter' } }).get('n')).toBe(4)
  })
})

describe('mvRegister', () => {
  it('keeps concurrent writes as siblings until resolved', () => {
    const { ds: [a, b], sync } = docs(2)
    const ra = mvRegister<string>(a!, 'r'); const rb = mvRegister<string>(b!, 'r')
    ra.set('A'); rb.set('B'); sync()
    expect([...ra.values].sort()).toEqual(['A', 'B'])
    expect(ra.conflicted).toBe(true)
    expect(ra.siblings().map(s => s.replica).sort()).toEqual([ra.replica, rb.replica].sort())
    rb.resolve('AB'); sync()
    expect(ra.values).toEqual(['AB'])
    expect(ra.conflicted).toBe(false)
  })

  it('runs a resolver on read and on write', () => {
    const { ds: [a, b], sync } = docs(2)
    const onRead = (s: { value: number }[]) => Math.max(...s.map(x => x.value))
    const ra = mvRegister<number>(a!, 'r', { onRead })
    const rb = mvRegister<number>(b!, 'r', { onWrite: (siblings, incoming) => siblings.reduce((acc, s) => acc + s.value, incoming) })
    ra.set(3); rb.set(4); sync()
    expect(ra.resolved).toBe(4) // on read: max of the siblings, state unchanged
    expect(ra.values.length).toBe(2)
    rb.set(10) // on write: sum of the siblings it replaces plus the new value
    sync()
    expect(ra.values).toEqual([17])
  })
})

describe('orMap per-field policies', () => {
  const policies = (log: RegisterSibling[][]) => ({
    fields: {
      title: 'lww' as const,
      status: 'mv' as const,
      votes: 'counter' as const,
      tags: 'set' as const,
      score: { aggregate: (s: RegisterSibling[]) => { log.push(s); return s.reduce((acc, x) => acc + (x.value as number), 0) } },
      meta: { map: { fields: { edits: 'counter' as const } } },
    },
  })

  it('merges each field by its policy', () => {
    const { ds: [a, b], sync } = docs(2)
    const seen: RegisterSibling[][] = []
    let t = 100
    const ma = orMap(a!, 'card', { ...policies(seen), clock: () => t++ })
    const mb = orMap(b!, 'card', { ...policies(seen), clock: () => 1000 })
    ma.set('title', 'from a'); mb.set('title', 'from b')
    ma.set('status', 'open'); mb.set('status', 'closed')
    ma.increment('votes', 2); mb.increment('votes', 3)
    ma.add('tags', 'x'); mb.add('tags', 'y')
    ma.set('score', 5); mb.set('score', 7)
    ma.map('meta').increment('edits'); mb.map('meta').increment('edits')
    sync()
    for (const m of [ma, mb]) {
      expect(m.get('title')).toBe('from b') // time 1000 beats time 100-something
      expect((m.get('status') as string[]).sort()).toEqual(['closed', 'open'])
      expect(m.get('votes')).toBe(5)
      expect(m.get('tags')).toEqual(['x', 'y'])
      expect(m.get('score')).toBe(12)
      expect(m.get('meta')).toEqual({ edits: 2 })
    }
    const last = seen.at(-1)!
    expect(last.map(s => s.replica).sort()).toEqual([ma.replica, mb.replica].sort())
    expect(last.map(s => s.time).sort()).toEqual([1000, 102]) // a's third register write
  })

  it('a concurrent update wins over a delete of the field', () => {
    const { ds: [a, b], sync } = docs(2)
    const ma = orMap(a!, 'm', { fields: { tags: 'set' } }); const mb = orMap(b!, 'm', { fields: { tags: 'set' } })
    ma.add('tags', 'x'); ma.set('note', 'n'); sync()
    mb.delete('tags'); ma.add('tags', 'y')
    mb.delete('note'); ma.set('note', 'edited')
    sync()
    expect(mb.get('tags')).toEqual(['y'])
    expect(mb.get('note')).toBe('edited')
    mb.delete('note'); sync()
    expect(ma.has('note')).toBe(false)
    expect(ma.keys()).toEqual(['tags'])
  })
})

describe('LWW with a skewed clock', () => {
  it('a replica whose clock runs behind loses even its later write', () => {
    const { ds: [a, b], sync } = docs(2)
    const ra = lwwRegister<string>(a!, 'r', { clock: () => 2_000 })
    const rb = lwwRegister<string>(b!, 'r', { clock: () => 1_000 }) // 1 s behind
    ra.set('first'); sync()
    rb.set('second, after seeing first'); sync()
    expect(ra.value).toBe('first')
    expect(rb.value).toBe('first')
  })
})

describe('prune', () => {
  it('folds a departed replica into the pruner without changing any value', () => {
    const { ds, sync } = docs(4)
    const cs = ds.map(d => counter(d, 'c')); const ss = ds.map(d => orSet<string>(d, 's'))
    const ms = ds.map(d => mvRegister<number>(d, 'r'))
    cs.forEach((c, i) => c.increment(i + 1)); cs[3]!.decrement(2)
    ss.forEach((s, i) => s.add(`e${i}`)); sync(); ss[0]!.delete('e3')
    ms[2]!.set(2); ms[3]!.set(3); sync()
    const before = { c: cs[0]!.value, s: ss[0]!.values(), r: [...ms[0]!.values].sort() }
    const sizeBefore = Y.encodeStateAsUpdate(ds[0]!).length
    cs[0]!.prune(cs[3]!.replica); ss[0]!.prune(ss[3]!.replica); ms[0]!.prune(ms[3]!.replica)
    ds[3]!.destroy()
    const live = ds.slice(0, 3)
    for (const x of live) for (const y of live) if (x !== y) Y.applyUpdate(y, Y.encodeStateAsUpdate(x, Y.encodeStateVector(y)))
    for (let i = 0; i < 3; i++) {
      expect(cs[i]!.value).toBe(before.c)
      expect(ss[i]!.values()).toEqual(before.s)
      expect([...ms[i]!.values].sort()).toEqual(before.r)
      expect(cs[i]!.replicas()).not.toContain(cs[3]!.replica)
    }
    // A fresh doc loading the pruned state sees the same values.
    const fresh = new Y.Doc(); Y.applyUpdate(fresh, Y.encodeStateAsUpdate(ds[0]!))
    expect(counter(fresh, 'c').value).toBe(before.c)
    expect(orSet<string>(fresh, 's').values()).toEqual(before.s)
    expect(counter(fresh, 'c').replicas()).toHaveLength(3)
    expect(Y.encodeStateAsUpdate(ds[0]!).length).toBeLessThan(sizeBefore + 200)
    // The pruned replica's element can still be removed, and the pruner's counter keeps counting.
    ss[1]!.delete('e3'); cs[0]!.increment(); sync()
    expect(ss[0]!.values()).toEqual(['e0', 'e1', 'e2'])
    expect(cs[2]!.value).toBe(before.c + 1)
  })
})

describe('bad input', () => {
  it('a corrupt slice from another replica is reported and ignored', () => {
    const { ds: [a, b], sync } = docs(2)
    const invalid: string[] = []
    const ca = counter(a!, 'c', { onInvalid: r => invalid.push(r) })
    ca.increment(4)
    const cb = counter(b!, 'c'); cb.increment(1); sync()
    expect(ca.value).toBe(5)
    // A rogue client writes garbage under its own key.
    const rogue = new Y.Doc(); Y.applyUpdate(rogue, Y.encodeStateAsUpdate(a!))
    rogue.getMap('crdt:counter:c').set('rogue', new Uint8Array([1, 2, 3, 4, 5, 6, 7]))
    Y.applyUpdate(a!, Y.encodeStateAsUpdate(rogue, Y.encodeStateVector(a!)))
    expect(invalid).toEqual(['rogue'])
    expect(ca.value).toBe(5)
    ca.increment(); expect(ca.value).toBe(6)
  })
})

describe('transactions', () => {
  it('coalesce many mutations into one write per CRDT', () => {
    const d = new Y.Doc()
    const c = counter(d, 'c'); const s = orSet<number>(d, 's')
    let updates = 0
    d.on('update', () => updates++)
    d.transact(() => { for (let i = 0; i < 100; i++) { c.increment(); s.add(i) } })
    expect(c.value).toBe(100)
    expect(s.size).toBe(100)
    expect(updates).toBeLessThanOrEqual(3) // the (empty) user transaction plus one write per CRDT
    const other = new Y.Doc(); Y.applyUpdate(other, Y.encodeStateAsUpdate(d))
    expect(counter(other, 'c').value).toBe(100)
  })
})

describe('lww baselines have the same methods', () => {
  it('lww.counter and lww.set', () => {
    const d = new Y.Doc()
    const c = lww.counter(d, 'c'); c.increment(3); c.decrement(); expect(c.value).toBe(2)
    const s = lww.set<string>(d, 's'); s.add('a'); s.add('b'); s.delete('a')
    expect(s.values()).toEqual(['b']); expect(s.has('b')).toBe(true)
  })
})
