/**
 * The outgoing side of a peer link: one reconnecting WebSocket per configured peer URL,
 * with exponential backoff and jitter. While a link to the same peer is up through
 * another connection (the peer dialled us and that connection was kept), the dialer
 * parks and is woken when that link goes down. `wss://` peers are dialled with certificate
 * verification always on (`ca`, `servername` from `--peer-ca`, `--peer-servername`).
 *
 * @module
 */
import { WebSocket } from 'ws'
import type { Logger } from 'pino'
import { backoffDelay, type BackoffOptions } from './backoff.ts'
import type { PeerConnection } from './peer-connection.ts'

export const PEER_PATH = '/_peer'

/** How `wss://` peers are verified. The certificate is always verified (`rejectUnauthorized`). */
export interface PeerTlsOptions {
  /** CA certificates (PEM) peers' certificates are verified against; default: the system's CAs. */
  ca?: string | Buffer | undefined
  /** Name the peer's certificate must carry; default: the URL's host. */
  servername?: string | undefined
}

export interface PeerDialerOptions {
  backoff: BackoffOptions
  /** Verification of `wss://` peers (ignored for `ws://`). */
  tls?: PeerTlsOptions
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
  /** The last failure logged at warn, so a peer that keeps failing the same way is logged once. */
  private lastFailure: string | null = null

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
    const tls = this.options.tls
    const ws = new WebSocket(peerEndpoint(this.url), {
      maxPayload: this.options.maxMessageBytes,
      rejectUnauthorized: true,
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls?.servername !== undefined ? { servername: tls.servername } : {}),
    })
    ws.on('error', (err: NodeJS.ErrnoException) => this.failed(err))
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
    this.lastFailure = null
  }

  /**
   * A dial failed. A certificate the peer cannot be verified by (wrong CA, a name it does not
   * carry, expired) is a configuration error: logged at warn, once per distinct failure;
   * refused connections and the like while a peer is down stay at debug.
   */
  private failed(err: NodeJS.ErrnoException): void {
    const code = err.code ?? ''
    // EPROTO: the TLS handshake itself failed (e.g. a wss:// URL for a peer that speaks plain ws).
    const tlsFailure = code === 'EPROTO' || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(code)
    const fields = { err: err.message, code: code || undefined, url: this.url }
    if (!tlsFailure) return this.options.logger.debug(fields, 'peer dial failed')
    if (this.lastFailure === err.message) return this.options.logger.debug(fields, 'peer TLS verification failed again')
    this.lastFailure = err.message
    this.options.logger.warn(fields, 'peer dial failed: TLS with the peer did not verify (check --peer-ca, --peer-servername and that the peer serves TLS)')
  }
}
