/**
 * One WebSocket to another relay, either side: runs the hello/auth handshake, then
 * hands decoded frames to its owner. Nothing but `hello` and `auth` is accepted (or sent)
 * before the peer has proven the shared secret.
 *
 * @module
 */
import type { WebSocket } from 'ws'
import type { Logger } from 'pino'
import { createNonce, proveSecret, verifySecret } from './peer-auth.ts'
import {
  PEER_CLOSE, PEER_PROTOCOL_VERSION, PeerProtocolError, decodeFrame, encodeFrame, type PeerFrame,
} from './peer-protocol.ts'

export type Direction = 'out' | 'in'

export interface PeerConnectionOptions {
  self: string
  secret: string
  direction: Direction
  logger: Logger
  handshakeTimeoutMs?: number
  /** Called once the peer has proven the secret; return false to close (e.g. duplicate). */
  onAuthenticated(conn: PeerConnection): void
  onFrame(conn: PeerConnection, frame: PeerFrame, bytes: number): void
  onClose(conn: PeerConnection, code: number, reason: string): void
  onRefused?(reason: string): void
}

export class PeerConnection {
  readonly direction: Direction
  /** The peer's id, known after its `hello`. */
  peerId: string | null = null
  authenticated = false
  private readonly nonce = createNonce()
  private peerNonce: Uint8Array | null = null
  private closed = false
  private readonly timer: NodeJS.Timeout

  constructor(readonly ws: WebSocket, private readonly options: PeerConnectionOptions) {
    this.direction = options.direction
    ws.binaryType = 'nodebuffer'
    this.timer = setTimeout(() => this.close(PEER_CLOSE.handshakeTimeout, 'handshake timeout'),
      options.handshakeTimeoutMs ?? 10_000)
    this.timer.unref()
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary))
    ws.on('close', (code: number, reason: Buffer) => this.closedBy(code, reason.toString()))
    ws.on('error', (err: Error) => options.logger.debug({ err, peer: this.peerId }, 'peer socket error'))
    if (ws.readyState === ws.OPEN) this.sendHello()
    else ws.once('open', () => this.sendHello())
  }

  private sendHello(): void {
    this.sendFrame({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: this.options.self, nonce: this.nonce })
  }

  /** Sends one frame (encoded here). */
  sendFrame(frame: PeerFrame): number {
    return this.sendBytes(encodeFrame(frame))
  }

  /** Sends already-encoded bytes (encode once, send to many). Returns bytes written. */
  sendBytes(bytes: Uint8Array): number {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return 0
    this.ws.send(bytes)
    return bytes.length
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    try {
      this.ws.close(code, reason)
    } catch {
      this.ws.terminate()
    }
    // A peer that never answers the close frame is cut after a short grace.
    setTimeout(() => this.ws.terminate(), 2_000).unref()
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN
  }

  private refuse(code: number, reason: string): void {
    this.options.logger.warn({ peer: this.peerId, direction: this.direction, code, reason }, 'peer link refused')
    this.options.onRefused?.(reason)
    this.close(code, reason)
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return
    if (!isBinary) return this.refuse(PEER_CLOSE.protocol, 'text frame')
    let frame: PeerFrame
    try {
      frame = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    } catch (err) {
      const reason = err instanceof PeerProtocolError ? err.code : 'decode'
      return this.refuse(PEER_CLOSE.protocol, `malformed frame: ${reason}`)
    }
    if (this.authenticated) {
      if (frame.kind === 'hello' || frame.kind === 'auth') return this.refuse(PEER_CLOSE.protocol, 'repeated handshake')
      this.options.onFrame(this, frame, data.byteLength)
      return
    }
    if (frame.kind === 'hello') {
      if (this.peerNonce) return this.refuse(PEER_CLOSE.protocol, 'repeated hello')
      if (frame.version !== PEER_PROTOCOL_VERSION) return this.refuse(PEER_CLOSE.incompatible, `protocol version ${frame.version}`)
      if (frame.id === this.options.self) return this.refuse(PEER_CLOSE.incompatible, 'connected to itself')
      this.peerId = frame.id
      this.peerNonce = frame.nonce
      this.sendFrame({ kind: 'auth', mac: proveSecret(this.options.secret, frame.nonce, this.options.self, frame.id) })
      return
    }
    if (frame.kind === 'auth' && this.peerId !== null) {
      if (!verifySecret(this.options.secret, this.nonce, this.peerId, this.options.self, frame.mac)) {
        return this.refuse(PEER_CLOSE.unauthorized, 'wrong peer secret')
      }
      this.authenticated = true
      clearTimeout(this.timer)
      this.options.onAuthenticated(this)
      return
    }
    this.refuse(PEER_CLOSE.protocol, `${frame.kind} before authentication`)
  }

  private closedBy(code: number, reason: string): void {
    const wasClosed = this.closed
    this.closed = true
    clearTimeout(this.timer)
    if (!wasClosed && (code === PEER_CLOSE.unauthorized || code === PEER_CLOSE.incompatible)) {
      this.options.logger.warn({ peer: this.peerId, direction: this.direction, code, reason }, 'peer refused this relay')
      this.options.onRefused?.(reason)
    }
    this.options.onClose(this, code, reason)
  }
}
