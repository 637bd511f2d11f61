/**
 * `tandem/client`: an application's side of a relay's HTTP API, for Node 20 and browsers (no
 * Node-only module; its one dependency beyond the platform is `standardwebhooks`).
 *
 * - `new TandemClient({ url, token })`: `edit(room, ops)` (JSON edits, typed ops, all or
 *   nothing), `read(room, format)` (`json`, `prosemirror`, `markdown`, `text`), `events(room |
 *   '*', { lastEventId, signal, onEvent })` (the change feed over `fetch`, resumed after every drop
 *   with `Last-Event-ID` and backoff).
 * - `verifyWebhook(secret, headers, body)`: a webhook's Standard Webhooks signature checked, its
 *   payload returned.
 * - `followEventStream` and `SseParser`: the feed's building blocks, for any SSE endpoint.
 *
 * @example
 * import { TandemClient } from 'tandem/client'
 * const tandem = new TandemClient({ url: 'http://127.0.0.1:1234', token })
 * await tandem.edit('notes', [{ op: 'insertText', at: 'end', text: ' (reviewed)' }, { op: 'increment', name: 'reviews' }])
 * const markdown = await tandem.read('notes', 'markdown')
 * await tandem.events('notes', { onEvent: (e) => console.log(e.type, e.id), signal })
 *
 * @module
 */
export { TandemClient, TandemError } from './tandem-client.ts'
export type { TandemClientOptions, ReadFormat, EventsOptions, FeedEvent, ChangedEvent, ResetEvent, FeedAuthor } from './tandem-client.ts'
export { verifyWebhook, WebhookVerificationError } from './webhooks.ts'
export type { WebhookEvent, WebhookHeaders, WebhookAuthor } from './webhooks.ts'
export { followEventStream, EventStreamError } from './event-stream.ts'
export type { EventStreamOptions } from './event-stream.ts'
export { SseParser } from './sse.ts'
export type { SseMessage } from './sse.ts'
export type {
  EditOp,
  EditResult,
  RichTextOp,
  DataOp,
  InsertTextOp,
  InsertBlocksOp,
  DeleteOp,
  SetBlockTypeOp,
  SetKeyOp,
  DeleteKeyOp,
  IncrementOp,
  AddToSetOp,
  RemoveFromSetOp,
  SetRegisterOp,
  MarkJson,
  NodeJson,
  JsonValue,
} from '../relay/edits/ops.ts'
