/**
 * What the room core tells the parts plugged in beside it (extensions: topology, Redis, an
 * embedder's own): a room loaded, an update applied, a flush stored, a room unloaded. The
 * extension seam (server/extension.ts) extends these hooks with its lifecycle and access
 * check, so the rooms depend on this small interface and never on the server.
 *
 * @module
 */
import type { Room } from './room.ts'

/** The room hooks of a relay extension. Hooks run in registration order; a hook that throws is logged, not fatal. */
export interface ExtensionHooks {
  name: string
  onRoomLoaded?(room: Room): void
  /** After an update was applied to `room` and forwarded to local clients; `origin` is the connection, a peer origin or an `HttpOrigin`; `authorOf(origin)` (room/author.ts) names who wrote it. */
  onUpdate?(room: Room, update: Uint8Array, origin: unknown): void
  /** After a flush: `persistedStateVector` is durably stored. */
  onStored?(room: Room, persistedStateVector: Uint8Array): void
  onRoomUnloaded?(room: Room): void
}
