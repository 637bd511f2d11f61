/**
 * The history's HTTP API, mounted through the relay's {@link RouteKit} (the same token, rate and
 * room checks and error answers as the relay's own routes): a `read` grant lists versions and
 * reads them and their diffs; a `write` grant names, restores and deletes.
 *
 * - `GET /api/rooms/:room/versions` → `{ room, versions: [newest first] }`
 * - `POST /api/rooms/:room/versions` `{"name"}` → `201 { version }`
 * - `GET /api/rooms/:room/versions/:id` → the version as JSON (like `GET /api/rooms/:room`), `?format=update` → a Yjs update
 * - `GET /api/rooms/:room/versions/:id/diff?from=:other` → `{ from, to, authors, changes, doc }`
 * - `POST /api/rooms/:room/versions/:id/restore` → `{ version, before, restored }`
 * - `DELETE /api/rooms/:room/versions/:id` → `{ ok, removed }`
 *
 * @module
 */
import type { Context, Hono } from 'hono'
import { RelayError } from '../wire/errors.ts'
import type { RouteKit, RouteModule } from '../http/http-api.ts'
import type { Room } from '../room/room.ts'
import type { Author } from '../room/author.ts'
import type { VersionMeta } from './history-store.ts'
import type { DiffResult } from './diff.ts'
import { publicVersion } from './public-version.ts'

/** What the routes ask of the history (relay/history/history-extension.ts). */
export interface HistoryApi {
  /** False until the store is open, and after stop (answered 503). */
  readonly started: boolean
  pin(room: Room): void
  unpin(room: Room): void
  versions(room: string): Promise<VersionMeta[]>
  /** The version's state as one Yjs update. */
  state(room: string, id: string): Promise<Uint8Array | null>
  /** The version as JSON, like `GET /api/rooms/:room`. */
  json(room: string, id: string): Promise<Record<string, unknown> | null>
  diff(room: string, fromId: string, id: string): Promise<(DiffResult & { from: VersionMeta; to: VersionMeta }) | null>
  nameVersion(room: Room, name: string, by: Author | undefined): Promise<VersionMeta>
  restore(room: Room, id: string, by: Author | undefined): Promise<{ version: VersionMeta; before: VersionMeta | null; restored: boolean } | null>
  removeVersion(room: string, id: string): Promise<boolean>
}

/** A version id as the history makes them (anything else is no version: 404). */
const ID = /^[0-9a-f]{16}$/
/** Longest version name, in characters. */
export const MAX_NAME_LENGTH = 200

const noVersion = (): RelayError => new RelayError('not-found', 'no such version')
const noRoom = (): RelayError => new RelayError('not-found', 'no such room')

/** The routes of `history`. */
export function historyRoutes(history: HistoryApi): RouteModule {
  return (app: Hono, kit: RouteKit) => {
    /** Runs `handle` with the validated room name, answering its refusals the relay's way. */
    const route = (handle: (c: Context, room: string) => Promise<Response>) => async (c: Context): Promise<Response> => {
      let room = ''
      try {
        room = kit.roomParam(c)
        if (!history.started) throw new RelayError('going-away', 'the history is not running')
        return await handle(c, room)
      } catch (error) {
        return kit.refuse(c, error, room)
      }
    }
    /** The version id of the route, checked (404 when it cannot be one). */
    const idParam = (c: Context, name = 'id'): string => {
      const id = c.req.param(name) ?? ''
      if (!ID.test(id)) throw noVersion()
      return id
    }
    /** Runs `use` on the room, loaded and pinned until it settles; 404 when no relay holds the room. */
    const onRoom = async <T>(room: string, use: (room: Room) => Promise<T>): Promise<T> => {
      const loaded = await kit.withRoom(room, false, (r) => {
        history.pin(r)
        return r
      })
      if (!loaded) throw noRoom()
      try {
        return await use(loaded)
      } finally {
        history.unpin(loaded)
      }
    }
    /** Versions of `room`, 404 when neither the history nor any relay knows the room. */
    const versionsOf = async (room: string) => {
      const versions = await history.versions(room)
      if (versions.length === 0 && !(await kit.withRoom(room, false, () => true))) throw noRoom()
      return versions
    }

    app.get('/api/rooms/:room/versions', route(async (c, room) => {
      await kit.admit(c, room, false)
      const versions = await versionsOf(room)
      return c.json({ room, versions: versions.map(publicVersion).reverse() })
    }))

    app.post('/api/rooms/:room/versions', route(async (c, room) => {
      const grant = await kit.admit(c, room, true)
      let body: unknown
      try {
        body = await c.req.json()
      } catch (cause) {
        throw new RelayError('malformed-message', 'body must be JSON {"name": "..."}', { cause })
      }
      const name = (body as { name?: unknown } | null)?.name
      if (typeof name !== 'string' || name.trim() === '' || [...name].length > MAX_NAME_LENGTH) {
        throw new RelayError('malformed-message', `body must be JSON {"name": "..."} with a name of 1 to ${MAX_NAME_LENGTH} characters`)
      }
      const version = await onRoom(room, (r) => history.nameVersion(r, name.trim(), grant.author))
      return c.json({ version: publicVersion(version) }, 201)
    }))

    app.get('/api/rooms/:room/versions/:id', route(async (c, room) => {
      await kit.admit(c, room, false)
      const format = c.req.query('format') ?? 'json'
      if (format !== 'json' && format !== 'update') throw new RelayError('malformed-message', 'format must be json or update')
      const id = idParam(c)
      if (format === 'update') {
        const state = await history.state(room, id)
        if (!state) throw noVersion()
        return c.body(state as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' })
      }
      const json = await history.json(room, id)
      if (!json) throw noVersion()
      return c.json(json)
    }))

    app.get('/api/rooms/:room/versions/:id/diff', route(async (c, room) => {
      await kit.admit(c, room, false)
      const from = c.req.query('from')
      if (from === undefined || from === '') throw new RelayError('malformed-message', 'diff needs ?from=<version id>')
      const to = idParam(c)
      if (!ID.test(from)) throw noVersion()
      const diff = await history.diff(room, from, to)
      if (!diff) throw noVersion()
      return c.json({
        from: publicVersion(diff.from),
        to: publicVersion(diff.to),
        authors: diff.authors,
        changes: { inserted: diff.inserted, deleted: diff.deleted },
        doc: diff.doc,
      })
    }))

    app.post('/api/rooms/:room/versions/:id/restore', route(async (c, room) => {
      const grant = await kit.admit(c, room, true)
      const id = idParam(c)
      const result = await onRoom(room, (r) => history.restore(r, id, grant.author))
      if (!result) throw noVersion()
      return c.json({ version: publicVersion(result.version), before: result.before ? publicVersion(result.before) : null, restored: result.restored })
    }))

    app.delete('/api/rooms/:room/versions/:id', route(async (c, room) => {
      await kit.admit(c, room, true)
      const removed = await history.removeVersion(room, idParam(c))
      if (!removed) throw noVersion()
      return c.json({ ok: true, removed: true })
    }))
  }
}
