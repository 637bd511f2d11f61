import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { forwardTargets, type PolicyView, type Topology, type UpdateSource } from '../../../relay/topology/policy.ts'

interface Cluster { topology: Topology; ids: string[]; hub: string; links: Set<string>; successors: Map<string, string[]> }

const key = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`)

/** A full cluster: mesh all-to-all, star through ids[0], ring ids[i] → ids[i+1]. */
function cluster(topology: Topology, n: number): Cluster {
  const ids = Array.from({ length: n }, (_, i) => `r${i}`)
  const links = new Set<string>()
  const successors = new Map<string, string[]>()
  for (let i = 0; i < n; i++) {
    const a = ids[i] as string
    if (topology === 'mesh') for (const b of ids) if (b !== a) links.add(key(a, b))
    if (topology === 'star' && i > 0) links.add(key(a, ids[0] as string))
    if (topology === 'ring') {
      const next = ids[(i + 1) % n] as string
      links.add(key(a, next))
      successors.set(a, [next])
    }
  }
  return { topology, ids, hub: ids[0] as string, links, successors }
}

function view(c: Cluster, self: string): PolicyView {
  return {
    topology: c.topology, self, hub: c.hub,
    linked: c.ids.filter((id) => id !== self && c.links.has(key(self, id))),
    successors: c.successors.get(self) ?? [],
  }
}

/** Floods one client update from `origin`; returns deliveries per relay and messages sent. Throws on a loop. */
function flood(c: Cluster, origin: string): { received: Map<string, number>; messages: number } {
  const received = new Map<string, number>()
  let messages = 0
  const queue: Array<{ at: string; source: UpdateSource }> = [{ at: origin, source: { kind: 'client' } }]
  while (queue.length > 0) {
    const { at, source } = queue.shift()!
    const d = forwardTargets(view(c, at), source)
    for (const t of d.targets) {
      if (++messages > 10_000) throw new Error('forwarding loop')
      received.set(t, (received.get(t) ?? 0) + 1)
      queue.push({ at: t, source: { kind: 'peer', from: at, path: d.path } })
    }
  }
  return { received, messages }
}

describe('forwarding policy', () => {
  it.each([3, 4, 5, 8])('mesh of %i: every relay gets a client update exactly once, n-1 messages', (n) => {
    const c = cluster('mesh', n)
    for (const origin of c.ids) {
      const { received, messages } = flood(c, origin)
      expect(messages).toBe(n - 1)
      for (const id of c.ids) expect(received.get(id) ?? 0).toBe(id === origin ? 0 : 1)
    }
  })

  it.each([3, 5, 8])('star of %i: through the hub, every relay exactly once, never back to the origin', (n) => {
    const c = cluster('star', n)
    for (const origin of c.ids) {
      const { received, messages } = flood(c, origin)
      expect(messages).toBe(n - 1)
      for (const id of c.ids) expect(received.get(id) ?? 0).toBe(id === origin ? 0 : 1)
    }
  })

  it.each([3, 4, 5])('ring of %i: each hop once, stops before the origin', (n) => {
    const c = cluster('ring', n)
    for (const origin of c.ids) {
      const { received, messages } = flood(c, origin)
      expect(messages).toBe(n - 1)
      for (const id of c.ids) expect(received.get(id) ?? 0).toBe(id === origin ? 0 : 1)
    }
  })

  it('ring of 4 with one relay down: the flow stops at the gap; mesh of 4 routes around', () => {
    const ring = cluster('ring', 4)
    ring.links.delete(key('r1', 'r2'))
    ring.links.delete(key('r0', 'r1'))
    expect([...flood(ring, 'r0').received.keys()]).toEqual([])
    expect([...flood(ring, 'r2').received.keys()].sort()).toEqual(['r3'].concat(['r0']).sort())
    const mesh = cluster('mesh', 4)
    for (const id of ['r0', 'r2', 'r3']) mesh.links.delete(key('r1', id))
    expect([...flood(mesh, 'r0').received.keys()].sort()).toEqual(['r2', 'r3'])
  })

  it('mesh and star spokes never re-forward peer traffic; a path with my id is dropped', () => {
    const mesh = cluster('mesh', 3)
    expect(forwardTargets(view(mesh, 'r1'), { kind: 'peer', from: 'r0', path: ['r0'] }).targets).toEqual([])
    const star = cluster('star', 3)
    expect(forwardTargets(view(star, 'r1'), { kind: 'peer', from: 'r0', path: ['r2', 'r0'] }).targets).toEqual([])
    const ring = cluster('ring', 3)
    expect(forwardTargets(view(ring, 'r1'), { kind: 'peer', from: 'r0', path: ['r1', 'r2', 'r0'] }).targets).toEqual([])
  })

  it('any topology over any link subset terminates, and never echoes to the origin (fast-check, seed 5)', () => {
    fc.assert(fc.property(
      fc.constantFrom<Topology>('mesh', 'star', 'ring'), fc.integer({ min: 2, max: 7 }),
      fc.array(fc.tuple(fc.nat(6), fc.nat(6)), { maxLength: 30 }), fc.nat(6), fc.boolean(),
      (topology, n, extra, originIndex, misconfigured) => {
        const c = cluster(topology, n)
        // Arbitrary extra links and successors (misconfiguration) must not create loops either.
        for (const [a, b] of extra) {
          const x = c.ids[a % n] as string
          const y = c.ids[b % n] as string
          if (x === y) continue
          c.links.add(key(x, y))
          if (misconfigured) c.successors.set(x, [...(c.successors.get(x) ?? []), y])
        }
        const origin = c.ids[originIndex % n] as string
        const { received, messages } = flood(c, origin)
        expect(received.get(origin) ?? 0).toBe(0)
        expect(messages).toBeLessThanOrEqual(n ** n)
      },
    ), { seed: 5, numRuns: 300 })
  })
})
