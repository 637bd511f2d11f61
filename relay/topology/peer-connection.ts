/**
 * One WebSocket to another relay, either side: runs the handshake (peer-auth.ts), then
 * seals every frame it sends and opens every frame it receives (peer-seal.ts), handing the
 * decoded frames to its owner. Before the handshake only `hello` and `auth` are accepted (or
 * sent); after it, only sealed frames, in sequence. Whatever fails closes the link, and
 * nothing of the failing frame is decoded or applied.
 *
 * The role is the socket's direction: the relay that dialled is the dialer. The dialer
 * proves first; the listener answers with its own proof only once the dialer's verified.
 *
 * @module
 */
import type { WebSocket } from 'ws'
import type { Logger } from 'pino'
import { createNonce, deriveKeys, proof, verifyProof, type Role, type SessionKeys } from './peer-auth.ts'
import { FrameOpener, FrameSealer, SealError } from './peer-seal.ts'
import {
  PEER_CLOSE, PEER_PROTOCOL_VERSION, PeerProtocolError, decodeFrame, encodeFrame, type PeerFrame,
} from './peer-protocol.ts'

export type Direction = 'out' | 'in'

/** Metric labels of the peer's refusals, by its close code (the peer's own reason text is only logged). */
const REFUSED_BY_PEER: Record<number, string> = {
  [PEER_CLOSE.unauthorized]: 'refused by peer: unauthorized',
  [PEER_CLOSE.incompatible]: 'refused by peer: incompatible',
  [PEER_CLOSE.badFrame]: 'refused by peer: bad frame',
}

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
  /**
   * A refusal, by this side or by the peer (its close code). `reason` is one of a fixed set
   * (a metric label: never a string the peer chose).
   */
  onRefused?(reason: string): void
}

export class PeerConnection {
  readonly direction: Direction
  readonly role: Role
  /** The peer's id, known after its `hello` (proven only once `authenticated`). */
  peerId: string | null = null
  authenticated = false
  private readonly nonce = createNonce()
  private keys: SessionKeys | null = null
  private sealer: FrameSealer | null = null
  private opener: FrameOpener | null = null
  private closed = false
  private readonly timer: NodeJS.Timeout

  constructor(readonly ws: WebSocket, private readonly options: PeerConnectionOptions) {
    this.direction = options.direction
    this.role = options.direction === 'out' ? 'dialer' : 'listener'
    ws.binaryType = 'nodebuffer'
    this.timer = setTimeout(() => this.refuse(PEER_CLOSE.handshakeTimeout, 'handshake timeout'),
      options.handshakeTimeoutMs ?? 10_000)
    this.timer.unref()
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary))
    ws.on('close', (code: number, reason: Buffer) => this.closedBy(code, reason.toString()))
    ws.on('error', (err: Error) => options.logger.debug({ err, peer: this.peerId }, 'peer socket error'))
    if (ws.readyState === ws.OPEN) this.sendHello()
    else ws.once('open', () => this.sendHello())
  }

  private sendHello(): void {
    this.sendPlain({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: this.options.self, nonce: this.nonce })
  }

  private sendPlain(frame: PeerFrame): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(encodeFrame(frame))
  }

  /** Sends one frame (encoded here, sealed). */
  sendFrame(frame: PeerFrame): number {
    return this.sendBytes(encodeFrame(frame))
  }

  /**
   * Seals and sends an encoded frame (encode once, send to many: the sealing is per link).
   * Returns the bytes written, 0 before the handshake finished or after the link closed.
   */
  sendBytes(bytes: Uint8Array): number {
    if (this.closed || !this.sealer || this.ws.readyState !== this.ws.OPEN) return 0
    let sealed: Buffer
    try {
      sealed = this.sealer.seal(bytes)
    } catch (err) {
      // Only a counter at its end: close, the dialer redials with fresh keys.
      this.refuse(PEER_CLOSE.goingAway, (err as Error).message)
      return 0
    }
    this.ws.send(sealed)
    return sealed.length
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

  /** Closes with `code`; `reason` is a fixed label (metrics), `detail` what the log and the close frame say. */
  private refuse(code: number, reason: string, detail = reason): void {
    if (this.closed) return
    this.options.logger.warn({ peer: this.peerId, direction: this.direction, code, reason: detail }, 'peer link refused')
    this.options.onRefused?.(reason)
    this.close(code, detail)
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return
    if (!isBinary) return this.refuse(PEER_CLOSE.protocol, 'text frame')
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (this.authenticated) return this.receiveSealed(raw)
    let frame: PeerFrame
    try {
      frame = decodeFrame(raw)
    } catch (err) {
      const reason = err instanceof PeerProtocolError ? err.code : 'decode'
      return this.refuse(PEER_CLOSE.protocol, `malformed frame: ${reason}`)
    }
    if (frame.kind === 'hello') return this.hello(frame)
    if (frame.kind === 'auth' && this.keys) return this.auth(frame.mac)
    this.refuse(PEER_CLOSE.protocol, `${frame.kind} before authentication`)
  }

  private receiveSealed(raw: Uint8Array): void {
    let frame: PeerFrame
    try {
      frame = decodeFrame((this.opener as FrameOpener).open(raw))
    } catch (err) {
      if (err instanceof SealError) return this.refuse(PEER_CLOSE.badFrame, 'frame failed authentication')
      const reason = err instanceof PeerProtocolError ? err.code : 'decode'
      return this.refuse(PEER_CLOSE.protocol, `malformed frame: ${reason}`)
    }
    if (frame.kind === 'hello' || frame.kind === 'auth') return this.refuse(PEER_CLOSE.protocol, 'repeated handshake')
    this.options.onFrame(this, frame, raw.byteLength)
  }

  private hello(frame: Extract<PeerFrame, { kind: 'hello' }>): void {
    if (this.keys) return this.refuse(PEER_CLOSE.protocol, 'repeated hello')
    if (frame.version !== PEER_PROTOCOL_VERSION) {
      return this.refuse(PEER_CLOSE.incompatible, 'protocol version', `peer protocol version ${frame.version}, this relay speaks ${PEER_PROTOCOL_VERSION}`)
    }
    if (frame.id === this.options.self) return this.refuse(PEER_CLOSE.incompatible, 'connected to itself')
    // Our own nonce sent back: a reflection (a genuine peer's fresh nonce never equals ours).
    if (Buffer.compare(frame.nonce, this.nonce) === 0) return this.refuse(PEER_CLOSE.unauthorized, 'reflected nonce')
    this.peerId = frame.id
    const mine = { id: this.options.self, nonce: this.nonce }
    const theirs = { id: frame.id, nonce: frame.nonce }
    const [dialer, listener] = this.role === 'dialer' ? [mine, theirs] : [theirs, mine]
    this.keys = deriveKeys(this.options.secret, {
      version: PEER_PROTOCOL_VERSION, dialerId: dialer.id, dialerNonce: dialer.nonce, listenerId: listener.id, listenerNonce: listener.nonce,
    })
    if (this.role === 'dialer') this.sendPlain({ kind: 'auth', mac: proof(this.keys, 'dialer') })
  }

  private auth(mac: Uint8Array): void {
    const keys = this.keys as SessionKeys
    const peerRole: Role = this.role === 'dialer' ? 'listener' : 'dialer'
    if (!verifyProof(keys, peerRole, mac)) return this.refuse(PEER_CLOSE.unauthorized, 'wrong peer secret or forged handshake')
    if (this.role === 'listener') this.sendPlain({ kind: 'auth', mac: proof(keys, 'listener') })
    this.sealer = new FrameSealer(keys.frames[this.role])
    this.opener = new FrameOpener(keys.frames[peerRole])
    this.authenticated = true
    clearTimeout(this.timer)
    this.options.onAuthenticated(this)
  }

  private closedBy(code: number, reason: string): void {
    const wasClosed = this.closed
    this.closed = true
    clearTimeout(this.timer)
    const label = REFUSED_BY_PEER[code]
    if (!wasClosed && label) {
      this.options.logger.warn({ peer: this.peerId, direction: this.direction, code, reason }, 'peer refused this relay')
      this.options.onRefused?.(label)
    }
    this.options.onClose(this, code, reason)
  }
}
