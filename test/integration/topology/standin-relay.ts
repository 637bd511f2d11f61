/**
 * STAND-IN RELAY, used by the topology suites and bench only until the relay core
 * (relay/server.ts, relay/cli.ts) is committed; then `cluster.ts` switches to createRelay.
 *
 * Just enough of CONTRACT.md's relay surface for the topology extension, built from real
 * parts: y-protocols sync for stock y-websocket clients, LevelDB (classic-level) append log,
 * prom-client /metrics, `/_peer` upgrade routing, extension hooks (onStart, onRoomLoaded,
 * onUpdate, onStored, onStop). Not a product: no awareness, no limits, no compaction.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { ClassicLevel } from 'classic-level'
import pino, { type Logger } from 'pino'
import { Registry } from 'prom-client'
import type { TopologyContext, TopologyExtension, TopologyRoom } from '../../../relay/topology/index.ts'

export interface StandinConfig {
  host?: string
  port?: number
  data: string
  logLevel?: string
  flushMs?: number
  /** Accepted for createRelay compatibility; the stand-in never unloads rooms. */
  idleMs?: number
}

class LevelLog {
  private readonly db: ClassicLevel<string, Uint8Array>
  private seq = 0
  constructor(path: string) {
    this.db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
  }
  async open(): Promise<void> {
    await this.db.open()
    for await (const key of this.db.keys()) this.seq = Math.max(this.seq, Number(key.split('\u0000')[1] ?? 0))
  }
  async load(room: string): Promise<Uint8Array[]> {
    return this.db.values({ gt: `${room}\u0000`, lt: `${room}\u0001` }).all()
  }
  async append(room: string, updates: Uint8Array[]): Promise<void> {
    await this.db.batch(updates.map((value) => ({ type: 'put' as const, key: `${room}\u0000${String(++this.seq).padStart(12, '0')}`, value })))
  }
  async listRooms(): Promise<string[]> {
    const rooms = new Set<string>()
    for await (const key of this.db.keys()) rooms.add(key.split('\u0000')[0] as string)
    return [...rooms]
  }
  async getStateVector(room: string): Promise<Uint8Array | null> {
    const updates = await this.load(room)
    return updates.length === 0 ? null : Y.encodeStateVectorFromUpdate(Y.mergeUpdates(updates))
  }
  close(): Promise<void> {
    return this.db.close()
  }
}

class StandinRoom implements TopologyRoom {
  readonly doc = new Y.Doc()
  readonly conns = new Set<WebSocket>()
  private queue: Uint8Array[] = []
  private timer: NodeJS.Timeout | null = null
  constructor(readonly name: string, private readonly relay: StandinRelay) {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'storage') return
      const msg = encoding.createEncoder()
      encoding.writeVarUint(msg, 0)
      syncProtocol.writeUpdate(msg, update)
      const bytes = encoding.toUint8Array(msg)
      for (const c of this.conns) if (c !== origin && c.readyState === c.OPEN) c.send(bytes)
      if (!(origin instanceof Object && 'from' in origin)) this.store(update)
      for (const ext of relay.extensions) ext.onUpdate(this, update, origin)
    })
  }
  store(update: Uint8Array): void {
    this.queue.push(update)
    this.timer ??= setTimeout(() => void this.flush(), this.relay.flushMs)
  }
  async flush(): Promise<void> {
    this.timer = null
    const batch = this.queue.splice(0)
    if (batch.length === 0) return
    await this.relay.storage.append(this.name, batch)
    const sv = Y.encodeStateVector(this.doc)
    for (const ext of this.relay.extensions) ext.onStored(this, sv)
  }
  applyUpdate(update: Uint8Array, origin: unknown): void {
    // Peer updates are stored as received, so pending structs are on disk too.
    if (origin instanceof Object && 'from' in origin) this.store(update)
    Y.applyUpdate(this.doc, update, origin)
  }
  stateVector(): Uint8Array { return Y.encodeStateVector(this.doc) }
  encodeStateAsUpdate(sv?: Uint8Array): Uint8Array { return Y.encodeStateAsUpdate(this.doc, sv) }
}

export class StandinRelay {
  readonly extensions: TopologyExtension[]
  readonly storage: LevelLog
  readonly logger: Logger
  readonly metrics = new Registry()
  readonly flushMs: number
  private readonly roomMap = new Map<string, Promise<StandinRoom>>()
  private readonly loadedRooms = new Map<string, StandinRoom>()
  private readonly server: Server = createServer((req, res) => void this.http(req, res))
  private readonly wss = new WebSocketServer({ noServer: true })
  private readonly routes = new Map<string, (ws: WebSocket, req: IncomingMessage) => void>()
  port = 0
  get url(): string { return `ws://127.0.0.1:${this.port}` }
  get httpUrl(): string { return `http://127.0.0.1:${this.port}` }

  readonly rooms = {
    get: (name: string): Promise<StandinRoom> => {
      let p = this.roomMap.get(name)
      if (!p) {
        p = (async () => {
          const room = new StandinRoom(name, this)
          for (const u of await this.storage.load(name)) Y.applyUpdate(room.doc, u, 'storage')
          this.loadedRooms.set(name, room)
          for (const ext of this.extensions) ext.onRoomLoaded(room)
          return room
        })()
        this.roomMap.set(name, p)
      }
      return p
    },
    loaded: (): Iterable<StandinRoom> => this.loadedRooms.values(),
  }

  constructor(private readonly config: StandinConfig, options: { extensions?: TopologyExtension[] } = {}) {
    this.extensions = options.extensions ?? []
    this.storage = new LevelLog(config.data)
    this.logger = pino({ level: config.logLevel ?? 'silent' })
    this.flushMs = config.flushMs ?? 20
    this.server.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '/').split('?')[0] as string
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const route = this.routes.get(path)
        if (route) route(ws, req)
        else void this.client(ws, decodeURIComponent(path.slice(1)))
      })
    })
  }

  async start(): Promise<void> {
    await this.storage.open()
    await new Promise<void>((r) => this.server.listen(this.config.port ?? 0, this.config.host ?? '127.0.0.1', r))
    this.port = (this.server.address() as AddressInfo).port
    const ctx: TopologyContext = {
      rooms: this.rooms, storage: this.storage, logger: this.logger, metrics: this.metrics,
      routeUpgrade: (path, handler) => { this.routes.set(path, handler) },
    }
    for (const ext of this.extensions) ext.onStart(ctx)
    this.logger.info({ url: this.url }, 'stand-in relay listening')
  }

  private async client(ws: WebSocket, name: string): Promise<void> {
    const early: Buffer[] = []
    const onEarly = (d: Buffer): number => early.push(d)
    ws.on('message', onEarly)
    const room = await this.rooms.get(name)
    ws.off('message', onEarly)
    room.conns.add(ws)
    ws.on('close', () => room.conns.delete(ws))
    const handle = (data: Buffer): void => {
      const d = decoding.createDecoder(new Uint8Array(data))
      if (decoding.readVarUint(d) !== 0) return // awareness etc.: not needed here
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, 0)
      syncProtocol.readSyncMessage(d, e, room.doc, ws)
      if (encoding.length(e) > 1) ws.send(encoding.toUint8Array(e))
    }
    ws.on('message', handle)
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 0)
    syncProtocol.writeSyncStep1(e, room.doc)
    ws.send(encoding.toUint8Array(e))
    for (const d of early) handle(d)
  }

  private async http(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    if (url === '/health') return void res.end('ok')
    if (url === '/metrics') {
      res.setHeader('content-type', this.metrics.contentType)
      return void res.end(await this.metrics.metrics())
    }
    const m = /^\/api\/rooms\/([^/]+)\/update$/.exec(url)
    if (m) {
      const room = await this.rooms.get(decodeURIComponent(m[1] as string))
      res.setHeader('content-type', 'application/octet-stream')
      return void res.end(Buffer.from(room.encodeStateAsUpdate()))
    }
    res.statusCode = 404
    res.end()
  }

  async close(): Promise<void> {
    for (const ext of this.extensions) ext.onStop()
    for (const room of this.loadedRooms.values()) {
      await room.flush()
      for (const c of room.conns) c.close(1001)
    }
    for (const c of this.wss.clients) c.terminate()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
    await this.storage.close()
  }
}

/** Same call shape as the relay core's `createRelay(config, { extensions })`. */
export async function createStandinRelay(config: StandinConfig, options: { extensions?: TopologyExtension[] } = {}): Promise<StandinRelay> {
  const relay = new StandinRelay(config, options)
  await relay.start()
  return relay
}
