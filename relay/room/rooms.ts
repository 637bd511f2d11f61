/**
 * RoomManager: loads rooms from storage (one shared load per room, before anything is
 * answered), keeps them while pinned, and flushes and unloads them after `idleMs` unpinned.
 * A failed load is never served: `get` rejects with a `load-failed` error, so an empty doc
 * can never overwrite stored data.
 *
 * @module
 */
import type { Logger } from 'pino'
import { LoadError } from '../wire/errors.ts'
import { Room, type RoomHooks } from './room.ts'
import type { StorageAdapter } from '../storage/types.ts'
import type { RelayMetrics } from '../observability/metrics.ts'
import type { ExtensionHooks } from './extension-hooks.ts'
import type { Health } from '../observability/health.ts'
import { StorageHealth } from './storage-health.ts'
import { FlushTick } from './flush-tick.ts'

/** What the manager needs. */
export interface RoomManagerDeps {
  storage: StorageAdapter
  logger: Logger
  metrics: RelayMetrics
  flushMs: number
  /** See {@link RoomDeps.compactBytes}. */
  compactBytes: number
  idleMs: number
  extensions: readonly ExtensionHooks[]
  /** Storage failures turn its `storage` component degraded until they recover. */
  health?: Health
}

/** Owns the loaded rooms. */
export class RoomManager {
  private readonly deps: RoomManagerDeps
  private readonly rooms = new Map<string, Room>()
  private readonly loading = new Map<string, Promise<Room>>()
  private readonly idleTimers = new Map<Room, NodeJS.Timeout>()
  private readonly hooks: RoomHooks
  /** Rooms whose appends are failing (health and metrics). */
  readonly storageHealth: StorageHealth
  /** One flush timer for every room. */
  private readonly flushTick: FlushTick

  constructor(deps: RoomManagerDeps) {
    this.deps = deps
    this.storageHealth = new StorageHealth(deps.health, deps.metrics.registry)
    this.flushTick = new FlushTick(deps.flushMs)
    this.hooks = {
      onUpdate: (room, update, origin) => this.fire('onUpdate', (e) => e.onUpdate?.(room, update, origin)),
      onStored: (room, sv) => this.fire('onStored', (e) => e.onStored?.(room, sv)),
    }
  }

  private fire(hook: string, call: (extension: ExtensionHooks) => void): void {
    for (const extension of this.deps.extensions) {
      try {
        call(extension)
      } catch (error) {
        this.deps.logger.error({ extension: extension.name, hook, err: error }, 'extension hook threw')
      }
    }
  }

  /** The room `name`, loaded from storage first if needed; concurrent calls share one load. Rejects with {@link LoadError}. */
  get(name: string): Promise<Room> {
    const room = this.rooms.get(name)
    if (room) return Promise.resolve(room)
    let load = this.loading.get(name)
    if (!load) {
      load = this.load(name).finally(() => this.loading.delete(name))
      this.loading.set(name, load)
    }
    return load
  }

  /** The room `name` if it is loaded. */
  peek(name: string): Room | undefined {
    return this.rooms.get(name)
  }

  private async load(name: string): Promise<Room> {
    const { storage, metrics, logger } = this.deps
    const end = metrics.storeLatency.startTimer({ op: 'load' })
    let room: Room
    try {
      const [updates, sv] = await Promise.all([storage.load(name), storage.getStateVector(name)])
      room = new Room(name, { storage, flushMs: this.deps.flushMs, flushTick: this.flushTick, compactBytes: this.deps.compactBytes, logger, metrics, hooks: this.hooks, storageHealth: this.storageHealth }, sv)
      try {
        room.loadStored(updates, sv)
      } catch (error) {
        room.destroy()
        throw error
      }
    } catch (error) {
      metrics.errors.inc({ code: 'load-failed' })
      logger.error({ room: name, err: error }, 'room load failed; refusing the room')
      throw new LoadError(name, error)
    } finally {
      end()
    }
    this.rooms.set(name, room)
    metrics.roomsLoaded.set(this.rooms.size)
    logger.debug({ room: name }, 'room loaded')
    this.fire('onRoomLoaded', (e) => e.onRoomLoaded?.(room))
    this.scheduleIdle(room)
    return room
  }

  /** Every loaded room. */
  loaded(): Iterable<Room> {
    return this.rooms.values()
  }

  /** Keeps `room` loaded until a matching {@link unpin}. */
  pin(room: Room): void {
    room.pins++
    const timer = this.idleTimers.get(room)
    if (timer) {
      clearTimeout(timer)
      this.idleTimers.delete(room)
    }
  }

  /** Releases a {@link pin}; the room unloads `idleMs` after its last pin is released. */
  unpin(room: Room): void {
    room.pins = Math.max(0, room.pins - 1)
    this.scheduleIdle(room)
  }

  private scheduleIdle(room: Room): void {
    if (room.pins > 0 || this.idleTimers.has(room) || this.rooms.get(room.name) !== room) return
    const timer = setTimeout(() => {
      this.idleTimers.delete(room)
      void this.unload(room)
    }, this.deps.idleMs)
    timer.unref()
    this.idleTimers.set(room, timer)
  }

  /** Flushes `room` and unloads it unless it was pinned meanwhile. Keeps it when the flush fails. */
  async unload(room: Room): Promise<boolean> {
    try {
      await room.flush()
    } catch {
      this.scheduleIdle(room)
      return false
    }
    if (room.pins > 0 || room.unsaved > 0 || this.rooms.get(room.name) !== room) {
      this.scheduleIdle(room)
      return false
    }
    this.rooms.delete(room.name)
    this.deps.metrics.roomsLoaded.set(this.rooms.size)
    this.fire('onRoomUnloaded', (e) => e.onRoomUnloaded?.(room))
    room.destroy()
    this.deps.logger.debug({ room: room.name }, 'room unloaded')
    return true
  }

  /** Flushes every loaded room (rejects if any store fails). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.loading.values()].map((p) => p.catch(() => undefined)))
    const results = await Promise.allSettled([...this.rooms.values()].map((room) => room.flush()))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
  }

  /** Flushes and drops every room (shutdown). */
  async closeAll(): Promise<void> {
    for (const timer of this.idleTimers.values()) clearTimeout(timer)
    this.idleTimers.clear()
    try {
      await this.flushAll()
    } finally {
      for (const room of this.rooms.values()) {
        this.fire('onRoomUnloaded', (e) => e.onRoomUnloaded?.(room))
        room.destroy()
      }
      this.rooms.clear()
      this.deps.metrics.roomsLoaded.set(0)
    }
  }
}
