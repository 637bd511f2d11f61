/**
 * Operation streams. One stream is generated per (workload, seed, concurrency) and every
 * strategy replays exactly the same stream, so differences come from the strategies alone.
 *
 * The stream is a sequence of bursts `spacingMs` apart; in each burst `concurrency` distinct
 * replicas write the same key within a few milliseconds of each other (so, with network
 * latency far above those milliseconds, their writes are concurrent). With concurrency 1
 * writes are sequential unless a drop or a partition delays a message past the next burst.
 */
import * as prng from 'lib0/prng'

/** The four key-value workloads. */
export type WorkloadKind = 'counter' | 'set' | 'map' | 'register'

export const workloadKinds: readonly WorkloadKind[] = ['counter', 'set', 'map', 'register']

/** One application operation on one key. */
export type Op =
  | { readonly t: 'inc' }
  | { readonly t: 'add', readonly elem: string }
  | { readonly t: 'remove', readonly elem: string }
  | { readonly t: 'field', readonly field: string, readonly value: string }
  | { readonly t: 'write', readonly value: string }

/** An operation issued by `replica` at simulated time `time`. */
export interface TimedOp { readonly id: number, readonly time: number, readonly replica: number, readonly key: string, readonly op: Op }

/** Shape of a stream. */
export interface WorkloadConfig {
  readonly kind: WorkloadKind
  readonly replicas: number
  /** Number of bursts. */
  readonly bursts: number
  /** Writers per burst (clamped to the number of replicas). */
  readonly concurrency: number
  /** Distinct keys (bursts cycle through them). */
  readonly keys: number
  /** Time between bursts (ms). */
  readonly spacingMs: number
  /** Consecutive bursts on the same key before moving to the next (default 1). */
  readonly runLength?: number
}

const ELEMENTS = ['a', 'b', 'c', 'd', 'e', 'f']
const FIELDS = ['title', 'owner', 'status', 'due']

/** Generates the stream for `config` from `seed`. */
export function generate (config: WorkloadConfig, seed: number): TimedOp[] {
  const rng = prng.create(seed)
  const ops: TimedOp[] = []
  const k = Math.max(1, Math.min(config.concurrency, config.replicas))
  for (let b = 0; b < config.bursts; b++) {
    const key = `k${Math.floor(b / (config.runLength ?? 1)) % config.keys}`
    const pool = Array.from({ length: config.replicas }, (_, i) => i)
    for (let w = 0; w < k; w++) {
      const replica = pool.splice(prng.int32(rng, 0, pool.length - 1), 1)[0]!
      const time = 100 + b * config.spacingMs + prng.int32(rng, 0, 4)
      const id = ops.length
      const value = `r${replica}w${id}`
      let op: Op
      if (config.kind === 'counter') op = { t: 'inc' }
      else if (config.kind === 'set') {
        const elem = prng.oneOf(rng, ELEMENTS)
        op = prng.real53(rng) < 0.35 ? { t: 'remove', elem } : { t: 'add', elem }
      } else if (config.kind === 'map') op = { t: 'field', field: prng.oneOf(rng, FIELDS), value }
      else op = { t: 'write', value }
      ops.push({ id, time, replica, key, op })
    }
  }
  return ops.sort((a, b) => a.time - b.time || a.id - b.id)
}
