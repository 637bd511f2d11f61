/**
 * The relay's HTTP routes (Hono): health, metrics, room JSON and binary state, update
 * upload, and the static demo files.
 *
 * @module
 */
import { Hono, type Context } from 'hono'
import { serveStatic } from '@hono/node-server/serve-static'
import { RelayError, asRelayError } from './errors.ts'
import { validateRoomName } from './room-name.ts'
import { validateUpdate } from './protocol.ts'
import { docToJson } from './doc-json.ts'
import type { RoomManager } from './rooms.ts'
import type { Room } from './room.ts'
import type { StorageAdapter } from './storage/types.ts'
import type { RelayMetrics } from './metrics.ts'
import type { Health } from './health.ts'
import type { RelayConfig } from './config.ts'
import type { Logger } from 'pino'

/** What the routes need. */
export interface HttpApiDeps {
  config: RelayConfig
  rooms: RoomManager
  storage: StorageAdapter
  metrics: RelayMetrics
  logger: Logger
  health: Health
}

function refuse(c: Context, error: RelayError, deps: HttpApiDeps, room?: string): Response {
  deps.metrics.errors.inc({ code: error.code })
  deps.logger.warn({ room, code: error.code, status: error.httpStatus, reason: error.message, path: c.req.path }, 'http request refused')
  return c.json({ error: error.code, reason: error.message }, error.httpStatus)
}

/** Builds the Hono app. */
export function createHttpApi(deps: HttpApiDeps): Hono {
  const { rooms, storage, metrics, config } = deps
  const app = new Hono()

  /** Runs `use` on the room (loaded and pinned meanwhile), or answers 404 when it was never stored and is not loaded. */
  async function withRoom<T>(name: string, create: boolean, use: (room: Room) => T): Promise<T | null> {
    if (!create && !rooms.peek(name) && (await storage.getStateVector(name)) === null) return null
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

  app.get('/api/rooms/:room', async (c) => {
    let name = ''
    try {
      name = validateRoomName(c.req.param('room'))
      const state = await withRoom(name, false, (room) => room.encodeStateAsUpdate())
      if (!state) return c.json({ error: 'not-found', reason: 'no such room' }, 404)
      return c.json(docToJson(state))
    } catch (error) {
      return refuse(c, asRelayError(error), deps, name)
    }
  })

  app.get('/api/rooms/:room/update', async (c) => {
    let name = ''
    try {
      name = validateRoomName(c.req.param('room'))
      const state = await withRoom(name, false, (room) => room.encodeStateAsUpdate())
      if (!state) return c.json({ error: 'not-found', reason: 'no such room' }, 404)
      return c.body(state as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' })
    } catch (error) {
      return refuse(c, asRelayError(error), deps, name)
    }
  })

  app.post('/api/rooms/:room/update', async (c) => {
    let name = ''
    try {
      name = validateRoomName(c.req.param('room'))
      const declared = Number(c.req.header('content-length') ?? '0')
      if (declared > config.maxMessageBytes) throw new RelayError('too-large', `body over ${config.maxMessageBytes} bytes`)
      const body = new Uint8Array(await c.req.arrayBuffer())
      if (body.byteLength > config.maxMessageBytes) throw new RelayError('too-large', `body over ${config.maxMessageBytes} bytes`)
      if (body.byteLength === 0) throw new RelayError('invalid-update', 'empty body')
      try {
        validateUpdate(body)
      } catch (cause) {
        throw new RelayError('invalid-update', 'update does not decode', { cause })
      }
      await withRoom(name, true, (room) => room.applyUpdate(body, 'http'))
      return c.json({ ok: true })
    } catch (error) {
      return refuse(c, asRelayError(error), deps, name)
    }
  })

  app.use('/*', serveStatic({ root: config.static, index: 'index.html' }))
  return app
}
