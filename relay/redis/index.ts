/**
 * Scale-out through Redis: relays that name the same Redis share every room, no peer list.
 * A topology edge beside the relay core, plugged in as an extension; the core never knows
 * Redis is there.
 *
 * @module
 */
import { RedisNode, type RedisOptions } from './redis-node.ts'
import type { RedisContext, RedisRoom } from './surface.ts'

export { RedisNode, type RedisOptions } from './redis-node.ts'
export { RedisOrigin, type RedisContext, type RedisDenyList, type RedisRoom, type RedisRooms, type RedisStorage } from './surface.ts'
export { DenyBridge } from './deny-bridge.ts'
export { redactRedisUrl } from './redis-url.ts'
export { redisKeys, compareStreamIds, type RedisKeys } from './keys.ts'

/** The relay extension of the Redis edge; `node` is set once the relay started it. */
export interface RedisExtension {
  name: 'redis'
  node: RedisNode | null
  onStart(ctx: RedisContext & { config: { id: string; data?: string; storage?: string } }): void
  onRoomLoaded(room: RedisRoom): void
  onUpdate(room: RedisRoom, update: Uint8Array, origin: unknown): void
  onStored(room: RedisRoom): void
  onRoomUnloaded(room: RedisRoom): void
  /** An HTTP read of a room not loaded here: see {@link RedisNode.catchUpRoom}. */
  catchUpRoom(room: string): Promise<boolean>
  onStop(): Promise<void>
}

/**
 * Creates the Redis extension: `url` is `redis[s]://[USER:PASSWORD@]HOST:PORT` (`ca`: PEM a
 * `rediss://` certificate is verified against); `id` (default: the relay's
 * `--id`) must be stable across restarts and unique among the relays on that Redis.
 * The relay starts and serves its clients whether or not Redis is reachable; `/health`
 * shows component `redis` degraded and `tandem_redis_up` is 0 while it is not (or while its
 * subscriber is down, or it is catching up after a reconnect). The relay's deny list is shared
 * with every relay on the same Redis. With LevelDB storage, the edge keeps `redis-edge.json` in
 * the data directory (rooms not yet published, the data's lineage).
 */
export function redisExtension(options: Omit<RedisOptions, 'id'> & { id?: string }): RedisExtension {
  const ext: RedisExtension = {
    name: 'redis',
    node: null,
    onStart(ctx) {
      // Rooms not yet published and the data's lineage live beside LevelDB's files.
      const dataDir = options.dataDir ?? (ctx.config.storage === 'leveldb' ? ctx.config.data : undefined)
      ext.node = new RedisNode({ ...options, id: options.id ?? ctx.config.id, ...(dataDir ? { dataDir } : {}) }, ctx)
      ext.node.start()
    },
    onRoomLoaded(room) { ext.node?.onRoomLoaded(room) },
    onUpdate(room, update, origin) { ext.node?.onUpdate(room, update, origin) },
    onStored(room) { ext.node?.onStored(room) },
    onRoomUnloaded(room) { ext.node?.onRoomUnloaded(room) },
    async catchUpRoom(room) { return ext.node ? ext.node.catchUpRoom(room) : false },
    async onStop() { await ext.node?.stop() },
  }
  return ext
}
