/**
 * The relay's HTTP routes (Hono): health, metrics, room JSON (and markdown, text) and binary
 * state, update upload, JSON edits (`PATCH`, `../edits/`), demo tokens, the deny-list API, and
 * the static demo files. Every room route is checked (access, rooms per IP per minute) before
 * the room is loaded; bodies are limited to `--max-http-body-bytes` while they stream in; CORS
 * follows `--cors-origins`.
 *
 * @module
 */
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import { bodyLimit } from 'hono/body-limit'
import { serveStatic } from '@hono/node-server/serve-static'
import type { IncomingMessage } from 'node:http'
import { RelayError, asRelayError } from '../wire/errors.ts'
import { loggedRefusals, tokenOf, type Access, type AuthRequest, type Grant } from '../auth/access.ts'
import type { IpLimits } from '../auth/ip-limits.ts'
import { validateRoomName } from '../room/room-name.ts'
import { httpOrigin } from '../room/author.ts'
import { validateUpdate, ProtocolError } from '../wire/protocol.ts'
import { docToJson } from './doc-json.ts'
import { editorDocument, READ_FORMATS, toMarkdown, toPlainText, type ReadFormat } from './doc-formats.ts'
import { parseEdits } from '../edits/parse.ts'
import { EditScratches } from '../edits/scratch.ts'
import { invalidBody } from '../edits/op-error.ts'
import type { RoomManager } from '../room/rooms.ts'
import type { Room } from '../room/room.ts'
import type { StorageAdapter } from '../storage/types.ts'
import type { RelayMetrics } from '../observability/metrics.ts'
import type { Health } from '../observability/health.ts'
import type { RelayConfig } from '../config/config.ts'
import type { Logger } from 'pino'

/** What the routes need. */
export interface HttpApiDeps {
  config: RelayConfig
  rooms: RoomManager
  storage: StorageAdapter
  metrics: RelayMetrics
  logger: Logger
  health: Health
  access: Access
  ipLimits: IpLimits
  /** A room read over HTTP that is not loaded here: the extensions load it and catch it up first; true when it exists elsewhere in the cluster. */
  catchUpRoom?: (room: string) => Promise<boolean>
  /** Extensions' own routes, mounted before the demo files (see {@link RouteKit}). */
  routes?: RouteModule[]
}

/**
 * What an extension's routes get to behave like the relay's own: the same token and rate checks,
 * the same room loading, the same error answers (JSON `{error, reason}` with the code's status,
 * logged once).
 */
export interface RouteKit {
  /** The validated room name of the route's `:room` parameter; throws a {@link RelayError} (`bad-room-name`). */
  roomParam(c: Context): string
  /** Access and rate checks for `room` before it is loaded (`write`: a write grant is required). Throws a {@link RelayError}. */
  admit(c: Context, room: string, write: boolean): Promise<Grant>
  /** Requires an admin token (`--auth-secret` set). Throws a {@link RelayError}. */
  admitAdmin(c: Context): Promise<void>
  /** Runs `use` on the room, loaded and pinned meanwhile; null when a read (`create` false) finds no such room anywhere. */
  withRoom<T>(name: string, create: boolean, use: (room: Room) => T): Promise<T | null>
  /** The answer to a refused request (any thrown value; a non-RelayError is an internal error). */
  refuse(c: Context, error: unknown, room?: string): Response
}

/** An extension's routes: registers them on `app` (paths under `/api/` get the relay's CORS and body limit). */
export type RouteModule = (app: Hono, kit: RouteKit) => void

function authRequestOf(c: Context): AuthRequest {
  const url = new URL(c.req.url)
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return {
    transport: 'http',
    method: c.req.method,
    url,
    header: (name) => c.req.header(name),
    ip: incoming?.socket.remoteAddress ?? 'local',
    token: tokenOf(c.req.header('authorization'), url),
  }
}

function refuse(c: Context, error: RelayError, deps: HttpApiDeps, room?: string): Response {
  deps.metrics.errors.inc({ code: error.code })
  if (!loggedRefusals.has(error)) deps.logger.warn({ room, code: error.code, status: error.httpStatus, reason: error.message, path: c.req.path }, 'http request refused')
  return c.json({ error: error.code, reason: error.message }, error.httpStatus)
}

/** Builds the Hono app. */
export function createHttpApi(deps: HttpApiDeps): Hono {
  const { rooms, storage, metrics, config, access, ipLimits } = deps
  const app = new Hono()

  /** Access and rate checks for `room`, before it is loaded. Throws a {@link RelayError}. */
  async function admit(c: Context, room: string, write: boolean): Promise<Grant> {
    const request = authRequestOf(c)
    const grant = await access.checkRoom(request, room)
    if (write && grant.right !== 'write') throw new RelayError('read-only', 'this token may only read this room')
    if (!ipLimits.openRoom(request.ip, room)) {
      metrics.limitsHit.inc({ limit: 'rooms-per-minute' })
      throw new RelayError('too-many-rooms', `more than ${config.maxRoomsPerMinute} rooms a minute from this address`)
    }
    return grant
  }

  if (config.corsOrigins.length > 0) {
    const list = config.corsOrigins
    app.use('/api/*', cors({ origin: (origin) => (list.includes('*') || list.includes(origin) ? origin : null), allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'], allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'] }))
  }
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: config.maxHttpBodyBytes,
      onError: (c) => {
        metrics.limitsHit.inc({ limit: 'http-body' })
        return refuse(c, new RelayError('too-large', `body over ${config.maxHttpBodyBytes} bytes`), deps)
      },
    }),
  )

  /**
   * Runs `use` on the room (loaded and pinned meanwhile), or answers null (404) for a read of a
   * room that is not loaded, was never stored here, and no other relay of the cluster holds. A
   * read of a room not loaded here waits for the extensions to catch it up with the cluster.
   */
  async function withRoom<T>(name: string, create: boolean, use: (room: Room) => T): Promise<T | null> {
    if (!create && !rooms.peek(name)) {
      const stored = (await storage.getStateVector(name)) !== null
      const elsewhere = deps.catchUpRoom ? await deps.catchUpRoom(name) : false
      if (!stored && !elsewhere) return null
    }
    let room = await rooms.get(name)
    for (let attempt = 0; rooms.peek(name) !== room && attempt < 3; attempt++) room = await rooms.get(name) // unloaded meanwhile
    rooms.pin(room)
    try {
      return use(room)
    } finally {
      rooms.unpin(room)
    }
  }

  // Always 200 while the relay serves: a degraded relay still serves its clients; read `status`.
  app.get('/health', (c) => c.json(deps.health.report()))
  app.get('/metrics', async (c) => {
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType })
  })

  /** A read of a room's whole state (access checked first), answered by `answer`; 404 when no relay holds it. */
  async function readRoom(c: Context, answer: (state: Uint8Array) => Response): Promise<Response> {
    let name = ''
    try {
      name = validateRoomName(c.req.param('room') ?? '')
      await admit(c, name, false)
      const state = await withRoom(name, false, (room) => room.encodeStateAsUpdate())
      if (!state) return c.json({ error: 'not-found', reason: 'no such room' }, 404)
      return answer(state)
    } catch (error) {
      return refuse(c, asRelayError(error), deps, name)
    }
  }

  app.get('/api/rooms/:room', (c) => {
    const format = (c.req.query('format') ?? 'json') as ReadFormat
    if (!READ_FORMATS.includes(format)) {
      return refuse(c, new RelayError('malformed-message', `format must be one of ${READ_FORMATS.join(', ')}`), deps)
    }
    return readRoom(c, (state) => {
      if (format === 'json') return c.json(docToJson(state))
      const doc = editorDocument(state)
      if (format === 'prosemirror') return c.json(doc.toJSON())
      if (format === 'markdown') return c.body(toMarkdown(doc), 200, { 'content-type': 'text/markdown; charset=utf-8' })
      return c.text(toPlainText(doc))
    })
  })
  app.get('/api/rooms/:room/update', (c) => readRoom(c, (state) =>
    c.body(state as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' })))

  app.post('/api/rooms/:room/update', async (c) => {
    let name = ''
    try {
      name = validateRoomName(c.req.param('room'))
      const grant = await admit(c, name, true)
      const body = new Uint8Array(await c.req.arrayBuffer())
      if (body.byteLength === 0) throw new RelayError('invalid-update', 'empty body')
      try {
        validateUpdate(body)
      } catch (cause) {
        throw new RelayError('invalid-update', 'update does not decode', { cause })
      }
      await withRoom(name, true, (room) => room.applyUpdate(body, httpOrigin(grant.author)))
      return c.json({ ok: true })
    } catch (error) {
      return refuse(c, asRelayError(error), deps, name)
    }
  })

  // JSON edits: every op checked, then all applied as one update through the room's own door.
  const scratches = new EditScratches()
  app.patch('/api/rooms/:room', async (c) => {
    let name = ''
    try {
      name = validateRoomName(c.req.param('room'))
      const grant = await admit(c, name, true)
      let body: unknown
      try {
        body = JSON.parse(await c.req.text())
      } catch (cause) {
        throw invalidBody(`body is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
      }
      const ops = parseEdits(body)
      const stateVector = await withRoom(name, true, (room) => {
        scratches.edit(room, ops, (update) => room.applyUpdate(update, httpOrigin(grant.author)))
        return room.stateVector()
      })
      return c.json({ ok: true, ops: ops.length, stateVector: Buffer.from(stateVector!).toString('base64') })
    } catch (error) {
      return kit.refuse(c, error, name) // anything but a RelayError is a bug: 500, logged with its stack
    }
  })

  // Open relays only: a token for the demo page (its right applies: try right=read).
  app.get('/api/token', async (c) => {
    try {
      const room = validateRoomName(c.req.query('room') ?? '')
      const right = c.req.query('right') === 'read' ? 'read' : 'write'
      const token = await access.demoToken(room, right)
      if (token === null) return c.json({ error: 'not-found', reason: 'this relay checks tokens: get one from its operator (npm run token)' }, 404)
      return c.json({ token, room, right })
    } catch (error) {
      return refuse(c, asRelayError(error), deps)
    }
  })

  // The deny list (admin token required): revoked token ids are cut within a second.
  app.get('/api/auth/deny', async (c) => {
    try {
      await access.checkAdmin(authRequestOf(c))
      return c.json({ denied: access.denyList.list() })
    } catch (error) {
      return refuse(c, asRelayError(error), deps)
    }
  })
  app.post('/api/auth/deny', async (c) => {
    try {
      await access.checkAdmin(authRequestOf(c))
      let body: { jti?: unknown; until?: unknown }
      try {
        body = (await c.req.json()) as typeof body
      } catch (cause) {
        throw new RelayError('malformed-message', 'body must be JSON {"jti": "...", "until": seconds?}', { cause })
      }
      if (typeof body.jti !== 'string' || body.jti === '' || (body.until !== undefined && typeof body.until !== 'number')) {
        throw new RelayError('malformed-message', 'body must be JSON {"jti": "...", "until": seconds?}')
      }
      const entry = await access.denyList.add(body.jti, body.until as number | undefined)
      deps.logger.warn({ jti: entry.jti, until: entry.until }, 'token revoked')
      return c.json({ ok: true, ...entry })
    } catch (error) {
      return refuse(c, asRelayError(error), deps)
    }
  })
  app.delete('/api/auth/deny/:jti', async (c) => {
    try {
      await access.checkAdmin(authRequestOf(c))
      const removed = await access.denyList.remove(c.req.param('jti'))
      return c.json({ ok: true, removed })
    } catch (error) {
      return refuse(c, asRelayError(error), deps)
    }
  })

  const kit: RouteKit = {
    roomParam: (c) => validateRoomName(c.req.param('room') ?? ''),
    admit,
    admitAdmin: async (c) => void (await access.checkAdmin(authRequestOf(c))),
    withRoom,
    refuse: (c, error, room) => {
      if (error instanceof RelayError || error instanceof ProtocolError) return refuse(c, asRelayError(error), deps, room)
      deps.logger.error({ room, path: c.req.path, err: error }, 'http route failed')
      return refuse(c, new RelayError('internal', 'internal error'), deps, room)
    },
  }
  for (const mount of deps.routes ?? []) mount(app, kit)

  app.use('/*', serveStatic({ root: config.static, index: 'index.html' }))
  return app
}
