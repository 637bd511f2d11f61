/**
 * Topologies: who talks to whom. `star` (replica 0 is the hub), `mesh` (all-to-all), `ring`
 * (each replica with its two neighbours), `tree` (a binary tree rooted at replica 0).
 */

/** The topologies the benchmark compares. */
export type Topology = 'star' | 'mesh' | 'ring' | 'tree'

export const topologies: readonly Topology[] = ['star', 'mesh', 'ring', 'tree']

/** The neighbours of every replica (symmetric). */
export function neighbours (topology: Topology, n: number): number[][] {
  const out: Set<number>[] = Array.from({ length: n }, () => new Set())
  const link = (a: number, b: number): void => { if (a !== b) { out[a]!.add(b); out[b]!.add(a) } }
  for (let i = 0; i < n; i++) {
    if (topology === 'star' && i > 0) link(0, i)
    if (topology === 'mesh') for (let j = i + 1; j < n; j++) link(i, j)
    if (topology === 'ring' && n > 1) link(i, (i + 1) % n)
    if (topology === 'tree' && i > 0) link(i, (i - 1) >> 1)
  }
  return out.map(s => [...s].sort((a, b) => a - b))
}

/**
 * Next-hop table for unicast along shortest paths: `hop[from][to]` is the neighbour of
 * `from` to send to (BFS from each destination; ties go to the lowest replica index).
 */
export function nextHops (adj: readonly (readonly number[])[]): number[][] {
  const n = adj.length
  const hop: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(-1))
  for (let dst = 0; dst < n; dst++) {
    hop[dst]![dst] = dst
    const queue = [dst]
    for (let q = 0; q < queue.length; q++) {
      const v = queue[q]!
      for (const u of adj[v]!) {
        if (hop[u]![dst] !== -1) continue
        hop[u]![dst] = v
        queue.push(u)
      }
    }
  }
  return hop
}
