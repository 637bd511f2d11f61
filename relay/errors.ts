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
 * | `load-failed`         | 4503  | 503  | the room could not be loaded from storage           |
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
  | 'load-failed'

/** WebSocket close code for each error code. */
export const CLOSE_CODES: Readonly<Record<RelayErrorCode, number>> = {
  'going-away': 1001,
  'too-large': 1009,
  'malformed-message': 4400,
  'bad-room-name': 4400,
  'unknown-message': 4405,
  'invalid-update': 4422,
  'load-failed': 4503,
}

/** HTTP status for each error code. */
export const HTTP_STATUSES: Readonly<Record<RelayErrorCode, 400 | 413 | 503>> = {
  'going-away': 503,
  'too-large': 413,
  'malformed-message': 400,
  'bad-room-name': 400,
  'unknown-message': 400,
  'invalid-update': 400,
  'load-failed': 503,
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
  get httpStatus(): 400 | 413 | 503 {
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
