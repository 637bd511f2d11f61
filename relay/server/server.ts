/**
 * createRelay: the HTTP server (Hono on @hono/node-server), the WebSocket upgrade (room
 * name and extension routes checked before upgrading), storage, rooms and extensions,
 * and a graceful close.
 *
 * @module
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { mkdir } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import { createAdaptorServer } from '@hono/node-server'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Hono } from 'hono'
import type { Logger } from 'pino'
import { ConfigError, resolveConfig, type RelayConfig } from '../config/config.ts'
import { readTlsMaterial, type TlsMaterial } from '../config/pem-files.ts'
import { createLogger } from '../observability/logger.ts'
import { RelayMetrics } from '../observability/metrics.ts'
import { RoomManager } from '../room/rooms.ts'
import { Health } from '../observability/health.ts'
import { Connection } from '../connection/connection.ts'
import { createHttpApi } from '../http/http-api.ts'
import { RelayError, CLOSE_CODES } from '../wire/errors.ts'
import { roomNameFromPath } from '../room/room-name.ts'
import { MemoryStorage } from '../storage/memory.ts'
import { LevelDbStorage } from '../storage/leveldb.ts'
import { FailingStorage } from '../storage/failing.ts'
import type { StorageAdapter } from '../storage/types.ts'
import type { RelayContext, RelayExtension, UpgradeAuthorizer, UpgradeHandler } from './extension.ts'
import { join } from 'node:path'
import { Access } from '../auth/access.ts'
import { admitUpgrade } from '../auth/admission.ts'
import type { Grant } from '../auth/access.ts'
import { DenyList } from '../auth/deny-list.ts'
import { parseAuthSecrets } from '../auth/tokens.ts'
import { IpLimits } from '../auth/ip-limits.ts'
import { integrationsDir, integrationsExtension } from '../integrations/index.ts'
import { historyExtension } from '../history/index.ts'

/** A running relay. */
export interface Relay {
  /** `ws://host:port` (`wss://` with TLS) — append `/<room>`. */
  url: string
  /** `http://host:port` (`https://` with TLS). */
  httpUrl: string
  port: number
  config: RelayConfig
  app: Hono
  rooms: RoomManager
  storage: StorageAdapter
  logger: Logger
  metrics: RelayMetrics
  /** Access checks and the deny list. */
  access: Access
  /** Components' health, as `GET /health` reports it. */
  health: Health
  /** Graceful: stop accepting, flush storage, close sockets with 1001, close storage. */
  close(): Promise<void>
}

/** Options beside the config. */
export interface CreateRelayOptions {
  extensions?: RelayExtension[]
  /** The change feed and webhooks (relay/integrations), added after `extensions`; default true. */
  integrations?: boolean
  /** Use this store instead of the one `config.storage` names (tests: failing stores). */
  storage?: StorageAdapter
  logger?: Logger
}

/** An 'error' listener for an upgrading socket: destroys it (and captures nothing). */
function destroyOnError(this: Duplex): void {
  this.destroy()
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ?? 'Error'
  const body = JSON.stringify({ error: status, reason }) + '\n'
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/**
 * Paths that are never rooms, even when no extension claims them: a relay that serves its peer
 * endpoint elsewhere (`--peer-listen`), or has none, answers 404 there rather than opening a
 * room named `_peer`.
 */
const RESERVED_UPGRADE_PATHS = new Set(['/_peer'])

/** Waits until every upgraded socket closed (close handshake done), terminating stragglers after `ms`. */
async function waitForSockets(wss: WebSocketServer, ms: number): Promise<void> {
  const open = [...wss.clients]
  if (open.length === 0) return
  const timer = setTimeout(() => {
    for (const ws of wss.clients) ws.terminate()
  }, ms)
  await Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((resolve) => ws.once('close', resolve)))))
  clearTimeout(timer)
}

/** Starts a relay. Unset config fields take the defaults of {@link parseConfig}. */
export async function createRelay(partial: Partial<RelayConfig> = {}, options: CreateRelayOptions = {}): Promise<Relay> {
  const config = resolveConfig(partial)
  // Read before anything is opened: a missing or unreadable file stops the start with its name.
  const tls = readTlsMaterial(config)
  const logger = options.logger ?? createLogger(config.logLevel)
  // Built in: the change feed (its store beside the relay's LevelDB, in memory otherwise) and the webhooks.
  const integrations = options.integrations === false
    ? null
    : integrationsExtension(config, {
      dir: !options.storage && config.storage === 'leveldb' ? integrationsDir(config) : undefined,
      openAccess: () => access.mode === 'open',
      // Extensions that share rooms with other relays (peers, Redis) catch rooms up.
      clustered: (options.extensions ?? []).some((e) => e.catchUpRoom !== undefined),
    })
  // Built in: document history (its store in <data>/history, in memory otherwise); before the
  // integrations, so the versions it records when the relay stops still reach the webhooks.
  const history = config.history
    ? historyExtension({
        dir: !options.storage && config.storage === 'leveldb' ? join(config.data, 'history') : undefined,
        sync: config.durability === 'sync',
        quietMs: config.historyQuietMs,
        retention: { keepMs: config.historyKeepMs, max: config.historyMax },
        openNames: () => access.mode === 'open',
        maxMarkBytes: config.maxMessageBytes,
      })
    : null
  const extensions: RelayExtension[] = [...(options.extensions ?? []), ...(history ? [history] : []), ...(integrations ? [integrations] : [])]
  const metrics = new RelayMetrics()
  const health = new Health()
  metrics.watchHealth(health)
  let storage: StorageAdapter
  if (options.storage) storage = options.storage
  else if (config.storage === 'memory') storage = new MemoryStorage()
  else {
    await mkdir(config.data, { recursive: true })
    storage = await LevelDbStorage.open(config.data, { durability: config.durability })
  }
  if (config.faultStorage) storage = new FailingStorage(storage, { whileFileExists: config.faultStorage })
  const rooms = new RoomManager({ storage, logger, metrics, flushMs: config.flushMs, compactBytes: config.compactBytes, idleMs: config.idleMs, extensions, health })
  const denyList = new DenyList(!options.storage && config.storage === 'leveldb' ? join(config.data, 'auth-deny.json') : undefined)
  await denyList.load()
  const authorize = extensions.find((e) => e.authorize)?.authorize
  const access = new Access({ keys: config.authSecret ? parseAuthSecrets(config.authSecret) : undefined, authorize, denyList, logger, metrics })
  if (access.mode === 'open') {
    logger.warn({ flag: '--auth-secret', env: 'TANDEM_AUTH_SECRET' }, 'relay is OPEN: no --auth-secret (TANDEM_AUTH_SECRET) set, anyone who can reach it can read and write every room')
  }
  const ipLimits = new IpLimits(config.maxConnectionsPerIp, config.maxRoomsPerMinute, config.perIpExempt)
  const sweep = setInterval(() => ipLimits.sweep(), 60_000)
  sweep.unref()
  // An HTTP read of a room not loaded here: extensions that share rooms (Redis, peers) catch it up first.
  const catchUpRoom = async (name: string): Promise<boolean> => {
    let found = false
    for (const extension of extensions) {
      if (!extension.catchUpRoom) continue
      try {
        if (await extension.catchUpRoom(name)) found = true
      } catch (error) {
        logger.warn({ extension: extension.name, room: name, err: error }, 'extension catchUpRoom threw; answering from local storage')
      }
    }
    return found
  }
  const app = createHttpApi({
    config,
    rooms,
    storage,
    metrics,
    logger,
    health,
    access,
    ipLimits,
    catchUpRoom,
    routes: extensions.flatMap((e) => (e.routes ? [e.routes] : [])),
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes })
  const routes = new Map<string, { handler: UpgradeHandler; authorize?: UpgradeAuthorizer }>()
  const connections = new Set<Connection>()
  const sockets = new Set<WebSocket>()
  let closing = false

  // What stays on a socket for its lifetime (listeners) is made in these two functions, not
  // inside the upgrade handler: a closure made there would keep the upgrade request, its
  // headers and URL alive for as long as the connection lasts (about 1 KiB per connection).
  const acceptClient = (ws: WebSocket, room: string, grant: Grant): void => {
    if (closing) return ws.close(CLOSE_CODES['going-away'], 'relay is shutting down')
    const connection = new Connection(ws, room, { rooms, logger, metrics, grant, limits: config })
    connections.add(connection)
    ws.on('close', () => connections.delete(connection))
  }
  const acceptRoute = (ws: WebSocket, req: IncomingMessage, handler: UpgradeHandler): void => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    handler(ws, req)
  }

  const server = createServer(app, tls)
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError)
    void (async () => {
      if (closing) return refuseUpgrade(socket, 503, 'relay is shutting down')
      const url = new URL(req.url ?? '/', 'http://relay')
      const pathname = url.pathname
      const route = routes.get(pathname)
      if (route) {
        if (route.authorize && !(await route.authorize(req))) return refuseUpgrade(socket, 401, 'unauthorized')
        wss.handleUpgrade(req, socket, head, (ws) => acceptRoute(ws, req, route.handler))
        return
      }
      if (RESERVED_UPGRADE_PATHS.has(pathname)) {
        logger.debug({ path: pathname }, 'upgrade refused: path not served on this port')
        return refuseUpgrade(socket, 404, `${pathname} is not served on this port`)
      }
      let room: string
      try {
        room = roomNameFromPath(pathname)
      } catch (error) {
        const e = error as RelayError
        metrics.errors.inc({ code: e.code })
        logger.warn({ path: pathname, code: e.code, reason: e.message }, 'upgrade refused')
        return refuseUpgrade(socket, e.httpStatus, e.message)
      }
      // Checked before the room is loaded: nothing of the document leaves before this passes.
      const grant = await admitUpgrade(req, socket, url, room, { config, access, ipLimits, metrics, logger })
      if (grant instanceof RelayError) return refuseUpgrade(socket, grant.httpStatus, grant.message)
      if (socket.destroyed) return
      wss.handleUpgrade(req, socket, head, (ws) => acceptClient(ws, room, grant))
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'upgrade failed')
      socket.destroy()
    })
  })

  denyList.onRevoke((jti) => {
    for (const connection of connections) {
      if (connection.tokenId === jti) connection.fail(new RelayError('token-revoked', 'token revoked'))
    }
  })

  const context: RelayContext = {
    config,
    rooms,
    storage,
    logger,
    metrics: metrics.registry,
    health,
    denyList,
    ...(history ? { versions: history } : {}),
    ...(tls ? { tls } : {}),
    routeUpgrade(path, handler, authorize) {
      routes.set(path, { handler, ...(authorize ? { authorize } : {}) })
    },
  }
  // The built-in parts (history, integrations) start first: they only open local stores, and an
  // extension that links to other relays may load rooms and apply their updates as soon as it
  // starts, which the built-ins must already be ready to record.
  const builtIn = extensions.filter((e) => e === history || e === integrations)
  for (const extension of [...builtIn, ...extensions.filter((e) => !builtIn.includes(e))]) await extension.onStart?.(context)

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  if (config.port === 0 && !partial.id) config.id = `${config.host}:${port}`
  integrations?.listening(`${tls ? 'https' : 'http'}://${host}:${port}`)

  let closed: Promise<void> | null = null
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true
      clearInterval(sweep)
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      let flushError: unknown = null
      try {
        await rooms.flushAll()
      } catch (error) {
        flushError = error
        logger.error({ err: error }, 'flush at shutdown failed')
      }
      for (const connection of [...connections]) connection.close(1001, 'relay is shutting down')
      for (const ws of sockets) ws.close(1001, 'relay is shutting down')
      for (const extension of extensions) {
        try {
          await extension.onStop?.()
        } catch (error) {
          logger.error({ extension: extension.name, err: error }, 'extension onStop threw')
        }
      }
      try {
        await rooms.closeAll()
      } catch (error) {
        flushError ??= error
      }
      await storage.close()
      await waitForSockets(wss, 1000)
      wss.close()
      ;(server as Server).closeAllConnections()
      await stopped
      if (flushError) throw flushError
    })()
    return closed
  }

  return {
    url: `${tls ? 'wss' : 'ws'}://${host}:${port}`,
    httpUrl: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    config,
    app,
    rooms,
    storage,
    logger,
    metrics,
    access,
    health,
    close,
  }
}

/** The HTTP server of `app`: HTTPS with `tls` (a key that does not match its certificate is a ConfigError). */
function createServer(app: Hono, tls: TlsMaterial | undefined): ReturnType<typeof createAdaptorServer> {
  if (!tls) return createAdaptorServer({ fetch: app.fetch })
  try {
    return createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } })
  } catch (error) {
    throw new ConfigError(`--tls-cert/--tls-key: ${(error as Error).message}`)
  }
}
