/**
 * relay/integrations: the change feed (Server-Sent Events, resumable with Last-Event-ID across
 * restarts) and the webhooks (Standard Webhooks signatures, a persisted outbox, at least once, in
 * order per room). Observes the rooms through the extension hooks; imports `room/`,
 * `observability/`, `storage/` (types), `config/`, `wire/` and `http/` (the RouteKit and
 * the document JSON) — never `server/`, which creates it.
 *
 * @module
 */
export { integrationsExtension, integrationsDir, enqueueVersionCreated, Integrations, type IntegrationsContext, type IntegrationsOptions } from './integrations.ts'
export type { FeedEvent } from './feed-log.ts'
export type { WebhookMessage, WebhookType } from './outbox.ts'
