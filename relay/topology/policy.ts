/**
 * Forwarding policy: which peers an update goes to, as pure functions.
 *
 * Loops and echo are impossible by construction:
 * - mesh: only a relay's own clients' updates leave it; peer traffic is never re-forwarded,
 *   so every update crosses at most one link.
 * - star: a spoke sends its clients' updates to the hub only and never forwards peer
 *   traffic; the hub forwards to every spoke except the one it came from and the relays
 *   already on its path, so an update crosses at most two links.
 * - ring: a relay forwards to its successor(s) (the peers it is configured to dial) and
 *   drops what already carries its own id or would go back to a relay on the path; every
 *   hop adds an id, so a path never exceeds the number of relays.
 *
 * @module
 */

/** The topologies a cluster can run. */
export type Topology = 'mesh' | 'star' | 'ring'

/** Where an update came from, as the policy sees it. */
export type UpdateSource =
  | { kind: 'client' }
  | { kind: 'peer'; from: string; path: readonly string[] }

/** What this relay knows about its peers when it forwards. */
export interface PolicyView {
  topology: Topology
  /** This relay's id. */
  self: string
  /** Star: the hub's id. */
  hub?: string | undefined
  /** Ids of peers with an authenticated link now. */
  linked: readonly string[]
  /** Ring: ids of the peers this relay is configured to dial (its successors). */
  successors: readonly string[]
}

/** Targets for one update, and the path to send with it (already including `self`). */
export interface ForwardDecision {
  targets: string[]
  path: string[]
}

const NONE: ForwardDecision = { targets: [], path: [] }

/** Decides where an update goes next. Pure: same input, same answer. */
export function forwardTargets(view: PolicyView, source: UpdateSource): ForwardDecision {
  if (source.kind === 'peer' && source.path.includes(view.self)) return NONE
  const seen = new Set(source.kind === 'peer' ? [...source.path, source.from] : [])
  const path = source.kind === 'peer' ? [...source.path, view.self] : [view.self]
  const eligible = (ids: readonly string[]): string[] =>
    ids.filter((id) => id !== view.self && !seen.has(id) && view.linked.includes(id))
  switch (view.topology) {
    case 'mesh':
      return source.kind === 'client' ? { targets: eligible(view.linked), path } : NONE
    case 'star': {
      const isHub = view.hub === view.self
      if (!isHub) {
        if (source.kind !== 'client' || view.hub === undefined) return NONE
        return { targets: eligible([view.hub]), path }
      }
      // The hub forwards its own clients' updates and spokes' updates to every other spoke.
      if (source.kind === 'peer' && source.path.length > 1) return NONE
      return { targets: eligible(view.linked), path }
    }
    case 'ring':
      return { targets: eligible(view.successors), path }
  }
}

/** Parses a topology name; throws on anything else. */
export function parseTopology(name: string): Topology {
  if (name === 'mesh' || name === 'star' || name === 'ring') return name
  throw new Error(`unknown topology "${name}" (mesh, star or ring)`)
}
