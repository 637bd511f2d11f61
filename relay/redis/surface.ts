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

export interface RedisContext {
  rooms: RedisRooms
  storage: RedisStorage
  /** Revoked token ids: the edge writes changes made here to Redis and merges those made elsewhere. */
  denyList: RedisDenyList
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
