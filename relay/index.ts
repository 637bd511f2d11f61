/**
 * tandem relay — public API.
 *
 * @module
 */
export { createRelay, type Relay, type CreateRelayOptions } from './server/server.ts'
export { parseConfig, resolveConfig, DEFAULT_CONFIG, HELP, ConfigError, type RelayConfig } from './config/config.ts'
export type { RelayExtension, RelayContext, UpgradeHandler, UpgradeAuthorizer } from './server/extension.ts'
export { Room, type RoomClient } from './room/room.ts'
export { RoomManager } from './room/rooms.ts'
export { authorOf, httpOrigin, type Author, type HttpOrigin } from './room/author.ts'
export { RelayError, LoadError, ProtocolError, CLOSE_CODES, HTTP_STATUSES, type RelayErrorCode } from './wire/errors.ts'
export { validateRoomName, roomNameFromPath, MAX_ROOM_NAME_BYTES } from './room/room-name.ts'
export * from './wire/protocol.ts'
export { createLogger, type Logger } from './observability/logger.ts'
export { RelayMetrics } from './observability/metrics.ts'
export { Health, type ComponentHealth, type HealthReport } from './observability/health.ts'
export { docToJson, type NodeJson } from './http/doc-json.ts'
export type { RouteKit, RouteModule } from './http/http-api.ts'
export { MemoryStorage, LevelDbStorage, type StorageAdapter, type LevelDbOptions } from './storage/index.ts'
export { signToken, verifyToken, parseAuthSecrets, roomMatches, type AuthKey, type TokenClaims, type Right, type SignOptions } from './auth/tokens.ts'
export { Access, tokenOf, originAllowed, type AuthRequest, type AuthDecision, type Authorize, type Grant, type Refusal } from './auth/access.ts'
export { DenyList, type DenyEntry } from './auth/deny-list.ts'
export { redisExtension, RedisNode, RedisOrigin, type RedisExtension, type RedisOptions } from './redis/index.ts'
export { FailingStorage, InjectedStorageFault, type FailingStorageOptions } from './storage/failing.ts'
export { StorageHealth, retryDelayMs } from './room/storage-health.ts'
export { History, historyExtension, publicVersion, diffSchema, type HistoryOptions, type PublicVersion, type VersionAuthor, type VersionMeta, type Retention } from './history/index.ts'
export { enqueueVersionCreated, integrationsExtension, Integrations, type IntegrationsOptions, type FeedEvent, type WebhookMessage, type WebhookType } from './integrations/index.ts'
