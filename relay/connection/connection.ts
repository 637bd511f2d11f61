/**
 * One client WebSocket in one room: strict decoding, dispatch, send. Frames arriving while
 * the room loads are queued (at most `maxPendingMessages`) and handled, in order, once it is
 * loaded. The connection enforces its grant (a `read` holder's document updates are refused,
 * and it is told once with a y-protocols auth message `permission-denied`; the grant's expiry
 * closes it with 4401) and its limits (rates, awareness size, bytes buffered for it).
 *
 * @module
 */
import type { WebSocket, RawData } from 'ws'
import type { Logger } from 'pino'
import * as encoding from 'lib0/encoding'
import { decodeClientMessage, encodeSaved, encodeSyncStep1, encodeSyncStep2, isEmptyUpdate, MESSAGE_AUTH, MESSAGE_AWARENESS } from '../wire/protocol.ts'
import { RateGate } from './limits.ts'
import type { Grant } from '../auth/access.ts'
import type { Author } from '../room/author.ts'
import { RelayError, asRelayError, closeReason } from '../wire/errors.ts'
import type { Room, RoomClient } from '../room/room.ts'
import type { RoomManager } from '../room/rooms.ts'
import type { RelayMetrics } from '../observability/metrics.ts'
import { coalesceTurnWrites } from '../wire/turn-cork.ts'
import { sendBinary } from '../wire/wire-frame.ts'

let nextConnectionId = 1

/** What a connection needs. */
export interface ConnectionDeps {
  rooms: RoomManager
  logger: Logger
  metrics: RelayMetrics
  /** What the holder may do (default: write). */
  grant?: Grant
  /** Limits (defaults: none). */
  limits?: ConnectionLimits
}

/** The per-connection limits (from {@link RelayConfig}). */
export interface ConnectionLimits {
  maxMessagesPerSecond: number
  maxBytesPerSecond: number
  maxAwarenessPerSecond: number
  maxMessageBytes: number
  rateLimitGraceMs: number
  maxPendingMessages: number
  maxAwarenessBytes: number
  maxBufferedBytes: number
}

/** y-protocols auth message `permission-denied` with `reason` (what y-websocket's client handles). */
export function encodePermissionDenied(reason: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_AUTH)
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarString(encoder, reason)
  return encoding.toUint8Array(encoder)
}

/** A client connection. */
export class Connection implements RoomClient {
  /** Process-unique id (for logs). */
  readonly id = nextConnectionId++
  readonly roomName: string
  savedSubscribed = false
  readonly awarenessIds = new Set<number>()
  private readonly ws: WebSocket
  private readonly deps: ConnectionDeps
  private room: Room | null = null
  private waiting: Uint8Array[] | null = []
  private closed = false
  private readonly gate: RateGate | null
  private resumeTimer: NodeJS.Timeout | null = null
  /** Frames waiting for the rate budget (null: not held back). */
  private held: Uint8Array[] | null = null
  private heldBytes = 0
  private paused = false
  private expiryTimer: NodeJS.Timeout | null = null
  private toldReadOnly = false
  /** Who writes through this connection (its grant's author); what it writes is attributed to them. */
  readonly author: Author | undefined

  constructor(ws: WebSocket, roomName: string, deps: ConnectionDeps) {
    this.ws = ws
    this.roomName = roomName
    this.deps = deps
    this.author = deps.grant?.author
    deps.metrics.connections.inc()
    const limits = deps.limits
    this.gate = limits
      ? new RateGate({
          messagesPerSecond: limits.maxMessagesPerSecond,
          bytesPerSecond: limits.maxBytesPerSecond,
          awarenessPerSecond: limits.maxAwarenessPerSecond,
          maxMessageBytes: limits.maxMessageBytes,
          graceMs: limits.rateLimitGraceMs,
        })
      : null
    const expiresAt = deps.grant?.expiresAt
    if (expiresAt !== undefined) {
      // setTimeout overflows past 2^31-1 ms (~24.8 days); re-checked on firing.
      const arm = (): void => {
        const left = expiresAt - Date.now()
        if (left <= 0) return this.fail(new RelayError('token-expired', 'token expired'))
        this.expiryTimer = setTimeout(arm, Math.min(left, 2 ** 31 - 1))
        this.expiryTimer.unref()
      }
      arm()
    }
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary))
    ws.on('error', (error: Error & { code?: string }) => {
      const code = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-large' : 'malformed-message'
      if (code === 'too-large') this.deps.metrics.limitsHit.inc({ limit: 'message-size' })
      this.deps.metrics.errors.inc({ code })
      this.deps.logger.warn({ room: roomName, conn: this.id, code, reason: error.message }, 'connection refused input')
    })
    ws.on('close', () => this.onClose())
    deps.rooms.get(roomName).then(
      (room) => this.attach(room),
      (error: unknown) => this.fail(asRelayError(error)),
    )
  }

  private attach(room: Room): void {
    if (this.closed) return
    if (this.deps.rooms.peek(this.roomName) !== room) {
      // Unloaded between the load resolving and now: load it again.
      this.deps.rooms.get(this.roomName).then(
        (fresh) => this.attach(fresh),
        (error: unknown) => this.fail(asRelayError(error)),
      )
      return
    }
    this.room = room
    this.deps.rooms.pin(room)
    room.clients.add(this)
    this.send(encodeSyncStep1(room.stateVector()))
    const awareness = room.awarenessFrame()
    if (awareness) this.send(awareness)
    const waiting = this.waiting ?? []
    this.waiting = null
    for (const frame of waiting) {
      if (this.closed) break
      this.handle(room, frame)
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    this.deps.metrics.bytesIn.inc(buffer.byteLength)
    if (!isBinary) {
      this.fail(new RelayError('malformed-message', 'text frames are not part of the protocol'))
      return
    }
    const frame = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    if (this.held) this.holdFrame(frame)
    else this.dispatch(frame)
  }

  /**
   * Charges `frame` to the rate budget, then delivers it; over budget, the frame waits (with
   * every frame after it) and the socket is paused until the budget refilled. Past the grace,
   * the connection is closed.
   */
  private dispatch(frame: Uint8Array): void {
    const limits = this.deps.limits
    if (limits && this.gate) {
      const isAwareness = frame[0] === MESSAGE_AWARENESS
      if (isAwareness && frame.byteLength > limits.maxAwarenessBytes) {
        this.deps.metrics.limitsHit.inc({ limit: 'awareness-size' })
        this.fail(new RelayError('awareness-too-large', `awareness update over ${limits.maxAwarenessBytes} bytes`))
        return
      }
      const hold = this.gate.check(frame.byteLength, isAwareness)
      if (hold) {
        this.deps.metrics.limitsHit.inc({ limit: hold.limit })
        if (hold.cut) {
          this.fail(new RelayError('rate-limited', `over ${hold.limit} for ${limits.rateLimitGraceMs} ms`))
          return
        }
        this.held = []
        this.heldBytes = 0
        this.holdFrame(frame)
        if (!this.paused) {
          this.paused = true
          this.ws.pause()
        }
        this.resumeTimer = setTimeout(() => this.release(), hold.wait)
        return
      }
    }
    this.deliver(frame)
  }

  /** Keeps `frame` until the budget refilled (ws may emit frames it had already read after pause()). */
  private holdFrame(frame: Uint8Array): void {
    const held = this.held as Uint8Array[]
    held.push(frame)
    this.heldBytes += frame.byteLength
    const max = (this.deps.limits?.maxMessageBytes ?? 0) * 2 + 1024 * 1024
    if (this.heldBytes > max) this.fail(new RelayError('rate-limited', 'too much sent while held back'))
  }

  /** The budget refilled: deliver the frame that waited, charge the others, resume reading. */
  private release(): void {
    this.resumeTimer = null
    const queue = this.held ?? []
    this.held = null
    this.heldBytes = 0
    for (let i = 0; i < queue.length; i++) {
      if (this.closed) return
      if (this.held) {
        for (const frame of queue.slice(i)) this.holdFrame(frame)
        return
      }
      const frame = queue[i] as Uint8Array
      if (i === 0) this.deliver(frame) // already charged
      else this.dispatch(frame)
    }
    if (this.closed || this.held) return
    this.paused = false
    this.ws.resume()
  }

  /** Hands a frame that passed the rate limits to the room (or the queue while it loads). */
  private deliver(frame: Uint8Array): void {
    if (this.waiting) {
      const max = this.deps.limits?.maxPendingMessages ?? Infinity
      if (this.waiting.length >= max) {
        this.deps.metrics.limitsHit.inc({ limit: 'pending-messages' })
        this.fail(new RelayError('too-many-pending', `more than ${max} messages sent before the room loaded`))
        return
      }
      this.waiting.push(frame)
    } else if (this.room) this.handle(this.room, frame)
  }

  private handle(room: Room, frame: Uint8Array): void {
    try {
      const message = decodeClientMessage(frame)
      switch (message.type) {
        case 'sync-step-1':
          this.send(encodeSyncStep2(room.encodeStateAsUpdate(message.stateVector)))
          break
        case 'sync-step-2':
        case 'sync-update':
          if (this.deps.grant?.right === 'read') this.refuseUpdate(message.update)
          else room.applyUpdate(message.update, this)
          break
        case 'awareness':
          if (this.deps.grant?.right === 'read' && this.deps.grant.awareness === false) break
          room.applyAwareness(message.update, this, frame)
          break
        case 'query-awareness': {
          const awareness = room.awarenessFrame()
          if (awareness) this.send(awareness)
          break
        }
        case 'saved-subscribe':
          this.savedSubscribed = true
          this.send(encodeSaved(room.persistedStateVector(), room.persistedDeleteSet()))
          break
        case 'auth':
          break
      }
    } catch (error) {
      this.fail(asRelayError(error))
    }
  }

  /** A `read` holder sent a document update: not applied, forwarded or stored; told once. */
  private refuseUpdate(update: Uint8Array): void {
    if (isEmptyUpdate(update)) return
    this.deps.metrics.updatesRefused.inc()
    if (this.toldReadOnly) return
    this.toldReadOnly = true
    this.deps.metrics.errors.inc({ code: 'read-only' })
    this.deps.logger.warn({ room: this.roomName, conn: this.id, code: 'read-only' }, 'read-only connection sent an update; refused')
    this.send(encodePermissionDenied('read-only: this token may not write to this room'))
  }

  /** The token this connection was opened with (for revocation). */
  get tokenId(): string | undefined {
    return this.deps.grant?.tokenId
  }

  /**
   * Sends a frame if the socket is open; drops the client when too much is already buffered for
   * it. Frames are never changed after they were sent (the same bytes go to every receiver).
   */
  send(frame: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    const max = this.deps.limits?.maxBufferedBytes
    if (max !== undefined && this.ws.bufferedAmount > max) {
      this.deps.metrics.limitsHit.inc({ limit: 'buffered-bytes' })
      this.fail(new RelayError('slow-consumer', `more than ${max} bytes buffered for this client`))
      // A client that does not read never gets the close frame: free the socket now.
      this.ws.terminate()
      return
    }
    this.deps.metrics.bytesOut.inc(frame.byteLength)
    coalesceTurnWrites(this.ws)
    sendBinary(this.ws, frame)
  }

  /** Closes the connection for `error`, with one log line. Nothing more of it is handled. */
  fail(error: RelayError): void {
    if (this.closed) return
    this.deps.metrics.errors.inc({ code: error.code })
    this.deps.logger.warn({ room: this.roomName, conn: this.id, code: error.code, closeCode: error.closeCode, reason: error.message }, 'closing connection')
    this.close(error.closeCode, error.message)
  }

  /** Closes the socket with `code`. */
  close(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.waiting = null
    this.clearTimers()
    this.detach()
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, closeReason(reason))
  }

  private detach(): void {
    const room = this.room
    this.room = null
    if (!room) return
    room.removeClient(this)
    this.deps.rooms.unpin(room)
  }

  private clearTimers(): void {
    if (this.resumeTimer) clearTimeout(this.resumeTimer)
    if (this.expiryTimer) clearTimeout(this.expiryTimer)
    this.resumeTimer = null
    this.expiryTimer = null
    this.held = null
    // Read again so the close handshake completes.
    if (this.paused) {
      this.paused = false
      this.ws.resume()
    }
  }

  private onClose(): void {
    this.clearTimers()
    if (!this.closed) {
      this.closed = true
      this.waiting = null
    }
    this.detach()
    this.deps.metrics.connections.dec()
  }
}
