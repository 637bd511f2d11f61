/**
 * Room-name validation, applied before a WebSocket upgrade and on every HTTP route.
 *
 * @module
 */
import { RelayError } from '../wire/errors.ts'

/** Longest room name, in UTF-8 bytes. */
export const MAX_ROOM_NAME_BYTES = 256

/** Throws a `bad-room-name` {@link RelayError} unless `name` is a valid room name. */
export function validateRoomName(name: string): string {
  if (name.length === 0) throw new RelayError('bad-room-name', 'room name is empty')
  if (Buffer.byteLength(name, 'utf8') > MAX_ROOM_NAME_BYTES) {
    throw new RelayError('bad-room-name', `room name is longer than ${MAX_ROOM_NAME_BYTES} bytes`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new RelayError('bad-room-name', 'room name contains a control character')
  if (name.split(/[/\\]/).some((segment) => segment === '..')) throw new RelayError('bad-room-name', 'room name contains a ".." segment')
  if (/[\uD800-\uDFFF]/.test(name.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
    throw new RelayError('bad-room-name', 'room name is not valid Unicode')
  }
  return name
}

/**
 * The room name in a WebSocket request path (`/<room>`, percent-decoded), validated.
 * Throws a `bad-room-name` {@link RelayError} on a bad name or bad percent-encoding.
 */
export function roomNameFromPath(pathname: string): string {
  let name: string
  try {
    name = decodeURIComponent(pathname.replace(/^\//, ''))
  } catch {
    throw new RelayError('bad-room-name', 'room name is not valid percent-encoding')
  }
  return validateRoomName(name)
}
