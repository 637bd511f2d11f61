/**
 * The parts of the relay core the Redis edge uses, as structural types: the edge depends on
 * the extension seam (relay/server/extension.ts), not on the core's internals.
 *
 * @module
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { Awareness } from 'y-protocols/awareness'
import type { ComponentHealth } from '../observability/health.ts'
import type { DenyEntry, DenySource } from '../auth/deny-list.ts'

export interface RedisRoom {
  readonly name: string
  /** The room's awareness (shared between relays over pub/sub). */
  readonly awareness: Awareness
  applyUpdate(update: Uint8Array, origin: unknown): void
  stateVector(): Uint8Array
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
  /** Resolves once every update applied so far is durably stored. */
  flush(): Promise<void>
}

export interface RedisRooms {
  get(name: string): Promise<RedisRoom>
  loaded(): Iterable<RedisRoom>
}

export interface RedisStorage {
  getStateVector(room: string): Promise<Uint8Array | null>
  /** Every stored room name. */
  listRooms(): Promise<string[]>
}

/** The relay's deny list (relay/auth/deny-list.ts), shared with every relay on the Redis. */
export interface RedisDenyList {
  /** Every entry, tombstones of lifted revocations included. */
  entries(): DenyEntry[]
  /** Applies entries heard from Redis (last writer wins per `jti`); resolves with those that changed the list. */
  merge(incoming: readonly unknown[], source: DenySource): Promise<DenyEntry[]>
  /** Hears every change and who made it; returns the unsubscribe. */
  onChange(listener: (changed: DenyEntry[], source: DenySource) => void): () => void
}

/** A version mark's key (relay/history/version-marks.ts). */
export interface RedisMarkKey {
  room: string
  id: string
  at: number
  relay: string
}

/** Who changed the version marks: this relay, or an edge. */
export type RedisMarkSource = 'local' | { edge: string; from?: string }

/** The history's version marks (relay/history/version-marks.ts), shared with every relay on the Redis. */
export interface RedisVersionMarks {
  keys(): RedisMarkKey[]
  read(keys: ReadonlyArray<{ room: string; id: string }>): Promise<Array<{ key: RedisMarkKey; encoded: Uint8Array }>>
  /** Applies marks heard from Redis (checked; a malformed one is logged and dropped); resolves with how many changed the history. */
  merge(encoded: readonly Uint8Array[], source: RedisMarkSource): Promise<number>
  onChange(listener: (encoded: Uint8Array, key: RedisMarkKey, source: RedisMarkSource) => void): () => void
}

export interface RedisContext {
  rooms: RedisRooms
  storage: RedisStorage
  /** Revoked token ids: the edge writes changes made here to Redis and merges those made elsewhere. */
  denyList: RedisDenyList
  /** The history's version marks (when the relay keeps history): written to Redis and merged from it. */
  versions?: RedisVersionMarks
  logger: Logger
  metrics: Registry
  health: { set(component: string, state: ComponentHealth): void; delete(component: string): void }
}

/** The `origin` of updates applied from Redis: the edge never publishes them again. */
export class RedisOrigin {
  constructor(
    /** The relay instance (`<id>#<boot nonce>`) that published the update. */
    readonly from: string,
  ) {}
}
