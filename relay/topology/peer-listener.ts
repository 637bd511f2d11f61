/**
 * The peer endpoint on its own address (`--peer-listen HOST:PORT`, e.g. a private
 * interface): an HTTP(S) server that upgrades `/_peer` and nothing else. Every other path,
 * and any plain HTTP request, gets 404 — no room, no API, no metrics are reachable here.
 * TLS with the relay's own certificate when it has one.
 *
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Logger } from 'pino'
import { PEER_PATH } from './peer-link.ts'

export interface PeerListenerOptions {
  /** Interface to bind. */
  host: string
  /** Port to bind; 0 picks a free one (see {@link PeerListener.port}). */
  port: number
  /** Certificate and key: serve `https:`/`wss:` (none: plain `ws:`). */
  tls?: { cert: Buffer; key: Buffer } | undefined
  /** Largest accepted peer frame. */
  maxPayload: number
  logger: Logger
  /** A socket upgraded on `/_peer`; it belongs to the caller from here on. */
  onSocket(ws: WebSocket, req: IncomingMessage): void
}

function notFound(res: ServerResponse, status: number, reason: string): void {
  const body = JSON.stringify({ error: status, reason }) + '\n'
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' })
  res.end(body)
}

function refuseUpgrade(socket: Duplex, status: 404 | 503, reason: string): void {
  const body = JSON.stringify({ error: status, reason }) + '\n'
  const text = status === 404 ? 'Not Found' : 'Service Unavailable'
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

function destroyOnError(this: Duplex): void {
  this.destroy()
}

/** A listening peer endpoint; {@link PeerListener.listen} binds it, {@link PeerListener.close} stops it. */
export class PeerListener {
  private readonly server: Server
  private readonly wss: WebSocketServer
  private closing = false
  private bound: AddressInfo | null = null

  constructor(private readonly options: PeerListenerOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload })
    const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer()
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (new URL(req.url ?? '/', 'http://peer').pathname === PEER_PATH) notFound(res, 426, `${PEER_PATH} takes a WebSocket upgrade`)
      else notFound(res, 404, 'not found: this address serves only the peer endpoint')
    })
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head))
    server.on('tlsClientError', (err: Error) => options.logger.debug({ err: err.message }, 'peer listener: TLS handshake failed'))
    server.on('clientError', (_err: Error, socket: Duplex) => socket.destroy())
    this.server = server
  }

  /** The bound port (the chosen one when asked for 0); 0 before {@link listen}. */
  get port(): number {
    return this.bound?.port ?? 0
  }

  /** `ws://HOST:PORT` or `wss://HOST:PORT` (peers append `/_peer`); valid after {@link listen}. */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host
    return `${this.options.tls ? 'wss' : 'ws'}://${host}:${this.port}`
  }

  /** Binds the address; rejects (e.g. EADDRINUSE) when it cannot. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.bound = this.server.address() as AddressInfo
    this.options.logger.info({ url: this.url, tls: this.options.tls !== undefined }, 'peer listener ready')
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError)
    if (this.closing) return refuseUpgrade(socket, 503, 'relay is shutting down')
    const pathname = new URL(req.url ?? '/', 'http://peer').pathname
    if (pathname !== PEER_PATH) {
      this.options.logger.debug({ path: pathname }, 'peer listener: upgrade refused, not the peer endpoint')
      return refuseUpgrade(socket, 404, 'not found: this address serves only the peer endpoint')
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.options.onSocket(ws, req))
  }

  /**
   * Stops accepting, waits up to `graceMs` for open peer sockets to finish their close
   * handshake (their owner closes them), terminates the rest and closes the server.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closing) return
    this.closing = true
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()))
    const open = [...this.wss.clients].filter((ws) => ws.readyState !== ws.CLOSED)
    if (open.length > 0) {
      const timer = setTimeout(() => { for (const ws of this.wss.clients) ws.terminate() }, graceMs)
      await Promise.all(open.map((ws) => new Promise((resolve) => ws.once('close', resolve))))
      clearTimeout(timer)
    }
    this.wss.close()
    this.server.closeAllConnections()
    await stopped
  }
}
