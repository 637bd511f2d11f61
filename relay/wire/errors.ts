/**
 * The relay's error types. Every refusal carries a code that maps to one WebSocket close
 * code and one HTTP status, so a client sees the same reason on either transport.
 *
 * | code                  | close | HTTP | meaning                                             |
 * |-----------------------|-------|------|-----------------------------------------------------|
 * | `going-away`          | 1001  | 503  | relay shutting down                                 |
 * | `too-large`           | 1009  | 413  | frame or body over `--max-message-bytes`            |
 * | `malformed-message`   | 4400  | 400  | truncated or malformed frame                        |
 * | `bad-room-name`       | 4400  | 400  | empty, > 256 bytes, `..` segment, control character |
 * | `unknown-message`     | 4405  | 400  | unknown message type or sync sub-type               |
 * | `invalid-update`      | 4422  | 400  | Yjs update or awareness update fails to decode/apply|
 * | `invalid-operation`   |  —    | 400  | HTTP: a JSON edit (PATCH) names a bad operation     |
 * | `load-failed`         | 4503  | 503  | the room could not be loaded from storage           |
 * | `unauthorized`        | 4401  | 401  | no token, a token that does not verify, or expired  |
 * | `token-expired`       | 4401  | 401  | the token expired while connected                   |
 * | `forbidden`           | 4403  | 403  | the token does not cover the room, or bad Origin    |
 * | `token-revoked`       | 4403  | 403  | the token's id is on the deny list                  |
 * | `read-only`           |  —    | 403  | a `read` holder tried to write (WS: auth message)   |
 * | `rate-limited`        | 4429  | 429  | over the message/byte/awareness rate for too long   |
 * | `too-many-connections`|  —    | 429  | connections per IP                                  |
 * | `too-many-rooms`      |  —    | 429  | rooms per IP per minute                             |
 * | `too-many-pending`    | 4429  | 429  | frames held while the room loads                    |
 * | `awareness-too-large` | 4413  | 413  | awareness update over `--max-awareness-bytes`       |
 * | `slow-consumer`       | 4408  | 503  | bytes buffered for a client that does not read      |
 * | `not-found`           | 4404  | 404  | HTTP: no such room, version or event                |
 * | `internal`            | 1011  | 500  | a bug: logged with its stack, the reason stays generic |
 *
 * @module
 */

import { ProtocolError } from './protocol.ts'

export { ProtocolError }

/** Codes of every refusal the relay makes. */
export type RelayErrorCode =
  | 'going-away'
  | 'too-large'
  | 'malformed-message'
  | 'bad-room-name'
  | 'unknown-message'
  | 'invalid-update'
  | 'invalid-operation'
  | 'load-failed'
  | 'unauthorized'
  | 'token-expired'
  | 'forbidden'
  | 'token-revoked'
  | 'read-only'
  | 'rate-limited'
  | 'too-many-connections'
  | 'too-many-rooms'
  | 'too-many-pending'
  | 'awareness-too-large'
  | 'slow-consumer'
  | 'not-found'
  | 'internal'

/** WebSocket close code for each error code. */
export const CLOSE_CODES: Readonly<Record<RelayErrorCode, number>> = {
  'going-away': 1001,
  'too-large': 1009,
  'malformed-message': 4400,
  'bad-room-name': 4400,
  'unknown-message': 4405,
  'invalid-update': 4422,
  'invalid-operation': 4422,
  'load-failed': 4503,
  unauthorized: 4401,
  'token-expired': 4401,
  forbidden: 4403,
  'token-revoked': 4403,
  'read-only': 4403,
  'rate-limited': 4429,
  'too-many-connections': 4429,
  'too-many-rooms': 4429,
  'too-many-pending': 4429,
  'awareness-too-large': 4413,
  'slow-consumer': 4408,
  'not-found': 4404,
  internal: 1011,
}

/** HTTP statuses the relay refuses with. */
export type HttpStatus = 400 | 401 | 403 | 404 | 413 | 429 | 500 | 503

/** HTTP status for each error code. */
export const HTTP_STATUSES: Readonly<Record<RelayErrorCode, HttpStatus>> = {
  'going-away': 503,
  'too-large': 413,
  'malformed-message': 400,
  'bad-room-name': 400,
  'unknown-message': 400,
  'invalid-update': 400,
  'invalid-operation': 400,
  'load-failed': 503,
  unauthorized: 401,
  'token-expired': 401,
  forbidden: 403,
  'token-revoked': 403,
  'read-only': 403,
  'rate-limited': 429,
  'too-many-connections': 429,
  'too-many-rooms': 429,
  'too-many-pending': 429,
  'awareness-too-large': 413,
  'slow-consumer': 503,
  'not-found': 404,
  internal: 500,
}

/** A refusal with a code; `closeCode` and `httpStatus` follow from it. */
export class RelayError extends Error {
  readonly code: RelayErrorCode
  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RelayError'
    this.code = code
  }
  get closeCode(): number {
    return CLOSE_CODES[this.code]
  }
  get httpStatus(): HttpStatus {
    return HTTP_STATUSES[this.code]
  }
}

/** Storage refused to load a room; the room is not served rather than served empty. */
export class LoadError extends RelayError {
  constructor(room: string, cause: unknown) {
    super('load-failed', `room ${JSON.stringify(room)} could not be loaded`, { cause })
    this.name = 'LoadError'
  }
}

/** WebSocket close reasons are limited to 123 bytes. */
export function closeReason(message: string): string {
  const bytes = Buffer.from(message, 'utf8')
  return bytes.length <= 123 ? message : bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...'
}

/** The {@link RelayError} for anything thrown while handling input (a protocol error keeps its code). */
export function asRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error
  if (error instanceof ProtocolError) return new RelayError(error.code, error.message, { cause: error })
  return new RelayError('invalid-update', error instanceof Error ? error.message : String(error), { cause: error })
}
