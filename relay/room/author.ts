/**
 * Who wrote an update. The relay attributes each update it accepts to the user of the
 * connection (or HTTP request) that sent it, from that request's grant (a token's `sub` and
 * `name`, or an `authorize` hook's `author`): a client cannot write under another user's name.
 * Updates from peer relays and Redis carry no author here (their own relay attributed them).
 *
 * @module
 */

/** A user as the relay knows them. */
export interface Author {
  /** User id (a token's `sub`). */
  id: string
  /** Display name (a token's `name`). */
  name?: string
}

/** The origin of an update written over HTTP (`POST /api/rooms/:room/update`, `PATCH /api/rooms/:room`). */
export interface HttpOrigin {
  readonly transport: 'http'
  readonly author?: Author
}

/** An {@link HttpOrigin} for a request made under `author`. */
export function httpOrigin(author: Author | undefined): HttpOrigin {
  return author ? { transport: 'http', author } : { transport: 'http' }
}

/** The author an update's `origin` (a connection, an {@link HttpOrigin}, a peer origin) carries, or null. */
export function authorOf(origin: unknown): Author | null {
  if (typeof origin !== 'object' || origin === null || !('author' in origin)) return null
  const author = (origin as { author?: unknown }).author
  if (typeof author !== 'object' || author === null) return null
  const { id, name } = author as { id?: unknown; name?: unknown }
  if (typeof id !== 'string') return null
  return typeof name === 'string' ? { id, name } : { id }
}
