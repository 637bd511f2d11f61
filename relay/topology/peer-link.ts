/**
 * The outgoing side of a peer link: one reconnecting WebSocket per configured peer URL,
 * with exponential backoff and jitter. While a link to the same peer is up through
 * another connection (the peer dialled us and that connection was kept), the dialer
 * parks and is woken when that link goes down.
 *
 * @module
 */
import { WebSocket } from 'ws'
import type { Logger } from 'pino'
import { backoffDelay, type BackoffOptions } from './backoff.ts'
import type { PeerConnection } from './peer-connection.ts'

export const PEER_PATH = '/_peer'

export interface PeerDialerOptions {
  backoff: BackoffOptions
  random: () => number
  logger: Logger
  maxMessageBytes: number
  /** Wraps a fresh socket in a PeerConnection; `onClosed` must be called when it closes. */
  open(ws: WebSocket, onClosed: (conn: PeerConnection) => void): PeerConnection
  /** True while an authenticated link to `peerId` exists. */
  isUp(peerId: string): boolean
}

/** Appends `/_peer` to a relay URL (`ws://host:port` or `ws://host:port/`). */
export function peerEndpoint(url: string): string {
  return url.replace(/\/+$/, '') + PEER_PATH
}

export class PeerDialer {
  /** The id of the relay at this URL, once it has authenticated. */
  knownId: string | null = null
  private attempt = 0
  private timer: NodeJS.Timeout | null = null
  private current: PeerConnection | null = null
  private stopped = true
  private parked = false

  constructor(readonly url: string, private readonly options: PeerDialerOptions) {}

  start(): void {
    this.stopped = false
    this.dial()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** The link to this peer went down elsewhere: redial now if parked. */
  wake(): void {
    if (this.stopped || !this.parked) return
    this.parked = false
    this.attempt = 0
    this.schedule()
  }

  private schedule(): void {
    if (this.stopped || this.timer) return
    const delay = backoffDelay(this.attempt++, this.options.backoff, this.options.random)
    this.timer = setTimeout(() => {
      this.timer = null
      this.dial()
    }, delay)
  }

  private dial(): void {
    if (this.stopped || this.current) return
    if (this.knownId !== null && this.options.isUp(this.knownId)) {
      this.parked = true
      return
    }
    const ws = new WebSocket(peerEndpoint(this.url), { maxPayload: this.options.maxMessageBytes })
    ws.on('error', (err) => this.options.logger.debug({ err: err.message, url: this.url }, 'peer dial failed'))
    this.current = this.options.open(ws, (conn) => {
      if (conn.authenticated) this.attempt = 0
      if (conn.peerId !== null && conn.authenticated) this.knownId = conn.peerId
      this.current = null
      if (this.stopped) return
      if (this.knownId !== null && this.options.isUp(this.knownId)) this.parked = true
      else this.schedule()
    })
  }

  /** Called by the owner when the connection authenticated. */
  authenticated(conn: PeerConnection): void {
    if (conn.peerId !== null) this.knownId = conn.peerId
    this.attempt = 0
  }
}
