/**
 * The one seam for relay extensions (topology, auth, ...): lifecycle hooks, `routeUpgrade`
 * to claim a WebSocket path, and `authorize` to replace the relay's own access check.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import type { Registry } from 'prom-client'
import type { Logger } from 'pino'
import type { RelayConfig } from '../config/config.ts'
import type { ExtensionHooks } from '../room/extension-hooks.ts'
import type { RoomManager } from '../room/rooms.ts'
import type { StorageAdapter } from '../storage/types.ts'
import type { Health } from '../observability/health.ts'
import type { Authorize } from '../auth/access.ts'
import type { DenyList } from '../auth/deny-list.ts'
import type { TlsMaterial } from '../config/pem-files.ts'
import type { RouteModule } from '../http/http-api.ts'
import type { VersionMarkSurface } from '../history/version-marks.ts'

/** Handles an upgraded WebSocket on a path claimed with {@link RelayContext.routeUpgrade}. */
export type UpgradeHandler = (ws: WebSocket, req: IncomingMessage) => void
/** Decides whether an upgrade request on a claimed path may proceed (false → HTTP 401). */
export type UpgradeAuthorizer = (req: IncomingMessage) => boolean | Promise<boolean>

/** What an extension gets at start. */
export interface RelayContext {
  config: RelayConfig
  rooms: RoomManager
  storage: StorageAdapter
  logger: Logger
  /** The relay's prom-client registry: register extension metrics here. */
  metrics: Registry
  /** Report the extension's own health here (shown by `GET /health`). */
  health: Health
  /**
   * The relay's deny list: replicating edges (peer links, Redis) send its changes to the rest
   * of the cluster and merge what they receive, so a revocation holds on every relay.
   */
  denyList: DenyList
  /**
   * The history's version marks (relay/history/version-marks.ts), when the relay keeps history:
   * replicating edges send its changes to the rest of the cluster and merge what they receive,
   * so a version named, restored or deleted on one relay is listed on every relay.
   */
  versions?: VersionMarkSurface
  /** The relay's certificate and key when it serves TLS (`--tls-cert`/`--tls-key`), read once at start: an extension's own listener serves TLS with them too. */
  tls?: TlsMaterial
  /** Claims WebSocket path `path` (exact match, e.g. `/_peer`) before room routing. */
  routeUpgrade(path: string, handler: UpgradeHandler, authorize?: UpgradeAuthorizer): void
}

/** A relay extension: the room hooks, its lifecycle, and optionally the access check. Hooks run in registration order; errors thrown by hooks are logged, not fatal. */
export interface RelayExtension extends ExtensionHooks {
  onStart?(ctx: RelayContext): void | Promise<void>
  onStop?(): void | Promise<void>
  /**
   * Decides who may open a room, instead of the relay's token check: called on every
   * WebSocket upgrade and HTTP API call for `room`, before the room is loaded; returns
   * `{ right: 'read' | 'write', awareness?, expiresAt?, tokenId? }` or `{ refuse: reason, status? }`.
   * The first extension that has one decides.
   */
  authorize?: Authorize
  /**
   * Before an HTTP read (`GET /api/rooms/:room`, `GET /api/rooms/:room/update`) of a room that is
   * not loaded here: loads it and resolves once it holds what the rest of the cluster holds (a
   * bounded wait), or resolves false when no other relay holds it (the route then answers from
   * this relay's storage, or 404). Every extension that has one is asked.
   */
  catchUpRoom?(room: string): Promise<boolean>
  /**
   * The extension's HTTP routes, mounted on the relay's app before the demo files: they get the
   * relay's token checks, room loading and error answers through the {@link RouteKit}. Mounted
   * when the relay is created (before `onStart`), so a route must answer 503 until its
   * extension has started if it needs what `onStart` sets up.
   */
  routes?: RouteModule
}
