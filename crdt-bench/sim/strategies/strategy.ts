/**
 * The strategy interface: how one replica turns an application operation into bytes for the
 * network, applies bytes from other replicas, and shows a value to the application.
 */
import type { Op, WorkloadKind } from '../workload.ts'

/** How a replica hands bytes to the network (the runner floods or routes them). */
export interface Outbox {
  /** Disseminate to every replica (flooded along the topology). `ops`: op ids the bytes carry. */
  broadcast (bytes: Uint8Array, ops: readonly number[]): void
  /** Route to one replica along shortest paths. */
  unicast (to: number, bytes: Uint8Array, ops: readonly number[]): void
}

/** What a replica knows about its place in the run. */
export interface ReplicaEnv {
  readonly index: number
  readonly replicas: number
  readonly kind: WorkloadKind
  /** This replica's (possibly skewed) wall clock in ms. */
  readonly clock: () => number
  /** Records that this replica's state now reflects `opIds`. */
  readonly observe: (opIds: readonly number[]) => void
  /**
   * Whether a message sent now from this replica to `to` along its route crosses no partition
   * (and the reply's route neither): a perfect failure detector. Strategies that refuse writes
   * they cannot commit (single-leader, sync-quorum) ask it when a write is attempted.
   */
  readonly reachable: (to: number) => boolean
  /** Tells the writer's user that its pending write `opId` is committed (see {@link WriteOutcome}). */
  readonly accepted: (opId: number) => void
  /**
   * The next position in the run's one agreed log. It stands in for the ordering a consensus
   * protocol agrees on (sync-quorum asks for it once a majority has a write); nothing else uses it.
   */
  readonly order: () => number
}

/**
 * What `local` tells the writer: nothing (or `'accepted'`), the write is taken at once;
 * `'pending'`, it is taken when this replica first reflects it (a leader's version comes back)
 * or calls {@link ReplicaEnv.accepted}; `'refused'`, the user is told it failed and it must never
 * show up anywhere.
 */
export type WriteOutcome = 'accepted' | 'pending' | 'refused'

/** One replica under one strategy. */
export interface Replica {
  /** Applies a local operation (`id` is its op id) and sends what it must. */
  local (id: number, key: string, op: Op, out: Outbox): WriteOutcome | void
  /** Applies bytes from the network; may send more (e.g. a home leader's new version). */
  receive (bytes: Uint8Array, out: Outbox): void
  /** The value of `key` as the application reads it (after the strategy's resolution). */
  read (key: string): unknown
  /** Keys this replica holds. */
  keys (): string[]
  /** Encoded size of the replica's whole state (values plus metadata), in bytes. */
  stateBytes (): number
  /** Times application code was shown more than one concurrent value. */
  conflicts: number
}

/** A strategy: a named factory of replicas. */
export interface Strategy {
  readonly name: StrategyName
  /** One-line description for the report. */
  readonly description: string
  /** One sentence: what it loses and why (printed by `--explain`, quoted in the README). */
  readonly loses: string
  create (env: ReplicaEnv): Replica
}

/** The strategies compared. */
export type StrategyName = 'lww' | 'yjs-map' | 'crdt' | 'crdt-ydoc' | 'siblings' | 'custom' | 'home-leader' | 'single-leader' | 'sync-quorum'
