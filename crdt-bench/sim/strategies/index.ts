/** The strategies compared by the benchmark, in report order. */
import { lwwStrategy } from './lww.ts'
import { yjsMapStrategy } from './yjs-map.ts'
import { crdtStrategy } from './crdt.ts'
import { crdtYdocStrategy } from './crdt-ydoc.ts'
import { siblingsStrategy, customStrategy, mergeHandler } from './siblings.ts'
import { homeLeaderStrategy, singleLeaderStrategy, homeOf } from './leader.ts'
import { syncQuorumStrategy } from './sync-quorum.ts'
import type { Strategy, StrategyName } from './strategy.ts'

export type { Strategy, StrategyName, Replica, ReplicaEnv, Outbox, WriteOutcome } from './strategy.ts'
export { mergeHandler, homeOf }

export const strategies: readonly Strategy[] = [lwwStrategy, yjsMapStrategy, crdtStrategy, crdtYdocStrategy, siblingsStrategy, customStrategy, homeLeaderStrategy, singleLeaderStrategy, syncQuorumStrategy]

/** The strategy named `name`. */
export function strategy (name: StrategyName): Strategy {
  const s = strategies.find(x => x.name === name)
  if (!s) throw new Error(`unknown strategy ${name}`)
  return s
}
